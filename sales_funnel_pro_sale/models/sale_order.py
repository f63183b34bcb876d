from odoo import api, fields, models

from .crm_lead import COUNTED_STATES


class SaleOrder(models.Model):
    _inherit = "sale.order"

    funnel_sent_date = fields.Datetime(
        string="Sent On",
        readonly=True,
        copy=False,
        help="When the quotation was first sent or confirmed (e-mailing a quotation "
        "changes its state without tracking it).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        orders._funnel_stamp_sent()
        orders.opportunity_id._funnel_refresh_quotation_checks()
        return orders

    def write(self, vals):
        leads = self.opportunity_id
        result = super().write(vals)
        if {"state", "opportunity_id", "order_line", "amount_untaxed"} & vals.keys():
            if "state" in vals:
                self._funnel_stamp_sent()
            (leads | self.opportunity_id)._funnel_refresh_quotation_checks()
        return result

    def _funnel_stamp_sent(self):
        unstamped = self.filtered(
            lambda o: o.state in COUNTED_STATES and not o.funnel_sent_date
        )
        if unstamped:
            unstamped.sudo().write({"funnel_sent_date": fields.Datetime.now()})


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    def _funnel_refresh_quotation_checks(self):
        """The quotations of these opportunities changed: their checks say so."""
        leads = self.exists()
        if leads:
            self.env["funnel.lead.check"]._sync(leads)
