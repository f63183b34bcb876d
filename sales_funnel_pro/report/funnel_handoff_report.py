from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from .funnel_effort_report import STATUSES
from .funnel_report_figures import Ratio, Total

ORIGINS = [
    ("new", "New business"),
    ("installed_base", "Installed base"),
    ("care", "After-sales care"),
]
# the utm.source records that mark an origin (sales_funnel_pro.<xml id>)
ORIGIN_SOURCES = {
    "utm_source_installed_base": "installed_base",
    "utm_source_after_sales_care": "care",
}


class FunnelHandoffReport(models.Model):
    """Hand-off between the funnel and customer care: one row per opportunity
    (open, won or lost) with its origin (new business, installed base,
    after-sales care, from its source), who found it, and two latencies:

    - hand-off latency: from the win to the first care activity logged on the
      customer at or after it (won opportunities handed over);
    - found latency: from the creation of an opportunity someone found to the
      first activity logged on it.

    Conversion (won ÷ opportunities) and win rate (won ÷ won and lost) are
    computed from the totals of each group.
    """

    _name = "funnel.handoff.report"
    _inherit = "funnel.report.figures"
    _description = "Hand-off and Origin Analysis"
    _auto = False
    _order = "create_date desc, id desc"
    _rec_name = "lead_id"
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "create_date",
            "date_closed",
            "expected_revenue",
            "forecast_category",
            "handoff_date",
            "partner_id",
            "probability",
            "referred_by_id",
            "source_id",
            "team_id",
            "type",
            "user_id",
        ],
        "funnel.activity.log": ["date", "is_care", "lead_id", "partner_id"],
        "res.partner": ["commercial_partner_id"],
    }
    _figures = {
        "opportunity_count": Total("opportunity_count"),
        "won_count": Total("won_count"),
        "closed_count": Total("closed_count"),
        "won_revenue": Total("won_revenue"),
        "conversion": Ratio("won_count", "opportunity_count", 1),
        "win_rate": Ratio("won_count", "closed_count", 1),
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency = fields.Many2one("res.currency", string="Currency", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    origin = fields.Selection(
        ORIGINS,
        readonly=True,
        help="New business, or found in the installed base or by after-sales care "
        "(from the source of the opportunity).",
    )
    referred_by_id = fields.Many2one("res.users", string="Found By", readonly=True)
    status = fields.Selection(STATUSES, readonly=True)
    create_date = fields.Datetime(string="Created On", readonly=True)
    date_closed = fields.Datetime(string="Closed On", readonly=True)
    handoff_date = fields.Datetime(string="Handed Over On", readonly=True)
    opportunity_count = fields.Integer(string="Opportunities", readonly=True)
    won_count = fields.Integer(string="Won", readonly=True)
    closed_count = fields.Integer(string="Won or Lost", readonly=True)
    won_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue of the won opportunities: grouped by Found By, the "
        "credit of the finders.",
    )
    conversion = fields.Float(
        string="Conversion (%)",
        digits=(16, 1),
        readonly=True,
        help="Won ÷ opportunities, in percent, on the totals of each group.",
    )
    win_rate = fields.Float(
        string="Win Rate (%)",
        digits=(16, 1),
        readonly=True,
        help="Won ÷ (won + lost), in percent, on the totals of each group.",
    )
    handoff_latency_days = fields.Float(
        string="Hand-off Latency (Days)",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Days from the win to the first care activity logged on the customer; "
        "empty while there is none (averaged over the opportunities that have one).",
    )
    found_latency_days = fields.Float(
        string="Found to First Activity (Days)",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Days from the creation of an opportunity someone found to the first "
        "activity logged on it; empty while there is none.",
    )

    def _origin_sql(self):
        cases = SQL(" ").join(
            SQL("WHEN %s THEN %s", name, origin)
            for name, origin in ORIGIN_SOURCES.items()
        )
        return SQL(
            """
            COALESCE((SELECT CASE d.name %s END FROM ir_model_data d
                       WHERE d.module = 'sales_funnel_pro' AND d.model = 'utm.source'
                         AND d.res_id = l.source_id AND d.name IN %s
                       LIMIT 1), 'new')
            """,
            cases,
            tuple(ORIGIN_SOURCES),
        )

    def _select(self):
        Lead = self.env["crm.lead"]
        won, lost = Lead._funnel_state_sql("won"), Lead._funnel_state_sql("lost")
        return SQL(
            """
            l.id AS id,
            l.id AS lead_id,
            l.partner_id,
            l.user_id,
            l.team_id,
            l.company_id,
            c.currency_id AS company_currency,
            l.source_id,
            %(origin)s AS origin,
            l.referred_by_id,
            CASE WHEN %(lost)s THEN 'lost' WHEN %(won)s THEN 'won' ELSE 'open'
            END AS status,
            l.create_date,
            l.date_closed,
            l.handoff_date,
            1 AS opportunity_count,
            CASE WHEN %(won)s THEN 1 ELSE 0 END AS won_count,
            CASE WHEN %(won)s OR %(lost)s THEN 1 ELSE 0 END AS closed_count,
            CASE WHEN %(won)s THEN COALESCE(l.expected_revenue, 0) END AS won_revenue,
            NULL::float8 AS conversion,
            NULL::float8 AS win_rate,
            CASE WHEN %(won)s AND l.handoff_date IS NOT NULL THEN (
                SELECT EXTRACT(EPOCH FROM MIN(g.date) - l.date_closed) / 86400
                  FROM funnel_activity_log g
                  JOIN res_partner gp ON gp.id = g.partner_id
                 WHERE g.is_care AND g.date >= l.date_closed
                   AND gp.commercial_partner_id = p.commercial_partner_id
            ) END AS handoff_latency_days,
            CASE WHEN l.referred_by_id IS NOT NULL THEN (
                SELECT GREATEST(EXTRACT(EPOCH FROM MIN(g.date) - l.create_date), 0)
                       / 86400
                  FROM funnel_activity_log g WHERE g.lead_id = l.id
            ) END AS found_latency_days
            """,
            origin=self._origin_sql(),
            won=won,
            lost=lost,
        )

    def init(self):
        Lead = self.env["crm.lead"]
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT %s
                      FROM crm_lead l
                      LEFT JOIN res_company c ON c.id = l.company_id
                      LEFT JOIN res_partner p ON p.id = l.partner_id
                     WHERE l.type = 'opportunity' AND (%s OR %s OR %s)
                )
                """,
                SQL.identifier(self._table),
                self._select(),
                Lead._funnel_state_sql("open"),
                Lead._funnel_state_sql("won"),
                Lead._funnel_state_sql("lost"),
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
