import { registry } from "@web/core/registry";
import { openCrmSteps } from "@sales_funnel_pro/../tests/tours/funnel_tour_utils";

// The opportunity, its planned call and the "Visit held" criterion are created
// by tests/test_ui_activity.py.
const LEAD = "Pressure calibrators for the power plant";
const CARD = `.o_kanban_record:contains('${LEAD}')`;
const column = (stage) =>
    `.o_opportunity_kanban .o_kanban_group:has(.o_column_title:contains('${stage}'))`;
const MODAL = ".modal:has(.modal-title:contains('Log Activity'))";
const CALL = ".o-mail-Activity:contains('Confirm the budget')";
const DONE_DIALOG = ".o-mail-ActivityMarkAsDone";

// "met/required" on the card (its parts are flex items, hence the \s*)
const progress = (met, required) => `:contains(/^${met}\\s*.\\s*${required}$/)`;

registry.category("web_tour.tours").add("sales_funnel_pro_activity_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps(),
        {
            content: "The card shows two of the three exit criteria met: the visit is missing",
            trigger: `${column("S1 Start")} ${CARD} .o_funnel_card_progress:not(.text-success)${progress(2, 3)}`,
        },
        {
            content: "Open the card's menu",
            trigger: `${column("S1 Start")} ${CARD}`,
            run: `hover && click ${column("S1 Start")} ${CARD} .o_dropdown_kanban .dropdown-toggle`,
        },
        {
            content: "Log an activity",
            trigger: ".dropdown-menu .o_funnel_quick_log:contains('Log Activity')",
            run: "click",
        },
        {
            content: "The dialog is opened on the opportunity",
            trigger: `${MODAL} .o_field_widget[name=lead_ids] .o_tag:contains('${LEAD}')`,
        },
        {
            content: "Choose the activity type",
            trigger: `${MODAL} .o_field_widget[name=activity_type_id] input`,
            run: "edit Visit",
        },
        {
            content: "Pick Visit",
            trigger: ".o-autocomplete--dropdown-item:contains('Visit')",
            run: "click",
        },
        {
            content: "The duration is the one of a visit",
            trigger: `${MODAL} .o_field_widget[name=duration] input:value(02:00)`,
        },
        {
            content: "Say what happened",
            trigger: `${MODAL} .o_field_widget[name=summary] input`,
            run: "edit Visited the instrument workshop",
        },
        {
            content: "A good visit",
            trigger: `${MODAL} .o_field_widget[name=outcome] input[data-value=positive]`,
            run: "click",
        },
        {
            content: "Log it",
            trigger: `${MODAL} .modal-footer button[name=action_log]`,
            run: "click",
        },
        {
            content: "The card shows every exit criterion met, without reloading",
            trigger: `body:not(:has(.modal)) ${column("S1 Start")} ${CARD} .o_funnel_card_progress.text-success${progress(3, 3)}`,
        },
        {
            content: "Open the opportunity",
            trigger: `${column("S1 Start")} ${CARD}`,
            run: "click",
        },
        {
            content: "Mark the planned call done from the chatter",
            trigger: `${CALL} .o-mail-Activity-markDone`,
            run: "click",
        },
        {
            content: "The dialog asks the duration, prefilled with a call's",
            trigger: `${DONE_DIALOG} .o_funnel_done_duration:value(00:15)`,
        },
        {
            content: "and the outcome, neutral unless told",
            trigger: `${DONE_DIALOG} .o_funnel_done_outcome button.active[data-outcome=neutral]`,
        },
        {
            content: "Say it took longer",
            trigger: `${DONE_DIALOG} .o_funnel_done_duration`,
            run: "edit 0:45",
        },
        {
            content: "and went well",
            trigger: `${DONE_DIALOG} .o_funnel_done_outcome button[data-outcome=positive]`,
            run: "click",
        },
        {
            content: "Positive is chosen",
            trigger: `${DONE_DIALOG} .o_funnel_done_outcome button.active[data-outcome=positive]`,
        },
        {
            content: "Give feedback",
            trigger: `${DONE_DIALOG} textarea`,
            run: "edit Budget confirmed: 60k",
        },
        {
            content: "Done",
            trigger: `${DONE_DIALOG} button[aria-label=Done]`,
            run: "click",
        },
        {
            content: "The call is done: it leaves the planned activities and enters the chatter",
            trigger: `body:not(:has(${CALL})) .o-mail-Message:contains('Budget confirmed: 60k')`,
        },
    ],
});
