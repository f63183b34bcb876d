from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from ..models.funnel_installed_asset import LIFE_PHASES
from .funnel_report_figures import Ratio, Total

# the days of the care coverage, unless the parameter says otherwise
COVERAGE_DAYS_PARAM = "sales_funnel_pro.care_coverage_days"
DEFAULT_COVERAGE_DAYS = 90


class FunnelCareCoverageReport(models.Model):
    """Care coverage: one row per customer and life phase of its active assets
    (not retired), covered when a care activity was logged on the customer or
    its assets in the last N days (N: the system parameter
    ``sales_funnel_pro.care_coverage_days``, 90 by default).

    Coverage = covered customers ÷ customers with active assets, on the totals
    of each group (a customer with assets in two phases counts in each).
    """

    _name = "funnel.care.coverage.report"
    _inherit = "funnel.report.figures"
    _description = "Care Coverage Analysis"
    _auto = False
    _order = "partner_id, life_phase"
    _rec_name = "partner_id"
    _depends = {
        "funnel.installed.asset": [
            "active",
            "care_user_id",
            "company_id",
            "life_phase",
            "partner_id",
            "replacement_value",
            "retired_date",
        ],
        "res.partner": [
            "commercial_partner_id",
            "funnel_care_user_id",
            "funnel_last_care_date",
            "user_id",
        ],
    }
    _figures = {
        "customer_count": Total("customer_count"),
        "covered_count": Total("covered_count"),
        "asset_count": Total("asset_count"),
        "coverage": Ratio("covered_count", "customer_count", 1),
    }

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    life_phase = fields.Selection(LIFE_PHASES, readonly=True)
    care_user_id = fields.Many2one("res.users", string="Care Owner", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    last_care_date = fields.Datetime(string="Last Care", readonly=True)
    customer_count = fields.Integer(string="Customers", readonly=True)
    covered_count = fields.Integer(
        string="Covered Customers",
        readonly=True,
        help="Customers with a care activity logged in the last N days.",
    )
    asset_count = fields.Integer(string="Active Assets", readonly=True)
    coverage = fields.Float(
        string="Care Coverage (%)",
        digits=(16, 1),
        readonly=True,
        help="Customers with a care activity in the last N days ÷ customers with "
        "active assets, in percent, on the totals of each group.",
    )

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(view)s AS (
                    SELECT ROW_NUMBER() OVER (
                               ORDER BY p.id, a.life_phase, a.company_id) AS id,
                           p.id AS partner_id,
                           a.life_phase,
                           COALESCE(p.funnel_care_user_id, MIN(a.care_user_id))
                               AS care_user_id,
                           p.user_id,
                           a.company_id,
                           p.funnel_last_care_date AS last_care_date,
                           1 AS customer_count,
                           CASE WHEN p.funnel_last_care_date
                                >= (now() AT TIME ZONE 'UTC') - make_interval(
                                    days => COALESCE((
                                        SELECT CASE WHEN value ~ '^[0-9]+$'
                                               THEN value::int END
                                          FROM ir_config_parameter
                                         WHERE key = %(param)s), %(default)s))
                                THEN 1 ELSE 0 END AS covered_count,
                           COUNT(a.id) AS asset_count,
                           NULL::float8 AS coverage
                      FROM funnel_installed_asset a
                      JOIN res_partner ap ON ap.id = a.partner_id
                      JOIN res_partner p ON p.id = ap.commercial_partner_id
                     WHERE a.active AND a.retired_date IS NULL
                     GROUP BY p.id, a.life_phase, a.company_id
                )
                """,
                view=SQL.identifier(self._table),
                param=COVERAGE_DAYS_PARAM,
                default=DEFAULT_COVERAGE_DAYS,
            )
        )
