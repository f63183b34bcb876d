from babel.lists import format_list

from odoo import api, fields, models
from odoo.tools.misc import babel_locale_parse
from odoo.tools.translate import LazyTranslate

from ..models.funnel_stage_criterion import DEFER_REFRESH_KEY

_lt = LazyTranslate(__name__)

# The professional funnel: (key, name, sequence, win rate, category, rotting days,
# criteria). Each criterion: (key, name, guidance, kind, field or activity type).
PROFESSIONAL_FUNNEL = [
    (
        "start",
        _lt("Start"),
        10,
        10.0,
        "pipeline",
        14,
        [
            (
                "budget",
                _lt("Budget identified"),
                _lt("The customer named a budget range and who holds it."),
                "checklist",
                None,
            ),
            (
                "decision_maker",
                _lt("Decision maker identified"),
                _lt("Name and role of the person who signs the order."),
                "checklist",
                None,
            ),
            (
                "customer",
                _lt("Customer set"),
                _lt("The opportunity is linked to a customer."),
                "field",
                "partner_id",
            ),
        ],
    ),
    (
        "needs",
        _lt("Needs confirmed"),
        20,
        25.0,
        "pipeline",
        21,
        [
            (
                "needs_documented",
                _lt("Needs documented"),
                _lt(
                    "Ranges, accuracy, quantities and standards are written down "
                    "and confirmed by the customer."
                ),
                "checklist",
                None,
            ),
            (
                "revenue",
                _lt("Expected revenue estimated"),
                _lt("The expected revenue of the opportunity is filled in."),
                "field",
                "expected_revenue",
            ),
        ],
    ),
    (
        "solution",
        _lt("Solution & quote"),
        30,
        50.0,
        "best_case",
        21,
        [
            (
                "demo",
                _lt("Demo or site visit held"),
                _lt(
                    "A demo, a site visit or a meeting with the customer is logged "
                    "on the opportunity."
                ),
                "activity",
                (
                    "sales_funnel_pro.mail_activity_type_demonstration",
                    "sales_funnel_pro.mail_activity_type_visit",
                    "mail.mail_activity_data_meeting",
                ),
            ),
            (
                "quotation",
                _lt("Quotation sent"),
                _lt("The quotation number and date are noted as evidence."),
                "checklist",
                None,
            ),
            (
                "closing_date",
                _lt("Expected closing date set"),
                _lt("The expected closing date is filled in."),
                "field",
                "date_deadline",
            ),
        ],
    ),
    (
        "negotiation",
        _lt("Negotiation"),
        40,
        75.0,
        "commit",
        30,
        [
            (
                "terms",
                _lt("Terms agreed"),
                _lt("Price, delivery and payment terms are agreed in writing."),
                "checklist",
                None,
            ),
        ],
    ),
    ("won", _lt("Won"), 50, 100.0, "closed", 0, []),
]


def _comparable(value, field=None):
    """A criterion's or the template's value of a field, in a comparable form."""
    if field is not None and field.type == "many2many":
        return set(value.ids)
    if isinstance(value, models.BaseModel):
        return value.id
    return set(value) if isinstance(value, list) else value


