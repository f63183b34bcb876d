from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..pipeline_change import period_bounds


class FunnelPipelineChangeWizard(models.TransientModel):
    """Choose the snapshot to compare the pipeline of now with, and open the
    Pipeline Changes report on it."""

    _name = "funnel.pipeline.change.wizard"
    _description = "Pipeline Changes"

    snapshot_id = fields.Many2one(
        "funnel.forecast.snapshot",
        string="Since Snapshot",
        default=lambda self: self._default_snapshot_id(),
        domain="[('company_id', 'in', allowed_company_ids)]",
        help="The forecast snapshot that the opportunities of now are compared "
        "with: by default the latest one at least a week old (the oldest when "
        "none is that old).",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        help="Only the opportunities of this team (now); empty for all.",
    )
    period = fields.Char(
        compute="_compute_period",
        help="The quarter that moved in and moved out are about: the one in which "
        "the snapshot was taken.",
    )

    @api.model
    def _default_snapshot_id(self):
        Report = self.env["funnel.pipeline.change.report"]
        return Report._reference_snapshots(self.env.company)[:1].id

    @api.depends("snapshot_id")
    def _compute_period(self):
        for wizard in self:
            if not wizard.snapshot_id:
                wizard.period = False
                continue
            start, __ = period_bounds(wizard.snapshot_id.date)
            wizard.period = self.env._(
                "Q%(quarter)s %(year)s",
                quarter=(start.month - 1) // 3 + 1,
                year=start.year,
            )

    def action_open(self):
        self.ensure_one()
        if not self.snapshot_id:
            raise UserError(
                self.env._(
                    "Choose the forecast snapshot to compare with. No snapshot has "
                    "been taken yet? A sales manager takes one with “Take Snapshot "
                    "Now” in Forecast Snapshots, and one is taken every week."
                )
            )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pro.funnel_pipeline_change_report_action"
        )
        domain = [("snapshot_id", "=", self.snapshot_id.id)]
        if self.team_id:
            domain.append(("team_id", "=", self.team_id.id))
        action["domain"] = domain
        action["name"] = self.env._(
            "Pipeline Changes since %(date)s",
            date=format_date(self.env, self.snapshot_id.date),
        )
        return action
