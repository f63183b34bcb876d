from collections import namedtuple

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

# set by the system only: a user may change the state and the evidence
AUDIT_FIELDS = {
    "lead_id",
    "is_current",
    "criterion_id",
    "done_by_id",
    "done_date",
    "waived_by_id",
    "waived_date",
    "waive_reason",
}
CHECK_STATES = [("todo", "To Do"), ("met", "Met"), ("waived", "Waived")]
# a check as the gates read it, without the ORM's per-record cost
CheckRow = namedtuple("CheckRow", "id state is_current")


class FunnelLeadCheck(models.Model):
    _name = "funnel.lead.check"
    _description = "Opportunity Exit Criterion Check"
    _order = "criterion_id, id"
    _rec_name = "criterion_id"

    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", required=True, ondelete="cascade", index=True
    )
    criterion_id = fields.Many2one(
        "funnel.stage.criterion", required=True, ondelete="cascade", index=True
    )
    stage_id = fields.Many2one(related="criterion_id.stage_id")
    kind = fields.Selection(related="criterion_id.kind")
    guidance = fields.Text(related="criterion_id.guidance")
    required = fields.Boolean(related="criterion_id.required")
    company_id = fields.Many2one(related="lead_id.company_id")
    is_current = fields.Boolean(
        string="Current Stage",
        readonly=True,
        help="The criterion belongs to the stage the opportunity is in.",
    )
    state = fields.Selection(CHECK_STATES, default="todo", required=True)
    evidence = fields.Text(help="What shows that the criterion is met.")
    done_by_id = fields.Many2one("res.users", string="Met By", readonly=True)
    done_date = fields.Datetime(string="Met On", readonly=True)
    waived_by_id = fields.Many2one("res.users", string="Waived By", readonly=True)
    waived_date = fields.Datetime(string="Waived On", readonly=True)
    waive_reason = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "lead_criterion_uniq",
            "unique(lead_id, criterion_id)",
            "An opportunity has one check per exit criterion.",
        ),
    ]

    def write(self, vals):
        if not self.env.su and AUDIT_FIELDS & vals.keys():
            raise UserError(
                self.env._(
                    "The opportunity, the criterion and who met or waived it are "
                    "recorded by the system; they cannot be changed."
                )
            )
        if "state" in vals and not self.env.su:
            self._check_manual_state(vals["state"])
            now = fields.Datetime.now()
            if vals["state"] == "met":
                vals.update(done_by_id=self.env.uid, done_date=now)
            elif vals["state"] == "todo":
                vals.update(
                    done_by_id=False,
                    done_date=False,
                    waived_by_id=False,
                    waived_date=False,
                    waive_reason=False,
                )
        if not self.env.su:
            self.lead_id.check_access("write")
        return super().write(vals)

    def _check_manual_state(self, state):
        """Refuse the state changes a user may not make by hand."""
        if state == "waived":
            raise UserError(
                self.env._(
                    "Criteria are waived through “Advance anyway”, which asks a "
                    "sales manager for a reason."
                )
            )
        automatic = self.filtered(lambda c: c.kind != "checklist")
        if automatic:
            raise UserError(
                self.env._(
                    "“%(criterion)s” is checked automatically from the opportunity; "
                    "it cannot be ticked by hand.",
                    criterion=automatic[0].criterion_id.name,
                )
            )
        waived = self.filtered(lambda c: c.state == "waived")
        if waived and not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._(
                    "Only a sales manager can undo the waiver of “%(criterion)s”.",
                    criterion=waived[0].criterion_id.name,
                )
            )

    # ------------------------------------------------------------
    # Upkeep: the checks are written by these methods
    # ------------------------------------------------------------

    @api.model
    def _of_leads(self, leads):
        """All the checks of ``leads``, read in one query as plain rows (a bulk
        move of thousands of opportunities judges tens of thousands of checks).

        :return: dict (lead id, criterion id) -> CheckRow(id, state, is_current)
        """
        if not leads:
            return {}
        self.flush_model(["lead_id", "criterion_id", "state", "is_current"])
        self.env.cr.execute(
            SQL(
                "SELECT lead_id, criterion_id, id, state, is_current "
                "FROM funnel_lead_check WHERE lead_id = ANY(%s)",
                leads.ids,
            )
        )
        return {
            (lead_id, criterion_id): CheckRow(check_id, state, bool(is_current))
            for lead_id, criterion_id, check_id, state, is_current in (
                self.env.cr.fetchall()
            )
        }

    @api.model
    def _sync(self, leads, checks=None):
        """Bring the checks of ``leads`` in line with their stage: the checks of
        the current stage's criteria exist, field and activity checks say what
        the opportunity shows now, and only they are marked current; then set
        how qualified each opportunity is from what was written.

        :param checks: result of ``_of_leads`` for these opportunities, when the
            caller has it
        """
        if not leads:
            return
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        leads = leads.sudo()
        if not gates:
            leads._funnel_set_qualification(gates, {})
            return
        if checks is None:
            checks = self._of_leads(leads)
        pairs = [
            (lead, info)
            for lead in leads
            if lead.stage_id.id in gates
            for info in gates[lead.stage_id.id].criteria
        ]
        met = leads._funnel_met(
            [pair for pair in pairs if pair[1].kind != "checklist"], checks
        )
        now = fields.Datetime.now()
        new_rows, to_met, to_todo, current = [], [], [], set()
        done = {}
        for lead, info in pairs:
            key = (lead.id, info.id)
            check = checks.get(key)
            auto_met = info.kind != "checklist" and key in met
            if not check:
                new_rows.append(
                    (lead.id, info.id, "met", self.env.uid, now)
                    if auto_met
                    else (lead.id, info.id, "todo", None, None)
                )
                state = "met" if auto_met else "todo"
            else:
                current.add(check.id)
                state = check.state
                if info.kind != "checklist" and check.state != "waived":
                    state = "met" if auto_met else "todo"
                    if state != check.state:
                        (to_met if auto_met else to_todo).append(check.id)
            if state != "todo":
                done.setdefault(lead.id, set()).add(info.id)
        Check = self.sudo()
        Check.browse(to_met).write(
            {"state": "met", "done_by_id": self.env.uid, "done_date": now}
        )
        Check.browse(to_todo).write(
            {"state": "todo", "done_by_id": False, "done_date": False}
        )
        flips = {
            check.id: check.id in current
            for check in checks.values()
            if (check.id in current) != check.is_current
        }
        self._write_current(new_rows, flips, now)
        leads.invalidate_recordset(["check_ids", "current_check_ids", "past_check_ids"])
        leads._funnel_set_qualification(gates, done)
        evidence = leads._funnel_evidence(
            [pair for pair in pairs if pair[1].kind != "checklist"], met
        )
        if evidence:
            self._write_evidence(leads, evidence)

    @api.model
    def _sync_kind(self, leads, kind):
        """``_sync`` of the opportunities among ``leads`` whose current stage has
        criteria of ``kind``: what changed (their logged activities, for the
        kind "activity") can change no other check."""
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        stage_ids = {
            stage_id
            for stage_id, gate in gates.items()
            if any(info.kind == kind for info in gate.criteria)
        }
        if stage_ids:
            self._sync(
                leads.sudo().filtered(lambda lead: lead.stage_id.id in stage_ids)
            )

    @api.model
    def _write_evidence(self, leads, evidence):
        """Write the evidence a kind fills itself on the checks that do not say
        it yet (a waived check keeps its own)."""
        checks = self.sudo().search_fetch(
            [("lead_id", "in", leads.ids), ("state", "!=", "waived")],
            ["lead_id", "criterion_id", "evidence"],
        )
        for check in checks:
            key = (check.lead_id.id, check.criterion_id.id)
            if key in evidence and (check.evidence or False) != evidence[key]:
                check.evidence = evidence[key]

    @api.model
    def _write_current(self, rows, flips, now):
        """Insert the new checks of the current stage and set which existing
        checks are current, in one statement however many (applying a template to
        a large pipeline creates hundreds of thousands).

        :param rows: list of (lead id, criterion id, state, met by, met on)
        :param flips: dict check id -> whether it is now current
        """
        if not rows and not flips:
            return
        flipped = self.sudo().browse(list(flips))
        flipped.flush_recordset()
        lead_ids, criterion_ids, states, done_by_ids, done_dates = (
            zip(*rows, strict=True) if rows else ((),) * 5
        )
        self.env.cr.execute(
            SQL(
                """
                WITH flipped AS (
                    UPDATE funnel_lead_check c
                       SET is_current = f.is_current,
                           write_uid = %(uid)s, write_date = %(now)s
                      FROM unnest(%(flip_ids)s::int[], %(flip_values)s::bool[])
                           AS f(id, is_current)
                     WHERE c.id = f.id
                )
                INSERT INTO funnel_lead_check (
                    lead_id, criterion_id, state, is_current, done_by_id, done_date,
                    create_uid, create_date, write_uid, write_date)
                SELECT lead_id, criterion_id, state, TRUE, done_by_id, done_date,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(lead_ids)s::int[], %(criterion_ids)s::int[],
                              %(states)s::varchar[], %(done_by_ids)s::int[],
                              %(done_dates)s::timestamp[])
                       AS new(lead_id, criterion_id, state, done_by_id, done_date)
                """,
                uid=self.env.uid,
                now=now,
                flip_ids=list(flips),
                flip_values=list(flips.values()),
                lead_ids=list(lead_ids),
                criterion_ids=list(criterion_ids),
                states=list(states),
                done_by_ids=list(done_by_ids),
                done_dates=list(done_dates),
            )
        )
        flipped.invalidate_recordset(["is_current", "write_uid", "write_date"])

    @api.model
    def _waive(self, unmet, reason):
        """Waive criteria of opportunities with ``reason``, by the current user
        (the waiver wizard checks that it is a sales manager).

        :param unmet: dict crm.lead record -> funnel.stage.criterion records
        """
        if not unmet:
            return
        Check = self.sudo()
        waiver = {
            "state": "waived",
            "waived_by_id": self.env.uid,
            "waived_date": fields.Datetime.now(),
            "waive_reason": reason,
        }
        pairs = {
            (lead.id, criterion.id)
            for lead, criteria in unmet.items()
            for criterion in criteria
        }
        existing = Check.search(
            [
                ("lead_id", "in", [lead.id for lead in unmet]),
                ("criterion_id", "in", list({criterion for __, criterion in pairs})),
            ]
        ).filtered(lambda c: (c.lead_id.id, c.criterion_id.id) in pairs)
        existing.write(waiver)
        pairs -= {(c.lead_id.id, c.criterion_id.id) for c in existing}
        Criterion = self.env["funnel.stage.criterion"].sudo()
        Lead = self.env["crm.lead"]
        Check.create(
            [
                dict(
                    waiver,
                    lead_id=lead_id,
                    criterion_id=criterion_id,
                    is_current=Criterion.browse(criterion_id).stage_id
                    == Lead.browse(lead_id).stage_id,
                )
                for lead_id, criterion_id in sorted(pairs)
            ]
        )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_mark_met(self):
        """The "Mark Met" button of a to-do check. A check already met or
        waived in the meantime (a sales manager advanced the opportunity
        anyway while the salesperson's screen still showed it to do) is left
        as it is: its criterion is satisfied, and the waiver stands."""
        self.filtered(lambda check: check.state == "todo").write({"state": "met"})

    def action_reset(self):
        self.write({"state": "todo"})
