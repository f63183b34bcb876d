from collections import defaultdict, namedtuple

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

# what a stage move needs to know of a criterion, without reading the database;
# ``params``: what a kind added by another module needs, as a tuple of (name,
# value) pairs (``FunnelStageCriterion._funnel_params``)
CriterionInfo = namedtuple(
    "CriterionInfo",
    "id stage_id kind required field_name activity_type_ids min_count count_scope "
    "params",
    defaults=((),),
)
StageGate = namedtuple("StageGate", "policy team_id criteria")
# context key of a caller that brings the checks of the opportunities in line
# itself once it has changed the criteria (the professional funnel template)
DEFER_REFRESH_KEY = "funnel_defer_refresh"


class FunnelStageCriterion(models.Model):
    _name = "funnel.stage.criterion"
    _description = "Stage Exit Criterion"
    _order = "stage_id, sequence, id"

    stage_id = fields.Many2one(
        "crm.stage", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    guidance = fields.Text(
        translate=True, help="What good evidence for this criterion looks like."
    )
    kind = fields.Selection(
        [
            ("checklist", "Checklist item"),
            ("field", "Field is set"),
            ("activity", "Activities done"),
        ],
        required=True,
        default="checklist",
        help="- Checklist item: ticked by the salesperson, with an evidence note;\n"
        "- Field is set: a field of the opportunity must have a value;\n"
        "- Activities done: at least a number of activities of a type must be "
        "marked done on the opportunity.",
    )
    required = fields.Boolean(
        default=True,
        help="Required criteria must be met (or waived) before an opportunity "
        "leaves the stage for a later one. Optional ones are shown as advice.",
    )
    active = fields.Boolean(default=True)
    field_id = fields.Many2one(
        "ir.model.fields",
        string="Field",
        ondelete="cascade",
        domain=[("model", "=", "crm.lead"), ("store", "=", True)],
    )
    activity_type_ids = fields.Many2many(
        "mail.activity.type",
        string="Activity Types",
        help="Activities of any of these types count, e.g. a demo or a site visit.",
    )
    min_count = fields.Integer(string="Minimum Count", default=1)
    count_scope = fields.Selection(
        [("all", "In any stage"), ("stage", "In this stage only")],
        string="Count Activities",
        default="all",
        required=True,
        help="Which logged activities count: those of the whole life of the "
        "opportunity, or only those logged while it was in this stage.",
    )
    template_key = fields.Char(readonly=True, copy=False)

    @api.constrains("kind", "field_id")
    def _check_field(self):
        for criterion in self.sudo().filtered(lambda c: c.kind == "field"):
            if not criterion.field_id or criterion.field_id.model != "crm.lead":
                raise ValidationError(
                    self.env._(
                        "Criterion “%(criterion)s” checks a field: choose a field "
                        "of the opportunity.",
                        criterion=criterion.name,
                    )
                )

    @api.constrains("kind", "activity_type_ids", "min_count")
    def _check_activity(self):
        for criterion in self.filtered(lambda c: c.kind == "activity"):
            if not criterion.activity_type_ids:
                raise ValidationError(
                    self.env._(
                        "Criterion “%(criterion)s” counts activities: choose an "
                        "activity type.",
                        criterion=criterion.name,
                    )
                )
            if criterion.min_count < 1:
                raise ValidationError(
                    self.env._(
                        "Criterion “%(criterion)s” needs at least one activity: the "
                        "minimum count must be 1 or more.",
                        criterion=criterion.name,
                    )
                )

    @api.constrains("stage_id")
    def _check_stage_not_won(self):
        for criterion in self:
            if criterion.stage_id.is_won:
                raise ValidationError(
                    self.env._(
                        "Stage “%(stage)s” is a won stage: it cannot have exit "
                        "criteria, since opportunities never leave it forward.",
                        stage=criterion.stage_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        criteria = super().create(vals_list)
        self.env.registry.clear_cache()
        criteria.stage_id._funnel_refresh_leads_unless_deferred()
        return criteria

    def write(self, vals):
        stages_before = self.stage_id
        res = super().write(vals)
        if {
            "stage_id",
            "kind",
            "field_id",
            "activity_type_ids",
            "min_count",
            "count_scope",
            "active",
            "required",
        } & vals.keys():
            self.env.registry.clear_cache()
            (stages_before | self.stage_id)._funnel_refresh_leads_unless_deferred()
        return res

    def unlink(self):
        stages = self.stage_id
        res = super().unlink()
        self.env.registry.clear_cache()
        stages._funnel_refresh_leads_unless_deferred()
        return res

    def _funnel_params(self):
        """What a criterion of a kind added by another module needs to be
        evaluated (``CriterionInfo.params``): a tuple of (name, value) pairs,
        hashable; the core kinds need none. Override with super for a new kind,
        whose opportunities ``crm.lead._funnel_met_<kind>`` evaluates."""
        self.ensure_one()
        return ()

    @api.model
    @tools.ormcache()
    def _funnel_gate_config(self):
        """The gates of every stage that has active exit criteria, as immutable
        values cached until criteria or stages change, so that a stage move reads
        no configuration from the database.

        :return: dict stage id -> StageGate, in pipeline order
        """
        rank = self.env["crm.stage"]._funnel_rank()
        criteria_by_stage = defaultdict(list)
        for criterion in self.sudo().search([]):
            criteria_by_stage[criterion.stage_id].append(
                CriterionInfo(
                    id=criterion.id,
                    stage_id=criterion.stage_id.id,
                    kind=criterion.kind,
                    required=criterion.required,
                    field_name=criterion.field_id.name or None,
                    activity_type_ids=tuple(criterion.activity_type_ids.ids),
                    min_count=criterion.min_count,
                    count_scope=criterion.count_scope,
                    params=criterion._funnel_params(),
                )
            )
        return {
            stage.id: StageGate(
                policy=stage.gate_policy,
                team_id=stage.team_id.id or None,
                criteria=tuple(criteria),
            )
            for stage, criteria in sorted(
                criteria_by_stage.items(), key=lambda item: rank.get(item[0].id, -1)
            )
        }

    @api.model
    def _funnel_gate_field_names(self):
        """Names of the opportunity fields that field criteria look at."""
        return {
            info.field_name
            for gate in self._funnel_gate_config().values()
            for info in gate.criteria
            if info.kind == "field"
        }
