import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The history and the figures are made by tests/test_ui_capability.py: Sam
// converts far less than the team at S2 Needs, and two of his opportunities
// are still there.
const TOP_ROW = ".o_list_renderer .o_data_row:first";

registry.category("web_tour.tours").add("sales_funnel_pro_capability_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the CRM app",
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            run: "click",
        },
        {
            content: "Open Reporting",
            trigger: ".o_menu_sections [data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            content: "Open Coaching, under Rep Capability",
            trigger: ".dropdown-item[data-menu-xmlid='sales_funnel_pro.funnel_rep_benchmark_menu_coaching']",
            run: "click",
        },
        {
            content: "The top row: Sam at S2 Needs, below the team",
            trigger: `${TOP_ROW}:contains('Sam Salesman'):contains('S2 Needs'):contains('Below Team')`,
        },
        {
            content: "Open his capability card",
            trigger: `${TOP_ROW} button[name='action_open_card']`,
            run: "click",
        },
        {
            content: "The card says where to coach",
            trigger: ".o_form_view .alert:contains('Coach here'):contains('S2 Needs')",
        },
        {
            content: "The stage table shows the flagged stage",
            trigger: ".o_field_one2many .o_data_row:contains('S2 Needs'):contains('Below Team')",
        },
        {
            content: "Follow the link to the opportunities stuck there",
            trigger: "button[name='action_open_stuck']",
            run: "click",
        },
        {
            content: "Both of Sam's open opportunities at S2 Needs are listed",
            trigger: ".o_list_view .o_breadcrumb:contains('Stuck at S2 Needs')",
        },
        {
            content: "The first one",
            trigger: ".o_list_view .o_data_row:contains('Stuck at needs A')",
        },
        {
            content: "The second one",
            trigger: ".o_list_view .o_data_row:contains('Stuck at needs B')",
        },
    ],
});
