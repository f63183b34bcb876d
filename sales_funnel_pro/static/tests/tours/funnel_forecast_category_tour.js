import { registry } from "@web/core/registry";
import { openCrmSteps } from "@sales_funnel_pro/../tests/tours/funnel_tour_utils";

// The opportunity and stages are created by tests/test_ui_forecast.py.
const LEAD = "Dry-block calibrators for the brewery";
const CARD = `.o_kanban_record:contains('${LEAD}')`;
const CATEGORY = `${CARD} .o_funnel_forecast_category`;

registry.category("web_tour.tours").add("sales_funnel_pro_forecast_category_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps(),
        {
            content: "The card shows the stage's forecast category",
            trigger: `${CATEGORY}:not(.o_funnel_forecast_chosen) .o_status_label:contains('Best Case')`,
        },
        {
            content: "Open the category menu of the card",
            trigger: `${CATEGORY} .o_field_state_selection button`,
            run: "click",
        },
        {
            content: "Commit the opportunity",
            trigger: ".state_selection_field_menu .dropdown-item:contains('Commit')",
            run: "click",
        },
        {
            content: "The card says Commit, in bold: the salesperson chose it",
            trigger: `${CATEGORY}.o_funnel_forecast_chosen .o_status_label:contains('Commit')`,
        },
        {
            content: "The form did not open",
            trigger: `.o_opportunity_kanban ${CARD}`,
        },
    ],
});
