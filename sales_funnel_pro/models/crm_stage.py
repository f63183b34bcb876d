from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
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
    allow_create = fields.Boolean(
        string="Opportunities May Be Created Here",
        compute="_compute_allow_create",
        store=True,
        precompute=True,
        readonly=False,
        help="Whether an opportunity may be created (copied, imported, converted "
        "from a lead) directly in this stage when a stage before it has exit "
        "criteria under a gate: it must then meet them from the values it is "
        "created with, as a move from the first stage would. Unticked, it starts "
        "in the first stage of the funnel and moves forward; a sales manager may "
        "still create it here with a reason. Where no stage before this one has a "
        "gate, opportunities are created here freely, as in stock CRM. Ticked by "
        "default on the first open stage of a funnel and on stages without a gate.",
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
        help="While it runs, the background job applying the changes of this "
        "stage (exit criteria, forecast category) to its opportunities.",
    )
    funnel_job_progress = fields.Char(
        string="Background Progress",
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

    @api.depends("gate_policy", "is_won")
    def _compute_allow_create(self):
        # the first open stage when the stage is created or its gate changes:
        # reordering the stages later keeps what the administrator chose
        for stage in self:
            stage.allow_create = not stage.is_won and (
                stage.gate_policy == "none" or stage._funnel_is_first_open()
            )

    def _funnel_is_first_open(self):
        """Whether no open stage of the stage's funnel (the stages shared by
        every team, and those of its team) comes before it."""
        self.ensure_one()
        domain = [
            ("is_won", "=", False),
            ("fold", "=", False),
            ("team_id", "in", [False, self.team_id.id] if self.team_id else [False]),
        ]
        if self._origin.id:
            domain.append(("id", "!=", self._origin.id))
        first = self.sudo().search(domain, limit=1)
        return not first or self.sequence <= first.sequence

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
            .search(
                [("kind", "in", ("template", "stage_refresh")), ("state", "in", ACTIVE)]
            )
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
        # the stages jumped over are told by the order of the stages
        self.env["funnel.stage.pass"]._refresh_jumps()
        return stages

    def write(self, vals):
        res = super().write(vals)
        if {
            "sequence",
            "name",
            "is_won",
            "team_id",
            "fold",
            "gate_policy",
            "allow_create",
        } & vals.keys():
            self.env.registry.clear_cache()
        if {"forecast_category", "is_won"} & vals.keys():
            # the opportunities' forecast categories: in the background if many
            self._funnel_refresh_leads_unless_deferred(checks=self.browse())
        if {"is_won", "team_id"} & vals.keys():
            # a won stage is not passed; a team's stage is jumped over by its
            # team's opportunities only
            self.env["funnel.stage.pass"]._refresh_stages(self)
        elif "sequence" in vals:
            self.env["funnel.stage.pass"]._refresh_jumps()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        self.env["funnel.stage.pass"]._refresh_jumps()
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

    @api.model
    def _funnel_rank_sql(self):
        """``_funnel_rank`` as SQL: a query of the columns ``id`` and ``rank``."""
        query = (
            self.sudo().with_context(active_test=False)._search([], order=self._order)
        )
        return SQL(
            "SELECT s.id, s.ordinality - 1 AS rank "
            "FROM unnest(ARRAY(%s)) WITH ORDINALITY AS s(id, ordinality)",
            query.select(),
        )

    @api.model
    @tools.ormcache()
    def _funnel_start_config(self):
        """Where opportunities start, cached until stages change, so that
        creating an opportunity reads no stage from the database.

        The first stage of a team's funnel is its first open stage, not won and
        not folded, among the stages shared by every team and its own: where
        crm puts a new opportunity of the team.

        :return: dict with ``shared`` (the first stage of the stages shared by
            every team, or None), ``teams`` (dict team id -> the first stage of
            the team's own stages) and ``open`` (frozenset of the stages where
            opportunities may be created)
        """
        stages = (
            self.sudo()
            .with_context(active_test=False)
            .search_fetch([], ["team_id", "is_won", "fold", "allow_create"])
        )
        shared, teams = None, {}
        for stage in stages:
            if stage.is_won or stage.fold:
                continue
            if not stage.team_id:
                shared = shared or stage.id
            else:
                teams.setdefault(stage.team_id.id, stage.id)
        return {
            "shared": shared,
            "teams": teams,
            "open": frozenset(stages.filtered("allow_create").ids),
        }

    @api.model
    def _funnel_first_stage_id(self, team_id):
        """The first stage of the funnel of team ``team_id`` (or of the stages
        shared by every team, without a team), or None."""
        config = self._funnel_start_config()
        rank = self._funnel_rank()
        candidates = [config["shared"], config["teams"].get(team_id or None)]
        candidates = [stage_id for stage_id in candidates if stage_id]
        return min(candidates, key=rank.get) if candidates else None

    @api.model
    def _funnel_first_stages(self):
        """Where the funnels start, from the cache (no query): dict team id ->
        the first stage of the team's funnel, for the teams with stages of their
        own, and None -> the first of the stages shared by every team, which is
        the first stage of the other teams (or None)."""
        config = self._funnel_start_config()
        return {
            None: config["shared"],
            **{
                team_id: self._funnel_first_stage_id(team_id)
                for team_id in config["teams"]
            },
        }

    # ------------------------------------------------------------
    # The opportunities of changed stages
    # ------------------------------------------------------------

    def _funnel_refresh_leads(self, kind="stage_refresh", changes=None, checks=None):
        """After the criteria or the forecast category of these stages changed:
        bring their opportunities in line. The checks of the opportunities of
        the ``checks`` stages (default: all of these) are synced (the missing
        ones created, the automatic ones re-evaluated, the qualification
        recomputed), and the forecast categories the ORM has yet to recompute
        after the change of their stage's are recomputed.

        Up to the background threshold of opportunities, at once (the forecast
        categories when the transaction is flushed); beyond, in a background
        job of ``kind`` ("stage_refresh", or "template" for the professional
        funnel, whose ``changes`` it reports when done).

        :raise UserError: a background job is still bringing the opportunities
            of one of these stages in line
        :return: the background job, if one was started
        """
        checks = self if checks is None else checks
        Lead = self.env["crm.lead"].sudo()
        category = Lead._fields["forecast_category"]
        pending = self.env.records_to_compute(category).sudo()
        pending.fetch(["stage_id"])  # of many opportunities, this column only
        pending = pending.filtered(lambda lead: lead.stage_id in self)
        stages = checks | pending.stage_id
        if not stages:
            return None
        running = stages._funnel_checks_job()
        if running:
            raise UserError(running[0]._busy_message())
        domain = [("stage_id", "in", stages.ids)]
        Job = self.env["funnel.job"]
        count = Lead.search_count(domain)
        params = {
            "stage_ids": stages.ids,
            "check_stage_ids": checks.ids,
            "category_stage_ids": pending.stage_id.ids,
            "changes": changes or [],
        }
        if not Job._in_background(count):
            if checks:
                self._funnel_job_sync_checks(
                    None, Lead.search([("stage_id", "in", checks.ids)]), params
                )
            return None
        # left to the job, which recomputes them chunk by chunk
        self.env.remove_to_compute(category, pending)
        return Job._start(
            kind,
            count,
            target=stages if kind == "stage_refresh" and len(stages) == 1 else None,
            domain=domain,
            model="crm.lead",
            params=params,
            name=self.env._("Apply the professional funnel")
            if kind == "template"
            else self.env._(
                "Apply the changes of %(stages)s to their opportunities",
                stages=", ".join(f"“{stage.name}”" for stage in stages),
            ),
        )

    def _funnel_refresh_leads_unless_deferred(self, checks=None):
        """``_funnel_refresh_leads``, unless the caller does it itself later
        (``DEFER_REFRESH_KEY``)."""
        if not self.env.context.get(DEFER_REFRESH_KEY):
            self._funnel_refresh_leads(checks=checks)

    def _funnel_checks_job(self):
        """The unfinished background jobs bringing the opportunities of these
        stages in line."""
        return self.sudo().funnel_job_id

    @api.model
    def _funnel_job_sync_checks(self, job, leads, params=None):
        """Bring ``leads`` in line with their stage, as ``params`` (the job's)
        say: their checks, and their forecast category (a chunk of a
        stage_refresh or template job, or all of them in the request)."""
        params = job.params if job else params
        leads = leads.sudo()
        synced = leads.filtered(
            lambda lead: lead.stage_id.id in params["check_stage_ids"]
        )
        self.env["funnel.lead.check"]._sync(synced)
        recategorized = leads.filtered(
            lambda lead: lead.stage_id.id in params["category_stage_ids"]
        )
        if recategorized:
            category = recategorized._fields["forecast_category"]
            self.env.add_to_compute(category, recategorized)
            # now, as the user who started the job (the author of the tracking)
            recategorized.flush_recordset(["forecast_category"])
            # a won opportunity's passes say so
            self.env["funnel.stage.pass"]._refresh_all(recategorized.ids)
        return len(leads)

    @api.model
    def _funnel_job_checks_done(self, job):
        lines = list(job.params.get("changes") or [])
        lines.append(
            self.env._(
                "Its %(count)s opportunities are in line with their stages: exit "
                "criteria checks, qualification and forecast category.",
                count=formatLang(self.env, job.total, digits=0),
            )
        )
        return "\n".join(lines)
