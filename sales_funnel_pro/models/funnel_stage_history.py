import logging

from odoo import api, fields, models
from odoo.models import parse_read_group_spec
from odoo.tools import SQL

from .crm_stage import LEAD_FORECAST_CATEGORIES

_logger = logging.getLogger(__name__)

HISTORY_EVENTS = [
    ("enter", "Entered"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("restored", "Restored"),
]
# the event of the row an opportunity opens when it enters a stage, by its state
# (crm.lead._funnel_state): an archived opportunity, lost or merely archived, is
# out of the pipeline (a lost row) wherever it is moved
ENTRY_EVENTS = {"open": "enter", "won": "won", "lost": "lost", "archived": "lost"}
# the columns of a history row given when it is opened, with their SQL types
ROW_COLUMNS = {
    "lead_id": "int4",
    "stage_from_id": "int4",
    "stage_id": "int4",
    "event": "varchar",
    "date_in": "timestamp",
    "user_id": "int4",
    "team_id": "int4",
    "company_id": "int4",
    "expected_revenue": "numeric",
    "probability": "numeric",
    "forecast_category": "varchar",
    "is_backward": "bool",
}


class FunnelStageHistory(models.Model):
    _name = "funnel.stage.history"
    _description = "Opportunity Stage History"
    _order = "date_in desc, id desc"
    _rec_name = "stage_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    stage_from_id = fields.Many2one(
        "crm.stage", string="From Stage", ondelete="set null", readonly=True
    )
    stage_id = fields.Many2one(
        "crm.stage", string="Stage", ondelete="set null", index=True, readonly=True
    )
    event = fields.Selection(
        HISTORY_EVENTS, required=True, default="enter", readonly=True
    )
    date_in = fields.Datetime(
        string="Entered On", required=True, index=True, readonly=True
    )
    date_out = fields.Datetime(string="Left On", readonly=True)
    days_in_stage = fields.Float(
        string="Days in Stage",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Days between entering and leaving the stage; empty while the "
        "opportunity is still there.",
    )
    is_open = fields.Boolean(
        string="Current",
        default=True,
        readonly=True,
        help="The opportunity is still in this stage.",
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    moved_by_id = fields.Many2one("res.users", string="Moved By", readonly=True)
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    company_currency = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Currency"
    )
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    probability = fields.Float(digits=(16, 2), aggregator="avg", readonly=True)
    forecast_category = fields.Selection(
        LEAD_FORECAST_CATEGORIES,
        readonly=True,
        help="Forecast category of the opportunity when the row was opened.",
    )
    is_backward = fields.Boolean(string="Backward Move", readonly=True)
    gate_waived = fields.Boolean(readonly=True)
    waive_reason = fields.Text(readonly=True)
    skipped_criteria = fields.Text(
        readonly=True,
        help="Exit criteria that were unmet when the opportunity left its stage "
        "under a warning gate.",
    )

    def _read_group_select(self, aggregate_spec, query):
        # a current stay has no duration yet: keep it out of averages and extremes
        fname, __, func = parse_read_group_spec(aggregate_spec)
        if fname == "days_in_stage" and func in ("avg", "min", "max"):
            return SQL(
                "%s(CASE WHEN %s IS NOT NULL THEN %s END)",
                SQL(func.upper()),
                self._field_to_sql(self._table, "date_out", query),
                self._field_to_sql(self._table, "days_in_stage", query),
            )
        return super()._read_group_select(aggregate_spec, query)

    # ------------------------------------------------------------
    # Recording: the rows are written by these methods only
    # ------------------------------------------------------------

    @api.model
    def _row_values(self, lead, now, **values):
        """Values of the row the opportunity ``lead`` opens ``now``, as it is."""
        return {
            "lead_id": lead.id,
            "stage_from_id": None,
            "stage_id": lead.stage_id.id,
            "event": ENTRY_EVENTS[lead._funnel_state()],
            "date_in": now,
            "user_id": lead.user_id.id or None,
            "team_id": lead.team_id.id or None,
            "company_id": lead.company_id.id or None,
            "expected_revenue": lead.expected_revenue,
            "probability": lead.probability,
            "forecast_category": lead.forecast_category,
            "is_backward": False,
            **values,
        }

    @api.model
    def _record_entries(self, leads, dates):
        """The opportunities ``leads`` were just created: open the row of the
        stage each one starts in.

        :param dates: dict lead id -> since when it is in its stage
        """
        values_list = [
            self._row_values(lead, dates[lead.id]) for lead in leads if lead.stage_id
        ]
        self._write_rows(leads, values_list, fields.Datetime.now(), close=False)

    @api.model
    def _record_moves(self, leads, old_stage_ids, now):
        """The opportunities ``leads`` just changed stage: close their current
        row and open the row of the new stage.

        :param old_stage_ids: dict lead id -> the stage it left (or False)
        :return: the ids of the opportunities that went back to an earlier stage
        """
        rank = self.env["crm.stage"]._funnel_rank()
        values_list = []
        for lead in leads.filtered("stage_id"):
            old_stage_id = old_stage_ids.get(lead.id)
            values_list.append(
                self._row_values(
                    lead,
                    now,
                    stage_from_id=old_stage_id or None,
                    is_backward=bool(old_stage_id)
                    and rank.get(lead.stage_id.id, 0) < rank.get(old_stage_id, 0),
                )
            )
        self._write_rows(leads, values_list, now)
        return [values["lead_id"] for values in values_list if values["is_backward"]]

    @api.model
    def _record_active_changes(self, leads, now):
        """The opportunities ``leads`` were just lost (archived) or restored:
        close their current row and open a lost or restored one, in the same
        stage."""
        self._write_rows(
            leads,
            [
                self._row_values(
                    lead,
                    now,
                    stage_from_id=lead.stage_id.id,
                    event="restored" if lead.active else "lost",
                )
                for lead in leads.filtered("stage_id")
            ],
            now,
        )

    @api.model
    def _write_rows(self, leads, values_list, now, close=True):
        """Close the current row of ``leads`` (unless ``close`` is False) and open
        the rows of ``values_list``, in one statement: stage moves are the hottest
        path of the pipeline.

        :param values_list: list of dicts from ``_row_values``
        """
        self.flush_model()
        uid = self.env.uid
        parts = []
        if close and leads:
            parts.append(
                SQL(
                    """
                    WITH closed AS (
                        UPDATE funnel_stage_history
                           SET date_out = %(now)s,
                               is_open = FALSE,
                               days_in_stage = ROUND(
                                   EXTRACT(EPOCH FROM %(now)s - date_in)::numeric
                                   / 86400, 1),
                               write_date = %(now)s,
                               write_uid = %(uid)s
                         WHERE lead_id IN %(ids)s AND is_open
                    )
                    """,
                    now=now,
                    uid=uid,
                    ids=tuple(leads.ids),
                )
            )
        if values_list:
            columns = SQL(", ").join(SQL.identifier(name) for name in ROW_COLUMNS)
            arrays = SQL(", ").join(
                SQL("%s::%s[]", [values[name] for values in values_list], SQL(kind))
                for name, kind in ROW_COLUMNS.items()
            )
            parts.append(
                SQL(
                    """
                    INSERT INTO funnel_stage_history (
                        %(columns)s, is_open, gate_waived, moved_by_id,
                        create_uid, create_date, write_uid, write_date)
                    SELECT %(columns)s, TRUE, FALSE, %(uid)s,
                           %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM unnest(%(arrays)s) AS new(%(columns)s)
                    """,
                    columns=columns,
                    arrays=arrays,
                    uid=uid,
                    now=now,
                )
            )
        elif parts:
            parts.append(SQL("SELECT 1"))
        if not parts:
            return
        self.env.cr.execute(SQL("").join(parts))
        # the ORM did not see these rows
        self.invalidate_model(
            ["date_out", "is_open", "days_in_stage", "write_date", "write_uid"]
        )
        leads.invalidate_recordset(["stage_history_ids"])

    @api.model
    def _note_skipped_criteria(self, texts):
        """Say on the current row of opportunities that they left their stage
        with exit criteria unmet (warning gates).

        :param texts: dict lead id -> text of the criteria skipped
        """
        if not texts:
            return
        self.flush_model(["skipped_criteria"])
        lead_ids, notes = zip(*texts.items(), strict=True)
        self.env.cr.execute(
            SQL(
                """
                UPDATE funnel_stage_history h
                   SET skipped_criteria = n.note
                  FROM unnest(%s::int[], %s::text[]) AS n(lead_id, note)
                 WHERE h.lead_id = n.lead_id AND h.is_open
                """,
                list(lead_ids),
                list(notes),
            )
        )
        self.invalidate_model(["skipped_criteria"])

    @api.model
    def _note_waiver(self, leads, reason):
        """The current rows of ``leads`` were entered past waived criteria."""
        rows = self.sudo().search(
            [("lead_id", "in", leads.ids), ("is_open", "=", True)]
        )
        rows.write({"gate_waived": True, "waive_reason": reason})

    @api.model
    def _sync_open_probability(self, leads):
        """crm sets the probability of lost and restored opportunities after
        archiving or restoring them: the lost and restored rows just opened take
        it too."""
        if not leads:
            return
        leads.flush_recordset(["probability"])
        self.flush_model(["probability"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE funnel_stage_history h
                   SET probability = l.probability
                  FROM crm_lead l
                 WHERE l.id = h.lead_id AND h.lead_id IN %s AND h.is_open
                   AND h.event IN ('lost', 'restored')
                   AND h.probability IS DISTINCT FROM l.probability
                """,
                tuple(leads.ids),
            )
        )
        self.invalidate_model(["probability"])

    # ------------------------------------------------------------
    # Backfill
    # ------------------------------------------------------------

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
    def _restage(self, stage_map, leads):
        """Rewrite the history of ``leads`` as if the stages of ``stage_map``
        (stage id -> stage id, keeping the order of the stages) had always been
        their new stage: the rows keep their dates, a row that followed its
        stage's forecast category follows the new stage's. Called by
        ``crm.lead._funnel_restage``, which moves the opportunities themselves.
        """
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
WITH m AS (
    SELECT m.old_id, m.new_id, so.forecast_category AS old_category,
           sn.forecast_category AS new_category
      FROM unnest(%(old)s::int[], %(new)s::int[]) AS m(old_id, new_id)
      JOIN crm_stage so ON so.id = m.old_id
      JOIN crm_stage sn ON sn.id = m.new_id
)
UPDATE funnel_stage_history h
   SET stage_id = COALESCE(ms.new_id, h.stage_id),
       stage_from_id = COALESCE(mf.new_id, h.stage_from_id),
       forecast_category = CASE WHEN h.forecast_category = ms.old_category
                                THEN ms.new_category
                                ELSE h.forecast_category END
  FROM funnel_stage_history h2
  LEFT JOIN m ms ON ms.old_id = h2.stage_id
  LEFT JOIN m mf ON mf.old_id = h2.stage_from_id
 WHERE h2.id = h.id AND h.lead_id IN %(lead_ids)s
   AND (ms.old_id IS NOT NULL OR mf.old_id IS NOT NULL)
                """,
                old=list(stage_map),
                new=list(stage_map.values()),
                lead_ids=tuple(leads.ids),
            )
        )
        self.invalidate_model(["stage_id", "stage_from_id", "forecast_category"])
