import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_date

from .funnel_lock import try_lock

_logger = logging.getLogger(__name__)

SNAPSHOT_KINDS = [
    ("scheduled", "Scheduled"),
    ("manual", "Manual"),
]
# open opportunities above which "Take Snapshot Now" runs in the background;
# the snapshot stays one statement (one moment), that takes about a second per
# 50,000 opportunities
BACKGROUND_OPEN_LEADS = 50_000


class FunnelForecastSnapshot(models.Model):
    """A frozen copy of the open opportunities of a company, taken every week.

    Snapshots are facts: nobody changes them. A sales manager may take one now or
    delete one; taking a snapshot again on the same day replaces that day's one.
    """

    _name = "funnel.forecast.snapshot"
    _description = "Forecast Snapshot"
    _order = "date desc, company_id, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True, readonly=True)
    date = fields.Date(
        required=True,
        readonly=True,
        index=True,
        help="The day the snapshot was taken. There is at most one snapshot per "
        "company and day.",
    )
    taken_at = fields.Datetime(
        string="Taken On",
        required=True,
        readonly=True,
        help="The moment the open opportunities were copied. Opportunities won "
        "before this moment count as already closed in the forecast of their "
        "period.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    company_currency = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Currency"
    )
    user_id = fields.Many2one(
        "res.users",
        string="Taken By",
        readonly=True,
        help="Who took the snapshot (the scheduled job runs as the system).",
    )
    kind = fields.Selection(SNAPSHOT_KINDS, required=True, readonly=True)
    line_ids = fields.One2many(
        "funnel.forecast.snapshot.line", "snapshot_id", string="Lines", readonly=True
    )
    line_count = fields.Integer(
        string="Opportunities",
        compute="_compute_totals",
        help="Open opportunities copied into the snapshot (those you may read).",
    )
    expected_revenue = fields.Monetary(
        string="Open Pipeline",
        currency_field="company_currency",
        compute="_compute_totals",
        help="Expected revenue of the open opportunities of the snapshot (those you "
        "may read).",
    )
    commit_revenue = fields.Monetary(
        string="Commit",
        currency_field="company_currency",
        compute="_compute_totals",
        help="Expected revenue of the opportunities in the Commit category.",
    )

    _sql_constraints = [
        (
            "company_date_unique",
            "UNIQUE(company_id, date)",
            "A company has at most one forecast snapshot per day.",
        ),
    ]

    @api.depends("date")
    def _compute_name(self):
        for snapshot in self:
            snapshot.name = (
                self.env._(
                    "Forecast of %(date)s", date=format_date(self.env, snapshot.date)
                )
                if snapshot.date
                else False
            )

    def _compute_totals(self):
        # one grouped read, under the reader's record rules: a rep counts his lines
        groups = self.env["funnel.forecast.snapshot.line"]._read_group(
            [("snapshot_id", "in", self.ids)],
            ["snapshot_id", "forecast_category"],
            ["__count", "expected_revenue:sum"],
        )
        totals = {}
        for snapshot, category, count, revenue in groups:
            count_total, revenue_total, commit = totals.get(snapshot, (0, 0.0, 0.0))
            totals[snapshot] = (
                count_total + count,
                revenue_total + revenue,
                commit + (revenue if category == "commit" else 0.0),
            )
        for snapshot in self:
            count, revenue, commit = totals.get(snapshot, (0, 0.0, 0.0))
            snapshot.line_count = count
            snapshot.expected_revenue = revenue
            snapshot.commit_revenue = commit

    # ------------------------------------------------------------
    # CRUD: frozen
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise UserError(
                self.env._(
                    "Forecast snapshots are taken with “Take Snapshot Now” or by the "
                    "weekly job; they cannot be created by hand."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            raise UserError(
                self.env._("Forecast snapshots are frozen: they cannot be changed.")
            )
        return super().write(vals)

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    @api.model
    def action_take_snapshot(self):
        """Take a snapshot now of the companies selected in the company switcher;
        one taken earlier today is replaced."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales managers may take a forecast snapshot.")
            )
        Job = self.env["funnel.job"]
        Job._check_not_running("snapshot", self.env.company)
        reload = {"type": "ir.actions.client", "tag": "soft_reload"}
        if self._open_lead_count(self.env.companies) > BACKGROUND_OPEN_LEADS:
            # one statement: no chunk to report, its progress is 0 then 1 of 1
            return Job._start("snapshot", 1, target=self.env.company)._started_action(
                reload
            )
        snapshots = self._take_snapshots(self.env.companies, kind="manual")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self._taken_message(snapshots),
                "next": reload,
            },
        }

    @api.model
    def _taken_message(self, snapshots):
        return self.env._(
            "Forecast snapshot taken: %(count)s open opportunities frozen.",
            count=sum(snapshots.sudo().mapped("line_count")),
        )

    @api.model
    def _open_lead_count(self, companies):
        """The open opportunities a snapshot of ``companies`` would freeze."""
        self.env["crm.lead"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM crm_lead l "
                "WHERE %s AND COALESCE(l.company_id, %s) IN %s",
                self.env["crm.lead"]._funnel_state_sql("open"),
                self.env.company.id,
                tuple(companies.ids),
            )
        )
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------
    # Background job (funnel.job, kind snapshot)
    # ------------------------------------------------------------

    @api.model
    def _funnel_job_take(self, job, records):
        snapshots = self._take_snapshots(self.env.companies, kind="manual")
        job._add_result(snapshot_ids=snapshots.ids)
        return 1

    @api.model
    def _funnel_job_take_done(self, job):
        return self._taken_message(self.browse((job.result or {}).get("snapshot_ids")))

    def action_open_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "funnel.forecast.snapshot.line",
            "view_mode": "list,pivot",
            "domain": [("snapshot_id", "=", self.id)],
            "context": {"search_default_group_by_user": 1},
        }

    # ------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------

    @api.model
    def _cron_take_snapshots(self):
        """Weekly job: a snapshot of every company; skipped while another
        worker takes them."""
        if not try_lock(self.env, self._name):
            return
        self._take_snapshots(self.env["res.company"].sudo().search([]))

    @api.model
    def _take_snapshots(self, companies, kind="scheduled"):
        """Freeze the open opportunities of ``companies`` (type opportunity, active,
        not in a won stage) into one snapshot per company, dated today.

        A snapshot of the same company taken earlier today is replaced. The lines
        of all the companies are written by one INSERT ... SELECT, whatever the
        number of opportunities. Opportunities without a company go to the
        snapshot of the current company, when it is among ``companies``.
        Returns the new snapshots. While another transaction takes snapshots,
        the scheduled job skips (returns no snapshot), a manual snapshot is
        refused.
        """
        if not companies:
            return self.browse()
        if not try_lock(self.env, self._name):
            if kind == "scheduled":
                return self.browse()
            raise UserError(
                self.env._(
                    "A forecast snapshot is being taken right now. Try again in a "
                    "moment."
                )
            )
        Snapshot = self.sudo()
        today = fields.Date.context_today(self)
        Snapshot.search(
            [("company_id", "in", companies.ids), ("date", "=", today)]
        ).unlink()
        snapshots = Snapshot.create(
            [
                {
                    "date": today,
                    "taken_at": fields.Datetime.now(),
                    "company_id": company.id,
                    "user_id": self.env.uid,
                    "kind": kind,
                }
                for company in companies
            ]
        )
        self.env.flush_all()
        default_company = self.env.company.id if self.env.company in companies else None
        self.env.cr.execute(
            SQL(
                """
INSERT INTO funnel_forecast_snapshot_line (
    snapshot_id, date, lead_id, user_id, team_id, stage_id, date_deadline,
    expected_revenue, probability, stage_win_rate, historical_win_rate,
    forecast_category, weighted_probability, weighted_stage, weighted_historical)
SELECT snap.id, snap.date, l.id, l.user_id, l.team_id, l.stage_id, l.date_deadline,
       w.revenue, w.probability, w.stage_rate, w.historical_rate,
       COALESCE(l.forecast_category, s.forecast_category, 'pipeline'),
       w.revenue * w.probability / 100, w.revenue * w.stage_rate / 100,
       w.revenue * w.historical_rate / 100
  FROM crm_lead l
  JOIN funnel_forecast_snapshot snap
    ON snap.id IN %(snapshot_ids)s
   AND snap.company_id = COALESCE(l.company_id, %(default_company)s)
  LEFT JOIN crm_stage s ON s.id = l.stage_id
  LEFT JOIN funnel_stage_win_rate t
    ON t.stage_id = l.stage_id AND t.company_id = l.company_id
   AND t.team_id = l.team_id
  LEFT JOIN funnel_stage_win_rate c
    ON c.stage_id = l.stage_id AND c.company_id = l.company_id
   AND c.team_id IS NULL
  CROSS JOIN LATERAL (
      SELECT COALESCE(l.expected_revenue, 0)::numeric AS revenue,
             COALESCE(l.probability, 0)::numeric AS probability,
             COALESCE(s.win_rate, 0)::numeric AS stage_rate,
             COALESCE(t.win_rate, c.win_rate, s.win_rate, 0)::numeric
                 AS historical_rate
  ) w
 WHERE %(open)s
                """,
                open=self.env["crm.lead"]._funnel_state_sql("open"),
                snapshot_ids=tuple(snapshots.ids),
                default_company=default_company,
            )
        )
        _logger.info(
            "Forecast snapshot of %s: %s open opportunities",
            ", ".join(companies.mapped("name")),
            self.env.cr.rowcount,
        )
        self.env["funnel.forecast.snapshot.line"].invalidate_model()
        return snapshots
