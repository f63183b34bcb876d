{
    "name": "Sales Funnel Pro - Sales",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "summary": "Quotations as gate evidence: the exit criterion “Quotation sent” met "
    "by a real quotation of the opportunity",
    "author": "Sales Funnel Pro",
    "website": "https://github.com/sales-funnel-pro/sales_funnel_pro",
    "license": "LGPL-3",
    "depends": ["sales_funnel_pro", "sale_crm"],
    "data": [
        "views/funnel_stage_criterion_views.xml",
        "views/product_template_views.xml",
        "views/sale_order_views.xml",
    ],
    "auto_install": True,
    "installable": True,
}
