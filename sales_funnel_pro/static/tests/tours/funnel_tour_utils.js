import { stepUtils } from "@web_tour/tour_service/tour_utils";

/** The steps that open the CRM app from the home menu, where every tour starts. */
export function openCrmSteps() {
    return [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the CRM app",
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            run: "click",
        },
    ];
}

/** The steps that open the forecast board from the CRM app's menu. */
export function openForecastBoardSteps() {
    return [
        {
            content: "Open the reporting menu",
            trigger: ".o_menu_sections button:contains('Reporting')",
            run: "click",
        },
        {
            content: "Open the forecast board",
            trigger: ".dropdown-item[data-menu-xmlid='sales_funnel_pro.crm_lead_menu_funnel_forecast']",
            run: "click",
        },
    ];
}
