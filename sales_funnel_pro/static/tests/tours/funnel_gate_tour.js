import { registry } from "@web/core/registry";
import { openCrmSteps } from "@sales_funnel_pro/../tests/tours/funnel_tour_utils";

// The opportunity, stages and criteria are created by tests/test_ui.py.
const LEAD = "Multifunction calibrators for the refinery";
const CARD = `.o_kanban_record:contains('${LEAD}')`;
const column = (stage) =>
    `.o_opportunity_kanban .o_kanban_group:has(.o_column_title:contains('${stage}'))`;
const checkRow = (criterion) =>
    `.o_field_widget[name=current_check_ids] .o_data_row:contains('${criterion}')`;

// "met/required" on the card (its parts are flex items, hence the \s*)
const progress = (met, required) => `:contains(/^${met}\\s*.\\s*${required}$/)`;

registry.category("web_tour.tours").add("sales_funnel_pro_gate_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps(),
        {
            content: "The opportunity waits in the first stage",
            trigger: `${column("S1 Start")} ${CARD}`,
        },
        {
            content: "Its card shows the exit criteria still to meet",
            trigger: `${column("S1 Start")} ${CARD} .o_funnel_card_progress${progress(0, 2)}`,
        },
        {
            content: "Drag the card to the next stage",
            trigger: `${column("S1 Start")} ${CARD}`,
            run: `drag_and_drop(${column("S2 Needs")})`,
        },
        {
            content: "The gate refuses the move and names each unmet criterion",
            trigger: `.modal .o_error_dialog:contains('cannot move to “S2 Needs” yet'):contains('Budget identified'):contains('Customer set'):not(:contains('Competitors known'))`,
        },
        {
            content: "Close the error",
            trigger: ".modal .o_error_dialog .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The card went back to its column",
            trigger: `body:not(:has(.modal)) ${column("S1 Start")} ${CARD}`,
        },
        {
            content: "and is not in the next one",
            trigger: `${column("S2 Needs")}:not(:has(${CARD}))`,
        },
        {
            content: "Open the opportunity",
            trigger: `${column("S1 Start")} ${CARD}`,
            run: "click",
        },
        {
            content: "A salesman cannot waive the gate",
            trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name=action_open_gate_waiver]))",
        },
        {
            content: "Go to the Qualification tab",
            trigger: ".o_notebook a.nav-link[name=funnel_qualification]",
            run: "click",
        },
        {
            content: "Nothing is met yet",
            trigger: ".o_funnel_qualification_summary .badge:contains('Blocked')",
        },
        {
            content: "Tick the checklist criterion",
            trigger: `${checkRow("Budget identified")} button[name=action_mark_met]`,
            run: "click",
        },
        {
            content: "The criterion is met",
            trigger: `${checkRow("Budget identified")} td[name=state]:contains('Met')`,
        },
        {
            content: "Set the customer, which the field criterion asks for",
            trigger: ".o_field_widget[name=partner_id] input",
            run: "edit Calibration Lab",
        },
        {
            content: "Pick the customer",
            trigger: ".o-autocomplete--dropdown-item:contains('Calibration Lab Ltd')",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The field criterion is met automatically",
            trigger: `.o_form_saved ${checkRow("Customer set")} td[name=state]:contains('Met')`,
        },
        {
            content: "The opportunity is ready to advance",
            trigger: ".o_funnel_qualification_summary .badge:contains('Ready to advance')",
        },
        {
            content: "Back to the pipeline",
            trigger: ".o_back_button",
            run: "click",
        },
        {
            content: "The card shows every criterion met",
            trigger: `${column("S1 Start")} ${CARD} .o_funnel_card_progress.text-success${progress(2, 2)}`,
        },
        {
            content: "Drag the card to the next stage again",
            trigger: `${column("S1 Start")} ${CARD}`,
            run: `drag_and_drop(${column("S2 Needs")})`,
        },
        {
            content: "This time the server accepts the move: the card shows the new stage's criteria",
            trigger: `${column("S2 Needs")} ${CARD} .o_funnel_card_progress${progress(0, 2)}`,
        },
        {
            content: "and no error came",
            trigger: `body:not(:has(.modal)) ${column("S1 Start")}:not(:has(${CARD}))`,
        },
        {
            content: "Open the opportunity",
            trigger: `${column("S2 Needs")} ${CARD}`,
            run: "click",
        },
        {
            content: "Go to the Stage History tab",
            trigger: ".o_notebook a.nav-link[name=funnel_stage_history]",
            run: "click",
        },
        {
            content: "The move is recorded",
            trigger: ".o_field_widget[name=stage_history_ids] .o_data_row:has(td[name=stage_from_id]:contains('S1 Start')):has(td[name=stage_id]:contains('S2 Needs'))",
        },
        {
            content: "Back to the pipeline",
            trigger: ".o_back_button",
            run: "click",
        },
        {
            content: "The pipeline is shown again",
            trigger: `${column("S2 Needs")} ${CARD}`,
        },
    ],
});
