from collections import Counter, defaultdict

from babel.lists import format_list

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import babel_locale_parse

from .crm_lead import LOAD_HISTORY_KEY, MAX_NAMED_LEADS

# the computed fields that say how qualified an opportunity is
QUALIFICATION_FIELDS = (
    "qualification_met_count",
    "qualification_required_count",
    "qualification_progress",
    "gate_ready",
)


class CrmLead(models.Model):
    """The gates of the funnel: the exit criteria of the opportunity's stages,
    their checks (``funnel.lead.check``, written by that model), how qualified it
    is, and the refusal of a move past unmet criteria, whatever the path (kanban
    drag, statusbar, RPC, import)."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    check_ids = fields.One2many(
        "funnel.lead.check", "lead_id", string="Exit Criteria Checks", copy=False
    )
    current_check_ids = fields.One2many(
        "funnel.lead.check",
        "lead_id",
        string="Current Stage Criteria",
        domain=[("is_current", "=", True)],
    )
    past_check_ids = fields.One2many(
        "funnel.lead.check",
        "lead_id",
        string="Other Stages Criteria",
        domain=[("is_current", "=", False)],
        readonly=True,
    )
    qualification_met_count = fields.Integer(
        string="Criteria Met",
        compute="_compute_qualification",
        store=True,
        aggregator=False,
    )
    qualification_required_count = fields.Integer(
        string="Required Criteria",
        compute="_compute_qualification",
        store=True,
        aggregator=False,
    )
    qualification_progress = fields.Float(
        string="Qualification",
        compute="_compute_qualification",
        store=True,
        digits=(16, 0),
        aggregator="avg",
        help="Share of the current stage's required exit criteria that are met or "
        "waived, in percent.",
    )
    gate_ready = fields.Boolean(
        compute="_compute_qualification",
        store=True,
        help="All required exit criteria of the current stage are met or waived.",
    )
    gate_policy = fields.Selection(related="stage_id.gate_policy", string="Gate")

    def _funnel_column_defaults(self):
        return {
            **super()._funnel_column_defaults(),
            "qualification_met_count": ("int4", 0),
            "qualification_required_count": ("int4", 0),
            "qualification_progress": ("numeric", 100),
            "gate_ready": ("bool", True),
        }

    @api.depends("stage_id", "check_ids.state")
    def _compute_qualification(self):
        # criteria changes recompute the opportunities of their stages by hand
        # (see crm.stage._funnel_refresh_leads): the gates are cached, not fields
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        lead_ids = [lead._origin.id for lead in self if lead._origin.id]
        done = {}
        if gates and lead_ids:
            done = {
                lead.id: set(criterion_ids)
                for lead, criterion_ids in self.env["funnel.lead.check"]
                .sudo()
                ._read_group(
                    [("lead_id", "in", lead_ids), ("state", "!=", "todo")],
                    ["lead_id"],
                    ["criterion_id:array_agg"],
                )
            }
        self._funnel_assign_qualification(gates, done)

    def _funnel_assign_qualification(self, gates, done):
        """Assign the qualification fields from the criteria met or waived.

        :param gates: ``funnel.stage.criterion._funnel_gate_config()``
        :param done: dict lead id -> set of the ids of its criteria met or waived
        """
        for lead in self:
            gate = gates.get(lead.stage_id.id)
            required = {i.id for i in gate.criteria if i.required} if gate else set()
            met = len(required & done.get(lead._origin.id, set()))
            lead.qualification_required_count = len(required)
            lead.qualification_met_count = met
            lead.qualification_progress = (
                100.0 * met / len(required) if required else 100.0
            )
            lead.gate_ready = met >= len(required)

    def _funnel_set_qualification(self, gates, done):
        """Set the qualification that ``funnel.lead.check._sync`` knows from the
        checks it has just written, as ``_compute_qualification`` would, without
        reading the checks again (what the stage move would otherwise pay)."""
        fields_ = [self._fields[name] for name in QUALIFICATION_FIELDS]
        with self.env.protecting(fields_, self):
            self._funnel_assign_qualification(gates, done)

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        if self.env.context.get(LOAD_HISTORY_KEY):
            return leads
        self.env["funnel.lead.check"]._sync(
            leads.filtered(lambda lead: lead.stage_id and lead.active), checks={}
        )
        return leads

    def write(self, vals):
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        if not gates or not self:
            return super().write(vals)
        movers = toggled = self.browse()
        skipped, checks = {}, None
        if "stage_id" in vals:
            target = self.env["crm.stage"].browse(vals["stage_id"])
            movers = self.filtered(lambda lead: lead.stage_id != target)
            if movers:
                checks = self.env["funnel.lead.check"]._of_leads(movers)
                if target:
                    skipped = movers._funnel_check_gates(target, checks)
        if "active" in vals:
            toggled = self.filtered(lambda lead: lead.active != bool(vals["active"]))

        result = super().write(vals)

        if skipped:
            self._funnel_note_skipped(skipped)
        touched = movers | toggled
        if self.env["funnel.stage.criterion"]._funnel_gate_field_names() & vals.keys():
            touched = self
        if touched:
            self.env["funnel.lead.check"]._sync(
                touched, checks if touched == movers else None
            )
        return result

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_open_gate_waiver(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Advance Anyway"),
            "res_model": "funnel.gate.waiver",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_ids": self.ids},
        }

    # ------------------------------------------------------------
    # Gates
    # ------------------------------------------------------------

    def _funnel_required_criteria(self, target):
        """Required exit criteria to meet for moving each opportunity to ``target``:
        those of its current stage and of every stage between, under a gate.

        Moving backward, or within the same rank, never needs any criterion.

        :param target: crm.stage record the opportunities would move to
        :return: dict crm.lead record -> tuple of CriterionInfo
        """
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        if not gates:
            return {}
        rank = self.env["crm.stage"]._funnel_rank()
        target_rank = rank.get(target.id, -1)
        required = {}
        for lead in self:
            source = lead.stage_id.id
            if not source or rank.get(source, -1) >= target_rank:
                continue
            infos = tuple(
                info
                for stage_id, gate in gates.items()
                if gate.policy != "none"
                and rank[source] <= rank.get(stage_id, -1) < target_rank
                and (stage_id == source or gate.team_id in (None, lead.team_id.id))
                for info in gate.criteria
                if info.required
            )
            if infos:
                required[lead] = infos
        return required

    def _funnel_met(self, pairs, checks):
        """Evaluate criteria on the opportunities as they are now.

        A waived check always counts as met; the others are evaluated by the
        method of their kind, ``_funnel_met_<kind>(pairs, checks)`` (a module
        adding a kind adds its method): a checklist item counts when ticked;
        field and activity criteria are evaluated live.

        :param pairs: list of (crm.lead record, CriterionInfo)
        :param checks: result of ``funnel.lead.check._of_leads`` for these opportunities
        :return: set of (lead id, criterion id) pairs that are met
        """
        met = set()
        by_kind = defaultdict(list)
        for lead, info in pairs:
            key = (lead.id, info.id)
            check = checks.get(key)
            if check and check.state == "waived":
                met.add(key)
            else:
                by_kind[info.kind].append((lead, info))
        for kind, kind_pairs in by_kind.items():
            method = getattr(self, f"_funnel_met_{kind}", None)
            if method is None:
                # a kind whose module is gone: unmet, as nothing can meet it
                continue
            met |= method(kind_pairs, checks)
        return met

    def _funnel_evidence(self, pairs, met):
        """The evidence of the automatic checks a kind fills itself
        (``_funnel_evidence_<kind>(pairs, met)``, when the kind has one).

        :return: dict (lead id, criterion id) -> evidence text (False: none)
        """
        by_kind = defaultdict(list)
        for lead, info in pairs:
            by_kind[info.kind].append((lead, info))
        evidence = {}
        for kind, kind_pairs in by_kind.items():
            method = getattr(self, f"_funnel_evidence_{kind}", None)
            if method is not None:
                evidence.update(method(kind_pairs, met))
        return evidence

    def _funnel_met_checklist(self, pairs, checks):
        """Checklist items: met when ticked."""
        met = set()
        for lead, info in pairs:
            check = checks.get((lead.id, info.id))
            if check and check.state == "met":
                met.add((lead.id, info.id))
        return met

    def _funnel_met_field(self, pairs, checks):
        """ "Field is set": met when the opportunity's field has a value."""
        by_field = defaultdict(list)
        for lead, info in pairs:
            if info.field_name in self._fields:
                by_field[info.field_name].append((lead.id, info.id))
        met = set()
        for field_name, keys in by_field.items():
            leads = self.sudo().browse([lead_id for lead_id, __ in keys])
            is_set = {lead.id for lead in leads if lead[field_name]}
            met.update(key for key in keys if key[0] in is_set)
        return met

    def _funnel_met_activity(self, pairs, checks):
        """ "Activities done": met with at least ``min_count`` logged activities
        of the types (in this stage only, with the stage scope)."""
        activity_types = {
            type_id for __, info in pairs for type_id in info.activity_type_ids
        }
        done = Counter()
        leads = self.browse({lead.id for lead, __ in pairs})
        if activity_types:
            # logged activities per (opportunity, type, stage they happened in)
            for lead, activity_type, stage, count in (
                self.env["funnel.activity.log"]
                .sudo()
                ._read_group(
                    [
                        ("lead_id", "in", leads.ids),
                        ("activity_type_id", "in", list(activity_types)),
                    ],
                    ["lead_id", "activity_type_id", "stage_id"],
                    ["__count"],
                )
            ):
                done[lead.id, activity_type.id, None] += count
                done[lead.id, activity_type.id, stage.id] += count
        met = set()
        for lead, info in pairs:
            stage_id = info.stage_id if info.count_scope == "stage" else None
            count = sum(
                done[lead.id, type_id, stage_id] for type_id in info.activity_type_ids
            )
            if count >= info.min_count:
                met.add((lead.id, info.id))
        return met

    def _funnel_unmet_criteria(self, target, checks=None):
        """Required exit criteria still unmet for moving to ``target``.

        :return: dict crm.lead record -> funnel.stage.criterion recordset
        """
        return self._funnel_unmet_of(self._funnel_required_criteria(target), checks)

    def _funnel_unmet_of(self, required, checks=None):
        """Which of the ``required`` criteria are still unmet.

        :param required: dict crm.lead record -> tuple of CriterionInfo, as
            ``_funnel_required_criteria`` returns
        :param checks: result of ``_of_leads`` for these opportunities, when the
            caller has it
        :return: dict crm.lead record -> funnel.stage.criterion recordset
        """
        if not required:
            return {}
        leads = self.browse([lead.id for lead in required])
        if checks is None:
            checks = self.env["funnel.lead.check"]._of_leads(leads)
        pairs = [(lead, info) for lead, infos in required.items() for info in infos]
        met = leads._funnel_met(pairs, checks)
        Criterion = self.env["funnel.stage.criterion"].sudo()
        unmet = {}
        for lead, infos in required.items():
            missing = [info.id for info in infos if (lead.id, info.id) not in met]
            if missing:
                unmet[lead] = Criterion.browse(missing)
        return unmet

    def _funnel_check_gates(self, target, checks=None):
        """Apply the gates of a move to ``target``.

        :raise UserError: when a blocking gate has unmet criteria, naming each
            blocked opportunity and its unmet criteria stage by stage
        :return: dict lead id -> text of the criteria skipped under warning gates
        """
        unmet = self._funnel_unmet_criteria(target, checks)
        blocked = {
            lead: criteria
            for lead, criteria in unmet.items()
            if "block" in criteria.stage_id.mapped("gate_policy")
        }
        if blocked:
            raise UserError(self._funnel_gate_message(blocked, target))
        return {
            lead.id: lead._funnel_criteria_text(criteria)
            for lead, criteria in unmet.items()
        }

    def _funnel_criteria_text(self, criteria):
        """One line per stage: its name and its criteria, in the user's language."""
        locale = babel_locale_parse(self.env.lang or "en_US")
        return "\n".join(
            self.env._(
                "%(stage)s: %(criteria)s",
                stage=stage.name,
                criteria=format_list(stage_criteria.mapped("name"), locale=locale),
            )
            for stage, stage_criteria in criteria.grouped("stage_id").items()
        )

    def _funnel_gate_message(self, blocked, target):
        lines = []
        if len(blocked) == 1:
            lead = next(iter(blocked))
            lines.append(
                self.env._(
                    "“%(lead)s” cannot move to “%(stage)s” yet. Unmet exit criteria:",
                    lead=lead.name,
                    stage=target.name,
                )
            )
        else:
            lines.append(
                self.env._(
                    "%(count)s opportunities cannot move to “%(stage)s” yet; nothing "
                    "was moved. Unmet exit criteria:",
                    count=len(blocked),
                    stage=target.name,
                )
            )
        for lead, criteria in list(blocked.items())[:MAX_NAMED_LEADS]:
            if len(blocked) > 1:
                lines.append(f"\n{lead.name}")
            lines.extend(
                f"  • {line}"
                for line in lead._funnel_criteria_text(criteria).split("\n")
            )
        if len(blocked) > MAX_NAMED_LEADS:
            lines.append(
                self.env._(
                    "… and %(count)s more.",
                    count=len(blocked) - MAX_NAMED_LEADS,
                )
            )
        lines.append(
            "\n"
            + self.env._(
                "Meet them on the Qualification tab, or ask a sales manager to "
                "advance anyway."
            )
        )
        return "\n".join(lines)

    def _funnel_note_skipped(self, skipped):
        """Moves under warning gates happened with criteria unmet: say so on the
        history rows just opened and in the chatter.

        :param skipped: result of ``_funnel_check_gates``
        """
        self.env["funnel.stage.history"]._note_skipped_criteria(skipped)
        for lead in self.browse(list(skipped)):
            lead.message_post(
                body=self.env._(
                    "Moved to “%(stage)s” although these exit criteria were not "
                    "met: %(criteria)s",
                    stage=lead.stage_id.name,
                    criteria=skipped[lead.id].replace("\n", "; "),
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _funnel_waive_and_move(self, target, reason):
        """Waive every unmet criterion between the current stages and ``target``
        with ``reason``, then move there. Only called by the waiver wizard, which
        checks that the user is a sales manager.

        The opportunities are locked first: the checks of the stages passed may
        not exist yet, and two managers waiving at once would both create them.
        """
        self._funnel_lock_rows()
        unmet = self._funnel_unmet_criteria(target)
        self.env["funnel.lead.check"]._waive(unmet, reason)
        self.write({"stage_id": target.id})
        if not unmet:
            return
        waived_leads = self.browse([lead.id for lead in unmet])
        self.env["funnel.stage.history"]._note_waiver(waived_leads, reason)
        for lead in waived_leads:
            lead.message_post(
                body=self.env._(
                    "Advanced to “%(stage)s” by %(user)s, who waived: %(criteria)s.\n"
                    "Reason: %(reason)s",
                    stage=target.name,
                    user=self.env.user.name,
                    criteria=lead._funnel_criteria_text(unmet[lead]).replace(
                        "\n", "; "
                    ),
                    reason=reason,
                ),
                subtype_xmlid="mail.mt_note",
            )
