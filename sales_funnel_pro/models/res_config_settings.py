from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    funnel_min_sample = fields.Integer(
        related="company_id.funnel_min_sample", readonly=False
    )
    funnel_shrinkage = fields.Float(
        related="company_id.funnel_shrinkage", readonly=False
    )
    funnel_window_days = fields.Integer(
        related="company_id.funnel_window_days", readonly=False
    )
    funnel_window_months = fields.Integer(
        related="company_id.funnel_window_months", readonly=False
    )
    funnel_handover_on_won = fields.Boolean(
        related="company_id.funnel_handover_on_won", readonly=False
    )
