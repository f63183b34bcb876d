from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from ..models.crm_lead_pipeline_change import CHANGE_KINDS
from ..models.crm_stage import LEAD_FORECAST_CATEGORIES

# a snapshot is "last week's" from this age on
REFERENCE_AGE_DAYS = 7
# the fields of the report that choose the snapshots: a search naming none of
# them reads the reference snapshots (see _search)
SNAPSHOT_FIELDS = ("id", "snapshot_id", "snapshot_date")
# rank of the forecast categories of open opportunities: up is toward commit
CATEGORY_RANKS = {"omitted": 0, "pipeline": 1, "best_case": 2, "commit": 3}
PERIOD_HELP = (
    " The period is the calendar quarter in which the snapshot was taken: compare "
    "with the snapshot of the first week of the quarter to review the quarter so "
    "far, with last week's for the week's changes."
)


class FunnelPipelineChangeReport(models.Model):
    """What changed in the pipeline between a forecast snapshot and now.

    One row per snapshot and opportunity: every opportunity of the snapshot (as
    it was then, and as it is now), and every opportunity created or converted
    from a lead after the snapshot was taken (new). Each row has one change kind,
    the first that applies in this order of precedence:

    won > lost > archived > new > moved in > moved out > pulled in > pushed out
    > category up > category down > amount up > amount down > unchanged

    - won, lost, archived (not open any more, merely archived or turned back into
      a lead): by the addon's single definitions of open, won and lost
      (``crm.lead._funnel_state_sql``); a new opportunity won or lost since is
      won or lost;
    - new: not in the snapshot, created (or converted) after it, open now;
    - moved in / out: the expected closing date entered / left the period, the
      calendar quarter of the snapshot's date (no date counts as outside);
    - pulled in / pushed out: the expected closing date is earlier / later, and
      neither entered nor left the period;
    - category up / down: toward commit / away from it (omitted < pipeline <
      best case < commit);
    - amount up / down: the expected revenue;
    - unchanged: none of these (its stage or probability may have moved within
      its category); the report's default filter leaves them out.

    So that the pivot's sums add up, each opportunity counts once per snapshot,
    with all its changes in its one row:

    - amount delta: the open expected revenue now (0 once won, lost or archived)
      − the expected revenue in the snapshot (0 when new); their sum is the
      change of the open pipeline;
    - period delta: the same, counting only the open opportunities expected to
      close in the period; their sum is the change of the period's open
      pipeline.

    The salesperson and the team are the opportunity's now. The report reads
    one snapshot per company at a time: a search that does not choose the
    snapshot reads the snapshot of the context (``funnel_change_snapshot_id``),
    else the latest snapshot at least a week old (else the oldest). Deleted
    opportunities leave their snapshots, and are not in the report.
    """

    _name = "funnel.pipeline.change.report"
    _description = "Pipeline Changes Analysis"
    _auto = False
    _order = "snapshot_date desc, lead_id"
    _rec_name = "lead_id"
    # what the view reads: flushed before the report is searched or grouped
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "create_date",
            "date_conversion",
            "date_deadline",
            "expected_revenue",
            "forecast_category",
            "probability",
            "stage_id",
            "team_id",
            "type",
            "user_id",
        ],
        "res.company": ["currency_id"],
        "funnel.forecast.snapshot": ["company_id", "date", "taken_at"],
        "funnel.forecast.snapshot.line": [
            "date_deadline",
            "expected_revenue",
            "forecast_category",
            "lead_id",
            "snapshot_id",
            "stage_id",
        ],
    }

    snapshot_id = fields.Many2one(
        "funnel.forecast.snapshot",
        string="Snapshot",
        readonly=True,
        help="The snapshot that the opportunities of now are compared with.",
    )
    snapshot_date = fields.Date(readonly=True, help="The day the snapshot was taken.")
    period_start = fields.Date(
        string="Period",
        readonly=True,
        help="The first day of the period that moved in and moved out are about."
        + PERIOD_HELP,
    )
    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        help="The salesperson of the opportunity now.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        help="The sales team of the opportunity now.",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency = fields.Many2one("res.currency", string="Currency", readonly=True)
    change_kind = fields.Selection(
        CHANGE_KINDS,
        string="Change",
        readonly=True,
        help="What changed since the snapshot, one kind per opportunity, the first "
        "that applies: won, lost, archived (closed without being won or lost), "
        "new (created after the snapshot), moved in or out of the period (its "
        "expected closing date), pulled in or pushed out (an earlier or later "
        "expected closing date, without entering or leaving the period), "
        "category up or down (toward commit or away from it), amount up or down "
        "(expected revenue), else unchanged. The amounts of the row hold all its "
        "changes, so nothing is counted twice." + PERIOD_HELP,
    )
    old_stage_id = fields.Many2one(
        "crm.stage", string="Stage Then", readonly=True, help="Empty when new."
    )
    new_stage_id = fields.Many2one("crm.stage", string="Stage Now", readonly=True)
    old_date_deadline = fields.Date(
        string="Expected Closing Then",
        readonly=True,
        help="The expected closing date in the snapshot.",
    )
    new_date_deadline = fields.Date(
        string="Expected Closing Now",
        readonly=True,
        help="The expected closing date now.",
    )
    old_forecast_category = fields.Selection(
        LEAD_FORECAST_CATEGORIES, string="Category Then", readonly=True
    )
    new_forecast_category = fields.Selection(
        LEAD_FORECAST_CATEGORIES, string="Category Now", readonly=True
    )
    old_expected_revenue = fields.Monetary(
        string="Amount Then",
        currency_field="company_currency",
        readonly=True,
        help="The expected revenue in the snapshot; 0 when new.",
    )
    new_expected_revenue = fields.Monetary(
        string="Amount Now",
        currency_field="company_currency",
        readonly=True,
        help="The expected revenue now (of a won opportunity: what was won).",
    )
    amount_delta = fields.Monetary(
        string="Amount Delta",
        currency_field="company_currency",
        readonly=True,
        help="How the opportunity changed the open pipeline: its expected revenue "
        "now if still open (0 once won, lost or archived) − its expected revenue "
        "in the snapshot (0 when new). Each opportunity counts once, so the sum "
        "is the change of the open pipeline: new and amount up add, won, lost "
        "and amount down take away.",
    )
    period_delta = fields.Monetary(
        string="Period Delta",
        currency_field="company_currency",
        readonly=True,
        help="The same, counting only the open opportunities expected to close "
        "in the period: moved in adds its amount, moved out takes it away. The "
        "sum is the change of the period's open pipeline." + PERIOD_HELP,
    )
    lead_count = fields.Integer(
        string="Opportunities",
        readonly=True,
        help="1 per opportunity (each counts once per snapshot).",
    )

    # ------------------------------------------------------------
    # Which snapshot
    # ------------------------------------------------------------

    @api.model
    def _reference_snapshots(self, companies):
        """Per company of ``companies``, its latest snapshot taken at least a
        week ago, else its oldest one; one query."""
        if not companies:
            return self.env["funnel.forecast.snapshot"]
        Snapshot = self.env["funnel.forecast.snapshot"]
        Snapshot.flush_model(["company_id", "date"])
        cutoff = fields.Date.context_today(self) - timedelta(days=REFERENCE_AGE_DAYS)
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (company_id) id
                  FROM funnel_forecast_snapshot
                 WHERE company_id IN %(companies)s
                 ORDER BY company_id, date <= %(cutoff)s DESC,
                          CASE WHEN date <= %(cutoff)s THEN date END DESC,
                          date, id
                """,
                companies=tuple(companies.ids),
                cutoff=cutoff,
            )
        )
        return Snapshot.browse(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        # one snapshot per company, so that the sums mean something: the one the
        # domain chooses, else the one of the context, else last week's
        chosen = any(
            isinstance(term, list | tuple) and term[0] in SNAPSHOT_FIELDS
            for term in domain
        )
        if not chosen:
            snapshot_id = self.env.context.get("funnel_change_snapshot_id")
            snapshots = (
                [snapshot_id]
                if snapshot_id
                else self._reference_snapshots(self.env.companies).ids
            )
            domain = [*domain, ("snapshot_id", "in", snapshots)]
        return super()._search(domain, offset, limit, order)

    # ------------------------------------------------------------
    # The view
    # ------------------------------------------------------------

    def _query(self):
        Lead = self.env["crm.lead"]
        open_now = Lead._funnel_state_sql("open", "l")

        def rank(category):
            return SQL(
                "CASE %s %s ELSE 0 END",
                category,
                SQL(" ").join(
                    SQL("WHEN %s THEN %s", name, value)
                    for name, value in CATEGORY_RANKS.items()
                ),
            )

        return SQL(
            """
