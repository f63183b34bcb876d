from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists


class FunnelTargetMonth(models.Model):
    """The sales targets month by month: one row per target and month of its
    period, with the month's even share of the target, so that months, quarters
    and years add up. Each month gets the target ÷ the months of the period,
    rounded to the currency; the last month what is left of it.

    The forecast and the accuracy reports read their targets from it.
    """

    _name = "funnel.target.month"
    _description = "Sales Target per Month"
    _auto = False
    _order = "month, target_id"
    _rec_name = "target_id"
    # what the view reads: flushed before it is searched or grouped
    _depends = {
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

    target_id = fields.Many2one("funnel.target", readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        help="The salesperson of a salesperson's target; empty on a team's.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        help="The team of a team's target; for a salesperson's target, the team of "
        "the salesperson.",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    month = fields.Date(readonly=True, help="The first day of the month.")
    amount = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        help="The month's share of the target: the target ÷ the months of its "
        "period, rounded to the currency; the last month takes what is left.",
    )
    is_covered = fields.Boolean(
        string="Within a Team Target",
        readonly=True,
        help="A salesperson's month for which the salesperson's team has a target: "
        "a team's figures count the team's target for it, not the salesperson's.",
    )

    def _target_amounts(self, alias):
        """The month's amount of the rows of ``alias`` (this view) split as the
        reports sum it: ``{column: SQL}``, salespeople's targets, teams'
        targets, and salespeople's targets within a team target (see
        ``funnel_report_figures.GroupTarget``)."""

        user, amount = (
            SQL.identifier(alias, "user_id"),
            SQL.identifier(alias, "amount"),
        )
        return {
            "target_amount": SQL("CASE WHEN %s IS NOT NULL THEN %s END", user, amount),
            "team_target_amount": SQL("CASE WHEN %s IS NULL THEN %s END", user, amount),
            "covered_target_amount": SQL(
                "CASE WHEN %s THEN %s END", SQL.identifier(alias, "is_covered"), amount
            ),
        }

    def init(self):
        # the months of a target (one, three or twelve) from a constant series,
        # and the team target covering a salesperson's month as a join (at most
        # one: the targets of a team do not overlap); no subquery per row, so
        # that a report reading it can be scanned in parallel. The reports
        # reading this view are dropped with it and created again after it
        # (their models come later in the registry).
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT ft.id * 12 + m.idx AS id,
                           ft.id AS target_id,
                           ft.user_id,
                           COALESCE(ft.team_id, u.sale_team_id) AS team_id,
                           ft.company_id,
                           cur.id AS currency_id,
                           m.month,
                           sh.amount,
                           tt.id IS NOT NULL AS is_covered
                      FROM funnel_target ft
                      LEFT JOIN res_users u ON u.id = ft.user_id
                      LEFT JOIN res_company c ON c.id = ft.company_id
                      LEFT JOIN res_currency cur ON cur.id = c.currency_id
                     CROSS JOIN LATERAL (
                           SELECT ((EXTRACT(YEAR FROM ft.date_to)
                                    - EXTRACT(YEAR FROM ft.date_from)) * 12
                                   + EXTRACT(MONTH FROM ft.date_to)
                                   - EXTRACT(MONTH FROM ft.date_from) + 1
                           )::integer AS months
                     ) n
                      JOIN generate_series(0, 11) AS i(idx) ON i.idx < n.months
                     CROSS JOIN LATERAL (
                           SELECT i.idx,
                                  (ft.date_from + i.idx * INTERVAL '1 month')::date
                                      AS month
                     ) m
                     CROSS JOIN LATERAL (
                           SELECT ROUND(ft.amount / n.months,
                                        COALESCE(cur.decimal_places, 2)) AS share
                     ) r
                     CROSS JOIN LATERAL (
                           SELECT CASE WHEN m.idx < n.months - 1 THEN r.share
                                       ELSE ft.amount - (n.months - 1) * r.share
                                  END AS amount
                     ) sh
                      LEFT JOIN funnel_target tt
                             ON ft.user_id IS NOT NULL
                            AND tt.team_id = u.sale_team_id
                            AND tt.company_id = ft.company_id
                            AND tt.date_from <= m.month
                            AND tt.date_to >= m.month
                )
                """,
                SQL.identifier(self._table),
            )
        )
