import { registry } from "@web/core/registry";
import { openForecastBoardSteps } from "@sales_funnel_pro/../tests/tours/funnel_tour_utils";

// The opportunity, in the last stage before Won, its customer and the asset
// category are created by tests/test_ui_handoff.py, which opens its form; the
// customer also has an old unit (10,000) reaching its end of life in 45 days,
// the month of the open "Boiler calibrators for the power plant" (4,000).
const LEAD = "Pressure calibrators for the power plant";
const FOUND = "Second calibrator for the power plant";
const DATED = "Boiler calibrators for the power plant";
const HANDOVER = ".modal:has(.modal-title:contains('Hand Over to Customer Care'))";
const CARE = ".modal:has(.modal-title:contains('Log Activity'))";
const MONTH = `.o_funnel_forecast_kanban .o_kanban_group:has(.o_kanban_record:contains('${DATED}'))`;
const FOUND_MODAL = ".modal:has(.modal-title:contains('New Opportunity Found'))";

registry.category("web_tour.tours").add("sales_funnel_pro_handoff_tour", {
    steps: () => [
        {
            content: "Win the opportunity",
            trigger: `.o_breadcrumb:contains('${LEAD}') ~ * button[name=action_set_won_rainbowman], .o_form_view button[name=action_set_won_rainbowman]`,
            run: "click",
        },
        {
            content: "Won: the hand-over to customer care opens, the delivered equipment proposed with its category",
            trigger: `${HANDOVER} .o_data_row:contains('${LEAD}'):contains('Pressure calibrators')`,
        },
        {
            content: "Hand over",
            trigger: `${HANDOVER} button[name=action_hand_over]`,
            run: "click",
        },
        {
            content: "The opportunity now counts one asset",
            trigger: "body:not(:has(.modal)) button[name=action_view_assets]:contains('1')",
            run: "click",
        },
        {
            content: "Open the customer's new asset, in its early life",
            trigger: `.o_kanban_group:has(.o_column_title:contains('Early Life')) .o_kanban_record:contains('${LEAD}')`,
            run: "click",
        },
        {
            content: "Log a care call, as any activity",
            trigger: "button[name=action_log_care]",
            run: "click",
        },
        {
            content: "The dialog is about the asset",
            trigger: `${CARE} .o_field_widget[name=asset_id] input`,
        },
        {
            content: "Say what happened",
            trigger: `${CARE} .o_field_widget[name=summary] input`,
            run: "edit Callback: the users want a second unit",
        },
        {
            content: "Log the care call",
            trigger: `${CARE} button[name=action_log]`,
            run: "click",
        },
        {
            content: "Care found a need",
            trigger: "body:not(:has(.modal)) button[name=action_find_opportunity]",
            run: "click",
        },
        {
            content: "Name the new opportunity",
            trigger: `${FOUND_MODAL} .o_field_widget[name=name] input`,
            run: `edit ${FOUND}`,
        },
        {
            content: "Create it",
            trigger: `${FOUND_MODAL} button[name=action_create]`,
            run: "click",
        },
        {
            content: "The new opportunity starts in the first stage",
            trigger: `.o_breadcrumb:contains('${FOUND}')`,
        },
        {
            content: "Open the Sales menu",
            trigger: ".o_main_navbar .o_menu_sections button:contains('Sales')",
            run: "click",
        },
        {
            content: "Open my pipeline",
            trigger: ".o-dropdown-item:contains('My Pipeline')",
            run: "click",
        },
        {
            content: "It is in the pipeline, in the first stage",
            trigger: `.o_opportunity_kanban .o_kanban_group:has(.o_column_title:contains('S1 Start')) .o_kanban_record:contains('${FOUND}')`,
        },
        ...openForecastBoardSteps(),
        {
            content: "The replacement potential of the next 3 months: the old unit",
            trigger: ".o_funnel_replacement_potential .o_funnel_replacement_3 .o_funnel_forecast_amount:contains(/^\\D*10k\\D*$/)",
        },
        {
            content: "Under its month, apart from the funnel's sums",
            trigger: `${MONTH} .o_funnel_forecast_replacement .o_funnel_forecast_amount:contains(/^\\D*10k\\D*$/)`,
        },
        {
            content: "which stay the opportunity's 4k",
            trigger: `${MONTH} .o_funnel_forecast_sum_pipeline .o_funnel_forecast_amount:contains(/^\\D*4k\\D*$/)`,
        },
    ],
});
