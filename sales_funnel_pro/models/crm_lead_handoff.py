"""crm.lead, installed base and hand-off: the assets an opportunity sold or came
from, who found it, and when it was handed over to customer care."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    asset_ids = fields.Many2many(
        "funnel.installed.asset",
        "funnel_installed_asset_crm_lead_rel",
        "lead_id",
        "asset_id",
        string="Installed Assets",
        help="The installed assets this opportunity is about (the ones it would "
        "replace or upgrade, or came from).",
    )
    sold_asset_ids = fields.One2many(
        "funnel.installed.asset",
        "origin_lead_id",
        string="Assets Sold",
        help="The assets installed at the customer when it was won and handed over.",
    )
    asset_count = fields.Integer(string="Assets", compute="_compute_asset_count")
    referred_by_id = fields.Many2one(
        "res.users",
        string="Found By",
        index="btree_not_null",
        tracking=True,
        domain=[("share", "=", False)],
        help="Who found this opportunity (after-sales care, installed base): the "
        "credit for collaboration.",
    )
    handoff_date = fields.Datetime(
        string="Handed Over On",
        copy=False,
        readonly=True,
        help="When the won opportunity was handed over to customer care.",
    )
    funnel_can_hand_over = fields.Boolean(
        string="Can Hand Over",
        compute="_compute_funnel_can_hand_over",
        help="Won, with a customer, and not handed over to customer care yet.",
    )

    def _compute_asset_count(self):
        linked = dict(
            self.env["funnel.installed.asset"]._read_group(
                [("lead_ids", "in", self.ids)], ["lead_ids"], ["__count"]
            )
        )
        sold = dict(
            self.env["funnel.installed.asset"]._read_group(
                [("origin_lead_id", "in", self.ids)], ["origin_lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.asset_count = linked.get(lead, 0) + sold.get(lead, 0)

    @api.depends("forecast_category", "active", "partner_id", "handoff_date")
    def _compute_funnel_can_hand_over(self):
        for lead in self:
            lead.funnel_can_hand_over = bool(
                lead.partner_id
                and not lead.handoff_date
                and lead.active
                and lead.stage_id.is_won
            )

    def action_view_assets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pro.funnel_installed_asset_action"
        )
        action["domain"] = [
            "|",
            ("lead_ids", "in", self.ids),
            ("origin_lead_id", "=", self.id),
        ]
        action["context"] = {
            "default_partner_id": self.partner_id.commercial_partner_id.id,
            "default_origin_lead_id": self.id,
            "active_test": False,
        }
        return action

    def action_funnel_hand_over(self):
        """Open the hand-over to customer care of this won opportunity."""
        self.ensure_one()
        return self.env["funnel.handover.wizard"]._open_for(self)

    def action_set_won_rainbowman(self):
        """The Won button: once won, offer the hand-over to customer care (its
        dialog, with the rainbow of the win kept). Only this button offers it:
        winning by a write (RPC, a card dragged to the won stage) stays as it
        is, and the hand-over never stands in the way of the win."""
        result = super().action_set_won_rainbowman()
        offer = self._funnel_hand_over_offer()
        if not offer:
            return result
        if isinstance(result, dict) and result.get("effect"):
            offer["effect"] = result["effect"]
        return offer

    def _funnel_hand_over_offer(self):
        """The hand-over dialog to open after the win, or False: when the
        company offers it, the opportunity has something to hand over (won,
        with a customer, not handed over yet, and an asset category to install
        under), and the user may open it."""
        self.ensure_one()
        company = self.company_id or self.env.company
        if not company.funnel_handover_on_won or not self.funnel_can_hand_over:
            return False
        has_category = self.env["funnel.asset.category"].search_count(
            [("company_id", "in", [company.id, False])], limit=1
        )
        if not has_category:
            return False
        try:
            with self.env.cr.savepoint():
                return self.env["funnel.handover.wizard"]._open_for(self)
        except (AccessError, UserError):
            return False
