import logging

from odoo import api, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class FunnelStageHistory(models.Model):
    """The stage history built from what the database already holds: the chatter
    of opportunities older than the addon, and the stage rank, first pass and
    exit of rows written before these columns existed (or in bulk by the demo).
    Each statement only fills what is missing, so that it may run again."""

    _inherit = "funnel.stage.history"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _backfill_from_tracking(self):
        """Build the history of existing opportunities from the stage and active
        tracking of their chatter, in a few set-based statements.

        Only opportunities without any history row are backfilled, so that the
        method may run again safely.
        """
        cr = self.env.cr
        self.env.flush_all()
        field_ids = dict(
            self.env["ir.model.fields"]
            .sudo()
            .search_fetch(
                [("model", "=", "crm.lead"), ("name", "in", ("stage_id", "active"))],
                ["name"],
            )
            .mapped(lambda f: (f.name, f.id))
        )
        uid = self.env.uid
        cr.execute(
            SQL(
                """
WITH todo AS (
    SELECT l.id FROM crm_lead l
     WHERE NOT EXISTS (SELECT 1 FROM funnel_stage_history h WHERE h.lead_id = l.id)
),
stage_rank AS (
    SELECT id, is_won, forecast_category,
           row_number() OVER (ORDER BY sequence, name->>'en_US', id) AS rank
      FROM crm_stage
),
tracked AS (
    SELECT m.res_id AS lead_id, m.date AS at, m.create_uid AS moved_by, v.id AS seq,
           CASE WHEN v.field_id = %(stage_field)s THEN 'move'
                WHEN v.new_value_integer = 0 THEN 'lost' ELSE 'restored' END AS kind,
           CASE WHEN v.field_id = %(stage_field)s
                THEN NULLIF(v.old_value_integer, 0) END AS stage_from,
           CASE WHEN v.field_id = %(stage_field)s
                THEN NULLIF(v.new_value_integer, 0) END AS stage_to
      FROM mail_tracking_value v
      JOIN mail_message m ON m.id = v.mail_message_id
      JOIN todo ON todo.id = m.res_id
     WHERE m.model = 'crm.lead' AND v.field_id IN %(fields)s
),
first_move AS (
    SELECT DISTINCT ON (lead_id) lead_id, stage_from
      FROM tracked WHERE kind = 'move'
     ORDER BY lead_id, at, seq
),
last_active AS (
    SELECT DISTINCT ON (lead_id) lead_id, kind
      FROM tracked WHERE kind <> 'move'
     ORDER BY lead_id, at DESC, seq DESC
),
lost_untracked AS (
    SELECT l.id AS lead_id FROM crm_lead l
      JOIN todo ON todo.id = l.id
      LEFT JOIN last_active la ON la.lead_id = l.id
     WHERE NOT l.active AND la.kind IS DISTINCT FROM 'lost'
),
events AS (
    SELECT l.id AS lead_id, l.create_date AS at, l.create_uid AS moved_by,
           0 AS seq, 'move' AS kind, NULL::integer AS stage_from,
           COALESCE(fm.stage_from, l.stage_id) AS stage_to
      FROM crm_lead l
      JOIN todo ON todo.id = l.id
      LEFT JOIN first_move fm ON fm.lead_id = l.id
    UNION ALL
    SELECT lead_id, at, moved_by, seq, kind, stage_from, stage_to
      FROM tracked WHERE kind <> 'move' OR stage_to IS NOT NULL
    UNION ALL
    SELECT l.id, GREATEST(COALESCE(l.date_closed, l.write_date), l.create_date),
           l.write_uid, 2147483647, 'lost', NULL, NULL
      FROM crm_lead l JOIN lost_untracked lu ON lu.lead_id = l.id
),
numbered AS (
    SELECT e.*,
           count(e.stage_to) OVER w AS stage_group,
           lead(e.at) OVER w AS next_at
      FROM events e
    WINDOW w AS (PARTITION BY e.lead_id ORDER BY e.at, e.seq)
),
located AS (
    SELECT n.*,
           first_value(n.stage_to) OVER (
               PARTITION BY n.lead_id, n.stage_group ORDER BY n.at, n.seq
           ) AS stage_at
      FROM numbered n
)
INSERT INTO funnel_stage_history (
    lead_id, stage_from_id, stage_id, event, date_in, date_out, days_in_stage,
    is_open, user_id, team_id, moved_by_id, company_id, expected_revenue,
    probability, forecast_category, is_backward, gate_waived,
    create_uid, create_date, write_uid, write_date)
SELECT lo.lead_id,
       CASE WHEN lo.kind = 'move' THEN lo.stage_from ELSE lo.stage_at END,
       lo.stage_at,
       CASE WHEN lo.kind <> 'move' THEN lo.kind
            WHEN sr.is_won THEN 'won' ELSE 'enter' END,
       lo.at, lo.next_at,
       ROUND((EXTRACT(EPOCH FROM lo.next_at - lo.at) / 86400)::numeric, 1),
       lo.next_at IS NULL,
       l.user_id, l.team_id, lo.moved_by, l.company_id, l.expected_revenue,
       l.probability,
       %(category)s,
       lo.kind = 'move' AND COALESCE(sr.rank < fr.rank, FALSE),
       FALSE,
       %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
  FROM located lo
  JOIN crm_lead l ON l.id = lo.lead_id
  LEFT JOIN stage_rank sr ON sr.id = lo.stage_at
  LEFT JOIN stage_rank fr ON fr.id = lo.stage_from
 WHERE lo.stage_at IS NOT NULL
                """,
                category=self.env["crm.lead"]._funnel_category_sql("l", "sr"),
                stage_field=field_ids.get("stage_id"),
                fields=tuple(field_ids.values()),
                uid=uid,
            )
        )
        inserted = cr.rowcount
        cr.execute(
            SQL(
                """
UPDATE crm_lead l SET backward_move_count = b.moves
  FROM (SELECT lead_id, count(*) AS moves FROM funnel_stage_history
         WHERE is_backward GROUP BY lead_id) b
 WHERE b.lead_id = l.id AND l.backward_move_count IS DISTINCT FROM b.moves
                """
            )
        )
        self.env.invalidate_all()
        _logger.info("Stage history: %s rows built from the chatter tracking", inserted)
        return inserted

    @api.model
    def _fill_pass_columns(self, passes=True):
        """Fill ``stage_rank``, ``is_first_pass``, ``prior_top_rank``,
        ``exit_kind`` and ``got_past`` of the rows of every opportunity that has
        a row without stage rank, in one statement, as ``_write_rows`` would
        have: the rank of the stage today, a first pass when no earlier row of
        the opportunity was in this stage or a later one, the exit told by the
        row that follows, got past when it advanced, was won or a later row is
        further.

        Then the stages these opportunities passed (``funnel.stage.pass``),
        unless ``passes`` is False (the caller refreshes them later).

        :return: the number of rows written
        """
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
WITH stage_order AS (%(stage_order)s),
todo AS (
    SELECT DISTINCT lead_id FROM funnel_stage_history WHERE stage_rank IS NULL
),
ranked AS (
    SELECT h.id, h.lead_id, h.date_in, h.event, h.is_open, h.is_backward,
           COALESCE(h.stage_rank, so.rank) AS rank
      FROM funnel_stage_history h
      JOIN todo ON todo.lead_id = h.lead_id
      LEFT JOIN stage_order so ON so.id = h.stage_id
),
filled AS (
    SELECT id, is_open, rank,
           max(rank) OVER (
               PARTITION BY lead_id ORDER BY date_in, id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS top_before,
           max(rank) OVER (
               PARTITION BY lead_id ORDER BY date_in, id
               ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS top_after,
           lead(event) OVER w AS next_event,
           lead(is_backward) OVER w AS next_backward
      FROM ranked
    WINDOW w AS (PARTITION BY lead_id ORDER BY date_in, id)
)
UPDATE funnel_stage_history h
   SET stage_rank = f.rank,
       is_first_pass = COALESCE(f.rank > COALESCE(f.top_before, -1), FALSE),
       prior_top_rank = f.top_before,
       exit_kind = CASE
           WHEN f.is_open OR f.next_event IS NULL THEN NULL
           WHEN f.next_event <> 'enter' THEN f.next_event
           WHEN f.next_backward THEN 'regressed'
           ELSE 'advanced' END,
       got_past = NOT f.is_open AND (
           COALESCE(f.top_after > f.rank, FALSE)
           OR (f.next_event = 'enter' AND NOT f.next_backward)
           OR f.next_event IS NOT DISTINCT FROM 'won')
  FROM filled f
 WHERE f.id = h.id
RETURNING h.lead_id
                """,
                stage_order=self.env["crm.stage"]._funnel_rank_sql(),
            )
        )
        lead_ids = [lead_id for (lead_id,) in self.env.cr.fetchall()]
        written = len(lead_ids)
        self.invalidate_model(
            ["stage_rank", "is_first_pass", "prior_top_rank", "exit_kind", "got_past"]
        )
        if passes:
            self.env["funnel.stage.pass"]._refresh_all(sorted(set(lead_ids)))
        _logger.info("Stage history: rank, first pass and exit of %s rows", written)
        return written

    @api.model
    def _fill_got_past(self):
        """Fill ``got_past`` of every row, in one statement, as ``_write_rows``
        keeps it: the stay ended by advancing or a win, or the opportunity reached
        a later stage afterwards. For the databases upgraded from a version
        without it.

        :return: the number of rows written
        """
        self.flush_model()
        self.env.cr.execute(
            """
WITH filled AS (
    SELECT id, NOT is_open AND (
               exit_kind IN ('advanced', 'won')
               OR COALESCE(max(stage_rank) OVER (
                   PARTITION BY lead_id ORDER BY date_in, id
                   ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
                   > stage_rank, FALSE)) AS got_past
      FROM funnel_stage_history
)
UPDATE funnel_stage_history h
   SET got_past = COALESCE(f.got_past, FALSE)
  FROM filled f
 WHERE f.id = h.id AND h.got_past IS DISTINCT FROM COALESCE(f.got_past, FALSE)
            """
        )
        written = self.env.cr.rowcount
        self.invalidate_model(["got_past"])
        _logger.info("Stage history: got past filled on %s rows", written)
        return written
