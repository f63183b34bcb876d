from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    funnel_asset_category_id = fields.Many2one(
        "funnel.asset.category",
        string="Installed Asset Category",
        help="Sold on a won opportunity, each unit of this product is proposed as an "
        "installed asset of this category when the opportunity is handed over to "
        "customer care.",
    )
