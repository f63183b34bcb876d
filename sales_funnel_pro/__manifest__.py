{
    "name": "Sales Funnel Pro",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "summary": "Qualified stages with exit criteria, enforced gates and stage history "
    "for the CRM pipeline",
    "author": "Sales Funnel Pro",
    "website": "https://github.com/sales-funnel-pro/sales_funnel_pro",
    "license": "LGPL-3",
    "depends": ["crm"],
    "data": [
        "security/sales_funnel_pro_security.xml",
        "security/ir.model.access.csv",
        "views/crm_stage_views.xml",
        "views/funnel_stage_criterion_views.xml",
        "views/funnel_lead_check_views.xml",
        "views/funnel_stage_history_views.xml",
        "views/crm_lead_views.xml",
        "wizard/funnel_gate_waiver_views.xml",
        "wizard/funnel_template_wizard_views.xml",
        "views/sales_funnel_pro_menus.xml",
    ],
    "demo": [
        "demo/sales_funnel_pro_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "sales_funnel_pro/static/src/scss/sales_funnel_pro.scss",
        ],
        "web.assets_tests": [
            "sales_funnel_pro/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "post_init_hook",
    "application": True,
    "installable": True,
}
