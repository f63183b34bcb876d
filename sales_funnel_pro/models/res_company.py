from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """The company's settings of the rep capability figures and of the
    hand-over to customer care."""

    _inherit = "res.company"

    funnel_handover_on_won = fields.Boolean(
        string="Hand Over When Won",
        default=True,
        help="When a salesperson wins an opportunity with the Won button, open "
        "its hand-over to customer care (the opportunity needs a customer, and "
        "the company an asset category). The hand-over stays on the won "
        "opportunity's form either way.",
    )

    funnel_min_sample = fields.Integer(
        string="Minimum Sample",
        default=10,
        help="Settled passes a salesperson needs at a stage before the stage is "
        "marked below or above the team; with fewer it reads 'too few'.",
    )
    funnel_shrinkage = fields.Float(
        string="Shrinkage",
        default=10.0,
        help="Weight of the team's rate in a salesperson's shrunk rate, as a number "
        "of passes: (advanced + shrinkage × team rate) ÷ (settled + shrinkage). The "
        "coaching list ranks by the shrunk rate, so that a few lucky or unlucky "
        "passes do not top it. 0 uses the measured rate.",
    )
    funnel_window_days = fields.Integer(
        string="Short Window (Days)",
        default=90,
        help="The short window of the capability figures, in days before today.",
    )
    funnel_window_months = fields.Integer(
        string="Long Window (Months)",
        default=12,
        help="The long window of the capability figures, in months before today.",
    )

    @api.constrains(
        "funnel_min_sample",
        "funnel_shrinkage",
        "funnel_window_days",
        "funnel_window_months",
    )
    def _check_funnel_capability_settings(self):
        for company in self:
            if company.funnel_min_sample < 1:
                raise ValidationError(
                    self.env._("The minimum sample must be at least 1 settled pass.")
                )
            if company.funnel_shrinkage < 0:
                raise ValidationError(self.env._("The shrinkage cannot be negative."))
            if company.funnel_window_days < 1 or company.funnel_window_months < 1:
                raise ValidationError(
                    self.env._(
                        "The windows of the capability figures must be at least "
                        "one day and one month long."
                    )
                )
