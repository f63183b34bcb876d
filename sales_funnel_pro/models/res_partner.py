from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    funnel_asset_ids = fields.One2many(
        "funnel.installed.asset",
        "partner_id",
        string="Installed Assets",
        help="The equipment installed at this customer, ours and competitors'.",
    )
    funnel_asset_count = fields.Integer(
        string="Installed Assets Count", compute="_compute_funnel_asset_count"
    )
    funnel_care_user_id = fields.Many2one(
        "res.users",
        string="Care Owner",
        index="btree_not_null",
        domain=[("share", "=", False)],
        help="Who looks after this customer after the sale.",
    )
    funnel_last_care_date = fields.Datetime(
        string="Last Care",
        readonly=True,
        copy=False,
        help="The latest care activity logged on this customer or its assets.",
    )

    def _compute_funnel_asset_count(self):
        counts = dict(
            self.env["funnel.installed.asset"]._read_group(
                [("partner_id", "child_of", self.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.funnel_asset_count = sum(
                count
                for asset_partner, count in counts.items()
                if asset_partner.commercial_partner_id == partner
                or asset_partner == partner
            )

    def action_funnel_view_assets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pro.funnel_installed_asset_action"
        )
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def action_funnel_find_opportunity(self):
        self.ensure_one()
        return self.env["funnel.opportunity.found"]._open_for(partner=self)

    def action_funnel_log_care(self):
        self.ensure_one()
        return self.env["funnel.activity.log"]._care_log_action(self)
