import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .funnel_lock import try_lock

_logger = logging.getLogger(__name__)

# closed opportunities that passed a stage a team needs for its own historical win
# rate of the stage; below that, the team uses the rate of its company
MIN_TEAM_SAMPLE = 20
# the trailing window of closing dates the historical win rates are measured on
WINDOW_MONTHS = 12
# history rows above which "Refresh" runs in the background: the refresh is one
# statement of about a second per million rows
BACKGROUND_HISTORY_ROWS = 1_000_000


class FunnelStageWinRate(models.Model):
    """Historical win rate of each stage, per company and per sales team.

    The historical win rate of stage s is won ÷ (won + lost) among the opportunities
    that entered s (they have a stage history row of s) and closed within the
    trailing 12 months. An opportunity is closed when its current history row is a
    won or lost event; the date of that row is its closing date and its sales team
    the team of that row.

    Rows with no team are company-wide. A team row whose sample is smaller than
    ``MIN_TEAM_SAMPLE`` uses the company-wide rate as its ``win_rate``.

    The table is rebuilt by ``_refresh`` (nightly and on demand), never edited.
    """

    _name = "funnel.stage.win.rate"
    _description = "Historical Stage Win Rate"
    _order = "company_id, stage_id, id"
    _rec_name = "stage_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    stage_id = fields.Many2one(
        "crm.stage", required=True, ondelete="cascade", index=True, readonly=True
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        ondelete="cascade",
        readonly=True,
        help="Empty for the company-wide rate.",
    )
    won_count = fields.Integer(string="Won", readonly=True)
    lost_count = fields.Integer(string="Lost", readonly=True)
    sample_size = fields.Integer(
        string="Closed",
        readonly=True,
        help="Opportunities that passed the stage and were won or lost within the "
        "last 12 months.",
    )
    rate = fields.Float(
        string="Measured Rate",
        digits=(16, 2),
        aggregator=False,
        readonly=True,
        help="Won ÷ closed, in percent, on this row's own sample.",
    )
    win_rate = fields.Float(
        string="Historical Win Rate",
        digits=(16, 2),
        aggregator=False,
        readonly=True,
        help="The rate used in forecasts, in percent: the measured rate, or the "
        "company-wide rate when a team closed fewer than 20 opportunities that "
        "passed the stage.",
    )
    is_fallback = fields.Boolean(
        string="Company Rate Used",
        readonly=True,
        help="The team closed too few opportunities that passed the stage: its "
        "historical win rate is the company-wide rate.",
    )
    date_refreshed = fields.Datetime(string="Refreshed On", readonly=True)

    def init(self):
        # one row per company, stage and team (no team: the company-wide row)
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS funnel_stage_win_rate_key_uniq
                    ON funnel_stage_win_rate
                       (company_id, stage_id, COALESCE(team_id, 0))
                """
            )
        )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    @api.model
    def action_refresh(self):
        """Recompute the historical win rates now (sales managers)."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales managers may refresh the historical win rates.")
            )
        Job = self.env["funnel.job"]
        Job._check_not_running("win_rate")
        if self._history_rows() > BACKGROUND_HISTORY_ROWS:
            # one statement: no chunk to report, its progress is 0 then 1 of 1
            return Job._start("win_rate", 1)._started_action(
                {"type": "ir.actions.client", "tag": "soft_reload"}
            )
        self.sudo()._refresh()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self._refreshed_message(),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _refreshed_message(self):
        return self.env._(
            "Historical win rates refreshed from the closings of the last 12 months."
        )

    @api.model
    def _history_rows(self):
        """The size of the stage history, as PostgreSQL estimates it (its
        statistics), without counting it."""
        self.env.cr.execute(
            SQL(
                "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class "
                "WHERE oid = 'funnel_stage_history'::regclass"
            )
        )
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------
    # Background job (funnel.job, kind win_rate)
    # ------------------------------------------------------------

    @api.model
    def _funnel_job_refresh(self, job, records):
        self.sudo()._refresh()
        return 1

    @api.model
    def _funnel_job_refresh_done(self, job):
        return self._refreshed_message()

    # ------------------------------------------------------------
    # Refresh
    # ------------------------------------------------------------

    @api.model
    def _cron_refresh(self):
        if try_lock(self.env, self._name):
            self._refresh()

    @api.model
    def _refresh(self):
        """Rebuild every historical win rate from the stage history, in one
        statement whatever the size of the history.

        On 1,000,000 history rows it takes about a second: the closing rows of
        the window are read once, then every row of these opportunities through
        the ``lead_id`` join, hashed. An index on the closing rows was measured
        and left out: the join reads the rows of the closed opportunities
        anyway, and stage moves would pay for its upkeep.

        Skipped while another transaction refreshes them (it computes the same
        rates).
        """
        if not try_lock(self.env, self._name):
            return
        self.env["funnel.stage.history"].flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
DELETE FROM funnel_stage_win_rate;
WITH closed AS (
    SELECT lead_id, company_id, team_id, event = 'won' AS won
      FROM funnel_stage_history
     WHERE is_open AND event IN ('won', 'lost')
       AND date_in > %(since)s AND date_in <= %(now)s
       AND company_id IS NOT NULL
),
passed AS (
    SELECT DISTINCT c.lead_id, c.company_id, c.team_id, c.won, h.stage_id
      FROM closed c
      JOIN funnel_stage_history h ON h.lead_id = c.lead_id
     WHERE h.stage_id IS NOT NULL
),
counts AS (
    SELECT company_id, stage_id, team_id, GROUPING(team_id) = 1 AS company_wide,
           count(*) FILTER (WHERE won) AS won_count,
           count(*) FILTER (WHERE NOT won) AS lost_count,
           count(*) AS sample_size,
           ROUND(100.0 * count(*) FILTER (WHERE won) / count(*), 2) AS rate
      FROM passed
     GROUP BY GROUPING SETS ((company_id, stage_id, team_id), (company_id, stage_id))
    HAVING GROUPING(team_id) = 1 OR team_id IS NOT NULL
),
rated AS (
    SELECT counts.*,
           max(rate) FILTER (WHERE company_wide)
               OVER (PARTITION BY company_id, stage_id) AS company_rate
      FROM counts
)
INSERT INTO funnel_stage_win_rate (
    company_id, stage_id, team_id, won_count, lost_count, sample_size, rate,
    win_rate, is_fallback, date_refreshed,
    create_uid, create_date, write_uid, write_date)
SELECT company_id, stage_id, team_id, won_count, lost_count, sample_size, rate,
       CASE WHEN company_wide OR sample_size >= %(min_sample)s THEN rate
            ELSE company_rate END,
       NOT company_wide AND sample_size < %(min_sample)s,
       %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
  FROM rated
 ORDER BY company_id, stage_id, team_id NULLS FIRST
                """,
                since=now - relativedelta(months=WINDOW_MONTHS),
                now=now,
                min_sample=MIN_TEAM_SAMPLE,
                uid=self.env.uid,
            )
        )
        _logger.info("Historical win rates: %s rows refreshed", self.env.cr.rowcount)
        self.invalidate_model()