class FunnelTemplateWizard(models.TransientModel):
    _name = "funnel.template.wizard"
    _description = "Apply the Professional Funnel Template"

    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    summary = fields.Text(readonly=True)
    job_id = fields.Many2one(
        "funnel.job",
        string="Background Job",
        readonly=True,
        help="The job applying the funnel to the existing opportunities, when "
        "they are too many to do it at once.",
    )
    job_progress_text = fields.Char(related="job_id.progress_text")

    def action_apply(self):
        """Set up the stages and criteria at once; bring the checks of the
        opportunities of their stages in line at once too, or in the background
        when they are many."""
        self.ensure_one()
        self.env["funnel.job"]._check_not_running("template")
        changes, stages, refresh = self._set_up_template()
        job = stages._funnel_refresh_leads(
            kind="template", changes=changes, checks=refresh
        )
        self.write(
            {
                "state": "done",
                "job_id": job.id if job else False,
                "summary": "\n".join(changes)
                or self.env._("Everything was already in place: nothing changed."),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_open_job(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "funnel.job",
            "res_id": self.job_id.id,
            "view_mode": "form",
        }

    @api.model
    def _apply_template(self):
        """Create or update the stages and criteria of the professional funnel,
        and bring the checks of the opportunities of their stages in line, at
        once whatever their number.

        :return: list of human-readable changes
        """
        changes, __, refresh = self._set_up_template()
        refresh._funnel_job_sync_checks(
            None,
            self.env["crm.lead"].sudo().search([("stage_id", "in", refresh.ids)]),
            {"check_stage_ids": refresh.ids, "category_stage_ids": []},
        )
        return changes

    @api.model
    def _set_up_template(self):
        """Create or update the stages and criteria of the professional funnel,
        leaving the checks of the opportunities to the caller.

        Stages and criteria are recognised by their template key (then stages by
        name, and the won stage by being the shared won stage), so applying twice
        changes nothing. Stages and criteria of the user are never deleted.

        :return: (list of human-readable changes, the stages of the template,
            those of them whose criteria changed)
        """
        changes, stages, refresh = self.with_context(
            **{DEFER_REFRESH_KEY: True}
        )._set_up_template_records()
        context = {DEFER_REFRESH_KEY: False}
        return changes, stages.with_context(**context), refresh.with_context(**context)

    @api.model
    def _set_up_template_records(self):
        Stage = self.env["crm.stage"].with_context(lang="en_US")
        changes = []
        stages = refresh = self.env["crm.stage"]
        for (
            key,
            name,
            sequence,
            win_rate,
            category,
            rotting,
            criteria,
        ) in PROFESSIONAL_FUNNEL:
            stage = self._find_template_stage(key, name)
            values = {
                "template_key": key,
                "win_rate": win_rate,
                "forecast_category": category,
                "rotting_days": rotting,
                "gate_policy": "block",
            }
            if key == "won":
                values["is_won"] = True
            if key == "start":
                # where the funnel's new opportunities start, even after stock
                # stages kept before it
                values["allow_create"] = True
            if not stage:
                stage = Stage.create(
                    dict(values, name=name._translate("en_US"), sequence=sequence)
                )
                self._translate_names(stage, "name", name)
                changes.append(
                    self.env._("Created stage “%(stage)s”.", stage=self.env._(name))
                )
            else:
                updates = {
                    field_name: value
                    for field_name, value in values.items()
                    if stage[field_name] != value
                }
                if key == "won" and stage.sequence < sequence:
                    updates["sequence"] = sequence
                if updates:
                    stage.write(updates)
                    changes.append(self._describe_stage_update(stage, updates))
            stages |= stage
            for criterion_values in criteria:
                change, changed = self._apply_template_criterion(
                    stage, *criterion_values
                )
                if change:
                    changes.append(change)
                if changed:
                    refresh |= stage
        others = self.env["crm.stage"].search(
            [("template_key", "=", False), ("team_id", "=", False)]
        )
        if others and changes:
            changes.append(
                self.env._(
                    "Kept your other stages as they are: %(stages)s. Fold or delete "
                    "them in Configuration > Stages if the funnel replaces them.",
                    stages=", ".join(others.mapped("name")),
                )
            )
        return changes, stages, refresh

    @api.model
    def _describe_stage_update(self, stage, updates):
        stage_name = stage.with_env(self.env).name
        labels = [
            stage._fields[field_name].get_description(self.env)["string"]
            for field_name in updates
            if field_name != "template_key"
        ]
        if not labels:
            return self.env._(
                "Adopted your stage “%(stage)s” into the funnel.", stage=stage_name
            )
        return self.env._(
            "Updated stage “%(stage)s”: %(fields)s.",
            stage=stage_name,
            fields=format_list(
                labels, locale=babel_locale_parse(self.env.lang or "en_US")
            ),
        )

    @api.model
    def _find_template_stage(self, key, name):
        Stage = self.env["crm.stage"].with_context(lang="en_US")
        stage = Stage.search([("template_key", "=", key)], limit=1)
        if not stage and key == "won":
            stage = Stage.search(
                [("is_won", "=", True), ("team_id", "=", False)], limit=1
            )
        if not stage:
            stage = Stage.search(
                [
                    ("name", "=ilike", name._translate("en_US")),
                    ("team_id", "=", False),
                    ("template_key", "=", False),
                ],
                limit=1,
            )
        return stage

    @api.model
    def _apply_template_criterion(self, stage, key, name, guidance, kind, target):
        Criterion = self.env["funnel.stage.criterion"].with_context(
            lang="en_US", active_test=False
        )
        values = {
            "kind": kind,
            "required": True,
            "field_id": False,
            "activity_type_ids": [],
        }
        if kind == "field":
            values["field_id"] = self.env["ir.model.fields"]._get("crm.lead", target).id
        elif kind == "activity":
            activity_types = self.env["mail.activity.type"].union(
                *(self.env.ref(xmlid, raise_if_not_found=False) for xmlid in target)
            )
            if not activity_types:
                return (
                    self.env._(
                        "Skipped criterion “%(criterion)s”: its activity types were "
                        "deleted.",
                        criterion=self.env._(name),
                    ),
                    False,
                )
            values.update(activity_type_ids=activity_types.ids, min_count=1)
        criterion = Criterion.search(
            [("stage_id", "=", stage.id), ("template_key", "=", key)], limit=1
        )
        if not criterion:
            criterion = Criterion.create(
                dict(
                    values,
                    stage_id=stage.id,
                    template_key=key,
                    name=name._translate("en_US"),
                    guidance=guidance._translate("en_US"),
                    sequence=10 * (len(stage.criterion_ids) + 1),
                )
            )
            self._translate_names(criterion, "name", name)
            self._translate_names(criterion, "guidance", guidance)
            return (
                self.env._(
                    "Added criterion “%(criterion)s” to stage “%(stage)s”.",
                    criterion=self.env._(name),
                    stage=stage.with_env(self.env).name,
                ),
                True,
            )
        values["active"] = True
        updates = {
            field_name: value
            for field_name, value in values.items()
            if _comparable(criterion[field_name], criterion._fields[field_name])
            != _comparable(value)
        }
        if not updates:
            return None, False
        criterion.write(updates)
        return (
            self.env._(
                "Restored criterion “%(criterion)s” of stage “%(stage)s”.",
                criterion=criterion.with_env(self.env).name,
                stage=stage.with_env(self.env).name,
            ),
            True,
        )

    @api.model
    def _translate_names(self, record, field_name, term):
        """Give a template record its name in every installed language."""
        translations = {
            code: term._translate(code)
            for code, __ in self.env["res.lang"].get_installed()
            if code != "en_US"
        }
        if translations:
            record.update_field_translations(field_name, translations)
