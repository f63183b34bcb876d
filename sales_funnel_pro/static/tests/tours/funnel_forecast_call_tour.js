import { registry } from "@web/core/registry";
import {
    openCrmSteps,
    openForecastBoardSteps,
} from "@sales_funnel_pro/../tests/tours/funnel_tour_utils";

// tests/test_ui_forecast_call.py: the salesman has 5,000 in commit and 12,000
// in pipeline this month, and has not called his forecast yet.
const STATUS = ".o_funnel_call_status";

registry.category("web_tour.tours").add("sales_funnel_pro_forecast_call_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps(),
        ...openForecastBoardSteps(),
        {
            content: "The board flags that no forecast was submitted for the period",
            trigger: `${STATUS}.text-bg-warning:contains('No forecast submitted')`,
        },
        {
            content: "Submit my forecast",
            trigger: ".o_control_panel button.o_funnel_submit_forecast",
            run: "click",
        },
        {
            content: "The call is prefilled with the commit of the month",
            trigger: ".modal .o_field_widget[name='commit_amount'] input:value(/5,000/)",
        },
        {
            content: "and the system's pipeline beside it",
            trigger: ".modal .o_field_widget[name='system_pipeline']:contains('12,000')",
        },
        {
            content: "Raise the best case",
            trigger: ".modal .o_field_widget[name='best_case_amount'] input",
            run: "edit 9000",
        },
        {
            content: "Say what the call rests on",
            trigger: ".modal .o_field_widget[name='note'] textarea",
            run: "edit The refinery confirms its budget in two weeks",
        },
        {
            content: "Submit",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The flag clears: the forecast was submitted today",
            trigger: `${STATUS}.text-bg-success:contains('Forecast submitted today')`,
        },
        {
            content: "with the call beside it",
            trigger: `${STATUS} .o_funnel_call_amounts:contains('Commit'):contains('5k'):contains('Best case'):contains('9k')`,
        },
    ],
});
