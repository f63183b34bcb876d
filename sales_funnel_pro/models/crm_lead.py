"""The opportunity of the funnel: ``crm.lead``, extended in one file per concern.

Each concern adds its fields, its computes and its own small ``create``/``write``
override. ``models/__init__.py`` imports the files in this order, and the ORM
stacks the classes so that the last one imported runs first (outermost):

1. this file: what the concerns share (the states open, won and lost, the
   columns added at install, counters) and the innermost ``create``/``write``,
   whose docstrings give the whole order;
2. ``crm_lead_history.py``: the stage history (a row per stay, won, lost,
   restored), days in stage, rotting, backward moves;
3. ``crm_lead_activity.py``: the activity log, the next step, the last touch,
   neglected opportunities;
4. ``crm_lead_forecast.py``: the forecast category, closing date pushes, the
   forecast board and the indexes the forecast reads;
5. ``crm_lead_gate.py``: the exit criteria checks and the gates of stage moves;
6. ``crm_lead_gate_create.py``: the gates of the start, for an opportunity
   created (copied, imported) directly in a later stage, or a lead converted
   there.

Three more files add what the forecast board and the hand-off read beside the
cards, without a ``create``/``write`` of their own: ``crm_lead_handoff.py``,
``crm_lead_replacement.py`` and ``crm_lead_pipeline_change.py``.
"""

from odoo import api, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists

# opportunities named one by one in a message, the rest are counted
MAX_NAMED_LEADS = 20
# context key of a caller that writes the stage history and the exit criteria
# checks of the opportunities it creates itself (the demo generator): creating
# them opens no history row and syncs no check, logging activities on them syncs
# no check
LOAD_HISTORY_KEY = "funnel_load_history"


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # States: one definition of open, won and lost
    # ------------------------------------------------------------

    @api.model
    def _funnel_state_sql(self, state, alias="l"):
        """Whether the opportunity ``alias`` (a row of crm_lead) is ``state``, in
        SQL; with ``alias`` None, on bare columns (for index predicates).

        - open: an active opportunity that is not won;
        - won: an active opportunity in a won stage, which is what the Closed
          forecast category says (see ``crm_lead_forecast``): the condition
          reads the opportunity's own row, without joining its stage;
        - lost: an archived opportunity with a zero probability, as crm marks
          the lost ones;
        - archived: an archived opportunity with a probability, merely archived
          (crm does not count it as lost).

        The same definition in Python is ``_funnel_state``.
        """

        def column(name):
            return SQL.identifier(alias, name) if alias else SQL.identifier(name)

        opportunity = SQL("%s = 'opportunity'", column("type"))
        if state in ("lost", "archived"):
            return SQL(
                "(%s AND NOT %s AND COALESCE(%s, 0) %s 0)",
                opportunity,
                column("active"),
                column("probability"),
                SQL("=" if state == "lost" else "<>"),
            )
        return SQL(
            "(%s AND %s AND %s %s 'closed')",
            opportunity,
            column("active"),
            column("forecast_category"),
            SQL("=" if state == "won" else "IS DISTINCT FROM"),
        )

    def _funnel_state(self):
        """ "open", "won", "lost" or "archived": the state of the opportunity, as
        ``_funnel_state_sql`` defines it."""
        self.ensure_one()
        if not self.active:
            return "archived" if self.probability else "lost"
        return "won" if self.forecast_category == "closed" else "open"

    def _funnel_pass_outcome(self):
        """ "won", "lost" or "open" (also an archived opportunity, and a lead):
        the outcome the stages it passed carry (``funnel.stage.pass``), as
        ``_funnel_state_sql`` tells it."""
        self.ensure_one()
        if self.type != "opportunity":
            return "open"
        state = self._funnel_state()
        return state if state in ("won", "lost") else "open"

    # ------------------------------------------------------------
    # Install
    # ------------------------------------------------------------

    def _funnel_column_defaults(self):
        """The stored columns of the concerns and the value they start with on
        existing opportunities: ``{column: (SQL type, value)}``."""
        return {}

    def _auto_init(self):
        # Installing on a large pipeline: add the new stored columns with their
        # value as a default, which PostgreSQL does without rewriting the table,
        # instead of computing them record by record.
        cr = self.env.cr
        for column, (column_type, value) in self._funnel_column_defaults().items():
            if column_exists(cr, self._table, column):
                continue
            cr.execute(
                SQL(
                    "ALTER TABLE %s ADD COLUMN %s %s DEFAULT %s",
                    SQL.identifier(self._table),
                    SQL.identifier(column),
                    SQL(column_type),
                    value,
                )
            )
            cr.execute(
                SQL(
                    "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
                    SQL.identifier(self._table),
                    SQL.identifier(column),
                )
            )
        return super()._auto_init()

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """Create opportunities. The concerns' overrides run from the outside
        in, each around the next one:

        1. the gates of the start (``crm_lead_gate_create``) take the sales
           manager's reasons out of the values; once the opportunities exist,
           with their checks and history: refuse those created past unmet
           criteria of the stages before theirs (``block``) or in a stage that
           takes no new opportunity, unless a reason waives them, or note the
           skipped criteria (``warn``);
        2. the gate (``crm_lead_gate``), once the opportunities exist, creates
           the checks of the stage each one starts in;
        3. the history (``crm_lead_history``) opens their first history rows;
        4. this one, the innermost of the addon, then crm's own ``create``.
        """
        return super().create(vals_list)

    def write(self, vals):
        """Write opportunities. The concerns' overrides run from the outside in,
        each around the next one:

        1. the gates of the start (``crm_lead_gate_create``), after: judges the
           leads converted into opportunities as if they were created in their
           stage;
        2. the gate (``crm_lead_gate``), before anything is written: refuses a
           move to a later stage whose exit criteria are unmet (``block``), or
           notes them (``warn``); after: notes the skipped criteria on the new
           history rows and in the chatter, and brings the checks in line with
           the new stage, the active flag and the fields the criteria read;
        3. the forecast (``crm_lead_forecast``): counts the closing dates moved
           later;
        4. the history (``crm_lead_history``), after crm's write: closes the
           current history rows of the opportunities that moved, were lost or
           were restored, and opens the new ones;
        5. this one, the innermost of the addon, then crm's own ``write``.
        """
        return super().write(vals)

    # ------------------------------------------------------------
    # Concurrency
    # ------------------------------------------------------------

    def _funnel_lock_rows(self):
        """Lock the rows of these opportunities until the end of the transaction,
        before writing what belongs to them: a second request on one of them
        waits for this one, then fails with a serialization failure, which Odoo
        retries on what this one committed (instead of writing the same rows
        twice and failing on a unique constraint)."""
        if not self.ids:
            return
        self.env.cr.execute(
            SQL(
                "SELECT id FROM crm_lead WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                tuple(self.ids),
            )
        )

    # ------------------------------------------------------------
    # Counters
    # ------------------------------------------------------------

    def _funnel_increment(self, field_name):
        """Add one to a counter of the opportunities, in one statement."""
        if not self:
            return
        self.flush_recordset([field_name])
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET %(field)s = COALESCE(%(field)s, 0) + 1 "
                "WHERE id IN %(ids)s",
                field=SQL.identifier(field_name),
                ids=tuple(self.ids),
            )
        )
        self.invalidate_recordset([field_name])
