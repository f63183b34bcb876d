import logging

from odoo import api, fields, models
from odoo.models import parse_read_group_spec
from odoo.tools import SQL
from odoo.tools.sql import create_index

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
EXIT_KINDS = [
    ("advanced", "Advanced"),
    ("regressed", "Went Back"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("restored", "Restored"),
]
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
    "stage_rank": "int4",
}


def _exit_kind(values):
    """How a stay ends, given the values of the row that follows it."""
    if values["event"] == "enter":
        return "regressed" if values["is_backward"] else "advanced"
    return values["event"]


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
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        help="The salesperson of the opportunity when the row was opened. The stay "
        "counts for this salesperson (and team) in the conversion, coaching and "
        "capability figures, even when the opportunity is reassigned later: a "
        "reassignment does not move a stay already begun, the next stage's row "
        "belongs to the new salesperson.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        help="The sales team of the opportunity when the row was opened; as the "
        "salesperson, it keeps the stay when the opportunity is reassigned.",
    )
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
    stage_rank = fields.Integer(
        readonly=True,
        aggregator=False,
        help="Position of the stage in the pipeline when the row was opened (0 for "
        "the first column), kept as it was so that reordering the stages later "
        "does not rewrite the history.",
    )
    is_first_pass = fields.Boolean(
        string="First Pass",
        readonly=True,
        help="The opportunity reached this stage for the first time: it had never "
        "been in this stage nor in a later one before. A return after a backward "
        "move is not a first pass.",
    )
    prior_top_rank = fields.Integer(
        string="Furthest Rank Before",
        readonly=True,
        aggregator=False,
        help="The rank of the furthest stage the opportunity had reached before "
        "this row (empty for its first row): the stages between it and this one "
        "were passed by a jump.",
    )
    exit_kind = fields.Selection(
        EXIT_KINDS,
        string="Left By",
        readonly=True,
        help="How the stay ended: the opportunity advanced to a later stage, went "
        "back to an earlier one, was won, lost, or (a lost opportunity) restored. "
        "Empty while the opportunity is still there.",
    )
    got_past = fields.Boolean(
        readonly=True,
        help="The opportunity got past this stage after entering it: it left it "
        "for a later stage or was won, or reached a later stage after going back. "
        "Kept on every move; the conversion report reads it on first passes.",
    )
    gate_waived = fields.Boolean(readonly=True)
    waive_reason = fields.Text(readonly=True)
    skipped_criteria = fields.Text(
        readonly=True,
        help="Exit criteria that were unmet when the opportunity left its stage "
        "under a warning gate.",
    )

    def init(self):
        # the conversion report's implied passes (jumps over stages) are read from
        # the few rows that made one, not from a scan of the history
        create_index(
            self.env.cr,
            "funnel_stage_history_implied_pass_index",
            self._table,
            ["date_in"],
            where="is_first_pass AND stage_rank > prior_top_rank + 1",
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
            "stage_rank": None,
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
        path of the pipeline. The stages passed of ``leads`` follow in the same
        statement (``funnel.stage.pass._history_sql``).

        :param values_list: list of dicts from ``_row_values``
        """
        if not leads or not (close or values_list):
            return
        self.flush_model()
        uid = self.env.uid
        ctes = []
        # how the closed stays end, by the row that follows them
        exits = dict.fromkeys(leads.ids)
        exits.update((values["lead_id"], _exit_kind(values)) for values in values_list)
        if close:
            ctes.append(
                SQL(
                    """
                    closed AS (
                        UPDATE funnel_stage_history h
                           SET date_out = %(now)s,
                               is_open = FALSE,
                               days_in_stage = ROUND(
                                   EXTRACT(EPOCH FROM %(now)s - h.date_in)::numeric
                                   / 86400, 1),
                               exit_kind = e.kind,
                               got_past = h.got_past
                                   OR e.kind IN ('advanced', 'won'),
                               write_date = %(now)s,
                               write_uid = %(uid)s
                          FROM unnest(%(ids)s::int[], %(kinds)s::varchar[])
                               AS e(lead_id, kind)
                         WHERE h.lead_id = e.lead_id AND h.is_open
                     RETURNING h.lead_id, h.stage_id, h.is_first_pass,
                               h.days_in_stage, e.kind
                    )
                    """,
                    now=now,
                    uid=uid,
                    ids=list(exits),
                    kinds=list(exits.values()),
                )
            )
        main = SQL("SELECT 1")
        if values_list:
            # the rank of the stage entered, as the stages are ordered now
            rank = self.env["crm.stage"]._funnel_rank()
            for values in values_list:
                if values["stage_rank"] is None:
                    values["stage_rank"] = rank.get(values["stage_id"])
            columns = SQL(", ").join(SQL.identifier(name) for name in ROW_COLUMNS)
            arrays = SQL(", ").join(
                SQL("%s::%s[]", [values[name] for values in values_list], SQL(kind))
                for name, kind in ROW_COLUMNS.items()
            )
            ctes.append(
                SQL(
                    """
                    opened AS (
                        SELECT new.*, top.rank AS top_rank,
                               COALESCE(new.stage_rank > COALESCE(top.rank, -1),
                                        FALSE) AS is_first_pass
                          FROM unnest(%(arrays)s) AS new(%(columns)s)
                          LEFT JOIN LATERAL (
                              SELECT max(p.stage_rank) AS rank
                                FROM funnel_stage_history p
                               WHERE p.lead_id = new.lead_id
                          ) top ON TRUE
                    ),
                    -- a first pass further than ever: the opportunity got past
                    -- the stages of its earlier stays (the current one: closed)
                    got_past AS (
                        UPDATE funnel_stage_history h
                           SET got_past = TRUE
                          FROM opened o
                         WHERE o.is_first_pass AND h.lead_id = o.lead_id
                           AND NOT h.is_open AND NOT h.got_past
                           AND h.stage_rank < o.stage_rank
                    )
                    """,
                    columns=columns,
                    arrays=arrays,
                )
            )
            main = SQL(
                """
                INSERT INTO funnel_stage_history (
                    %(columns)s, is_first_pass, prior_top_rank, is_open,
                    got_past, gate_waived, moved_by_id,
                    create_uid, create_date, write_uid, write_date)
                SELECT %(columns)s, is_first_pass, top_rank,
                       TRUE, FALSE, FALSE, %(uid)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM opened
                """,
                columns=columns,
                uid=uid,
                now=now,
            )
        ctes.extend(
            self.env["funnel.stage.pass"]._history_sql(
                leads, closed=close, opened=values_list
            )
        )
        self.env.cr.execute(SQL("WITH %s %s", SQL(", ").join(ctes), main))
        # the ORM did not see these rows
        self.invalidate_model(
            [
                "date_out",
                "is_open",
                "days_in_stage",
                "exit_kind",
                "got_past",
                "write_date",
                "write_uid",
            ]
        )
        leads.invalidate_recordset(["stage_history_ids"])
        self.env["funnel.stage.pass"].invalidate_model()

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
        self.env["funnel.stage.pass"]._refresh_all(leads.ids)
