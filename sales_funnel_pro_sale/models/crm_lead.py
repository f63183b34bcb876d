from odoo import fields, models
from odoo.tools import format_date
from odoo.tools.misc import formatLang

# the states of a quotation that meet the criterion
COUNTED_STATES = ("sent", "sale")


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def _funnel_quotations(self, pairs):
        """{lead id: [sale.order, best first]}: the sent or confirmed orders of
        the opportunities of ``pairs``, in their company (one query)."""
        leads = self.browse({lead.id for lead, __ in pairs})
        orders = (
            self.env["sale.order"]
            .sudo()
            .search(
                [
                    ("opportunity_id", "in", leads.ids),
                    ("state", "in", COUNTED_STATES),
                ],
                order="amount_untaxed desc, id",
            )
        )
        by_lead = {}
        for order in orders:
            lead = order.opportunity_id
            if not lead.company_id or order.company_id == lead.company_id:
                by_lead.setdefault(lead.id, []).append(order)
        return by_lead

    def _funnel_met_quotation(self, pairs, checks):
        """ "Quotation": met by a sent or confirmed quotation of the opportunity
        of at least the minimum untaxed amount."""
        by_lead = self._funnel_quotations(pairs)
        met = set()
        for lead, info in pairs:
            minimum = dict(info.params).get("min_amount", 0.0)
            if any(o.amount_untaxed >= minimum for o in by_lead.get(lead.id, [])):
                met.add((lead.id, info.id))
        return met

    def _funnel_evidence_quotation(self, pairs, met):
        """The evidence of a met quotation criterion: the order, when it was
        sent, its untaxed amount."""
        by_lead = self._funnel_quotations(pairs)
        evidence = {}
        for lead, info in pairs:
            key = (lead.id, info.id)
            if key not in met:
                continue
            minimum = dict(info.params).get("min_amount", 0.0)
            order = next(
                (o for o in by_lead.get(lead.id, []) if o.amount_untaxed >= minimum),
                None,
            )
            if order is None:
                continue
            sent = order.funnel_sent_date or order.date_order
            evidence[key] = self.env._(
                "%(order)s, sent on %(date)s, %(amount)s untaxed",
                order=order.name,
                date=format_date(self.env, fields.Datetime.to_datetime(sent).date()),
                amount=formatLang(
                    self.env, order.amount_untaxed, currency_obj=order.currency_id
                ),
            )
        return evidence
