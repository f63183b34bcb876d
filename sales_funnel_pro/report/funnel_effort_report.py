from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

STATUSES = [
    ("open", "Open"),
    ("won", "Won"),
    ("lost", "Lost"),
]


class FunnelEffortReport(models.Model):
    """Effort to outcome: one row per opportunity, open, won or lost, with the
    activities logged on it, their hours and how long the first one took."""

    _name = "funnel.effort.report"
    _description = "Effort to Outcome Analysis"
    _auto = False
    _order = "create_date desc, id desc"
    _rec_name = "lead_id"
    # what the view reads: flushed before the report is searched or grouped
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "create_date",
            "date_closed",
            "expected_revenue",
            "forecast_category",
            "partner_id",
            "probability",
            "stage_id",
            "team_id",
            "type",
            "user_id",
        ],
        "res.company": ["currency_id"],
        "funnel.activity.log": ["date", "duration", "lead_id"],
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency = fields.Many2one("res.currency", string="Currency", readonly=True)
    status = fields.Selection(STATUSES, readonly=True)
    create_date = fields.Datetime(string="Created On", readonly=True)
    date_closed = fields.Datetime(string="Closed On", readonly=True)
    first_activity_date = fields.Datetime(string="First Activity", readonly=True)
    activity_count = fields.Integer(
        string="Activities",
        aggregator="avg",
        readonly=True,
        help="Activities logged on the opportunity (averaged per opportunity).",
    )
    hours = fields.Float(
        digits=(16, 2),
        aggregator="avg",
        readonly=True,
        help="Hours logged on the opportunity (averaged per opportunity).",
    )
    first_response_hours = fields.Float(
        string="First Response (Hours)",
        digits=(16, 2),
        aggregator="avg",
        readonly=True,
        help="Hours between the creation of the opportunity and its first logged "
        "activity; empty while nothing is logged.",
    )
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True)

    def _select(self):
        Lead = self.env["crm.lead"]
        return SQL(
            """
            l.id AS id,
            l.id AS lead_id,
            l.partner_id,
            l.user_id,
            l.team_id,
            l.stage_id,
            l.company_id,
            c.currency_id AS company_currency,
            CASE WHEN %(lost)s THEN 'lost' WHEN %(won)s THEN 'won' ELSE 'open'
            END AS status,
            l.create_date,
            l.date_closed,
            MIN(g.date) AS first_activity_date,
            COUNT(g.id) AS activity_count,
            COALESCE(SUM(g.duration), 0) AS hours,
            CASE WHEN MIN(g.date) IS NOT NULL THEN GREATEST(
                EXTRACT(EPOCH FROM MIN(g.date) - l.create_date) / 3600, 0
            ) END AS first_response_hours,
            l.expected_revenue
            """,
            lost=Lead._funnel_state_sql("lost"),
            won=Lead._funnel_state_sql("won"),
        )

    def _from(self):
        return SQL(
            """
            crm_lead l
            LEFT JOIN res_company c ON c.id = l.company_id
            LEFT JOIN funnel_activity_log g ON g.lead_id = l.id
            """
        )

    def _where(self):
        # open, won and lost opportunities; merely archived ones are left out, as
        # crm does (crm.lead._funnel_state_sql)
        Lead = self.env["crm.lead"]
        return SQL(
            "%s OR %s OR %s",
            Lead._funnel_state_sql("open"),
            Lead._funnel_state_sql("won"),
            Lead._funnel_state_sql("lost"),
        )

    def _group_by(self):
        # every column of the opportunity is listed, not only its id: a filter on
        # them (record rules, search) then applies before the logs are joined
        return SQL(
            """
            l.id,
            l.partner_id,
            l.user_id,
            l.team_id,
            l.stage_id,
            l.company_id,
            l.active,
            l.create_date,
            l.date_closed,
            l.expected_revenue,
            l.forecast_category,
            l.probability,
            l.type,
            c.currency_id
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
                     GROUP BY %s
                )
                """,
                SQL.identifier(self._table),
                self._select(),
                self._from(),
                self._where(),
                self._group_by(),
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
