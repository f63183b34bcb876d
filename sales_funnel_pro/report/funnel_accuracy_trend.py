from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from .funnel_report_figures import PerSnapshot

# (figure, column of funnel.accuracy.report)
FIGURES = [
    ("actual", "actual_revenue"),
    ("commit", "forecast_commit"),
    ("best_case", "forecast_best_case"),
    ("probability", "forecast_probability"),
    ("stage", "forecast_stage"),
    ("historical", "forecast_historical"),
]


class FunnelAccuracyTrend(models.Model):
    """How the forecast of a period evolved from one weekly snapshot to the next:
    the rows of the accuracy analysis, one per figure (the actual and each
    forecast), so that a line chart shows them side by side against the snapshot
    date."""

    _name = "funnel.accuracy.trend"
    _inherit = "funnel.report.figures"
    _description = "Forecast Evolution"
    _auto = False
    _order = "snapshot_date, figure, id"
    _rec_name = "period"
    # what the view reads: the rows of the accuracy analysis; the ORM flushes
    # what that view reads in turn (its own _depends) before this one is read
    _depends = {
        "funnel.accuracy.report": [
            "company_currency",
            "company_id",
            "is_period_over",
            "period",
            "row_type",
            "snapshot_date",
            "snapshot_id",
            "team_id",
            "user_id",
            *(column for __, column in FIGURES),
        ],
    }
    _figures = {"amount": PerSnapshot("amount")}

    snapshot_id = fields.Many2one(
        "funnel.forecast.snapshot", string="Snapshot", readonly=True
    )
    snapshot_date = fields.Date(readonly=True)
    period = fields.Date(readonly=True, help="The month forecast.")
    is_period_over = fields.Boolean(string="Period Over", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency = fields.Many2one("res.currency", string="Currency", readonly=True)
    figure = fields.Selection(
        [
            ("actual", "Actual"),
            ("commit", "Commit Forecast"),
            ("best_case", "Best Case Forecast"),
            ("probability", "Forecast (Probability)"),
            ("stage", "Forecast (Stage Win Rate)"),
            ("historical", "Forecast (Historical Win Rate)"),
        ],
        readonly=True,
        help="The actual (what was won in the period) or one of the forecasts.",
    )
    amount = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="The figure's amount. Over several snapshots, the average per snapshot "
        "date.",
    )

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        values = SQL(", ").join(
            SQL("(%s, %s, r.%s)", index, figure, SQL.identifier(column))
            for index, (figure, column) in enumerate(FIGURES)
        )
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(table)s AS (
                    SELECT r.id * %(count)s + v.position AS id,
                           r.snapshot_id, r.snapshot_date, r.period,
                           r.is_period_over, r.user_id, r.team_id, r.company_id,
                           r.company_currency, v.figure, v.amount
                      FROM funnel_accuracy_report r
                     CROSS JOIN LATERAL (VALUES %(values)s)
                           AS v(position, figure, amount)
                     WHERE r.row_type = 'forecast'
                )
                """,
                table=SQL.identifier(self._table),
                count=len(FIGURES),
                values=values,
            )
        )
