"""The quick log, care work: the same dialog logs an activity on a customer or
one of its installed assets (no opportunity), as ``funnel.activity.log``'s care
rows (``is_care``, ``source`` = care). Such a row has no opportunity, so it
never counts toward an opportunity's gate; it brings the customer's and the
asset's last care date up to date."""

from odoo import api, fields, models
from odoo.exceptions import UserError

# the documents a care activity is about, and what its type may be made for
CARE_MODELS = ("res.partner", "funnel.installed.asset")


class FunnelActivityQuickLog(models.TransientModel):
    _inherit = "funnel.activity.quick.log"  # pylint: disable=consider-merging-classes-inherited

    # a care activity has no opportunity
    lead_ids = fields.Many2many(required=False)
    is_care = fields.Boolean(
        string="Care Activity",
        help="Logged on a customer or one of its installed assets, not on "
        "opportunities: it counts toward the care coverage, never toward a gate.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        precompute=True,
        help="The customer the care activity was for.",
    )
    asset_id = fields.Many2one(
        "funnel.installed.asset",
        string="Installed Asset",
        help="The installed asset the care activity was about, if any.",
    )

    @api.depends("asset_id")
    def _compute_partner_id(self):
        for wizard in self:
            if wizard.asset_id:
                wizard.partner_id = wizard.asset_id.partner_id.commercial_partner_id

    @api.model
    def _care_action(self, partner, asset=None):
        """The quick log on ``partner`` (or its ``asset``), as a care activity."""
        care_type = self.env.ref(
            "sales_funnel_pro.mail_activity_type_customer_care",
            raise_if_not_found=False,
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log Activity"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_is_care": True,
                "default_partner_id": partner.commercial_partner_id.id,
                "default_asset_id": asset.id if asset else False,
                "default_activity_type_id": care_type.id if care_type else False,
            },
        }

    def action_log(self):
        if not self.is_care:
            return super().action_log()
        self.ensure_one()
        self._check_care()
        if self.schedule_next:
            self._check_next_step()
        params = self._job_params()
        values = dict(
            params["values"],
            source="care",
            partner_id=self.partner_id.commercial_partner_id.id,
            asset_id=self.asset_id.id or False,
        )
        self.env["funnel.activity.log"].create(values)
        if params["next"]:
            document = self.asset_id or self.partner_id.commercial_partner_id
            owner = (
                self.asset_id.care_user_id
                or self.partner_id.commercial_partner_id.funnel_care_user_id
                or self.env.user
            )
            self.env["mail.activity"].create(
                dict(
                    params["next"],
                    res_model_id=self.env["ir.model"]._get_id(document._name),
                    res_id=document.id,
                    user_id=owner.id,
                )
            )
        return {"type": "ir.actions.act_window_close"}

    def _check_care(self):
        """:raise UserError: on a care activity without customer, on an asset
        of another customer, with opportunities, or of a type made for
        opportunities"""
        partner = self.partner_id.commercial_partner_id
        if not partner:
            raise UserError(
                self.env._(
                    "Log the care activity on a customer or one of its installed "
                    "assets."
                )
            )
        if self.asset_id and self.asset_id.partner_id.commercial_partner_id != partner:
            raise UserError(
                self.env._(
                    "The asset %(asset)s is not installed at %(customer)s.",
                    asset=self.asset_id.display_name,
                    customer=partner.display_name,
                )
            )
        if self.lead_ids:
            raise UserError(
                self.env._(
                    "A care activity is logged on a customer or an asset, not on "
                    "opportunities: log it on the opportunities separately."
                )
            )
        logged = self.activity_type_id
        if logged.res_model and logged.res_model not in CARE_MODELS:
            raise UserError(
                self.env._(
                    "“%(type)s” is an activity of opportunities: choose a care "
                    "activity type.",
                    type=logged.name,
                )
            )
        document = self.asset_id or partner
        planned = self.next_activity_type_id if self.schedule_next else logged.browse()
        if planned.res_model and planned.res_model != document._name:
            raise UserError(
                self.env._(
                    "“%(type)s” cannot be planned on %(document)s: choose another "
                    "next activity.",
                    type=planned.name,
                    document=document.display_name,
                )
            )
        # the customer and the asset the user may read (the asset's rule: the
        # care owner and the salesperson of its customer)
        partner.check_access("read")
        self.asset_id.check_access("read")
