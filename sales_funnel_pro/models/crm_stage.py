from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

FORECAST_CATEGORIES = [
    ("pipeline", "Pipeline"),
    ("best_case", "Best Case"),
    ("commit", "Commit"),
    ("closed", "Closed"),
]
# an opportunity may also be left out of the forecast by its salesperson
LEAD_FORECAST_CATEGORIES = [*FORECAST_CATEGORIES, ("omitted", "Omitted")]


class CrmStage(models.Model):
    _inherit = "crm.stage"

    win_rate = fields.Float(
        compute="_compute_win_rate",
        store=True,
        precompute=True,
        readonly=False,
        digits=(16, 1),
        aggregator=False,
        help="Default weight of the stage, in percent: the share of opportunities "
        "in this stage that are expected to be won.",
    )
    forecast_category = fields.Selection(
        FORECAST_CATEGORIES,
        compute="_compute_forecast_category",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        help="Forecast category of the opportunities in this stage, unless the "
        "salesperson overrides it.",
    )
    rotting_days = fields.Integer(
        help="An opportunity that stays longer than this number of days in the stage "
        "is flagged as rotting. 0 means never.",
    )
    next_step_days = fields.Integer(
        string="Max Days Without Next Step",
        help="An opportunity of this stage with no planned activity, untouched for "
        "longer than this number of days, is flagged as neglected. 0 means never.",
    )
    gate_policy = fields.Selection(
        [("none", "No gate"), ("warn", "Warn"), ("block", "Block")],
        string="Gate",
        default="block",
        required=True,
        help="What happens when an opportunity leaves this stage for a later one "
        "while required exit criteria are unmet:\n"
        "- No gate: nothing;\n"
        "- Warn: the move happens and the skipped criteria are recorded;\n"
        "- Block: the move is refused until the criteria are met or a sales "
        "manager waives them.",
    )
    criterion_ids = fields.One2many(
        "funnel.stage.criterion", "stage_id", string="Exit Criteria", copy=True
    )
    criterion_count = fields.Integer(
        string="Criteria", compute="_compute_criterion_count"
    )
    historical_win_rate = fields.Float(
        compute="_compute_historical_win_rate",
        digits=(16, 1),
        help="Share of the opportunities that passed this stage and closed in the "
        "last 12 months that were won, in percent, across the sales teams of the "
        "current company. Refreshed every night.",
    )
    historical_sample_size = fields.Integer(
        string="Closed in the Last 12 Months",
        compute="_compute_historical_win_rate",
        help="Opportunities that passed this stage and were won or lost in the last "
        "12 months: the sample of the historical win rate.",
    )
    template_key = fields.Char(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Technical key of the stage in the professional funnel template.",
    )

    @api.depends("is_won")
    def _compute_win_rate(self):
        for stage in self:
            if stage.is_won:
                stage.win_rate = 100.0
            elif not stage.win_rate:
                stage.win_rate = 0.0

    @api.depends("is_won")
    def _compute_forecast_category(self):
        for stage in self:
            if stage.is_won:
                stage.forecast_category = "closed"
            elif not stage.forecast_category or stage.forecast_category == "closed":
                stage.forecast_category = "pipeline"

    @api.depends("criterion_ids.active")
    def _compute_criterion_count(self):
        for stage in self:
            stage.criterion_count = len(stage.criterion_ids)

    @api.depends_context("company")
    def _compute_historical_win_rate(self):
        rates = {
            row.stage_id.id: row
            for row in self.env["funnel.stage.win.rate"]
            .sudo()
            .search_fetch(
                [
                    ("stage_id", "in", self.ids),
                    ("team_id", "=", False),
                    ("company_id", "=", self.env.company.id),
                ],
                ["stage_id", "win_rate", "sample_size"],
            )
        }
        for stage in self:
            row = rates.get(stage._origin.id)
            stage.historical_win_rate = row.win_rate if row else 0.0
            stage.historical_sample_size = row.sample_size if row else 0

    @api.constrains("win_rate")
    def _check_win_rate(self):
        for stage in self:
            if not 0 <= stage.win_rate <= 100:
                raise ValidationError(
                    self.env._(
                        "The win rate of stage “%(stage)s” must be between 0 and "
                        "100 %%.",
                        stage=stage.name,
                    )
                )

    @api.constrains("rotting_days", "next_step_days")
    def _check_days_limits(self):
        for stage in self:
            if stage.rotting_days < 0:
                raise ValidationError(
                    self.env._(
                        "The rotting days of stage “%(stage)s” cannot be negative.",
                        stage=stage.name,
                    )
                )
            if stage.next_step_days < 0:
                raise ValidationError(
                    self.env._(
                        "The days without next step of stage “%(stage)s” cannot be "
                        "negative.",
                        stage=stage.name,
                    )
                )

    @api.constrains("is_won", "criterion_ids")
    def _check_won_without_criteria(self):
        for stage in self:
            if stage.is_won and stage.criterion_ids:
                raise ValidationError(
                    self.env._(
                        "Stage “%(stage)s” is a won stage: it cannot have exit "
                        "criteria, since opportunities never leave it forward.",
                        stage=stage.name,
                    )
                )

    def action_open_criteria(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Exit Criteria of “%(stage)s”", stage=self.name),
            "res_model": "funnel.stage.criterion",
            "view_mode": "list,form",
            "domain": [("stage_id", "=", self.id)],
            "context": {"default_stage_id": self.id},
        }

    def action_refresh_historical_win_rates(self):
        """Recompute the historical win rates of every stage now (sales managers)."""
        return self.env["funnel.stage.win.rate"].action_refresh()

    # ------------------------------------------------------------
    # Funnel order
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        stages = super().create(vals_list)
        self.env.registry.clear_cache()
        return stages

    def write(self, vals):
        res = super().write(vals)
        if {"sequence", "name", "is_won", "team_id", "gate_policy"} & vals.keys():
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    @api.model
    @tools.ormcache()
    def _funnel_rank(self):
        """Position of every stage in the pipeline, as the kanban orders columns.

        :return: dict stage id -> rank (0 for the first column)
        """
        stage_ids = (
            self.sudo().with_context(active_test=False)._search([], order=self._order)
        )
        return {stage_id: rank for rank, stage_id in enumerate(stage_ids)}

    def _funnel_refresh_leads(self):
        """After their criteria changed: create the missing checks of the
        opportunities in these stages, re-evaluate their automatic criteria and
        recompute their qualification."""
        leads = self.env["crm.lead"].sudo().search([("stage_id", "in", self.ids)])
        self.env["funnel.lead.check"]._sync(leads)
        leads._funnel_checks_changed()
