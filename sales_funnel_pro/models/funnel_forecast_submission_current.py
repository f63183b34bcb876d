from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .funnel_forecast_submission import STALE_DAYS, SUBMISSION_KINDS

# what _owner_rows_sql reads
OWNER_COLUMNS = [
    "company_id",
    "date",
    "kind",
    "period_start",
    "period_type",
    "team_id",
    "user_id",
]


class FunnelForecastSubmission(models.Model):
    """Which call is current (the latest of its salesperson or team for its
    period, and the latest adjustment of it), the manager's call, and how long
    a call has not been updated: read in SQL, for any number of rows."""

    _inherit = "funnel.forecast.submission"

    def _latest_by_owner(self, kind):
        """{(company, user, team of a roll-up, period type, period start):
        latest row of ``kind``} for the owners and periods of the rows."""
        rows = self.filtered("id")
        if not rows:
            return {}
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (o.company_id, o.owner, o.team, o.period_type,
                                    o.period_start) o.id
                  FROM (%s) o
                 WHERE o.kind = %s
                   AND (o.company_id, o.owner, o.team, o.period_type, o.period_start)
                       IN (SELECT k.company_id, k.owner, k.team, k.period_type,
                                  k.period_start FROM (%s) k WHERE k.id IN %s)
                 ORDER BY o.company_id, o.owner, o.team, o.period_type,
                          o.period_start, o.date DESC, o.id DESC
                """,
                self._owner_rows_sql(),
                kind,
                self._owner_rows_sql(),
                tuple(rows.ids),
            )
        )
        latest = self.browse(row_id for (row_id,) in self.env.cr.fetchall())
        return {row._owner_tuple(): row for row in latest}

    @api.model
    def _owner_rows_sql(self):
        """The rows with their owner: the salesperson, else the team (0 each
        when missing); the columns it reads are flushed first."""
        self.flush_model(OWNER_COLUMNS)
        return SQL(
            """
            SELECT id, kind, company_id, date, period_type, period_start,
                   COALESCE(user_id, 0) AS owner,
                   CASE WHEN user_id IS NULL THEN COALESCE(team_id, 0)
                        ELSE 0 END AS team
              FROM funnel_forecast_submission
            """
        )

    def _owner_tuple(self):
        self.ensure_one()
        return (
            self.company_id.id,
            self.user_id.id or 0,
            0 if self.user_id else self.team_id.id or 0,
            self.period_type,
            self.period_start,
        )

    @api.depends("commit_amount", "best_case_amount")
    def _compute_adjusted(self):
        adjustments = self._latest_by_owner("adjustment")
        for row in self:
            source = row
            if row.kind == "submission":
                source = adjustments.get(row._owner_tuple() if row.id else None, row)
            row.adjusted_commit_amount = source.commit_amount
            row.adjusted_best_case_amount = source.best_case_amount

    def _compute_is_current(self):
        latest = {kind: self._latest_by_owner(kind) for kind, __ in SUBMISSION_KINDS}
        for row in self:
            row.is_current = bool(row.id) and (
                latest[row.kind].get(row._owner_tuple()) == row
            )

    def _current_sql(self):
        """The ids of the current rows, in SQL."""
        return SQL(
            """
            SELECT DISTINCT ON (o.kind, o.company_id, o.owner, o.team, o.period_type,
                                o.period_start) o.id
              FROM (%s) o
             ORDER BY o.kind, o.company_id, o.owner, o.team, o.period_type,
                      o.period_start, o.date DESC, o.id DESC
            """,
            self._owner_rows_sql(),
        )

    def _search_is_current(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(
                self.env._(
                    "“Current” cannot be searched with “%(operator)s”.",
                    operator=operator,
                )
            )
        positive = (operator == "=") == bool(value)
        return [
            ("id", "in" if positive else "not in", SQL("(%s)", self._current_sql()))
        ]

    def _compute_days_since_update(self):
        latest = self._latest_by_owner("submission")
        now = fields.Datetime.now()
        for row in self:
            call = latest.get(row._owner_tuple()) if row.id else None
            row.days_since_update = (now - call.date).days if call else 0

    def _search_days_since_update(self, operator, value):
        # days since the latest call of the owner and period ≥ n exactly when
        # that call was made n days ago or earlier
        if operator not in ("=", ">=", ">", "<=", "<") or not isinstance(value, int):
            raise UserError(
                self.env._(
                    "“Days Not Updated” is searched with a number of days and one "
                    "of <, <=, =, >=, >."
                )
            )
        low = {">=": value, ">": value + 1, "=": value}.get(operator)
        high = {"<": value, "<=": value + 1, "=": value + 1}.get(operator)
        now = fields.Datetime.now()
        conditions = [SQL("TRUE")]
        if low is not None:
            conditions.append(SQL("l.date <= %s", now - timedelta(days=low)))
        if high is not None:
            conditions.append(SQL("l.date > %s", now - timedelta(days=high)))
        return [
            (
                "id",
                "in",
                SQL(
                    """(
                    SELECT o.id FROM (%(rows)s) o
                      JOIN (SELECT DISTINCT ON (company_id, owner, team, period_type,
                                                period_start)
                                   company_id, owner, team, period_type,
                                   period_start, date
                              FROM (%(rows)s) s WHERE s.kind = 'submission'
                             ORDER BY company_id, owner, team, period_type,
                                      period_start, date DESC) l
                        ON (l.company_id, l.owner, l.team, l.period_type,
                            l.period_start)
                         = (o.company_id, o.owner, o.team, o.period_type,
                            o.period_start)
                     WHERE %(conditions)s
                    )""",
                    rows=self._owner_rows_sql(),
                    conditions=SQL(" AND ").join(conditions),
                ),
            )
        ]

    @api.model
    @api.readonly
    def funnel_board_status(self):
        """What the forecast board shows of the user's latest call for the
        month or the quarter under way: {"days": days since it, or False
        without any; "stale": not updated for 7 days or more, or never; its
        "commit" and "best_case", the manager's "adjusted_commit" (the call's
        without adjustment), and the "currency_id"}."""
        today = fields.Date.context_today(self)
        latest = self.search(
            [
                ("kind", "=", "submission"),
                ("user_id", "=", self.env.uid),
                ("company_id", "=", self.env.company.id),
                ("period_start", "<=", today),
                ("period_end", ">=", today),
            ],
            order="date desc, id desc",
            limit=1,
        )
        if not latest:
            return {"days": False, "stale": True}
        days = (fields.Datetime.now() - latest.date).days
        return {
            "days": days,
            "stale": days >= STALE_DAYS,
            "commit": latest.commit_amount,
            "best_case": latest.best_case_amount,
            "adjusted_commit": latest.adjusted_commit_amount,
            "currency_id": latest.currency_id.id,
        }

    @api.model
    def funnel_board_team_status(self):
        """What the forecast board shows a sales manager of the salespeople's
        calls for the month or the quarter under way: {"reps": the members of
        the company's sales teams, "stale": how many of them have not called
        for 7 days or more, or not at all}; {} for the other users."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            return {}
        company = self.env.company
        reps = (
            self.env["crm.team.member"]
            .sudo()
            .search([("crm_team_id.company_id", "in", (company.id, False))])
            .user_id.filtered(lambda user: company in user.company_ids)
        )
        if not reps:
            return {}
        today = fields.Date.context_today(self)
        latest = dict(
            self.sudo()._read_group(
                [
                    ("kind", "=", "submission"),
                    ("user_id", "in", reps.ids),
                    ("company_id", "=", company.id),
                    ("period_start", "<=", today),
                    ("period_end", ">=", today),
                ],
                ["user_id"],
                ["date:max"],
            )
        )
        now = fields.Datetime.now()
        stale = [
            rep
            for rep in reps
            if rep not in latest or (now - latest[rep]).days >= STALE_DAYS
        ]
        return {"reps": len(reps), "stale": len(stale)}