SELECT (u.snapshot_id::bigint << 32) + u.lead_id AS id,
       u.snapshot_id,
       u.snapshot_date,
       p.period_start,
       u.lead_id,
       l.user_id,
       l.team_id,
       u.company_id,
       rc.currency_id AS company_currency,
       u.old_stage_id,
       l.stage_id AS new_stage_id,
       u.old_date_deadline,
       l.date_deadline AS new_date_deadline,
       u.old_forecast_category,
       l.forecast_category AS new_forecast_category,
       COALESCE(u.old_expected_revenue, 0) AS old_expected_revenue,
       p.new_amount AS new_expected_revenue,
       CASE
           WHEN %(won)s THEN 'won'
           WHEN %(lost)s THEN 'lost'
           WHEN NOT p.is_open THEN 'archived'
           WHEN NOT u.in_snapshot THEN 'new'
           WHEN p.in_new AND NOT p.in_old THEN 'moved_in'
           WHEN p.in_old AND NOT p.in_new THEN 'moved_out'
           WHEN l.date_deadline < u.old_date_deadline THEN 'pulled_in'
           WHEN l.date_deadline > u.old_date_deadline THEN 'pushed_out'
           WHEN %(new_rank)s > %(old_rank)s THEN 'category_up'
           WHEN %(new_rank)s < %(old_rank)s THEN 'category_down'
           WHEN p.new_amount > u.old_expected_revenue THEN 'amount_up'
           WHEN p.new_amount < u.old_expected_revenue THEN 'amount_down'
           ELSE 'unchanged'
       END AS change_kind,
       CASE WHEN p.is_open THEN p.new_amount ELSE 0 END
           - COALESCE(u.old_expected_revenue, 0) AS amount_delta,
       CASE WHEN p.in_new THEN p.new_amount ELSE 0 END
           - CASE WHEN p.in_old THEN u.old_expected_revenue ELSE 0 END
           AS period_delta,
       1 AS lead_count
  FROM (
      -- the opportunities of the snapshot, as they were
      SELECT line.snapshot_id, s.date AS snapshot_date, s.company_id,
             line.lead_id, TRUE AS in_snapshot, line.stage_id AS old_stage_id,
             line.date_deadline AS old_date_deadline,
             line.forecast_category AS old_forecast_category,
             line.expected_revenue AS old_expected_revenue
        FROM funnel_forecast_snapshot_line line
        JOIN funnel_forecast_snapshot s ON s.id = line.snapshot_id
      UNION ALL
      -- the opportunities created or converted after it
      SELECT s.id, s.date, s.company_id, n.id, FALSE, NULL, NULL, NULL, NULL
        FROM funnel_forecast_snapshot s
        JOIN crm_lead n
          ON (n.company_id = s.company_id OR n.company_id IS NULL)
         AND GREATEST(n.create_date, n.date_conversion) >= s.taken_at
       WHERE (%(new_open)s OR %(new_won)s OR %(new_lost)s)
         AND NOT EXISTS (
             SELECT 1 FROM funnel_forecast_snapshot_line x
              WHERE x.snapshot_id = s.id AND x.lead_id = n.id)
  ) u
  JOIN crm_lead l ON l.id = u.lead_id
  JOIN res_company rc ON rc.id = u.company_id
  CROSS JOIN LATERAL (
      SELECT date_trunc('quarter', u.snapshot_date)::date AS period_start,
             (date_trunc('quarter', u.snapshot_date)
              + interval '3 months')::date AS period_end,
             COALESCE(l.expected_revenue, 0)::numeric AS new_amount,
             %(open)s AS is_open
  ) p0
  CROSS JOIN LATERAL (
      SELECT p0.*,
             COALESCE(u.old_date_deadline >= p0.period_start
                      AND u.old_date_deadline < p0.period_end, FALSE) AS in_old,
             COALESCE(p0.is_open AND l.date_deadline >= p0.period_start
                      AND l.date_deadline < p0.period_end, FALSE) AS in_new
  ) p
            """,
            won=Lead._funnel_state_sql("won", "l"),
            lost=Lead._funnel_state_sql("lost", "l"),
            open=open_now,
            new_open=Lead._funnel_state_sql("open", "n"),
            new_won=Lead._funnel_state_sql("won", "n"),
            new_lost=Lead._funnel_state_sql("lost", "n"),
            new_rank=rank(SQL("l.forecast_category")),
            old_rank=rank(SQL("u.old_forecast_category")),
        )

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "views": [(False, "form")],
        }
