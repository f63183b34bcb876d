from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import formatLang

from .funnel_job import ACTIVE_STATES as ACTIVE
from .funnel_stage_criterion import DEFER_REFRESH_KEY

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
    funnel_job_id = fields.Many2one(
        "funnel.job",
        string="Background Job",
        compute="_compute_funnel_job_id",
        groups="sales_team.group_sale_manager",
        help="The background job bringing the checks of the opportunities of "
        "this stage in line with its exit criteria, while it runs.",
    )
    funnel_job_progress = fields.Char(
        string="Checks Progress",
        compute="_compute_funnel_job_id",
        groups="sales_team.group_sale_manager",
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

    def _compute_funnel_job_id(self):
        jobs = (
            self.env["funnel.job"]
            .sudo()
            .search([("kind", "in", ("template", "checks")), ("state", "in", ACTIVE)])
        )
        for stage in self:
            job = next(
                (
                    job
                    for job in jobs
                    if stage._origin.id in (job.params or {}).get("stage_ids", [])
                ),
                jobs.browse(),
            )
            stage.funnel_job_id = job
            stage.funnel_job_progress = job.progress_text

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

    # ------------------------------------------------------------
    # Checks of the opportunities
    # ------------------------------------------------------------

    def _funnel_refresh_leads(self, kind="checks", changes=None):
        """After their criteria changed: create the missing checks of the
        opportunities in these stages, re-evaluate their automatic criteria and
        recompute their qualification.

        Up to the background threshold of opportunities, at once; beyond, in a
        background job of ``kind`` ("checks", or "template" for the
        professional funnel, whose ``changes`` it reports when done).

        :raise UserError: a background job is still bringing the checks of one
            of these stages in line
        :return: the background job, if one was started
        """
        if not self:
            return None
        running = self._funnel_checks_job()
        if running:
            raise UserError(running[0]._busy_message())
        Lead = self.env["crm.lead"].sudo()
        domain = [("stage_id", "in", self.ids)]
        Job = self.env["funnel.job"]
        count = Lead.search_count(domain)
        if not Job._in_background(count):
            self._funnel_job_sync_checks(None, Lead.search(domain))
            return None
        return Job._start(
            kind,
            self._funnel_check_count(),
            target=self if kind == "checks" and len(self) == 1 else None,
            domain=domain,
            model="crm.lead",
            params={"stage_ids": self.ids, "changes": changes or [], "leads": count},
            name=self.env._("Apply the professional funnel")
            if kind == "template"
            else self.env._(
                "Exit criteria checks of %(stages)s",
                stages=", ".join(f"“{stage.name}”" for stage in self),
            ),
        )

    def _funnel_refresh_leads_unless_deferred(self):
        """``_funnel_refresh_leads``, unless the caller does it itself later
        (``DEFER_REFRESH_KEY``)."""
        if not self.env.context.get(DEFER_REFRESH_KEY):
            self._funnel_refresh_leads()

    def _funnel_check_count(self):
        """The checks of the opportunities of these stages, one per opportunity
        and criterion of its stage (one for a stage without criteria): the units
        of a checks job."""
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        return sum(
            count * max(len(gates[stage.id].criteria) if stage.id in gates else 0, 1)
            for stage, count in self.env["crm.lead"]
            .sudo()
            ._read_group([("stage_id", "in", self.ids)], ["stage_id"], ["__count"])
        )

    def _funnel_checks_job(self):
        """The unfinished background jobs bringing the checks of these stages in
        line."""
        return self.sudo().funnel_job_id

    @api.model
    def _funnel_job_sync_checks(self, job, leads):
        """Bring the checks of ``leads`` in line with their stage (a chunk of a
        checks or template job, or all of them in the request).

        :return: the checks looked at (see ``_funnel_check_count``)
        """
        leads = leads.sudo()
        self.env["funnel.lead.check"]._sync(leads)
        leads._funnel_checks_changed()
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        return sum(
            max(
                len(gates[lead.stage_id.id].criteria)
                if lead.stage_id.id in gates
                else 0,
                1,
            )
            for lead in leads
        )

    @api.model
    def _funnel_job_checks_done(self, job):
        lines = list(job.params.get("changes") or [])
        lines.append(
            self.env._(
                "The exit criteria checks of %(count)s opportunities are in line "
                "with their stage.",
                count=formatLang(self.env, job.params.get("leads", 0), digits=0),
            )
        )
        return "\n".join(lines)
