from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_unique_index

PASS_OUTCOMES = [
    ("open", "Open"),
    ("won", "Won"),
    ("lost", "Lost"),
]
# the columns of a pass that its refresh compares and writes
PASS_COLUMNS = (
    "stage_rank",
    "date_pass",
    "is_skipped",
    "days_first_stay",
    "user_id",
    "team_id",
    "company_id",
    "amount",
    "got_past",
    "outcome",
    "entry_stage_id",
)


class FunnelStagePass(models.Model):
    """A stage passed the first time by an opportunity: the rows of the
    conversion report, kept narrow and stored so that its pivot reads one small
    table.

    Passes are derived from the stage history (see ``funnel.conversion.report``
    for what a pass is) and carry the opportunity's outcome: they are refreshed,
    per opportunity and in one statement, whenever its history or its outcome
    changes (``_refresh``), and never written otherwise.
    """

    _name = "funnel.stage.pass"
    _description = "Stage Passed the First Time"
    _log_access = False
    _order = "date_pass desc, id desc"
    _rec_name = "stage_id"

    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", required=True, ondelete="cascade"
    )
    stage_id = fields.Many2one("crm.stage", required=True, ondelete="cascade")
    stage_rank = fields.Integer(aggregator=False)
    date_pass = fields.Datetime(string="Passed On", required=True)
    is_skipped = fields.Boolean(string="Skipped")
    # a float (not numeric), which the medians sort fastest
    days_first_stay = fields.Float(string="Days in First Stay")
    user_id = fields.Many2one("res.users", string="Salesperson", ondelete="set null")
    team_id = fields.Many2one("crm.team", string="Sales Team", ondelete="set null")
    company_id = fields.Many2one("res.company", ondelete="set null")
    amount = fields.Float(string="Amount at Pass")
    got_past = fields.Boolean(
        help="The opportunity got past the stage: it left it for a later stage or "
        "was won, or jumped past it."
    )
    outcome = fields.Selection(
        PASS_OUTCOMES,
        required=True,
        default="open",
        help="The opportunity's state today: open (or archived), won or lost.",
    )

    entry_stage_id = fields.Many2one(
        "crm.stage",
        string="Entered In",
        ondelete="set null",
        help="The stage the opportunity entered the funnel in (where it was "
        "created, or converted): its first stage passed. The cumulative conversion "
        "counts the opportunities that entered in the first stage of the funnel.",
    )

    def init(self):
        # one pass per opportunity and stage; the refresh finds them by it
        create_unique_index(
            self.env.cr,
            "funnel_stage_pass_lead_stage_uniq",
            self._table,
            ["lead_id", "stage_id"],
        )
        # What the conversion report counts of each pass, kept by PostgreSQL
        # from the outcome and got_past (so never out of line with them, however
        # the pass is written): the report's grouped queries then add up two
        # booleans per pass instead of comparing its outcome three times.
        # advanced: it got past the stage, or its opportunity was won since;
        # lost_here: its opportunity was lost without getting past the stage.
        self.env.cr.execute(
            SQL(
                """
                ALTER TABLE %(table)s
                  ADD COLUMN IF NOT EXISTS advanced boolean GENERATED ALWAYS AS
                      (COALESCE(got_past, FALSE) OR outcome = 'won') STORED,
                  ADD COLUMN IF NOT EXISTS lost_here boolean GENERATED ALWAYS AS
                      (NOT COALESCE(got_past, FALSE) AND outcome = 'lost') STORED
                """,
                table=SQL.identifier(self._table),
            )
        )

    # ------------------------------------------------------------
    # Refresh: the rows are written by this method only
    # ------------------------------------------------------------

    @api.model
    def _history_sql(self, leads, closed, opened):
        """What ``_refresh`` would write of the passes of ``leads``, as the common
        table expressions of the statement in which
        ``funnel.stage.history._write_rows`` closes and opens their history rows
        (a stage move stays one statement): the increments that these rows make.
        What the rows cannot change is left out of the statement, which is
        planned at every move.

        :param closed: the statement has the CTE ``closed``, the rows closed
            (``lead_id``, ``stage_id``, ``is_first_pass``, ``days_in_stage`` and
            the exit ``kind``)
        :param opened: the values of the rows opened (``_row_values``); the
            statement has the CTE ``opened`` (with their ``is_first_pass`` and
            ``top_rank``) when there are any
        :return: list of SQL
        """
        ctes = [
            SQL(
                "pass_outcome AS (SELECT * FROM unnest(%s::int[], %s::varchar[]) "
                "AS o(lead_id, outcome))",
                leads.ids,
                [lead._funnel_pass_outcome() for lead in leads],
            )
        ]
        Stage = self.env["crm.stage"]
        rank = Stage._funnel_rank()
        # rows that may pass the stage they enter: entering a stage other than
        # their last one (not a loss or a restore), not a won stage (a first
        # pass: opened says)
        entering = [
            values
            for values in opened
            if values["stage_id"] != values["stage_from_id"]
            and not Stage.browse(values["stage_id"]).is_won
        ]
        # a stage jumped over: the new stage is more than one further than the
        # one left (the furthest reached before: opened says)
        jumping = any(
            rank.get(values["stage_id"], 0) > rank.get(values["stage_from_id"], 0) + 1
            for values in opened
            if values["stage_from_id"]
        )
        # the first stay closed: its days, and whether it got past the stage;
        # a first pass further than ever: the opportunity got past the stages
        # before it
        this_stay = SQL("c.stage_id = p.stage_id AND NOT p.is_skipped")
        days = (
            SQL(
                "CASE WHEN %s THEN c.days_in_stage ELSE p.days_first_stay END",
                this_stay,
            )
            if closed
            else SQL("p.days_first_stay")
        )
        got_past = SQL(
            "(p.got_past OR %s OR %s)",
            SQL("COALESCE(%s AND c.kind IN ('advanced', 'won'), FALSE)", this_stay)
            if closed
            else SQL("FALSE"),
            SQL("COALESCE(n.is_first_pass AND p.stage_rank < n.stage_rank, FALSE)")
            if opened
            else SQL("FALSE"),
        )
        ctes.append(
            SQL(
                """
                pass_updated AS (
                    UPDATE funnel_stage_pass p
                       SET outcome = o.outcome,
                           days_first_stay = %(days)s,
                           got_past = %(got_past)s
                      FROM pass_outcome o %(closed)s %(opened)s
                     WHERE p.lead_id = o.lead_id
                       AND (p.outcome IS DISTINCT FROM o.outcome
                            OR p.days_first_stay IS DISTINCT FROM %(days)s
                            OR p.got_past IS DISTINCT FROM %(got_past)s)
                )
                """,
                days=days,
                got_past=got_past,
                closed=SQL(
                    "LEFT JOIN closed c ON c.lead_id = o.lead_id AND c.is_first_pass"
                )
                if closed
                else SQL(""),
                opened=SQL("LEFT JOIN opened n ON n.lead_id = o.lead_id")
                if opened
                else SQL(""),
            )
        )
        if not entering and not jumping:
            return ctes
        new_passes = []
        if entering:
            new_passes.append(
                SQL(
                    """
                -- the stage entered the first time
                SELECT n.lead_id, n.stage_id, n.stage_rank, n.date_in, FALSE,
                       NULL::float8, n.user_id, n.team_id, n.company_id,
                       n.expected_revenue, FALSE, o.outcome
                  FROM opened n
                  JOIN pass_outcome o ON o.lead_id = n.lead_id
                 WHERE n.is_first_pass AND n.lead_id = ANY(%s::int[])
                """,
                    [values["lead_id"] for values in entering],
                )
            )
        if jumping:
            new_passes.append(
                SQL(
                    """
                    -- the stages jumped past
                    SELECT n.lead_id, so.id, so.rank, n.date_in, TRUE,
                           NULL::float8, n.user_id, n.team_id, n.company_id,
                           n.expected_revenue, TRUE, o.outcome
                      FROM opened n
                      JOIN pass_outcome o ON o.lead_id = n.lead_id
                      JOIN (%s) so
                        ON so.rank > n.top_rank AND so.rank < n.stage_rank
                      JOIN crm_stage s ON s.id = so.id
                     WHERE n.is_first_pass AND n.stage_rank > n.top_rank + 1
                       AND s.is_won IS NOT TRUE
                       AND (s.team_id IS NULL OR s.team_id = n.team_id)
                    """,
                    Stage._funnel_rank_sql(),
                )
            )
        ctes.append(
            SQL(
                """
                pass_inserted AS (
                    INSERT INTO funnel_stage_pass (lead_id, stage_id, %(columns)s)
                    SELECT x.*,
                           -- the stage the opportunity entered the funnel in:
                           -- its passes say it, or this is its first row
                           COALESCE(
                               (SELECT p0.entry_stage_id FROM funnel_stage_pass p0
                                 WHERE p0.lead_id = x.lead_id LIMIT 1),
                               (SELECT n.stage_id FROM opened n
                                 WHERE n.lead_id = x.lead_id AND n.top_rank IS NULL))
                      FROM (%(new_passes)s) AS x
                        ON CONFLICT (lead_id, stage_id) DO NOTHING
                )
                """,
                columns=SQL(", ").join(SQL.identifier(name) for name in PASS_COLUMNS),
                new_passes=SQL(" UNION ALL ").join(new_passes),
            )
        )
        return ctes

    @api.model
    def _refresh(self, leads):
        """Bring the passes of the opportunities ``leads`` in line with their
        stage history (read from the database) and their outcome, taken from the
        records (``crm.lead._funnel_pass_outcome``) so that nothing needs to be
        flushed first: the path of every stage move.

        :return: the number of passes added, changed or deleted
        """
        if not leads:
            return 0
        return self._write_passes(
            leads.ids,
            SQL(
                "SELECT * FROM unnest(%s::int[], %s::varchar[]) AS o(lead_id, outcome)",
                leads.ids,
                [lead._funnel_pass_outcome() for lead in leads],
            ),
        )

    @api.model
    def _refresh_all(self, lead_ids=None):
        """``_refresh`` of the opportunities ``lead_ids`` (of every one when
        None), with their outcome read from ``crm_lead``: after a backfill, an
        upgrade, or a change of the stages."""
        if lead_ids is not None and not lead_ids:
            return 0
        Lead = self.env["crm.lead"]
        Lead.flush_model(["active", "forecast_category", "probability", "type"])
        return self._write_passes(
            lead_ids,
            SQL(
                "SELECT l.id AS lead_id, CASE WHEN %s THEN 'won' WHEN %s THEN 'lost' "
                "ELSE 'open' END AS outcome FROM crm_lead l",
                Lead._funnel_state_sql("won", "l"),
                Lead._funnel_state_sql("lost", "l"),
            ),
        )

    @api.model
    def _write_passes(self, lead_ids, outcomes):
        """Write the passes of ``lead_ids`` (all when None) in one statement:
        passes gained are added, changed ones updated, lost ones deleted.

        :param outcomes: a query of the columns ``lead_id`` and ``outcome``
        :return: the number of passes added, changed or deleted
        """
        self.env["funnel.stage.history"].flush_model()
        self.env["crm.stage"].flush_model(["is_won", "sequence", "team_id"])

        def scope(alias):
            if lead_ids is None:
                return SQL("TRUE")
            return SQL(
                "%s = ANY(%s::int[])", SQL.identifier(alias, "lead_id"), lead_ids
            )

        columns = SQL(", ").join(SQL.identifier(name) for name in PASS_COLUMNS)
        changed = SQL(" OR ").join(
            SQL(
                "p.%s IS DISTINCT FROM d.%s",
                SQL.identifier(name),
                SQL.identifier(name),
            )
            for name in PASS_COLUMNS
        )
        self.env.cr.execute(
            SQL(
                """
WITH stage_order AS (%(stage_order)s),
outcomes AS (%(outcomes)s),
passed AS (
    -- the stages entered the first time: got past them if the stay ended by
    -- advancing or a win, or if the opportunity reached a later stage after
    SELECT h.lead_id, h.stage_id, h.stage_rank, h.date_in AS date_pass,
           FALSE AS is_skipped,
           CASE WHEN h.date_out IS NOT NULL THEN h.days_in_stage END
               AS days_first_stay,
           h.user_id, h.team_id, h.company_id, h.expected_revenue AS amount,
           h.got_past, h.prior_top_rank IS NULL AS is_entry
      FROM funnel_stage_history h
      JOIN crm_stage s ON s.id = h.stage_id
     WHERE h.is_first_pass AND s.is_won IS NOT TRUE AND %(scope)s
    UNION ALL
    -- the stages jumped past: the opportunity got past them
    SELECT h.lead_id, so.id, so.rank, h.date_in, TRUE, NULL::float8, h.user_id,
           h.team_id, h.company_id, h.expected_revenue, TRUE, FALSE
      FROM funnel_stage_history h
      JOIN stage_order so
        ON so.rank > h.prior_top_rank AND so.rank < h.stage_rank
      JOIN crm_stage s ON s.id = so.id
     WHERE h.is_first_pass AND h.stage_rank > h.prior_top_rank + 1
       AND s.is_won IS NOT TRUE
       AND (s.team_id IS NULL OR s.team_id = h.team_id) AND %(scope)s
),
derived AS (
    -- a stage passed once (stages merged into one keep their first pass); the
    -- stage the opportunity entered the funnel in, on each
    SELECT DISTINCT ON (pa.lead_id, pa.stage_id) pa.*, o.outcome,
           max(CASE WHEN pa.is_entry THEN pa.stage_id END)
               OVER (PARTITION BY pa.lead_id) AS entry_stage_id
      FROM passed pa
      JOIN outcomes o ON o.lead_id = pa.lead_id
     ORDER BY pa.lead_id, pa.stage_id, pa.date_pass, pa.is_skipped
),
updated AS (
    UPDATE funnel_stage_pass p
       SET %(assign)s
      FROM derived d
     WHERE p.lead_id = d.lead_id AND p.stage_id = d.stage_id AND (%(changed)s)
    RETURNING 1
),
deleted AS (
    DELETE FROM funnel_stage_pass p
     WHERE %(pass_scope)s
       AND NOT EXISTS (SELECT 1 FROM derived d
                        WHERE d.lead_id = p.lead_id AND d.stage_id = p.stage_id)
    RETURNING 1
),
inserted AS (
    INSERT INTO funnel_stage_pass (lead_id, stage_id, %(columns)s)
    SELECT lead_id, stage_id, %(columns)s FROM derived
        ON CONFLICT (lead_id, stage_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM deleted)
       + (SELECT count(*) FROM inserted)
                """,
                stage_order=self.env["crm.stage"]._funnel_rank_sql(),
                outcomes=outcomes,
                scope=scope("h"),
                pass_scope=scope("p"),
                assign=SQL(", ").join(
                    SQL("%s = d.%s", SQL.identifier(name), SQL.identifier(name))
                    for name in PASS_COLUMNS
                ),
                changed=changed,
                columns=columns,
            )
        )
        written = self.env.cr.fetchone()[0]
        self.invalidate_model()
        return written

    @api.model
    def _refresh_stages(self, stages):
        """The stages ``stages`` became won or not, or changed team: refresh the
        passes of the opportunities that were in them, and of those that jumped
        over stages."""
        self.env["funnel.stage.history"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT lead_id FROM funnel_stage_history
                 WHERE stage_id = ANY(%s::int[])
                    OR (is_first_pass AND stage_rank > prior_top_rank + 1)
                """,
                stages.ids,
            )
        )
        return self._refresh_all([lead_id for (lead_id,) in self.env.cr.fetchall()])

    @api.model
    def _refresh_jumps(self):
        """The stages were reordered, added or removed: refresh the passes of
        the opportunities that jumped over stages, whose implied passes are
        told by the order of the stages today."""
        self.env["funnel.stage.history"].flush_model()
        self.env.cr.execute(
            """
            SELECT DISTINCT lead_id FROM funnel_stage_history
             WHERE is_first_pass AND stage_rank > prior_top_rank + 1
            """
        )
        return self._refresh_all([lead_id for (lead_id,) in self.env.cr.fetchall()])
