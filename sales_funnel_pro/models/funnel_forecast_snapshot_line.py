from odoo import api, fields, models
from odoo.exceptions import UserError

from .crm_stage import LEAD_FORECAST_CATEGORIES


class FunnelForecastSnapshotLine(models.Model):
    """One open opportunity as it stood when the snapshot was taken.

    Lines are written by one INSERT ... SELECT per snapshot (100,000 at a time);
    each foreign key costs a check per line, so a line carries no log columns
    (its snapshot says who took it and when) and takes its company from its
    snapshot.
    """

    _name = "funnel.forecast.snapshot.line"
    _description = "Forecast Snapshot Line"
    _log_access = False
    _order = "date desc, snapshot_id desc, date_deadline, id"
    _rec_name = "lead_id"

    snapshot_id = fields.Many2one(
        "funnel.forecast.snapshot",
        string="Snapshot",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    date = fields.Date(
        string="Snapshot Date",
        required=True,
        index=True,
        readonly=True,
        help="The day the snapshot was taken.",
    )
    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    company_id = fields.Many2one(
        "res.company", related="snapshot_id.company_id", string="Company"
    )
    company_currency = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Currency"
    )
    date_deadline = fields.Date(
        string="Expected Closing",
        readonly=True,
        help="The expected closing date of the opportunity when the snapshot was "
        "taken.",
    )
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    probability = fields.Float(digits=(16, 2), aggregator="avg", readonly=True)
    stage_win_rate = fields.Float(
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="The configured win rate of the stage, in percent.",
    )
    historical_win_rate = fields.Float(
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="The historical win rate of the stage for the team (the company's when "
        "the team's sample is too small, the configured rate when there is no "
        "history), in percent.",
    )
    forecast_category = fields.Selection(LEAD_FORECAST_CATEGORIES, readonly=True)
    weighted_probability = fields.Monetary(
        string="Weighted by Probability",
        currency_field="company_currency",
        compute="_compute_weighted",
        store=True,
        readonly=True,
        help="Expected revenue × the salesperson's probability.",
    )
    weighted_stage = fields.Monetary(
        string="Weighted by Stage Win Rate",
        currency_field="company_currency",
        compute="_compute_weighted",
        store=True,
        readonly=True,
        help="Expected revenue × the stage's configured win rate.",
    )
    weighted_historical = fields.Monetary(
        string="Weighted by Historical Win Rate",
        currency_field="company_currency",
        compute="_compute_weighted",
        store=True,
        readonly=True,
        help="Expected revenue × the stage's historical win rate.",
    )

    @api.depends(
        "expected_revenue", "probability", "stage_win_rate", "historical_win_rate"
    )
    def _compute_weighted(self):
        for line in self:
            revenue = line.expected_revenue
            line.weighted_probability = revenue * line.probability / 100
            line.weighted_stage = revenue * line.stage_win_rate / 100
            line.weighted_historical = revenue * line.historical_win_rate / 100

    # ------------------------------------------------------------
    # CRUD: frozen
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise UserError(
                self.env._(
                    "Forecast snapshot lines are copied from the open opportunities "
                    "when a snapshot is taken; they cannot be created by hand."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            raise UserError(
                self.env._(
                    "Forecast snapshot lines are frozen: they cannot be changed."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_with_snapshot(self):
        if not self.env.su:
            raise UserError(
                self.env._(
                    "Forecast snapshot lines cannot be deleted one by one: delete "
                    "the whole snapshot."
                )
            )

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "views": [(False, "form")],
        }
