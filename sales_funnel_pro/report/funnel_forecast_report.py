from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.models import parse_read_group_spec
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from ..models.crm_stage import LEAD_FORECAST_CATEGORIES

ROW_TYPES = [
    ("open", "Open Opportunity"),
    ("won", "Won Opportunity"),
    ("target", "Target"),
]

# stages from this configured win rate on are late stages
LATE_STAGE_WIN_RATE = 50

# figures computed from the sums of the group at every grouping level
GROUP_FIGURES = (
    "target",
    "coverage",
    "weighted_coverage",
    "late_stage_coverage",
    "gap",
)
COVERAGES = {
    "coverage": "expected_revenue",
    "weighted_coverage": "weighted_stage",
    "late_stage_coverage": "late_stage_revenue",
}
DATE_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")


class FunnelForecastReport(models.Model):
    """The forecast: what is expected to close, when, weighted three ways, against
    the targets.

    Three kinds of rows:

    - one per open opportunity, on its expected closing date; without one, or with
      one already past, it has no period and needs a date;
    - one per won opportunity, on its closing date: the actuals;
    - one per month of each target, the target being spread evenly over the months
      of its period, so that months, quarters and years add up.

    The period (``date``) and ``needs_date`` depend on today: they are computed in
    the query (see ``_field_to_sql``), not stored in the view.
    """

    _name = "funnel.forecast.report"
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
        "crm.stage": ["is_won", "win_rate"],
        "funnel.stage.win.rate": ["company_id", "stage_id", "team_id", "win_rate"],
        "funnel.target": [
            "amount",
            "company_id",
            "date_from",
            "date_to",
            "team_id",
            "user_id",
        ],
        "res.company": ["currency_id"],
        "res.currency": ["decimal_places"],
        "res.users": ["sale_team_id"],
    }

    # ------------------------------------------------------------
    # Dimensions
    # ------------------------------------------------------------
    row_type = fields.Selection(ROW_TYPES, string="Type", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        help="The team of the opportunity; for a salesperson's target, the team of "
        "the salesperson.",
    )
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency = fields.Many2one("res.currency", string="Currency", readonly=True)
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
    target_amount = fields.Monetary(
        string="Salesperson Targets",
        currency_field="company_currency",
        readonly=True,
        help="Targets of the salespeople, spread evenly over the months of their "
        "period.",
    )
    team_target_amount = fields.Monetary(
        string="Team Targets",
        currency_field="company_currency",
        readonly=True,
        help="Targets of the sales teams, spread evenly over the months of their "
        "period. They are on rows without salesperson.",
    )
    covered_target_amount = fields.Monetary(
        string="Salesperson Targets Within a Team Target",
        currency_field="company_currency",
        aggregator=None,
        readonly=True,
        help="Targets of salespeople for a month in which their team has a target.",
    )
    target = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="The target the coverage and the gap are measured against. For a group "
        "with team targets (a team, or the whole company), each month counts its "
        "team target when the team has one, else the sum of the targets of the "
        "team's salespeople. For a group without team targets (a salesperson), the "
        "salespeople's targets.",
    )
    coverage = fields.Float(
        string="Coverage (%)",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Expected revenue of the open opportunities ÷ target, in percent; empty "
        "without target. Computed on the totals of each group.",
    )
    weighted_coverage = fields.Float(
        string="Weighted Coverage (%)",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Expected revenue of the open opportunities weighted by the win rate of "
        "their stage ÷ target, in percent; empty without target. Computed on the "
        "totals of each group.",
    )
    late_stage_coverage = fields.Float(
        string="Late-Stage Coverage (%)",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Expected revenue of the open opportunities in stages with a win rate "
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
    # Figures of a group
    # ------------------------------------------------------------

    def _read_group_select(self, aggregate_spec, query):
        # the target, coverages and gap of a group come from the group's sums
        fname, __, __ = parse_read_group_spec(aggregate_spec)
        if fname in GROUP_FIGURES:
            return self._forecast_group_figure(fname, query)
        return super()._read_group_select(aggregate_spec, query)

    def _forecast_group_figure(self, fname, query):
        def total(name):
            return SQL(
                "COALESCE(SUM(%s), 0)", self._field_to_sql(self._table, name, query)
            )

        team, reps = total("team_target_amount"), total("target_amount")
        target = SQL(
            "(CASE WHEN %s <> 0 THEN %s + %s - %s ELSE %s END)",
            team,
            team,
            reps,
            total("covered_target_amount"),
            reps,
        )
        if fname == "target":
            return target
        if fname == "gap":
            return SQL(
                "(CASE WHEN %s <> 0 THEN %s - %s - %s END)",
                target,
                target,
                total("won_revenue"),
                total("expected_revenue"),
            )
        return SQL("(%s * 100.0 / NULLIF(%s, 0))", total(COVERAGES[fname]), target)

    # ------------------------------------------------------------
    # View
    # ------------------------------------------------------------

    def _select_opportunities(self):
        return SQL(
            """
            l.id * 2 AS id,
            CASE WHEN w.is_won THEN 'won' ELSE 'open' END AS row_type,
            l.id AS lead_id,
            l.partner_id,
            l.user_id,
            l.team_id,
            l.stage_id,
            l.company_id,
            (SELECT c.currency_id FROM res_company c WHERE c.id = l.company_id)
                AS company_currency,
            l.forecast_category,
            CASE WHEN w.is_won THEN l.date_closed::date ELSE l.date_deadline END
                AS date_closing,
            CASE WHEN NOT w.is_won THEN l.probability END AS probability,
            CASE WHEN NOT w.is_won THEN w.stage_rate END AS stage_win_rate,
            CASE WHEN NOT w.is_won THEN w.historical_rate END AS historical_win_rate,
            CASE WHEN NOT w.is_won THEN l.expected_revenue ELSE 0::numeric END
                AS expected_revenue,
            CASE WHEN NOT w.is_won
                 THEN l.expected_revenue * w.probability / 100 ELSE 0::numeric END
                AS weighted_probability,
            CASE WHEN NOT w.is_won
                 THEN l.expected_revenue * w.stage_rate / 100 ELSE 0::numeric END
                AS weighted_stage,
            CASE WHEN NOT w.is_won
                 THEN l.expected_revenue * w.historical_rate / 100 ELSE 0::numeric END
                AS weighted_historical,
            CASE WHEN NOT w.is_won AND w.stage_rate >= %(late)s
                 THEN l.expected_revenue ELSE 0::numeric END AS late_stage_revenue,
            CASE WHEN w.is_won THEN l.expected_revenue ELSE 0::numeric END
                AS won_revenue,
            0::numeric AS target_amount,
            0::numeric AS team_target_amount,
            0::numeric AS covered_target_amount,
            0::numeric AS target,
            NULL::numeric AS coverage,
            NULL::numeric AS weighted_coverage,
            NULL::numeric AS late_stage_coverage,
            NULL::numeric AS gap
            """,
            late=LATE_STAGE_WIN_RATE,
        )

    def _from_opportunities(self):
        # the historical win rate of the stage for the team, else for the company
        # (interface of funnel.stage.win.rate), else the configured one. It and
        # the currency are subqueries of the columns, not joins: a query that
        # does not ask for them (most pivots) does not compute them
        return SQL(
            """
            crm_lead l
            LEFT JOIN crm_stage s ON s.id = l.stage_id
            CROSS JOIN LATERAL (
                SELECT COALESCE(s.is_won, FALSE) AS is_won,
                       COALESCE(l.probability, 0)::numeric AS probability,
                       COALESCE(s.win_rate, 0)::numeric AS stage_rate,
                       COALESCE(
                           (SELECT tr.win_rate FROM funnel_stage_win_rate tr
                             WHERE tr.stage_id = l.stage_id
                               AND tr.company_id = l.company_id
                               AND tr.team_id = l.team_id),
                           (SELECT cr.win_rate FROM funnel_stage_win_rate cr
                             WHERE cr.stage_id = l.stage_id
                               AND cr.company_id = l.company_id
                               AND cr.team_id IS NULL),
                           s.win_rate, 0)::numeric AS historical_rate
            ) w
            """
        )

    def _where_opportunities(self):
        # open and won opportunities are active; lost ones are archived
        return SQL("l.type = 'opportunity' AND l.active")

    def _select_targets(self):
        # each month gets an even share of the target, rounded to the currency,
        # the last month what is left of it; a salesperson's target of a month is
        # "covered" when the salesperson's team has a target for that month
        return SQL(
            """
            (ft.id * 12 + m.idx) * 2 + 1 AS id,
            'target' AS row_type,
            NULL::integer AS lead_id,
            NULL::integer AS partner_id,
            ft.user_id,
            COALESCE(ft.team_id, u.sale_team_id) AS team_id,
            NULL::integer AS stage_id,
            ft.company_id,
            cur.id AS company_currency,
            NULL::varchar AS forecast_category,
            (ft.date_from + m.idx * INTERVAL '1 month')::date AS date_closing,
            NULL::float AS probability,
            NULL::numeric AS stage_win_rate,
            NULL::numeric AS historical_win_rate,
            0::numeric AS expected_revenue,
            0::numeric AS weighted_probability,
            0::numeric AS weighted_stage,
            0::numeric AS weighted_historical,
            0::numeric AS late_stage_revenue,
            0::numeric AS won_revenue,
            CASE WHEN ft.user_id IS NOT NULL THEN sh.amount ELSE 0::numeric END
                AS target_amount,
            CASE WHEN ft.user_id IS NULL THEN sh.amount ELSE 0::numeric END
                AS team_target_amount,
            CASE WHEN ft.user_id IS NOT NULL AND EXISTS (
                    SELECT 1 FROM funnel_target tt
                     WHERE tt.team_id = u.sale_team_id
                       AND tt.company_id = ft.company_id
                       AND tt.date_from <= ft.date_from + m.idx * INTERVAL '1 month'
                       AND tt.date_to >= ft.date_from + m.idx * INTERVAL '1 month'
                 ) THEN sh.amount ELSE 0::numeric END AS covered_target_amount,
            sh.amount AS target,
            NULL::numeric AS coverage,
            NULL::numeric AS weighted_coverage,
            NULL::numeric AS late_stage_coverage,
            sh.amount AS gap
            """
        )

    def _from_targets(self):
        return SQL(
            """
            funnel_target ft
            LEFT JOIN res_users u ON u.id = ft.user_id
            LEFT JOIN res_company c ON c.id = ft.company_id
            LEFT JOIN res_currency cur ON cur.id = c.currency_id
            CROSS JOIN LATERAL (
                SELECT (
                    (EXTRACT(YEAR FROM ft.date_to) - EXTRACT(YEAR FROM ft.date_from))
                    * 12 + EXTRACT(MONTH FROM ft.date_to)
                    - EXTRACT(MONTH FROM ft.date_from) + 1
                )::integer AS months
            ) n
            CROSS JOIN LATERAL generate_series(0, n.months - 1) AS m(idx)
            CROSS JOIN LATERAL (
                SELECT ROUND(ft.amount / n.months, COALESCE(cur.decimal_places, 2))
                    AS share
            ) r
            CROSS JOIN LATERAL (
                SELECT CASE WHEN m.idx < n.months - 1 THEN r.share
                            ELSE ft.amount - (n.months - 1) * r.share
                       END AS amount
            ) sh
            """
        )

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT %s
                      FROM %s
                     WHERE %s
                    UNION ALL
                    SELECT %s
                      FROM %s
                )
                """,
                SQL.identifier(self._table),
                self._select_opportunities(),
                self._from_opportunities(),
                self._where_opportunities(),
                self._select_targets(),
                self._from_targets(),
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
