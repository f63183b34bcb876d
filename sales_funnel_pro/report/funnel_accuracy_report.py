from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from .funnel_report_figures import (
    Accuracy,
    Bias,
    GroupTarget,
    PerSnapshot,
    Ratio,
    percent_field,
)
from .funnel_report_target import TARGET_HELP

ROW_TYPES = [("forecast", "Forecast"), ("target", "Target")]
# forecast measure -> its accuracy and bias fields
FORECASTS = {
    "forecast_probability": ("accuracy_probability", "bias_probability"),
    "forecast_stage": ("accuracy_stage", "bias_stage"),
    "forecast_historical": ("accuracy_historical", "bias_historical"),
    "forecast_commit": ("accuracy_commit", "bias_commit"),
    "forecast_best_case": ("accuracy_best_case", "bias_best_case"),
}
# the calls (funnel.forecast.submission) -> their accuracy and bias fields,
# measured against the actual of the salespeople who made a call
CALL_FORECASTS = {
    "forecast_submitted": ("accuracy_submitted", "bias_submitted"),
    "forecast_adjusted": ("accuracy_adjusted", "bias_adjusted"),
}
AMOUNTS = (
    "expected_revenue",
    "closed_revenue",
    "actual_revenue",
    "call_actual_revenue",
    *FORECASTS,
    *CALL_FORECASTS,
)
# the columns of the target rows
TARGET_AMOUNTS = ("target_amount", "team_target_amount", "covered_target_amount")
# the group's actual and target, per snapshot
ACTUAL = PerSnapshot("actual_revenue", row_type="forecast")
TARGET = PerSnapshot(GroupTarget(), row_type="target")

AGGREGATION_HELP = (
    " Over several snapshots, amounts are averages per snapshot date (the actual of "
    "a period is not added up once per snapshot), so the figure is that of the "
    "average forecast."
)


def _amount(string, help_text, aggregation=AGGREGATION_HELP):
    return fields.Monetary(
        string=string,
        currency_field="company_currency",
        readonly=True,
        help=help_text + aggregation,
    )


def _accuracy(forecast_label):
    return percent_field(
        f"Accuracy ({forecast_label}) %",
        f"Forecast accuracy of the {forecast_label.lower()} forecast, in "
        "percent: 100 × (1 − |forecast − actual| ÷ actual); 100 is perfect, it "
        "falls as the forecast misses in either direction, down to 0 for a miss "
        "as large as the actual or larger (the bias tells by how much). Computed "
        "from the totals of each group, so a team's forecast is judged as "
        "a whole; over several snapshots it is the accuracy of their average "
        "forecast. Empty when nothing was won in the period.",
    )


def _bias(forecast_label):
    return percent_field(
        f"Bias ({forecast_label}) %",
        f"Bias of the {forecast_label.lower()} forecast, in percent: "
        "100 × (forecast − actual) ÷ actual. Above 0 the forecast was too high "
        "(over-optimistic), below 0 too low (sandbagging). Computed from the totals "
        "of each group; over several snapshots it is the bias of their average "
        "forecast. Empty when nothing was won in the period.",
    )


