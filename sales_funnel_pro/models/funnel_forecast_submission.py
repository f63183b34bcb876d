from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, date_utils, format_date

from .crm_lead import LOAD_HISTORY_KEY

SUBMISSION_KINDS = [
    ("submission", "Call"),
    ("adjustment", "Manager Adjustment"),
]
PERIOD_TYPES = [("month", "Month"), ("quarter", "Quarter")]
# the system's figures stored beside the call: field -> its help
SYSTEM_FIGURES = {
    "system_won": "Revenue already won in the period (closing date) when the call "
    "was made.",
    "system_commit": "Expected revenue of the open opportunities in the Commit "
    "category expected to close in the period, when the call was made.",
    "system_best_case": "Expected revenue of the open opportunities in the Best "
    "Case category (without Commit) expected to close in the period, when the "
    "call was made.",
    "system_pipeline": "Expected revenue of the open opportunities in the Pipeline "
    "category expected to close in the period, when the call was made.",
    "system_weighted_probability": "Expected revenue of the open opportunities "
    "expected in the period × the salesperson's probability, when the call was "
    "made (add the won revenue for a forecast of the period).",
    "system_weighted_stage": "Expected revenue of the open opportunities expected "
    "in the period × the configured win rate of their stage, when the call was "
    "made (add the won revenue for a forecast of the period).",
    "system_weighted_historical": "Expected revenue of the open opportunities "
    "expected in the period × the historical win rate of their stage, when the "
    "call was made (add the won revenue for a forecast of the period).",
}
# the sums of the forecast report that the figures are read from
REPORT_AMOUNTS = {
    "system_weighted_probability": "weighted_probability",
    "system_weighted_stage": "weighted_stage",
    "system_weighted_historical": "weighted_historical",
}
# a call not renewed for so many days is flagged (the search filter)
STALE_DAYS = 7


def _system_figure(string, name):
    """A figure of the system stored with the call, as it was when it was made."""
    return fields.Monetary(
        string=string,
        compute="_compute_system_figures",
        store=True,
        help=SYSTEM_FIGURES[name],
    )


