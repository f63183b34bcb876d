"""funnel.activity.log, care work: activities logged on a customer or on one of
its installed assets, without an opportunity.

A care activity never counts toward an opportunity's gate: the gates count the
logs of the opportunity (``lead_id``), and a care log has none. Each care log
brings the customer's and the asset's last care date up to date.
"""

from odoo import api, fields, models


class FunnelActivityLog(models.Model):
    _inherit = "funnel.activity.log"  # pylint: disable=consider-merging-classes-inherited

    asset_id = fields.Many2one(
        "funnel.installed.asset",
        string="Installed Asset",
        ondelete="set null",
        index="btree_not_null",
        check_company=True,
        help="The installed asset the care activity was about.",
    )
    source = fields.Selection(
        selection_add=[("care", "Customer care")], ondelete={"care": "set default"}
    )
    is_care = fields.Boolean(
        string="Care Activity",
        compute="_compute_is_care",
        store=True,
        precompute=True,
        help="Logged on a customer or an asset, without an opportunity: care work. "
        "It counts toward the care coverage, never toward an opportunity's gate.",
    )

    @api.depends("lead_id", "asset_id")
    def _compute_partner_id(self):
        result = super()._compute_partner_id()
        for log in self:
            if log.asset_id and not log.lead_id:
                log.partner_id = log.asset_id.partner_id
        return result

    @api.depends("lead_id", "asset_id")
    def _compute_company_id(self):
        result = super()._compute_company_id()
        for log in self:
            if log.asset_id and not log.lead_id:
                log.company_id = log.asset_id.company_id
        return result

    @api.depends("lead_id")
    def _compute_is_care(self):
        for log in self:
            log.is_care = not log.lead_id

    @api.model_create_multi
    def create(self, vals_list):
        logs = super().create(vals_list)
        logs.asset_id.check_access("read")
        logs.filtered("is_care")._refresh_care_dates()
        return logs

    def write(self, vals):
        before = self.filtered("is_care")
        result = super().write(vals)
        if {"date", "asset_id", "partner_id", "lead_id"} & vals.keys():
            (before | self.filtered("is_care"))._refresh_care_dates()
        return result

    def unlink(self):
        care = self.filtered("is_care")
        partners, assets = care.partner_id, care.asset_id
        result = super().unlink()
        self._refresh_care_dates(partners.exists(), assets.exists())
        return result

    def _refresh_care_dates(self, partners=None, assets=None):
        """The last care date of the customers and assets of these logs: the
        latest care log of each (one grouped query per model)."""
        partners = (
            self.partner_id if partners is None else partners
        ).commercial_partner_id
        assets = self.asset_id if assets is None else assets
        if not partners and not assets:
            return
        Log = self.sudo().with_context(active_test=False)
        by_partner = dict(
            Log._read_group(
                [
                    ("is_care", "=", True),
                    ("partner_id", "child_of", partners.ids),
                ],
                ["partner_id"],
                ["date:max"],
            )
        )
        latest = {}
        for partner, date in by_partner.items():
            key = partner.commercial_partner_id
            latest[key] = max(latest.get(key) or date, date)
        for partner in partners:
            partner.sudo().funnel_last_care_date = latest.get(partner, False)
        by_asset = dict(
            Log._read_group(
                [("is_care", "=", True), ("asset_id", "in", assets.ids)],
                ["asset_id"],
                ["date:max"],
            )
        )
        for asset in assets:
            asset.sudo().last_care_date = by_asset.get(asset, False)

    @api.model
    def _care_log_action(self, partner, asset=None):
        """Log a care activity on ``partner`` (or its ``asset``): the quick log,
        as for opportunities."""
        return self.env["funnel.activity.quick.log"]._care_action(partner, asset)

    def action_funnel_find_opportunity(self):
        self.ensure_one()
        return self.env["funnel.opportunity.found"]._open_for(
            partner=self.partner_id, asset=self.asset_id, log=self
        )
