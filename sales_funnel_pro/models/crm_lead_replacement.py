"""crm.lead, the forecast board's replacement potential: what the installed base
reaching its end of life would bring, beside the funnel's commit, best case and
pipeline, and never added to their sums.

It is read from the forecast's "Installed base" rows (``funnel.forecast.report``,
``row_type`` = ``installed_base``): one definition for the board and the
analysis, the same record rules (a salesperson sees the assets he sells, a
manager all), in one grouped query.
"""

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

# the horizons the board shows, in months from the first day of this month
REPLACEMENT_HORIZONS = (3, 6, 12)
# the groupings of the board whose columns are the months of the potential
MONTH_GROUPINGS = ("forecast_date", "forecast_date:month")


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    @api.readonly
    def funnel_forecast_column_sums(self, domain, group_by):
        """Also the replacement potential, apart from the funnel's sums:

        ``{"replacement": {"horizons": [{"months", "label", "amount", "count"}, ...],
        "columns": {column key: {"amount", "count"}}}}``, the columns only when
        the board shows months.
        """
        result = super().funnel_forecast_column_sums(domain, group_by)
        result["replacement"] = self._funnel_replacement_potential(
            by_column=group_by in MONTH_GROUPINGS
        )
        return result

    @api.model
    def _funnel_replacement_potential(self, by_column=True):
        """The replacement potential of the next 3, 6 and 12 months (this month
        included, as the forecast's "Next 3 Months" filter), and per month."""
        start = fields.Date.context_today(self).replace(day=1)
        end = start + relativedelta(months=max(REPLACEMENT_HORIZONS))
        groups = self.env["funnel.forecast.report"].read_group(
            [
                ("row_type", "=", "installed_base"),
                ("date", ">=", start),
                ("date", "<", end),
            ],
            ["replacement_potential:sum", "replacement_count:sum"],
            ["date:month"],
            lazy=False,
        )
        horizons = [
            {
                "months": months,
                "label": self.env._("Next %(months)s months", months=months),
                "amount": 0.0,
                "count": 0,
            }
            for months in REPLACEMENT_HORIZONS
        ]
        columns = {}
        for group in groups:
            month = fields.Date.to_date(group["__range"]["date:month"]["from"])
            amount = group["replacement_potential"] or 0.0
            count = int(group["replacement_count"] or 0)
            for horizon in horizons:
                if month < start + relativedelta(months=horizon["months"]):
                    horizon["amount"] += amount
                    horizon["count"] += count
            if by_column:
                columns[str(group["date:month"])] = {"amount": amount, "count": count}
        return {"horizons": horizons, "columns": columns}
