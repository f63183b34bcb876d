"""The totals ``funnel.rep.benchmark`` is built from: a few aggregating
statements per company and window on the stage passes of
``funnel.conversion.report``, the closing rows of the stage history, the open
opportunities, the new ones and the targets."""

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.tools import SQL


def _quarter(now):
    """(first day, first day after) of the quarter of ``now``."""
    start = now.date().replace(month=(now.month - 1) // 3 * 3 + 1, day=1)
    return start, start + relativedelta(months=3)


class FunnelRepBenchmark(models.Model):
    _inherit = "funnel.rep.benchmark"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------
    # Reading the totals
    # ------------------------------------------------------------

    @api.model
    def _read_stage_cells(self, company, date_from, date_to, first_stages):
        """{(team, user, stage): totals} of the passes of the window, and the
        team's totals under user None.

        :param first_stages: {team id or 0: the team's first stage id}
        """
        self.env["funnel.conversion.report"].flush_model()
        self.env.cr.execute(
            SQL(
                """
WITH r AS MATERIALIZED (
    SELECT lead_id, COALESCE(team_id, 0) AS team_id, user_id, stage_id,
           advanced_count, lost_count, settled_count, open_count, won_count,
           closed_count, days_first_stay
      FROM funnel_conversion_report
     WHERE company_id = %(company)s AND user_id IS NOT NULL
       AND date_pass >= %(date_from)s AND date_pass < %(date_to)s
),
first_stage AS (
    SELECT * FROM unnest(%(teams)s::int[], %(stages)s::int[]) AS f(team_id, stage_id)
),
cohort AS (
    SELECT DISTINCT r.lead_id, r.team_id, r.user_id
      FROM r JOIN first_stage f
        ON f.team_id = r.team_id AND f.stage_id = r.stage_id
)
SELECT r.team_id, CASE WHEN GROUPING(r.user_id) = 0 THEN r.user_id END, r.stage_id,
       count(*), sum(r.advanced_count), sum(r.lost_count), sum(r.settled_count),
       sum(r.open_count), sum(r.won_count), sum(r.closed_count),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.days_first_stay),
       percentile_cont(0.8) WITHIN GROUP (ORDER BY r.days_first_stay),
       avg(r.days_first_stay),
       count(c.lead_id)
  FROM r
  LEFT JOIN cohort c
    ON c.lead_id = r.lead_id AND c.team_id = r.team_id AND c.user_id = r.user_id
 GROUP BY GROUPING SETS ((r.team_id, r.user_id, r.stage_id), (r.team_id, r.stage_id))
                """,
                company=company.id,
                date_from=date_from,
                date_to=date_to,
                teams=list(first_stages),
                stages=list(first_stages.values()),
            )
        )
        keys = (
            "entered advanced lost settled open won closed median p80 mean cohort"
        ).split()
        return {
            (team_id, user_id, stage_id): dict(zip(keys, values, strict=True))
            for team_id, user_id, stage_id, *values in self.env.cr.fetchall()
        }

    @api.model
    def _read_closings(self, company, date_from, date_to):
        """{(team, user): totals} of the opportunities won or lost in the window
        (their closing row), and the team's under user None; ``others_cycle`` and
        ``others_loss_days``: the medians of the rest of the salesperson's team."""
        self.env.cr.execute(
            SQL(
                """
WITH c AS (
    SELECT COALESCE(h.team_id, 0) AS team_id, h.user_id, h.event = 'won' AS won,
           COALESCE(h.expected_revenue, 0) AS amount,
           EXTRACT(EPOCH FROM h.date_in
                   - COALESCE(l.date_conversion, l.create_date)) / 86400 AS days,
           COALESCE(l.referred_by_id <> h.user_id, FALSE)
               OR EXISTS (SELECT 1 FROM funnel_activity_log g
                           WHERE g.lead_id = h.lead_id AND g.user_id <> h.user_id)
               AS helped
      FROM funnel_stage_history h
      JOIN crm_lead l ON l.id = h.lead_id
     WHERE h.is_open AND h.event IN ('won', 'lost') AND h.company_id = %(company)s
       AND h.user_id IS NOT NULL
       AND h.date_in >= %(date_from)s AND h.date_in < %(date_to)s
),
g AS (
    SELECT team_id, CASE WHEN GROUPING(user_id) = 0 THEN user_id END AS user_id,
           count(*) FILTER (WHERE won) AS won, count(*) AS closed,
           COALESCE(sum(amount) FILTER (WHERE won), 0) AS won_amount,
           sum(amount) AS closed_amount,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE won)
               AS cycle,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE NOT won)
               AS loss_days,
           count(*) FILTER (WHERE helped) AS helped
      FROM c
     GROUP BY GROUPING SETS ((team_id, user_id), (team_id))
),
-- the durations of the rest of the team, for each salesperson
others AS (
    SELECT r.team_id, r.user_id,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY c.days) FILTER (WHERE c.won)
               AS cycle,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY c.days)
               FILTER (WHERE NOT c.won) AS loss_days
      FROM (SELECT DISTINCT team_id, user_id FROM c) r
      JOIN c ON c.team_id = r.team_id AND c.user_id <> r.user_id
     GROUP BY r.team_id, r.user_id
)
SELECT g.*, o.cycle, o.loss_days
  FROM g
  LEFT JOIN others o ON o.team_id = g.team_id AND o.user_id = g.user_id
                """,
                company=company.id,
                date_from=date_from,
                date_to=date_to,
            )
        )
        keys = (
            "won closed won_amount closed_amount cycle loss_days helped "
            "others_cycle others_loss_days"
        ).split()
        return {
            (team_id, user_id): dict(zip(keys, values, strict=True))
            for team_id, user_id, *values in self.env.cr.fetchall()
        }

    @api.model
    def _read_open(self, company, now):
        """{(team, user, stage): (open opportunities, weighted amount expected
        to close by the end of the quarter, median days in the stage)} now."""
        Lead = self.env["crm.lead"]
        Lead.flush_model()
        self.env.cr.execute(
            SQL(
                """
SELECT COALESCE(l.team_id, 0), l.user_id, l.stage_id, count(*),
       sum(COALESCE(l.expected_revenue, 0) * COALESCE(s.win_rate, 0) / 100)
           FILTER (WHERE l.date_deadline < %(quarter_end)s),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM
           %(now)s - COALESCE(l.date_last_stage_update, l.create_date)) / 86400)
  FROM crm_lead l
  JOIN crm_stage s ON s.id = l.stage_id
 WHERE %(open)s AND l.company_id = %(company)s AND l.user_id IS NOT NULL
 GROUP BY 1, 2, 3
                """,
                now=now,
                quarter_end=_quarter(now)[1],
                open=Lead._funnel_state_sql("open", "l"),
                company=company.id,
            )
        )
        return {
            (team_id, user_id, stage_id): (count, weighted or 0.0, age)
            for team_id, user_id, stage_id, count, weighted, age in (
                self.env.cr.fetchall()
            )
        }

    @api.model
    def _read_new(self, company, date_from, date_to):
        """{(team, user): (new opportunities, of them for new customers)}."""
        Lead = self.env["crm.lead"]
        self.env.cr.execute(
            SQL(
                """
WITH first_won AS (
    SELECT cp.commercial_partner_id, min(w.date_closed) AS date_won
      FROM crm_lead w JOIN res_partner cp ON cp.id = w.partner_id
     WHERE %(won)s
     GROUP BY cp.commercial_partner_id
)
SELECT COALESCE(l.team_id, 0), l.user_id, count(*),
       count(*) FILTER (WHERE COALESCE(fw.date_won >= l.create_date, TRUE))
  FROM crm_lead l
  LEFT JOIN res_partner p ON p.id = l.partner_id
  LEFT JOIN first_won fw ON fw.commercial_partner_id = p.commercial_partner_id
 WHERE l.type = 'opportunity' AND l.company_id = %(company)s
   AND l.user_id IS NOT NULL
   AND l.create_date >= %(date_from)s AND l.create_date < %(date_to)s
 GROUP BY 1, 2
                """,
                won=Lead._funnel_state_sql("won", "w"),
                company=company.id,
                date_from=date_from,
                date_to=date_to,
            )
        )
        return {
            (team_id, user_id): (count, new)
            for team_id, user_id, count, new in (self.env.cr.fetchall())
        }

    @api.model
    def _read_quarter(self, company, now):
        """({user: target of the quarter}, {user: won in the quarter}, months
        left in the quarter, this month included)."""
        today = now.date()
        start, end = _quarter(now)
        self.env["funnel.target"].flush_model()
        self.env.cr.execute(
            SQL(
                """
SELECT user_id, sum(amount) FROM funnel_target_month
 WHERE company_id = %s AND user_id IS NOT NULL AND month >= %s AND month < %s
 GROUP BY user_id
                """,
                company.id,
                start,
                end,
            )
        )
        targets = dict(self.env.cr.fetchall())
        self.env.cr.execute(
            SQL(
                """
SELECT l.user_id, sum(COALESCE(l.expected_revenue, 0)) FROM crm_lead l
 WHERE %s AND l.company_id = %s AND l.date_closed >= %s AND l.date_closed < %s
 GROUP BY l.user_id
                """,
                self.env["crm.lead"]._funnel_state_sql("won", "l"),
                company.id,
                start,
                end,
            )
        )
        won = dict(self.env.cr.fetchall())
        months_left = 3 - (today.month - start.month)
        return targets, won, months_left
