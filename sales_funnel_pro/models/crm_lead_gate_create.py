from collections import defaultdict, namedtuple

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import plaintext2html

from .crm_lead import LOAD_HISTORY_KEY, MAX_NAMED_LEADS

# what starting directly in its stage passes, for an opportunity: the first
# stage of its funnel, whether its stage takes new opportunities, and the
# required criteria (CriterionInfo) of the gated stages from the first stage on
StartGate = namedtuple("StartGate", "first_stage_id door_closed criteria")
# the sales manager's reason for starting past the gates, in the values of a
# create (or of the write that converts a lead), or for a whole import as the
# default of the context
WAIVE_REASON_FIELD = "funnel_waive_reason"
# how an opportunity starts in its stage
CREATE, CONVERT = "create", "convert"


class CrmLead(models.Model):
    """The gates of the funnel's door: an opportunity created, copied or
    imported directly in a later stage of its funnel, or a lead converted there,
    passes the gates of the stages before it, as a forward move from the first
    stage would. Only what it is created with can meet their criteria (fields);
    checklist items and activities cannot be met yet. A stage that does not take
    new opportunities (``crm.stage.allow_create``) refuses them, whatever the
    criteria, as long as a stage before it has a gate. A sales manager may start
    an opportunity past the gates with a reason.

    Leads, and opportunities whose way from the first stage passes no gate,
    are created as in stock CRM, and cost no query more."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    funnel_waive_reason = fields.Text(
        string="Reason to Start Past the Gates",
        compute="_compute_funnel_waive_reason",
        readonly=False,
        groups="sales_team.group_sale_manager",
        help="Sales managers, when creating an opportunity directly in a later "
        "stage: why it may start there although the exit criteria of the stages "
        "before it are not met, or the stage does not take new opportunities (a "
        "deal already far along when the team started using the funnel). Kept "
        "on the waived checks and on the first stage history row.",
    )

    def _compute_funnel_waive_reason(self):
        # given with the values of a create, never stored
        self.funnel_waive_reason = False

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        vals_list, reasons = self._funnel_pop_reasons(vals_list)
        leads = super().create(vals_list)
        if self.env.su and self.env.context.get(LOAD_HISTORY_KEY):
            # the demo generator writes the history and the checks itself
            return leads
        leads._funnel_gate_start(dict(zip(leads.ids, reasons, strict=True)), CREATE)
        return leads

    def write(self, vals):
        if WAIVE_REASON_FIELD in vals:
            vals = dict(vals)
        reason = vals.pop(WAIVE_REASON_FIELD, None)
        converted = self.browse()
        if vals.get("type") == "opportunity":
            converted = self.filtered(lambda lead: lead.type == "lead")
        result = super().write(vals)
        if converted:
            converted._funnel_gate_start(dict.fromkeys(converted.ids, reason), CONVERT)
        return result

    @api.model
    def _funnel_pop_reasons(self, vals_list):
        """Take the reasons to start past the gates out of the values of a
        create; the import of a sales manager may give one for the whole file
        as the default of the context.

        :return: (values without the reasons, list of reasons or None)
        """
        default = self.env.context.get(f"default_{WAIVE_REASON_FIELD}")
        reasons = []
        cleaned = []
        for vals in vals_list:
            if WAIVE_REASON_FIELD in vals:
                vals = dict(vals)
            reasons.append(vals.pop(WAIVE_REASON_FIELD, None) or default)
            cleaned.append(vals)
        return cleaned, reasons

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    @api.model
    def funnel_check_quick_create(self, stage_id):
        """Whether the kanban may quick create an opportunity in ``stage_id``
        with the defaults of the context, before the user types anything: it
        may not when the stage does not take new opportunities, or when a gate
        before it asks for what a new opportunity cannot have (a checklist item,
        an activity). Field criteria may still be met by what is typed.

        :return: False, or a dict with the ``message`` and the first stage of the
            funnel (``first_stage_id``, ``first_stage_name``) to create in
        """
        defaults = self.default_get(["type", "team_id", "user_id"])
        lead = self.new({**defaults, "stage_id": stage_id})
        gate = lead._funnel_start_gates().get(lead)
        if not gate:
            return False
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        never_met = [
            info
            for info in gate.criteria
            if info.kind != "field" and gates[info.stage_id].policy == "block"
        ]
        if not gate.door_closed and not never_met:
            return False
        Stage = self.env["crm.stage"].sudo()
        stage, first = Stage.browse(stage_id), Stage.browse(gate.first_stage_id)
        if gate.door_closed:
            message = self.env._(
                "“%(stage)s” does not take new opportunities: they start in "
                "“%(first)s” and move forward as their exit criteria are met.",
                stage=stage.name,
                first=first.name,
            )
        else:
            criteria = (
                self.env["funnel.stage.criterion"]
                .sudo()
                .browse([info.id for info in never_met])
            )
            message = self.env._(
                "A new opportunity cannot meet these exit criteria of the stages "
                "before “%(stage)s”: %(criteria)s. Create it in “%(first)s” and "
                "move it forward as they are met.",
                stage=stage.name,
                criteria=lead._funnel_criteria_text(criteria).replace("\n", "; "),
                first=first.name,
            )
        if self.env.user.has_group("sales_team.group_sale_manager"):
            message += "\n" + self.env._(
                "As a sales manager, you may create it here from the form, with a "
                "reason to start past the gates."
            )
        return {
            "message": message,
            "first_stage_id": first.id,
            "first_stage_name": first.name,
        }

    # ------------------------------------------------------------
    # Gates of the start
    # ------------------------------------------------------------

    def _funnel_start_gates(self):
        """What starting directly in their stage passes, for the opportunities
        whose way from the first stage of their funnel passes a gate: the
        required criteria of every stage with a gate from that first stage to
        their own, counting the stages shared by all teams and those of their
        team, as ``_funnel_required_criteria`` does for a move.

        Reads only cached configuration: an opportunity created in the first
        stage, or past stages without gates, costs no query.

        :return: dict crm.lead record -> StartGate
        """
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        gated = [
            (stage_id, gate)
            for stage_id, gate in gates.items()
            if gate.policy != "none" and any(info.required for info in gate.criteria)
        ]
        if not gated:
            return {}
        Stage = self.env["crm.stage"]
        rank = Stage._funnel_rank()
        gated = [(rank.get(stage_id, -1), gate) for stage_id, gate in gated]
        lowest = min(stage_rank for stage_rank, __ in gated)
        starting = {}
        for lead in self:
            if lead.type != "opportunity" or not lead.stage_id:
                continue
            target_rank = rank.get(lead.stage_id.id, -1)
            if target_rank <= lowest:
                continue
            first = Stage._funnel_first_stage_id(lead.team_id.id)
            first_rank = rank.get(first, -1)
            if first is None or target_rank <= first_rank:
                continue
            criteria = tuple(
                info
                for stage_rank, gate in gated
                if first_rank <= stage_rank < target_rank
                and gate.team_id in (None, lead.team_id.id)
                for info in gate.criteria
                if info.required
            )
            if criteria:
                open_stages = Stage._funnel_start_config()["open"]
                starting[lead] = StartGate(
                    first, lead.stage_id.id not in open_stages, criteria
                )
        return starting

    def _funnel_gate_start(self, reasons, event):
        """Apply the gates of the stages before the one each opportunity starts
        in, once it is created (or converted from a lead); raising undoes it.

        - a stage that does not take new opportunities, or an unmet criterion
          under a blocking gate: refused, unless a sales manager gave a reason,
          which waives the unmet criteria;
        - unmet criteria under warning gates only: noted on the first history
          row and in the chatter.

        :param reasons: dict lead id -> reason to start past the gates, or None
        :param event: CREATE or CONVERT, for the messages
        :raise UserError: naming each refused opportunity, what refused it, stage
            by stage
        :raise AccessError: when someone else than a sales manager gives a reason
        """
        starting = self._funnel_start_gates()
        if not starting:
            return
        unmet = self._funnel_unmet_of(
            {lead: gate.criteria for lead, gate in starting.items()}
        )
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        Criterion = self.env["funnel.stage.criterion"].sudo()
        refused, waived, skipped = {}, defaultdict(dict), {}
        for lead, gate in starting.items():
            criteria = unmet.get(lead, Criterion)
            blocked = gate.door_closed or any(
                gates[stage.id].policy == "block" for stage in criteria.stage_id
            )
            reason = (reasons.get(lead.id) or "").strip()
            if reason and (blocked or criteria):
                waived[reason][lead] = criteria
            elif blocked:
                refused[lead] = (gate, criteria)
            elif criteria:
                skipped[lead.id] = lead._funnel_criteria_text(criteria)
        if waived and not (
            self.env.su or self.env.user.has_group("sales_team.group_sale_manager")
        ):
            raise AccessError(
                self.env._(
                    "Only a sales manager can start an opportunity past the gates "
                    "of its funnel."
                )
            )
        if refused:
            raise UserError(self._funnel_start_message(refused, event))
        for reason, criteria_by_lead in waived.items():
            self._funnel_waive_start(criteria_by_lead, reason)
        if skipped:
            self.env["funnel.stage.history"]._note_skipped_criteria(skipped)
            self.browse(list(skipped))._message_log_batch(
                bodies={
                    lead_id: plaintext2html(
                        self.env._(
                            "Started in “%(stage)s” although these exit criteria of "
                            "the stages before it were not met: %(criteria)s",
                            stage=self.browse(lead_id).stage_id.name,
                            criteria=text.replace("\n", "; "),
                        )
                    )
                    for lead_id, text in skipped.items()
                },
            )

    def _funnel_waive_start(self, criteria_by_lead, reason):
        """A sales manager starts opportunities past the gates with ``reason``:
        waive their unmet criteria and say so on their first history row and in
        their chatter.

        :param criteria_by_lead: dict crm.lead record -> unmet criteria (maybe
            none, when only the stage refused new opportunities)
        """
        self.env["funnel.lead.check"]._waive(
            {lead: criteria for lead, criteria in criteria_by_lead.items() if criteria},
            reason,
        )
        leads = self.browse([lead.id for lead in criteria_by_lead])
        self.env["funnel.stage.history"]._note_waiver(leads, reason)
        bodies = {}
        for lead, criteria in criteria_by_lead.items():
            if criteria:
                body = self.env._(
                    "Started in “%(stage)s” by %(user)s, who waived: %(criteria)s.\n"
                    "Reason: %(reason)s",
                    stage=lead.stage_id.name,
                    user=self.env.user.name,
                    criteria=lead._funnel_criteria_text(criteria).replace("\n", "; "),
                    reason=reason,
                )
            else:
                body = self.env._(
                    "Started in “%(stage)s” by %(user)s, although the stage does not "
                    "take new opportunities.\nReason: %(reason)s",
                    stage=lead.stage_id.name,
                    user=self.env.user.name,
                    reason=reason,
                )
            bodies[lead.id] = plaintext2html(body)
        leads._message_log_batch(bodies=bodies)

    def _funnel_start_message(self, refused, event):
        """The refusal of opportunities starting in their stage, naming each
        one and what refused it, stage by stage.

        :param refused: dict crm.lead record -> (StartGate, unmet criteria)
        """
        Stage = self.env["crm.stage"].sudo()
        lines = []
        if len(refused) == 1:
            lead = next(iter(refused))
            lines.append(
                self.env._(
                    "“%(lead)s” cannot be created in “%(stage)s”:",
                    lead=lead.name,
                    stage=lead.stage_id.name,
                )
                if event == CREATE
                else self.env._(
                    "“%(lead)s” cannot become an opportunity in “%(stage)s”:",
                    lead=lead.name,
                    stage=lead.stage_id.name,
                )
            )
        else:
            lines.append(
                self.env._(
                    "%(count)s opportunities cannot be created in their stage; "
                    "nothing was created:",
                    count=len(refused),
                )
                if event == CREATE
                else self.env._(
                    "%(count)s leads cannot become opportunities in their stage; "
                    "nothing was converted:",
                    count=len(refused),
                )
            )
        for lead, (gate, criteria) in list(refused.items())[:MAX_NAMED_LEADS]:
            if len(refused) > 1:
                lines.append(f"\n{lead.name} → {lead.stage_id.name}")
            if gate.door_closed:
                lines.append(
                    "  • "
                    + self.env._(
                        "“%(stage)s” does not take new opportunities: they start in "
                        "“%(first)s”.",
                        stage=lead.stage_id.name,
                        first=Stage.browse(gate.first_stage_id).name,
                    )
                )
            if criteria:
                lines.append(
                    "  • " + self.env._("Unmet exit criteria of the stages before it:")
                )
                lines.extend(
                    f"    ◦ {line}"
                    for line in lead._funnel_criteria_text(criteria).split("\n")
                )
        if len(refused) > MAX_NAMED_LEADS:
            lines.append(
                self.env._(
                    "… and %(count)s more.",
                    count=len(refused) - MAX_NAMED_LEADS,
                )
            )
        lines.append(
            "\n"
            + (
                self.env._(
                    "Create opportunities in the first stage of their funnel and move "
                    "them forward as their exit criteria are met, or ask a sales "
                    "manager to create them past the gates with a reason."
                )
                if event == CREATE
                else self.env._(
                    "Move the leads to the first stage of their funnel before "
                    "converting them."
                )
            )
        )
        if event == CREATE and self.env.user.has_group("sales_team.group_sale_manager"):
            lines.append(
                self.env._(
                    "As a sales manager, give the Reason to Start Past the Gates: "
                    "on the Qualification tab of the form, as a column of the "
                    "import, or once for a whole file with Import Opportunities "
                    "Past the Gates."
                )
            )
        return "\n".join(lines)
