import { registry } from "@web/core/registry";
import { openCrmSteps } from "@sales_funnel_pro/../tests/tours/funnel_tour_utils";

// The stages and criteria are created by tests/test_ui.py (TestFunnelQuickCreateUi).
const LEAD = "Quick deal for the lab";
const column = (stage) =>
    `.o_opportunity_kanban .o_kanban_group:has(.o_column_title:contains('${stage}'))`;
const REFUSED = ".o_notification.o_funnel_quick_create_refused";

registry.category("web_tour.tours").add("sales_funnel_pro_quick_create_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps(),
        {
            content: "Quick add in the column of a stage that takes no new opportunities",
            trigger: `${column("S2 Needs")} .o_kanban_quick_add`,
            run: "click",
        },
        {
            content: "The pipeline says so at once, and names the first stage",
            trigger: `${REFUSED}:contains('“S2 Needs” does not take new opportunities: they start in “S1 Start”')`,
        },
        {
            content: "No quick create opened",
            trigger: `.o_kanban_renderer:not(:has(.o_kanban_quick_create))`,
        },
        {
            content: "Create in the first stage instead",
            trigger: `${REFUSED} .o_notification_buttons button:contains('Create in “S1 Start”')`,
            run: "click",
        },
        {
            content: "The quick create opens in the first stage",
            trigger: `${column("S1 Start")} .o_kanban_quick_create .o_field_widget[name=name] input`,
            run: `edit ${LEAD}`,
        },
        {
            content: "Add it",
            trigger: `${column("S1 Start")} .o_kanban_quick_create button.o_kanban_add`,
            run: "click",
        },
        {
            content: "The card is in the first stage",
            trigger: `${column("S1 Start")} .o_kanban_record:contains('${LEAD}')`,
        },
        {
            // After "Add" the quick create stays disabled (and ignores its cancel button)
            // until it has reloaded for the next one.
            content: "Close the quick create, open again for the next one",
            trigger: `${column("S1 Start")} .o_kanban_quick_create:not(.o_disabled) .o_kanban_cancel`,
            run: "click",
        },
        {
            content: "The quick create is closed",
            trigger: "body:not(:has(.o_kanban_quick_create))",
        },
        {
            content: "Quick add in a stage that takes new opportunities past a checklist",
            trigger: `${column("S4 Terms")} .o_kanban_quick_add`,
            run: "click",
        },
        {
            content: "A new opportunity cannot have ticked the checklist before it",
            trigger: `${REFUSED}:contains('A new opportunity cannot meet these exit criteria of the stages before “S4 Terms”'):contains('Budget identified')`,
        },
        {
            content: "and no quick create opened there either",
            trigger: `${column("S4 Terms")}:not(:has(.o_kanban_quick_create))`,
        },
    ],
});
