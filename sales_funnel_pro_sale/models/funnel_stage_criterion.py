from odoo import fields, models


class FunnelStageCriterion(models.Model):
    _inherit = "funnel.stage.criterion"

    kind = fields.Selection(
        selection_add=[("quotation", "Quotation")],
        ondelete={"quotation": "set default"},
        help="- Checklist item: ticked by the salesperson, with an evidence note;\n"
        "- Field is set: a field of the opportunity must have a value;\n"
        "- Activities done: at least a number of activities of a type must be "
        "marked done on the opportunity;\n"
        "- Quotation: a quotation of the opportunity is sent or confirmed (of at "
        "least the minimum amount, untaxed).",
    )
    quotation_min_amount = fields.Float(
        string="Minimum Amount",
        help="A quotation counts from this untaxed amount on (0: any amount).",
    )

    def write(self, vals):
        result = super().write(vals)
        if "quotation_min_amount" in vals:
            self.env.registry.clear_cache()
            self.stage_id._funnel_refresh_leads_unless_deferred()
        return result

    def _funnel_params(self):
        params = super()._funnel_params()
        if self.kind == "quotation":
            params += (("min_amount", self.quotation_min_amount),)
        return params