class FunnelAccuracyReport(models.Model):
    """Forecast accuracy: what each weekly snapshot forecast for a month, against
    what was won in that month.

    One row per snapshot, month of expected closing (the period), salesperson,
    sales team and company. A snapshot forecasts the months from the one it was
    taken in up to eleven months later: for each, the revenue already won in the
    month when the snapshot was taken (closed) plus its open opportunities
    expected in the month, weighted four ways. Opportunities of the snapshot
    without an expected closing date, expected in a month already over, or a
    year or more ahead, are part of no period. The actual of a month is what was
    won in it (closing date), by the opportunity's salesperson and team.

    The target rows hold, for each snapshot, the months of the targets that it
    forecasts (see funnel.target.month): the target a group's actual is measured
    against. Amounts are averaged over the snapshots of the forecast rows, the
    target over those of the target rows.
    """

    _name = "funnel.accuracy.report"
    _inherit = "funnel.report.target"
    _description = "Forecast Accuracy Analysis"
    _auto = False
    _order = "snapshot_date desc, period, id"
    _rec_name = "period"
    # what the view reads: flushed before the report is searched or grouped
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "date_closed",
            "date_deadline",
            "expected_revenue",
            "forecast_category",
            "probability",
            "team_id",
            "type",
            "user_id",
        ],
        "res.company": ["currency_id"],
        "funnel.target.month": [
            "amount",
            "company_id",
            "is_covered",
            "month",
            "team_id",
            "user_id",
        ],
        "funnel.forecast.snapshot": ["company_id", "date", "taken_at"],
        "funnel.forecast.submission": [
            "commit_amount",
            "company_id",
            "date",
            "kind",
            "period_start",
            "period_type",
            "team_id",
            "user_id",
        ],
        "funnel.forecast.snapshot.line": [
            "date_deadline",
            "expected_revenue",
            "forecast_category",
            "lead_id",
            "snapshot_id",
            "team_id",
            "user_id",
            "weighted_historical",
            "weighted_probability",
            "weighted_stage",
        ],
    }
    # what a group shows, from its totals: amounts per snapshot (of the forecast
    # rows), accuracy and bias of the forecasts, slip rate, target (of the target
    # rows) and attainment
    _figures = {
        **{fname: PerSnapshot(fname, row_type="forecast") for fname in AMOUNTS},
        **{
            accuracy: Accuracy(forecast, "actual_revenue")
            for forecast, (accuracy, __) in FORECASTS.items()
        },
        **{
            bias: Bias(forecast, "actual_revenue")
            for forecast, (__, bias) in FORECASTS.items()
        },
        **{
            accuracy: Accuracy(forecast, "call_actual_revenue")
            for forecast, (accuracy, __) in CALL_FORECASTS.items()
        },
        **{
            bias: Bias(forecast, "call_actual_revenue")
            for forecast, (__, bias) in CALL_FORECASTS.items()
        },
        "slip_rate": Ratio("slipped_count", "line_count", digits=1),
        **{fname: PerSnapshot(fname, row_type="target") for fname in TARGET_AMOUNTS},
        "target": TARGET,
        "attainment": Ratio(ACTUAL, TARGET, digits=1),
    }

    row_type = fields.Selection(
        ROW_TYPES,
        string="Type",
        readonly=True,
        help="Forecast: what the snapshot forecast for the period, and what was won "
        "in it. Target: the target of the period, of a salesperson or of a team.",
    )
    snapshot_id = fields.Many2one(
        "funnel.forecast.snapshot", string="Snapshot", readonly=True
    )
    snapshot_date = fields.Date(readonly=True, help="The day the forecast was frozen.")
    period = fields.Date(
        readonly=True,
        help="The month forecast: the month of the expected closing date of the "
        "snapshot's opportunities, and of the closing date of the won ones. Group "
        "by quarter or year to judge longer periods: a snapshot taken within the "
        "quarter then covers the months of the quarter that were not over yet.",
    )
    is_period_over = fields.Boolean(
        string="Period Over",
        readonly=True,
        help="The period has ended: its actual is final.",
    )
    months_ahead = fields.Integer(
        readonly=True,
        aggregator=False,
        help="How many months after the snapshot's month the period is: 0 for the "
        "month the snapshot was taken in, 1 for the next one... The 3-month "
        "forecast covers 0 to 2.",
    )
    is_before_period = fields.Boolean(
        string="Taken Before the Period",
        readonly=True,
        help="The snapshot was taken before the period started.",
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)

    line_count = fields.Integer(
        string="Opportunities",
        readonly=True,
        help="Open opportunities of the snapshot expected to close in the period "
        "(over several snapshots, an opportunity counts once per snapshot).",
    )
    slipped_count = fields.Integer(
        string="Slipped",
        readonly=True,
        help="Opportunities of the snapshot expected in the period that did not "
        "close in it and were not lost in it: won or lost after the end of the "
        "period, or still open with an expected closing date now after the period, "
        "or still open once the period is over.",
    )
    slip_rate = percent_field(
        "Slip Rate %",
        "Slipped ÷ opportunities, in percent: the share of the opportunities "
        "a snapshot expected in the period whose closing moved past it. Over "
        "several snapshots, each snapshot's opportunities count.",
    )
    expected_revenue = _amount(
        "Open Pipeline",
        "Expected revenue of the snapshot's open opportunities expected in the "
        "period, not weighted.",
    )
    closed_revenue = _amount(
        "Closed",
        "Revenue already won in the period when the snapshot was taken; part of "
        "every forecast.",
    )
    actual_revenue = _amount(
        "Actual",
        "Revenue won in the period (closing date), by the opportunity's "
        "salesperson and team, as of today.",
    )
    forecast_probability = _amount(
        "Forecast (Probability)",
        "Closed + the open expected revenue weighted by the salesperson's probability.",
    )
    forecast_stage = _amount(
        "Forecast (Stage Win Rate)",
        "Closed + the open expected revenue weighted by the stage's configured win "
        "rate.",
    )
    forecast_historical = _amount(
        "Forecast (Historical Win Rate)",
        "Closed + the open expected revenue weighted by the stage's historical win "
        "rate.",
    )
    forecast_commit = _amount(
        "Commit Forecast",
        "Closed + the expected revenue of the open opportunities in the Commit "
        "category.",
    )
    forecast_best_case = _amount(
        "Best Case Forecast",
        "Closed + the expected revenue of the open opportunities in the Commit or "
        "Best Case category.",
    )
    forecast_submitted = _amount(
        "Rep's Call",
        "The commit the salesperson submitted for the period: their latest call "
        "made before the period started, else their latest one (a quarter's call "
        "counts a third in each of its months without a call of their own).",
    )
    forecast_adjusted = _amount(
        "Manager's Call",
        "The commit of the sales manager's latest adjustment of the salesperson's "
        "call for the period (made before the period started, else the latest), "
        "else the salesperson's call; spread over a quarter as the rep's call.",
    )
    call_actual_revenue = _amount(
        "Actual (Called)",
        "Revenue won in the period by the salespeople who made a call for it: the "
        "actual the calls are measured against.",
    )
    accuracy_submitted = _accuracy("Rep's Call")
    accuracy_adjusted = _accuracy("Manager's Call")
    bias_submitted = _bias("Rep's Call")
    bias_adjusted = _bias("Manager's Call")
    accuracy_probability = _accuracy("Probability")
    accuracy_stage = _accuracy("Stage Win Rate")
    accuracy_historical = _accuracy("Historical Win Rate")
    accuracy_commit = _accuracy("Commit")
    accuracy_best_case = _accuracy("Best Case")
    bias_probability = _bias("Probability")
    bias_stage = _bias("Stage Win Rate")
    bias_historical = _bias("Historical Win Rate")
    bias_commit = _bias("Commit")
    bias_best_case = _bias("Best Case")
    target = _amount(
        "Target",
        "The target of the period. " + TARGET_HELP,
        " Over several snapshots, the average per snapshot date, as the actual.",
    )
    attainment = percent_field(
        "Attainment %",
        "Actual ÷ target, in percent: the share of the target that was won in "
        "the period. Computed from the totals of each group; empty without target.",
    )

    # ------------------------------------------------------------
    # The view
    # ------------------------------------------------------------

    def _query(self):
        Lead = self.env["crm.lead"]
        # an opportunity no longer open closed (won, lost or archived) on its
        # closing date
        slipped = SQL(
            """
            CASE
                WHEN NOT %s
                    THEN COALESCE(l.date_closed >= f.period_end, FALSE)
                ELSE COALESCE(l.date_deadline >= f.period_end, FALSE)
                     OR f.period_end <= CURRENT_DATE
            END
            """,
            Lead._funnel_state_sql("open", "l"),
        )
        # the figures of each row, as those of a group of one row
        row_figures = SQL(",").join(
            SQL("%s AS %s", self._figure_row_sql(fname, "a"), SQL.identifier(fname))
            for fname in (
                "slip_rate",
                *(
                    figure
                    for pair in (*FORECASTS.values(), *CALL_FORECASTS.values())
                    for figure in pair
                ),
            )
        )
        target_amounts = SQL(",").join(
            SQL("%s AS %s", amount, SQL.identifier(fname))
            for fname, amount in self.env["funnel.target.month"]
            ._target_amounts("tm")
            .items()
        )
        return SQL(
            """
WITH snapshot AS (
    SELECT id, date, taken_at, company_id,
           date_trunc('month', date)::date AS first_period
      FROM funnel_forecast_snapshot
),
forecast AS (
    SELECT f.snapshot_id, f.period, f.user_id, f.team_id, f.company_id,
           COUNT(*) AS line_count,
           COUNT(*) FILTER (WHERE %(slipped)s) AS slipped_count,
           SUM(f.expected_revenue) AS expected_revenue,
           SUM(f.weighted_probability) AS open_probability,
           SUM(f.weighted_stage) AS open_stage,
           SUM(f.weighted_historical) AS open_historical,
           SUM(f.expected_revenue) FILTER (
               WHERE f.forecast_category = 'commit') AS open_commit,
           SUM(f.expected_revenue) FILTER (
               WHERE f.forecast_category IN ('commit', 'best_case')) AS open_best_case
      FROM (
          SELECT line.snapshot_id, line.lead_id, line.user_id, line.team_id,
                 s.company_id, line.expected_revenue, line.weighted_probability,
                 line.weighted_stage, line.weighted_historical,
                 line.forecast_category,
                 date_trunc('month', line.date_deadline)::date AS period,
                 (date_trunc('month', line.date_deadline)
                  + interval '1 month')::date AS period_end
            FROM funnel_forecast_snapshot_line line
            JOIN snapshot s ON s.id = line.snapshot_id
           WHERE line.date_deadline >= s.first_period
             AND line.date_deadline < s.first_period + interval '12 months'
      ) f
      JOIN crm_lead l ON l.id = f.lead_id
     GROUP BY f.snapshot_id, f.period, f.user_id, f.team_id, f.company_id
),
actual AS (
    SELECT s.id AS snapshot_id,
           date_trunc('month', w.date_closed)::date AS period,
           w.user_id, w.team_id, s.company_id,
           SUM(w.expected_revenue) AS actual_revenue,
           COALESCE(SUM(w.expected_revenue) FILTER (
               WHERE w.date_closed < s.taken_at), 0) AS closed_revenue
      FROM snapshot s
      JOIN crm_lead w
        ON w.company_id = s.company_id
       AND w.date_closed >= s.first_period
       AND w.date_closed < s.first_period + interval '12 months'
     WHERE %(won)s
     GROUP BY s.id, date_trunc('month', w.date_closed), w.user_id, w.team_id,
              s.company_id
),
%(calls)s,
combined AS (
    SELECT snapshot_id, period, user_id, team_id, company_id, line_count,
           slipped_count, COALESCE(expected_revenue, 0) AS expected_revenue,
           COALESCE(open_probability, 0) AS open_probability,
           COALESCE(open_stage, 0) AS open_stage,
           COALESCE(open_historical, 0) AS open_historical,
           COALESCE(open_commit, 0) AS open_commit,
           COALESCE(open_best_case, 0) AS open_best_case,
           0 AS actual_revenue, 0 AS closed_revenue,
           0 AS forecast_submitted, 0 AS forecast_adjusted, FALSE AS has_call
      FROM forecast
    UNION ALL
    SELECT snapshot_id, period, user_id, team_id, company_id, 0, 0, 0, 0, 0, 0, 0,
           0, actual_revenue, closed_revenue, 0, 0, FALSE
      FROM actual
    UNION ALL
    -- the calls of the months that the snapshot forecasts
    SELECT s.id, cm.period, cm.user_id, cm.team_id, cm.company_id,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, cm.submitted, cm.adjusted, TRUE
      FROM snapshot s
      JOIN call_month cm
        ON cm.company_id = s.company_id
       AND cm.period >= s.first_period
       AND cm.period < s.first_period + interval '12 months'
),
aggregated AS (
    SELECT 'forecast' AS row_type,
           c.snapshot_id, c.period, c.user_id, c.team_id, c.company_id,
           SUM(c.line_count) AS line_count,
           SUM(c.slipped_count) AS slipped_count,
           SUM(c.expected_revenue) AS expected_revenue,
           SUM(c.closed_revenue) AS closed_revenue,
           SUM(c.actual_revenue) AS actual_revenue,
           SUM(c.closed_revenue + c.open_probability) AS forecast_probability,
           SUM(c.closed_revenue + c.open_stage) AS forecast_stage,
           SUM(c.closed_revenue + c.open_historical) AS forecast_historical,
           SUM(c.closed_revenue + c.open_commit) AS forecast_commit,
           SUM(c.closed_revenue + c.open_best_case) AS forecast_best_case,
           NULL::numeric AS target_amount,
           NULL::numeric AS team_target_amount,
           NULL::numeric AS covered_target_amount,
           NULL::numeric AS target,
           SUM(c.forecast_submitted) AS forecast_submitted,
           SUM(c.forecast_adjusted) AS forecast_adjusted,
           -- what the salesperson won in the period, if they made a call for it
           -- (in any of their teams)
           CASE WHEN bool_or(bool_or(c.has_call)) OVER (
                    PARTITION BY c.snapshot_id, c.period, c.user_id, c.company_id)
                THEN SUM(c.actual_revenue) ELSE 0 END AS call_actual_revenue
      FROM combined c
     GROUP BY c.snapshot_id, c.period, c.user_id, c.team_id, c.company_id
    UNION ALL
    -- each month of a target that the snapshot forecasts
    SELECT 'target', s.id, tm.month, tm.user_id, tm.team_id, tm.company_id,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           %(target_amounts)s,
           tm.amount, 0, 0, 0
      FROM snapshot s
      JOIN funnel_target_month tm
        ON tm.company_id = s.company_id
       AND tm.month >= s.first_period
       AND tm.month < s.first_period + interval '12 months'
)
SELECT row_number() OVER (
           ORDER BY a.snapshot_id, a.period, a.user_id, a.team_id, a.company_id,
                    a.row_type
       ) AS id,
       a.row_type,
       a.snapshot_id,
       s.date AS snapshot_date,
       a.period,
       (a.period + interval '1 month')::date <= CURRENT_DATE AS is_period_over,
       s.date < a.period AS is_before_period,
       ((date_part('year', a.period) - date_part('year', s.date)) * 12
        + date_part('month', a.period) - date_part('month', s.date))::integer
           AS months_ahead,
       a.user_id,
       a.team_id,
       a.company_id,
       rc.currency_id AS company_currency,
       a.line_count,
       a.slipped_count,
       a.expected_revenue,
       a.closed_revenue,
       a.actual_revenue,
       a.forecast_probability,
       a.forecast_stage,
       a.forecast_historical,
       a.forecast_commit,
       a.forecast_best_case,
       a.target_amount,
       a.team_target_amount,
       a.covered_target_amount,
       a.target,
       a.forecast_submitted,
       a.forecast_adjusted,
       a.call_actual_revenue,
       NULL::numeric AS attainment,
       %(row_figures)s
  FROM aggregated a
  JOIN snapshot s ON s.id = a.snapshot_id
  JOIN res_company rc ON rc.id = a.company_id
            """,
            slipped=slipped,
            won=Lead._funnel_state_sql("won", "w"),
            target_amounts=target_amounts,
            row_figures=row_figures,
            calls=self._calls_query(),
        )

    def _calls_query(self):
        """The CTEs of the calls: ``call_month`` holds, per company, salesperson,
        team and month, the rep's call (``submitted``) and the manager's
        (``adjusted``) for the month; a quarter's call counts a third in each
        of its months that has no call of its own."""
        return SQL(
            """
rep_call AS (
    -- the latest call made before the period started, else the latest one
    SELECT DISTINCT ON (sub.company_id, sub.user_id, sub.period_type,
                        sub.period_start)
           sub.company_id, sub.user_id, sub.team_id, sub.period_type,
           sub.period_start, sub.commit_amount
      FROM funnel_forecast_submission sub
     WHERE sub.kind = 'submission' AND sub.user_id IS NOT NULL
     ORDER BY sub.company_id, sub.user_id, sub.period_type, sub.period_start,
              sub.date < sub.period_start DESC, sub.date DESC, sub.id DESC
),
manager_call AS (
    SELECT DISTINCT ON (sub.company_id, sub.user_id, sub.period_type,
                        sub.period_start)
           sub.company_id, sub.user_id, sub.period_type, sub.period_start,
           sub.commit_amount
      FROM funnel_forecast_submission sub
     WHERE sub.kind = 'adjustment' AND sub.user_id IS NOT NULL
     ORDER BY sub.company_id, sub.user_id, sub.period_type, sub.period_start,
              sub.date < sub.period_start DESC, sub.date DESC, sub.id DESC
),
call_month AS (
    SELECT c.company_id, c.user_id, c.team_id, m.period,
           c.commit_amount / m.months AS submitted,
           COALESCE(a.commit_amount, c.commit_amount) / m.months AS adjusted
      FROM rep_call c
      LEFT JOIN manager_call a
        ON a.company_id = c.company_id AND a.user_id = c.user_id
       AND a.period_type = c.period_type AND a.period_start = c.period_start
     CROSS JOIN LATERAL (
          SELECT month::date AS period,
                 CASE WHEN c.period_type = 'quarter' THEN 3 ELSE 1 END AS months
            FROM generate_series(
                     c.period_start,
                     c.period_start + CASE WHEN c.period_type = 'quarter'
                                           THEN interval '2 months'
                                           ELSE interval '0 months' END,
                     interval '1 month') AS month
     ) m
     WHERE c.period_type = 'month'
        OR NOT EXISTS (
            SELECT 1 FROM rep_call mc
             WHERE mc.period_type = 'month' AND mc.company_id = c.company_id
               AND mc.user_id = c.user_id AND mc.period_start = m.period)
)
            """
        )

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )
