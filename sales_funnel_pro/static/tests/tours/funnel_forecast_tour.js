import { registry } from "@web/core/registry";
import {
    openCrmSteps,
    openForecastBoardSteps,
} from "@sales_funnel_pro/../tests/tours/funnel_tour_utils";

// The opportunities are created by tests/test_ui_forecast.py: in the month of
// "Pressure calibrators for the refinery" (12,000 in pipeline, at 10 %) the
// commit sum is 5,000 and the pipeline sum 12,000; "Torque wrenches for the
// workshop" has no expected closing date.
const LEAD = "Pressure calibrators for the refinery";
const CARD = `.o_kanban_record:contains('${LEAD}')`;
const COLUMN = `.o_funnel_forecast_kanban .o_kanban_group:has(${CARD})`;
const sum = (category, amount) =>
    `${COLUMN} .o_funnel_forecast_sum_${category} .o_funnel_forecast_amount:contains(/^\\D*${amount}\\D*$/)`;

registry.category("web_tour.tours").add("sales_funnel_pro_forecast_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps(),
        ...openForecastBoardSteps(),
        {
            content: "The opportunity without a date waits in its own column",
            trigger: `.o_funnel_forecast_kanban .o_kanban_group:has(.o_column_title:contains('Needs a date')) .o_kanban_record:contains('Torque wrenches for the workshop')`,
        },
        {
            content: "The month's sums: 5k committed, 12k in pipeline, 3k weighted",
            trigger: `${sum("commit", "5k")}`,
        },
        {
            content: "12k in pipeline",
            trigger: `${sum("pipeline", "12k")}`,
        },
        {
            content: "weighted by the stages: 75 % of 5k and 10 % of 12k",
            trigger: `${sum("weighted", "5k")}`,
        },
        {
            content: "Open the forecast category of the card",
            trigger: `${CARD} .o_funnel_forecast_category .o_status`,
            run: "click",
        },
        {
            content: "Commit it",
            trigger: ".state_selection_field_menu .dropdown-item:contains('Commit')",
            run: "click",
        },
        {
            content: "The card is in commit",
            trigger: `${CARD} .o_funnel_forecast_category .o_status_label:contains('Commit')`,
        },
        {
            content: "The month's commit sum grows to 17k",
            trigger: `${sum("commit", "17k")}`,
        },
        {
            content: "and its pipeline sum falls to 0",
            trigger: `${sum("pipeline", "0")}`,
        },
    ],
});
