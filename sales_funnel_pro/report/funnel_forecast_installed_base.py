"""The forecast's "Installed base" rows: the replacement potential.

One row per active asset not retired, on its end of life, with its replacement
value (``replacement_potential``) and a count (``replacement_count``). These
rows carry no pipeline amount: the funnel's own totals (expected revenue, the
weightings, won revenue, target, coverage, gap) are the same with or without
them; the forecast shows the potential beside them for the next 3, 6 and 12
months.
"""

from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_lead_forecast import NO_OWNER
from .funnel_forecast_report import FunnelForecastReport as ForecastBase
from .funnel_report_figures import Total


class FunnelForecastReport(models.Model):
    _inherit = "funnel.forecast.report"

    _depends = {
        **ForecastBase._depends,
        "funnel.installed.asset": [
            "active",
            "company_id",
            "end_of_life_date",
            "partner_id",
            "replacement_value",
            "retired_date",
            "sales_user_id",
        ],
    }
    _figures = {
        **ForecastBase._figures,
        "replacement_potential": Total("replacement_potential"),
        "replacement_count": Total("replacement_count"),
    }

    row_type = fields.Selection(
        selection_add=[("installed_base", "Installed Base")],
        ondelete={"installed_base": "cascade"},
    )
    asset_id = fields.Many2one(
        "funnel.installed.asset", string="Installed Asset", readonly=True
    )
    replacement_potential = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Replacement value of the installed assets reaching their end of life "
        "in the period (installed base rows only; not part of the pipeline).",
    )
    replacement_count = fields.Float(
        string="Assets Reaching End of Life",
        digits=(16, 0),
        readonly=True,
        help="Installed assets reaching their end of life in the period.",
    )

    def _view_columns(self):
        return [*super()._view_columns(), ("asset_id", "integer")]

    def _view_branches(self):
        return [
            *super()._view_branches(),
            SQL(
                """
                SELECT %s FROM funnel_installed_asset a
                 WHERE a.active AND a.retired_date IS NULL
                   AND a.end_of_life_date IS NOT NULL
                """,
                self._select_installed_base(),
            ),
        ]

    def _select_installed_base(self):
        return self._view_select(
            {
                # negative: the other rows have positive ids
                "id": SQL("-a.id"),
                "row_type": SQL("'installed_base'"),
                "asset_id": SQL("a.id"),
                "partner_id": SQL("a.partner_id"),
                "user_id": SQL("a.sales_user_id"),
                "owner_key": SQL("COALESCE(a.sales_user_id, %s)", NO_OWNER),
                "company_id": SQL("a.company_id"),
                "company_currency": SQL(
                    "SELECT c.currency_id FROM res_company c WHERE c.id = a.company_id"
                ),
                "date_closing": SQL("a.end_of_life_date"),
                "replacement_potential": SQL("COALESCE(a.replacement_value, 0)"),
                "replacement_count": SQL("1"),
            }
        )
