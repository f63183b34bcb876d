import { registry } from "@web/core/registry";
import {
    openCrmSteps,
    openForecastBoardSteps,
} from "@sales_funnel_pro/../tests/tours/funnel_tour_utils";

// tests/test_ui_forecast_call.py: Sam Salesman called 5,000 for this month.
const CALL = ".o_data_row:contains('Sam Salesman'):contains('Call')";

registry.category("web_tour.tours").add("sales_funnel_pro_forecast_adjust_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps(),
        ...openForecastBoardSteps(),
        {
            content: "The board tells the manager how many salespeople have not called",
            trigger: ".o_funnel_team_call_status:contains('salespeople not updated for 7+ days')",
            run: "click",
        },
        {
            content: "Their calls open, filtered on the week-old ones",
            trigger: ".o_searchview_facet:contains('Not Updated for 7+ Days')",
        },
        {
            content: "Open the reporting menu",
            trigger: ".o_menu_sections button:contains('Reporting')",
            run: "click",
        },
        {
            content: "Open the forecast calls",
            trigger: ".dropdown-item[data-menu-xmlid='sales_funnel_pro.funnel_forecast_submission_menu']",
            run: "click",
        },
        {
            content: "Adjust Sam's call",
            trigger: `${CALL} button[name='action_adjust']`,
            run: "click",
        },
        {
            content: "The adjustment starts from his number",
            trigger: ".modal .o_field_widget[name='commit_amount'] input:value(/5,000/)",
        },
        {
            content: "The manager's number",
            trigger: ".modal .o_field_widget[name='commit_amount'] input",
            run: "edit 7000",
        },
        {
            content: "and best case",
            trigger: ".modal .o_field_widget[name='best_case_amount'] input",
            run: "edit 9000",
        },
        {
            content: "and why",
            trigger: ".modal .o_field_widget[name='note'] textarea",
            run: "edit The refinery signs early",
        },
        {
            content: "Save the adjustment",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The dialog closes",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The adjustment is listed beside the call",
            trigger: ".o_data_row:contains('Sam Salesman'):contains('Manager Adjustment'):contains('7,000')",
        },
    ],
});