class FunnelForecastSubmission(models.Model):
    """The forecast call: a salesperson's commit and best case for a month or a
    quarter (or a sales manager's roll-up for a team), with the system's own
    figures at that moment beside them; a sales manager adjusts a call with a
    reason in an adjustment row that references it, the call itself being kept.

    The current call of a salesperson for a period is their latest; the accuracy
    analysis measures the call made before the period started (see
    funnel.accuracy.report).
    """

    _name = "funnel.forecast.submission"
    _description = "Forecast Call"
    _order = "period_start desc, date desc, id desc"
    _check_company_auto = True

    kind = fields.Selection(
        SUBMISSION_KINDS,
        string="Type",
        required=True,
        default="submission",
        readonly=True,
        help="Call: the salesperson's own number (or a sales manager's roll-up for "
        "a team). Manager Adjustment: a sales manager's number for a call, with "
        "the reason; the call stays as submitted.",
    )
    submission_id = fields.Many2one(
        "funnel.forecast.submission",
        string="Adjusted Call",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
        domain="[('kind', '=', 'submission')]",
        help="The call this adjustment changes.",
    )
    adjustment_ids = fields.One2many(
        "funnel.forecast.submission",
        "submission_id",
        string="Adjustments",
        help="The sales managers' adjustments of this call.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
        help="Whose call it is; empty for a sales manager's roll-up of a team.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index=True,
        check_company=True,
        compute="_compute_team_id",
        store=True,
        readonly=False,
        help="The salesperson's sales team; for a roll-up, the team called for.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    submitted_by_id = fields.Many2one(
        "res.users",
        string="Submitted By",
        readonly=True,
        default=lambda self: self.env.user,
        help="Who entered the row: the salesperson for a call, the sales manager "
        "for an adjustment.",
    )
    date = fields.Datetime(
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        help="When the call or the adjustment was made.",
    )
    period_type = fields.Selection(
        PERIOD_TYPES,
        required=True,
        default="month",
        help="Whether the call is for a month or a quarter.",
    )
    period_start = fields.Date(
        string="Period",
        required=True,
        default=fields.Date.context_today,
        help="The first day of the month or quarter called for (any day of it "
        "may be entered).",
    )
    period_end = fields.Date(
        compute="_compute_period_end",
        store=True,
        help="The last day of the period called for.",
    )
    commit_amount = fields.Monetary(
        string="Commit",
        compute="_compute_commit_amount",
        store=True,
        readonly=False,
        help="The revenue the salesperson commits to win in the period, what "
        "is already won included. Prefilled with the won revenue plus the Commit "
        "category.",
    )
    best_case_amount = fields.Monetary(
        string="Best Case",
        compute="_compute_commit_amount",
        store=True,
        readonly=False,
        help="The revenue the period could reach if things go well, the commit "
        "included. Prefilled with the won revenue plus the Commit and Best Case "
        "categories.",
    )
    system_won = _system_figure("System: Won", "system_won")
    system_commit = _system_figure("System: Commit", "system_commit")
    system_best_case = _system_figure("System: Best Case", "system_best_case")
    system_pipeline = _system_figure("System: Pipeline", "system_pipeline")
    system_weighted_probability = _system_figure(
        "System: Weighted by Probability", "system_weighted_probability"
    )
    system_weighted_stage = _system_figure(
        "System: Weighted by Stage", "system_weighted_stage"
    )
    system_weighted_historical = _system_figure(
        "System: Weighted by History", "system_weighted_historical"
    )
    note = fields.Text(
        help="What the call rests on; for an adjustment, the reason (required)."
    )
    adjusted_commit_amount = fields.Monetary(
        string="Adjusted Commit",
        compute="_compute_adjusted",
        help="The manager's call: the commit of the latest adjustment of the "
        "salesperson's call for the period, else the salesperson's.",
    )
    adjusted_best_case_amount = fields.Monetary(
        string="Adjusted Best Case",
        compute="_compute_adjusted",
        help="The best case of the latest adjustment of the salesperson's call for "
        "the period, else the salesperson's.",
    )
    is_current = fields.Boolean(
        string="Current",
        compute="_compute_is_current",
        search="_search_is_current",
        help="The latest call of the salesperson (or team) for the period, or the "
        "latest adjustment of it.",
    )
    days_since_update = fields.Integer(
        string="Days Not Updated",
        compute="_compute_days_since_update",
        search="_search_days_since_update",
        help="Days since the salesperson's (or team's) latest call for the period.",
    )

    # ------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------

    @api.depends("user_id")
    def _compute_team_id(self):
        for row in self:
            if row.user_id and not row.team_id:
                row.team_id = row.user_id.sudo().sale_team_id

    @api.depends("period_start", "period_type")
    def _compute_period_end(self):
        for row in self:
            row.period_end = row._period_bounds()[1] if row.period_start else False

    def _period_bounds(self):
        """(first day, last day) of the period of the row."""
        self.ensure_one()
        return (
            date_utils.start_of(self.period_start, self.period_type),
            date_utils.end_of(self.period_start, self.period_type),
        )

    @api.depends("user_id", "team_id", "company_id", "period_start", "period_type")
    def _compute_system_figures(self):
        if self.env.context.get(LOAD_HISTORY_KEY):
            # loaded with the figures of their moment (see _load_calls)
            figures = {}
        else:
            figures = self._system_figures()
        for row in self:
            row.update(figures.get(row._owner_key(), dict.fromkeys(SYSTEM_FIGURES, 0)))

    def _owner_key(self):
        self.ensure_one()
        start, end = self._period_bounds() if self.period_start else (False, False)
        owner = ("user", self.user_id.id) if self.user_id else ("team", self.team_id.id)
        return (self.company_id.id, start, end, owner)

    def _system_figures(self):
        """The system's figures of the period of each row, as the forecast
        analysis gives them (omitted opportunities left out): one query per
        company and period. {owner key: {field: amount}}"""
        periods = defaultdict(set)
        for row in self:
            if row.period_start and row.company_id and (row.user_id or row.team_id):
                company, start, end, __ = row._owner_key()
                periods[company, start, end].add(row._owner_key()[3])
        Report = self.env["funnel.forecast.report"].sudo()
        result = {}
        for (company, start, end), owners in periods.items():
            groups = Report._read_group(
                [
                    ("company_id", "=", company),
                    ("date", ">=", start),
                    ("date", "<=", end),
                    ("row_type", "in", ("open", "won")),
                    ("forecast_category", "!=", "omitted"),
                    "|",
                    ("user_id", "in", [o[1] for o in owners if o[0] == "user"]),
                    ("team_id", "in", [o[1] for o in owners if o[0] == "team"]),
                ],
                ["user_id", "team_id", "forecast_category"],
                [
                    "expected_revenue:sum",
                    "won_revenue:sum",
                    *(f"{amount}:sum" for amount in REPORT_AMOUNTS.values()),
                ],
            )
            for user, team, category, revenue, won, *weighted in groups:
                for owner in (("user", user.id), ("team", team.id)):
                    if owner not in owners:
                        continue
                    sums = result.setdefault(
                        (company, start, end, owner), dict.fromkeys(SYSTEM_FIGURES, 0)
                    )
                    sums["system_won"] += won
                    if category in ("commit", "best_case", "pipeline"):
                        sums[f"system_{category}"] += revenue
                    for fname, amount in zip(REPORT_AMOUNTS, weighted, strict=True):
                        sums[fname] += amount
        return result

    @api.depends("system_won", "system_commit", "system_best_case")
    def _compute_commit_amount(self):
        for row in self:
            row.commit_amount = row.system_won + row.system_commit
            row.best_case_amount = row.commit_amount + row.system_best_case

    @api.depends("user_id", "team_id", "period_start", "period_type", "kind")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for row in self:
            owner = row.user_id.name or row.team_id.name or ""
            period = ""
            if row.period_start:
                start = row._period_bounds()[0]
                period = (
                    format_date(self.env, start, date_format="MMMM y")
                    if row.period_type == "month"
                    else f"Q{(start.month - 1) // 3 + 1} {start.year}"
                )
            row.display_name = " · ".join(
                part for part in (owner, period, kinds.get(row.kind)) if part
            )

    # ------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------

    @api.constrains("commit_amount", "best_case_amount")
    def _check_amounts(self):
        for row in self:
            if row.commit_amount < 0 or row.best_case_amount < 0:
                raise ValidationError(
                    self.env._("A forecast call cannot have a negative amount.")
                )
            if (
                row.currency_id.compare_amounts(row.commit_amount, row.best_case_amount)
                > 0
            ):
                raise ValidationError(
                    self.env._(
                        "The commit (%(commit)s) cannot exceed the best case "
                        "(%(best_case)s): the best case includes the commit.",
                        commit=row.commit_amount,
                        best_case=row.best_case_amount,
                    )
                )

    @api.constrains("user_id", "team_id", "kind", "submission_id", "note")
    def _check_owner(self):
        for row in self:
            if not row.user_id and not row.team_id:
                raise ValidationError(
                    self.env._("A forecast call is for a salesperson or a team.")
                )
            if row.kind == "adjustment" and not row.submission_id:
                raise ValidationError(
                    self.env._("An adjustment references the call it adjusts.")
                )
            if row.kind == "adjustment" and not (row.note or "").strip():
                raise ValidationError(
                    self.env._("Give the reason of the adjustment in its note.")
                )

    def _check_rights(self):
        """A salesperson calls for themselves only; roll-ups of a team and
        adjustments are the sales managers'.

        :raise AccessError: naming what is refused
        """
        if self.env.su or self.env.user.has_group("sales_team.group_sale_manager"):
            return
        for row in self:
            if row.kind == "adjustment":
                raise AccessError(
                    self.env._("Only sales managers adjust forecast calls.")
                )
            if row.user_id != self.env.user:
                raise AccessError(
                    self.env._(
                        "You may only submit your own forecast, not one for %(owner)s.",
                        owner=row.user_id.name or row.team_id.name,
                    )
                )

    def _check_period_open(self):
        """:raise UserError: for a period already over"""
        today = fields.Date.context_today(self)
        for row in self:
            if row.period_end < today:
                raise UserError(
                    self.env._(
                        "The period %(period)s is over: its forecast can no longer "
                        "be submitted or adjusted.",
                        period=row.display_name,
                    )
                )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        Submission = self.browse()
        # the defaults first, so that the default period is a period too
        vals_list = [self._add_missing_default_values(vals) for vals in vals_list]
        for vals in vals_list:
            if vals.get("submission_id"):
                # an adjustment is for the owner and the period of the call
                call = Submission.browse(vals["submission_id"])
                vals.update(
                    kind="adjustment",
                    user_id=call.user_id.id,
                    team_id=call.team_id.id,
                    company_id=call.company_id.id,
                    period_type=call.period_type,
                    period_start=call.period_start,
                )
            if vals.get("period_start"):
                vals["period_start"] = date_utils.start_of(
                    fields.Date.to_date(vals["period_start"]),
                    vals.get("period_type") or "month",
                )
            if not self.env.su:
                # when and by whom: now, the user
                vals.update(date=fields.Datetime.now(), submitted_by_id=self.env.uid)
        # refused before anything is written (past calls are loaded as made)
        if not (self.env.su and self.env.context.get(LOAD_HISTORY_KEY)):
            for vals in vals_list:
                row = self.new(vals)
                row._check_rights()
                row._check_period_open()
        return super().create(vals_list)

    def write(self, vals):
        # a call is a fact: only its note may change, and only by a sales manager
        # (access rights); the salesperson's number is kept as submitted
        frozen = set(vals) - {"note"}
        if frozen and not self.env.su:
            raise UserError(
                self.env._(
                    "A forecast call cannot be changed once submitted: submit a "
                    "new one, or adjust it as a sales manager."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_adjust(self):
        """Open a new adjustment of the call, prefilled with its numbers."""
        self.ensure_one()
        call = self.submission_id or self
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Adjust the Call"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [
                (
                    self.env.ref(
                        "sales_funnel_pro.funnel_forecast_submission_view_form"
                    ).id,
                    "form",
                )
            ],
            "target": "new",
            "context": {
                "default_submission_id": call.id,
                "default_kind": "adjustment",
                "default_user_id": call.user_id.id,
                "default_team_id": call.team_id.id,
                "default_period_type": call.period_type,
                "default_period_start": call.period_start,
                "default_commit_amount": self.adjusted_commit_amount,
                "default_best_case_amount": self.adjusted_best_case_amount,
            },
        }

    @api.model
    def _load_calls(self, vals_list):
        """Create calls and adjustments of the past as they were made (the demo's
        history): with their date, author and system figures as given (one
        UPDATE), not today's. Superuser only."""
        if not self.env.su:
            raise AccessError(self.env._("Only the superuser loads past calls."))
        if not vals_list:
            return self.browse()
        figures = list(SYSTEM_FIGURES)
        records = self.with_context(**{LOAD_HISTORY_KEY: True}).create(
            [
                {key: value for key, value in vals.items() if key not in figures}
                for vals in vals_list
            ]
        )
        records.flush_recordset()
        rows = SQL(", ").join(
            SQL(
                "(%s, %s)",
                record.id,
                SQL(", ").join(SQL("%s::numeric", vals[key]) for key in figures),
            )
            for record, vals in zip(records, vals_list, strict=True)
        )
        self.env.cr.execute(
            SQL(
                "UPDATE funnel_forecast_submission s SET %s FROM (VALUES %s) AS v(%s)"
                " WHERE s.id = v.id",
                SQL(", ").join(
                    SQL("%s = v.%s", SQL.identifier(key), SQL.identifier(key))
                    for key in figures
                ),
                rows,
                SQL(", ").join(SQL.identifier(key) for key in ["id", *figures]),
            )
        )
        records.invalidate_recordset(figures)
        return records
