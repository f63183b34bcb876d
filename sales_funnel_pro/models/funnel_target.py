from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_date

TARGET_PERIODS = [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")]
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_start(day, period):
    """First day of the month, quarter or year of ``day``."""
    months = PERIOD_MONTHS[period]
    return day.replace(month=day.month - (day.month - 1) % months, day=1)


def period_end(day, period):
    """Last day of the month, quarter or year of ``day``."""
    return period_start(day, period) + relativedelta(
        months=PERIOD_MONTHS[period], days=-1
    )


class FunnelTarget(models.Model):
    """Sales target of a salesperson or of a sales team for a month, a quarter or
    a year, in the company currency.

    ``date_from`` is always the first day of the period (the ORM aligns it) and
    ``date_to`` its last day (computed, inclusive). The periods of the targets of
    one salesperson, or of one team, never overlap within a company.
    """

    _name = "funnel.target"
    _description = "Sales Target"
    _order = "date_from desc, user_id, team_id, id"
    _check_company_auto = True

    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index="btree_not_null",
        check_company=True,
        domain="[('share', '=', False)]",
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", index="btree_not_null", check_company=True
    )
    period = fields.Selection(TARGET_PERIODS, required=True, default="month")
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: period_start(fields.Date.context_today(self), "month"),
        help="First day of the period. Any day may be entered: the target starts on "
        "the first day of its month, quarter or year.",
    )
    date_to = fields.Date(
        string="To",
        compute="_compute_date_to",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        help="Last day of the period, included.",
    )
    amount = fields.Monetary(
        string="Target", currency_field="currency_id", required=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")

    @api.depends("period", "date_from")
    def _compute_date_to(self):
        for target in self:
            if target.date_from and target.period:
                target.date_to = period_end(target.date_from, target.period)

    @api.depends("user_id", "team_id", "period", "date_from")
    def _compute_display_name(self):
        for target in self:
            who = target.user_id.name or target.team_id.name or ""
            target.display_name = (
                f"{who} · {target._period_label()}" if target.date_from else who
            )

    def _period_label(self):
        self.ensure_one()
        if self.period == "year":
            return str(self.date_from.year)
        if self.period == "quarter":
            return self.env._(
                "Q%(quarter)s %(year)s",
                quarter=(self.date_from.month - 1) // 3 + 1,
                year=self.date_from.year,
            )
        return format_date(self.env, self.date_from, date_format="MMMM y")

    # ------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------

    @api.constrains("amount")
    def _check_amount(self):
        for target in self:
            if target.amount < 0:
                raise ValidationError(
                    self.env._(
                        "The amount of target “%(target)s” cannot be negative.",
                        target=target.display_name,
                    )
                )

    @api.constrains("user_id", "team_id", "date_from")
    def _check_user_or_team(self):
        for target in self:
            if target.user_id and target.team_id:
                raise ValidationError(
                    self.env._(
                        "A target is either a salesperson's or a sales team's, not "
                        "both: “%(target)s” has %(user)s and %(team)s.",
                        target=target.display_name,
                        user=target.user_id.name,
                        team=target.team_id.name,
                    )
                )
            if not target.user_id and not target.team_id:
                raise ValidationError(
                    self.env._(
                        "Set the salesperson or the sales team of the target of "
                        "%(period)s.",
                        period=target._period_label(),
                    )
                )

    @api.constrains("period", "date_from", "date_to")
    def _check_dates(self):
        for target in self:
            if target.date_from > target.date_to:
                raise ValidationError(
                    self.env._(
                        "The target “%(target)s” starts on %(date_from)s, after its "
                        "end on %(date_to)s.",
                        target=target.display_name,
                        date_from=format_date(self.env, target.date_from),
                        date_to=format_date(self.env, target.date_to),
                    )
                )
            end = period_end(target.date_from, target.period)
            if target.date_to != end:
                raise ValidationError(
                    self.env._(
                        "The target “%(target)s” covers its whole period: it must "
                        "end on %(date)s.",
                        target=target.display_name,
                        date=format_date(self.env, end),
                    )
                )

    @api.constrains("user_id", "team_id", "date_from", "date_to", "company_id")
    def _check_overlap(self):
        self.flush_model(["user_id", "team_id", "date_from", "date_to", "company_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT t.id, o.id
                  FROM funnel_target t
                  JOIN funnel_target o
                    ON o.id <> t.id
                   AND o.company_id = t.company_id
                   AND (o.user_id = t.user_id OR o.team_id = t.team_id)
                   AND o.date_from <= t.date_to AND t.date_from <= o.date_to
                 WHERE t.id IN %s
                   AND (t.user_id IS NULL) <> (t.team_id IS NULL)
                 ORDER BY t.id, o.date_from
                 LIMIT 1
                """,
                tuple(self.ids),
            )
        )
        row = self.env.cr.fetchone()
        if row:
            target, other = self.browse(row[0]), self.browse(row[1]).sudo()
            raise ValidationError(
                self.env._(
                    "The target “%(target)s” overlaps the target “%(other)s” (from "
                    "%(date_from)s to %(date_to)s): %(who)s has one target per "
                    "period.",
                    target=target.display_name,
                    other=other.display_name,
                    date_from=format_date(self.env, other.date_from),
                    date_to=format_date(self.env, other.date_to),
                    who=target.user_id.name or target.team_id.name,
                )
            )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("date_from"):
                vals["date_from"] = period_start(
                    fields.Date.to_date(vals["date_from"]),
                    vals.get("period") or self.default_get(["period"])["period"],
                )
        return super().create(vals_list)

    def write(self, vals):
        if not {"period", "date_from"} & vals.keys() or not vals.get("date_from", True):
            return super().write(vals)
        # the first day of the period of each target, which may differ per target
        # when only the period changes
        starts = defaultdict(lambda: self.browse())
        for target in self:
            day = (
                fields.Date.to_date(vals["date_from"])
                if "date_from" in vals
                else target.date_from
            )
            starts[period_start(day, vals.get("period") or target.period)] |= target
        for start, targets in starts.items():
            super(FunnelTarget, targets).write(dict(vals, date_from=start))
        return True
