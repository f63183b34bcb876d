from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from ..models.crm_lead_forecast import NO_OWNER
from ..models.crm_stage import LEAD_FORECAST_CATEGORIES
from .funnel_report_figures import (
    Difference,
    GroupTarget,
    Ratio,
    Total,
    percent_field,
)
from .funnel_report_target import TARGET_HELP

ROW_TYPES = [
    ("open", "Open Opportunity"),
    ("won", "Won Opportunity"),
    ("target", "Target"),
]

# stages from this configured win rate on are late stages
LATE_STAGE_WIN_RATE = 50

# the amounts of the rows: float8 columns, NULL on the rows they are not about
AMOUNTS = (
    "expected_revenue",
    "weighted_probability",
    "weighted_stage",
    "weighted_historical",
    "late_stage_revenue",
    "won_revenue",
    "target_amount",
    "team_target_amount",
    "covered_target_amount",
)
TARGET = GroupTarget()
DATE_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")


class FunnelForecastReport(models.Model):
    """The forecast: what is expected to close, when, weighted three ways, against
    the targets.

    Three kinds of rows:

    - one per open opportunity, on its expected closing date; without one, or with
      one already past, it has no period and needs a date;
    - one per won opportunity, on its closing date: the actuals;
    - one per month of each target, the target being spread evenly over the months
      of its period, so that months, quarters and years add up (read from
      funnel.target.month, as the accuracy analysis does).

    The period (``date``) and ``needs_date`` depend on today: they are computed in
    the query (see ``_field_to_sql``), not stored in the view.
    """

    _name = "funnel.forecast.report"
    _inherit = "funnel.report.target"
    _group_by_ids = True
    _description = "Sales Forecast Analysis"
    _auto = False
    _order = "date_closing, id"
    _rec_name = "lead_id"
    # what the view reads: flushed before the report is searched or grouped
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "date_closed",
            "date_deadline",
            "expected_revenue",
            "forecast_category",
            "partner_id",
            "probability",
            "stage_id",
            "team_id",
            "type",
            "user_id",
        ],
        "crm.stage": ["win_rate"],
        "funnel.stage.win.rate": ["company_id", "stage_id", "team_id", "win_rate"],
        "funnel.target.month": [
            "amount",
            "company_id",
            "currency_id",
            "is_covered",
            "month",
            "team_id",
            "user_id",
        ],
        "res.company": ["currency_id"],
    }
    # what a group shows, from its sums: the amounts, the target, the coverages
    # and the gap
    _figures = {
        **{fname: Total(fname) for fname in AMOUNTS},
        "target": TARGET,
        "coverage": Ratio("expected_revenue", TARGET),
        "weighted_coverage": Ratio("weighted_stage", TARGET),
        "late_stage_coverage": Ratio("late_stage_revenue", TARGET),
        "gap": Difference(TARGET, "won_revenue", "expected_revenue"),
    }

    # ------------------------------------------------------------
    # Dimensions
    # ------------------------------------------------------------
    row_type = fields.Selection(ROW_TYPES, string="Type", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    owner_key = fields.Integer(
        readonly=True,
        aggregator=None,
        groups="base.group_no_one",
        help="Technical: the salesperson, or -1 on the rows without one. The "
        "salesperson's record rule reads it, as one condition that the index of "
        "the opportunities answers (a salesperson or none would be two).",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        help="The team of the opportunity; for a salesperson's target, the team of "
        "the salesperson.",
    )
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    forecast_category = fields.Selection(
        LEAD_FORECAST_CATEGORIES, string="Category", readonly=True
    )
    date_closing = fields.Date(
        string="Closing Date",
        readonly=True,
        help="Expected closing date of an open opportunity, closing date of a won "
        "one, first day of the month of a target.",
    )
    date = fields.Date(
        string="Period",
        compute="_compute_date",
        search="_search_date",
        help="When the row counts in the forecast: the expected closing date of an "
        "open opportunity, empty when it has none or one already past; the closing "
        "date of a won opportunity; the month of a target.",
    )
    needs_date = fields.Boolean(
        string="Needs a Date",
        compute="_compute_date",
        search="_search_needs_date",
        help="An open opportunity without an expected closing date, or with one "
        "already past: it counts in no period until it gets a new date.",
    )
    probability = fields.Float(
        digits=(16, 2),
        aggregator="avg",
        readonly=True,
        help="The salesperson's probability of the open opportunity.",
    )
    stage_win_rate = fields.Float(
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="The configured win rate of the stage of the open opportunity.",
    )
    historical_win_rate = fields.Float(
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="The historical win rate of the stage of the open opportunity for its "
        "team (or its company when the team closed too few), else the configured "
        "win rate of the stage.",
    )

    # ------------------------------------------------------------
    # Measures
    # ------------------------------------------------------------
    expected_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue of the open opportunities.",
    )
    weighted_probability = fields.Monetary(
        string="Weighted by Probability",
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue of the open opportunities × the salesperson's "
        "probability.",
    )
    weighted_stage = fields.Monetary(
        string="Weighted by Stage",
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue of the open opportunities × the configured win rate "
        "of their stage.",
    )
    weighted_historical = fields.Monetary(
        string="Weighted by History",
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue of the open opportunities × the historical win rate "
        "of their stage (for their team, else their company; the configured win "
        "rate while the stage has no history).",
    )
    late_stage_revenue = fields.Monetary(
        string="Late-Stage Revenue",
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue of the open opportunities in stages whose configured "
        "win rate is 50 % or more.",
    )
    won_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Revenue of the opportunities won, on their closing date: the actuals.",
    )
    target = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="The target the coverage and the gap are measured against. " + TARGET_HELP,
    )
    coverage = percent_field(
        "Coverage (%)",
        "Expected revenue of the open opportunities ÷ target, in percent; empty "
        "without target. Computed on the totals of each group.",
    )
    weighted_coverage = percent_field(
        "Weighted Coverage (%)",
        "Expected revenue of the open opportunities weighted by the win rate of "
        "their stage ÷ target, in percent; empty without target. Computed on the "
        "totals of each group.",
    )
    late_stage_coverage = percent_field(
        "Late-Stage Coverage (%)",
        "Expected revenue of the open opportunities in stages with a win rate "
        "of 50 % or more ÷ target, in percent; empty without target. Computed on the "
        "totals of each group.",
    )
    gap = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="What is still needed: target − won revenue − expected revenue of the "
        "open opportunities. Negative when the pipeline exceeds it; empty without "
        "target. Computed on the totals of each group.",
    )

    # ------------------------------------------------------------
    # Period: depends on today
    # ------------------------------------------------------------

    @api.depends("row_type", "date_closing")
    def _compute_date(self):
        today = fields.Date.context_today(self)
        for row in self:
            undated = row.row_type == "open" and (
                not row.date_closing or row.date_closing < today
            )
            row.needs_date = undated
            row.date = False if undated else row.date_closing

    def _search_date(self, operator, value):
        if operator not in DATE_OPERATORS:
            raise UserError(
                self.env._(
                    "The period of the forecast cannot be searched with "
                    "“%(operator)s”.",
                    operator=operator,
                )
            )
        today = fields.Date.context_today(self)
        dated = ["|", ("row_type", "!=", "open"), ("date_closing", ">=", today)]
        if value is False or value is None:
            if operator == "=":
                return ["|", ("date_closing", "=", False), "!", *dated]
            if operator == "!=":
                return [("date_closing", "!=", False), *dated]
            return [("id", "=", False)]
        if operator == "!=":
            return ["!", *self._search_date("=", value)]
        return ["&", ("date_closing", operator, value), *dated]

    def _search_needs_date(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(
                self.env._(
                    "“Needs a Date” cannot be searched with “%(operator)s”.",
                    operator=operator,
                )
            )
        today = fields.Date.context_today(self)
        undated = [
            "&",
            ("row_type", "=", "open"),
            "|",
            ("date_closing", "=", False),
            ("date_closing", "<", today),
        ]
        return undated if (operator == "=") == bool(value) else ["!", *undated]

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        # the period and "needs a date" are computed in the query, so that the
        # report groups and sorts by them
        if fname not in ("date", "needs_date"):
            return super()._field_to_sql(alias, fname, query, flush)
        row_type = super()._field_to_sql(alias, "row_type", query, flush)
        date_closing = super()._field_to_sql(alias, "date_closing", query, flush)
        undated = SQL(
            "(%s = 'open' AND (%s IS NULL OR %s < %s))",
            row_type,
            date_closing,
            date_closing,
            fields.Date.context_today(self),
        )
        if fname == "needs_date":
            return undated
        return SQL("(CASE WHEN NOT %s THEN %s END)", undated, date_closing)

    # ------------------------------------------------------------
    # View
    # ------------------------------------------------------------

    def _view_columns(self):
        """The columns of the view and their SQL type, in the order in which
        every branch gives them."""
        return [
            ("id", "integer"),
            ("row_type", "varchar"),
            ("lead_id", "integer"),
            ("partner_id", "integer"),
            ("user_id", "integer"),
            ("owner_key", "integer"),
            ("team_id", "integer"),
            ("stage_id", "integer"),
            ("company_id", "integer"),
            ("company_currency", "integer"),
            ("forecast_category", "varchar"),
            ("date_closing", "date"),
            ("probability", "float8"),
            ("stage_win_rate", "float8"),
            ("historical_win_rate", "float8"),
            *((fname, "float8") for fname in self._view_amounts()),
        ]

    def _view_amounts(self):
        """The amounts of the view: float8 columns, NULL on the rows they are
        not about (a strict SUM skips them); each is a figure of the groups."""
        return list(self._figures)

    def _view_select(self, values):
        """The SELECT list of a branch: ``values`` maps column names to their
        SQL expression; the other columns are NULL."""
        return SQL(", ").join(
            SQL(
                "(%s)::%s AS %s",
                values.get(name, SQL("NULL")),
                SQL(column_type),
                SQL.identifier(name),
            )
            for name, column_type in self._view_columns()
        )

    def _lead_values(self):
        """The columns common to open and won opportunities (alias ``l``)."""
        return {
            "id": SQL("l.id * 2"),
            "lead_id": SQL("l.id"),
            "partner_id": SQL("l.partner_id"),
            "user_id": SQL("l.user_id"),
            "owner_key": SQL("COALESCE(l.user_id, %s)", NO_OWNER),
            "team_id": SQL("l.team_id"),
            "stage_id": SQL("l.stage_id"),
            "company_id": SQL("l.company_id"),
            "company_currency": SQL(
                "SELECT c.currency_id FROM res_company c WHERE c.id = l.company_id"
            ),
            "forecast_category": SQL("l.forecast_category"),
        }

    def _select_open(self):
        # the historical win rate of the stage for the team, else for the company
        # (interface of funnel.stage.win.rate), else the configured one; it and
        # the currency are subqueries of the columns: a query that does not ask
        # for them (most pivots) does not compute them
        historical = SQL(
            """
            COALESCE(
                (SELECT tr.win_rate FROM funnel_stage_win_rate tr
                  WHERE tr.stage_id = l.stage_id AND tr.company_id = l.company_id
                    AND tr.team_id = l.team_id),
                (SELECT cr.win_rate FROM funnel_stage_win_rate cr
                  WHERE cr.stage_id = l.stage_id AND cr.company_id = l.company_id
                    AND cr.team_id IS NULL),
                s.win_rate, 0)
            """
        )
        revenue = SQL("COALESCE(l.expected_revenue, 0)::float8")
        return self._view_select(
            {
                **self._lead_values(),
                "row_type": SQL("'open'"),
                "date_closing": SQL("l.date_deadline"),
                "probability": SQL("COALESCE(l.probability, 0)"),
                "stage_win_rate": SQL("COALESCE(s.win_rate, 0)"),
                "historical_win_rate": historical,
                "expected_revenue": revenue,
                "weighted_probability": SQL(
                    "%s * COALESCE(l.probability, 0) / 100", revenue
                ),
                "weighted_stage": SQL("%s * COALESCE(s.win_rate, 0) / 100", revenue),
                "weighted_historical": SQL("%s * %s / 100", revenue, historical),
                "late_stage_revenue": SQL(
                    "CASE WHEN s.win_rate >= %s THEN %s END",
                    LATE_STAGE_WIN_RATE,
                    revenue,
                ),
            }
        )

    def _from_open(self):
        return SQL("crm_lead l LEFT JOIN crm_stage s ON s.id = l.stage_id")

    def _select_won(self):
        return self._view_select(
            {
                **self._lead_values(),
                "row_type": SQL("'won'"),
                "date_closing": SQL("l.date_closed::date"),
                "won_revenue": SQL("COALESCE(l.expected_revenue, 0)"),
            }
        )

    def _select_targets(self):
        # a row per month of each target, with its share of the target (see
        # funnel.target.month)
        return self._view_select(
            {
                "id": SQL("tm.id * 2 + 1"),
                "row_type": SQL("'target'"),
                "user_id": SQL("tm.user_id"),
                "owner_key": SQL("COALESCE(tm.user_id, %s)", NO_OWNER),
                "team_id": SQL("tm.team_id"),
                "company_id": SQL("tm.company_id"),
                "company_currency": SQL("tm.currency_id"),
                "date_closing": SQL("tm.month"),
                **self.env["funnel.target.month"]._target_amounts("tm"),
                "target": SQL("tm.amount"),
                "gap": SQL("tm.amount"),
            }
        )

    def _from_targets(self):
        return SQL("funnel_target_month tm")

    def _view_branches(self):
        """The SELECTs of the view, one per kind of row, joined by UNION ALL
        (a module adds a kind of row by adding a branch)."""
        Lead = self.env["crm.lead"]
        return [
            SQL(
                "SELECT %s FROM %s WHERE %s",
                self._select_open(),
                self._from_open(),
                Lead._funnel_forecast_condition("open"),
            ),
            SQL(
                "SELECT %s FROM crm_lead l WHERE %s",
                self._select_won(),
                Lead._funnel_forecast_condition("won"),
            ),
            SQL("SELECT %s FROM %s", self._select_targets(), self._from_targets()),
        ]

    def init(self):
        # one branch per kind of row, each with plain columns: the conditions
        # on the period and the category go down to the scan of each branch,
        # and PostgreSQL estimates them from the statistics of crm_lead
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                SQL(" UNION ALL ").join(self._view_branches()),
            )
        )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_open_lead(self):
        self.ensure_one()
        if not self.lead_id:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "views": [(False, "form")],
        }
