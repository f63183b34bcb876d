import os

from odoo.exceptions import AccessError
from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user

# What the professional funnel template must set up:
# key -> (name, win rate, forecast category, rotting days, criteria), each criterion
# (key, name, kind, field name or activity type xmlid)
EXPECTED_FUNNEL = {
    "start": (
        "Start",
        10.0,
        "pipeline",
        14,
        [
            ("budget", "Budget identified", "checklist", None),
            ("decision_maker", "Decision maker identified", "checklist", None),
            ("customer", "Customer set", "field", "partner_id"),
        ],
    ),
    "needs": (
        "Needs confirmed",
        25.0,
        "pipeline",
        21,
        [
            ("needs_documented", "Needs documented", "checklist", None),
            ("revenue", "Expected revenue estimated", "field", "expected_revenue"),
        ],
    ),
    "solution": (
        "Solution & quote",
        50.0,
        "best_case",
        21,
        [
            (
                "demo",
                "Demo or site visit held",
                "activity",
                "mail.mail_activity_data_meeting",
            ),
            ("quotation", "Quotation sent", "checklist", None),
            ("closing_date", "Expected closing date set", "field", "date_deadline"),
        ],
    ),
    "negotiation": (
        "Negotiation",
        75.0,
        "commit",
        30,
        [("terms", "Terms agreed", "checklist", None)],
    ),
    "won": ("Won", 100.0, "closed", 0, []),
}

# zh_CN names of the created stages, as the issue asks for them
ZH_CN_STAGE_NAMES = {
    "start": "启动",
    "needs": "需求确认",
    "solution": "方案报价",
    "negotiation": "商务谈判",
}

NOTHING_CHANGED = "Everything was already in place: nothing changed."


class TemplateCommon(TransactionCase):
    """Crm's stock stages only (New, Qualified, Proposition, Won), no criteria.

    Unlike ``FunnelCommon``, the stock stages stay where they are: the template
    works on them. Any other shared stage (demo data) is put aside in its own
    team, and any trace of an earlier template run is removed, so that the tests
    start from the state of a fresh database without demo data.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.user_manager = mail_new_test_user(
            cls.env,
            login="funnel_tpl_manager",
            name="Tina Template Manager",
            email="tina@example.com",
            groups="sales_team.group_sale_manager",
        )
        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="funnel_tpl_salesman",
            name="Sid Template Salesman",
            email="sid@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.user_all_leads = mail_new_test_user(
            cls.env,
            login="funnel_tpl_all_leads",
            name="Ada Template All Leads",
            email="ada@example.com",
            groups="sales_team.group_sale_salesman_all_leads",
        )
        Stage = cls.env["crm.stage"].with_context(active_test=False)
        cls.stage_new = cls.env.ref("crm.stage_lead1")
        cls.stage_qualified = cls.env.ref("crm.stage_lead2")
        cls.stage_proposition = cls.env.ref("crm.stage_lead3")
        cls.stage_won = cls.env.ref("crm.stage_lead4")
        cls.stock_stages = (
            cls.stage_new | cls.stage_qualified | cls.stage_proposition | cls.stage_won
        )
        others = Stage.search([("id", "not in", cls.stock_stages.ids)])
        if others:
            others.write(
                {
                    "team_id": cls.env["crm.team"].create({"name": "Set aside"}).id,
                    "template_key": False,
                }
            )
        cls.env["funnel.stage.criterion"].with_context(active_test=False).search(
            [("stage_id", "in", cls.stock_stages.ids)]
        ).unlink()
        cls.stock_stages.write({"template_key": False})
        cls.meeting_type = cls.env.ref("mail.mail_activity_data_meeting")

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _apply(self, user=None):
        """Run the wizard as a sales manager (or ``user``) as the menu does.

        :return: the summary shown at the end
        """
        wizard = (
            self.env["funnel.template.wizard"]
            .with_user(user or self.user_manager)
            .create({})
        )
        self.assertEqual(wizard.state, "draft")
        action = wizard.action_apply()
        self.assertEqual(action["res_model"], "funnel.template.wizard")
        self.assertEqual(action["res_id"], wizard.id)
        self.assertEqual(wizard.state, "done")
        self.env.invalidate_all()
        return wizard.summary

    def _template_stages(self):
        """{template key: stage}"""
        stages = self.env["crm.stage"].search([("template_key", "!=", False)])
        return {stage.template_key: stage for stage in stages}

    def _all_criteria(self):
        """The criteria of the shared stages, archived ones included."""
        return (
            self.env["funnel.stage.criterion"]
            .with_context(active_test=False)
            .search([("stage_id.team_id", "=", False)])
        )

    def _snapshot(self):
        """Every value of the stages and criteria the template may touch."""
        stage_fields = [
            "name",
            "sequence",
            "is_won",
            "team_id",
            "fold",
            "win_rate",
            "forecast_category",
            "rotting_days",
            "gate_policy",
            "allow_create",
            "template_key",
            "write_date",
        ]
        criterion_fields = [
            "stage_id",
            "sequence",
            "name",
            "guidance",
            "kind",
            "required",
            "active",
            "field_id",
            "activity_type_ids",
            "min_count",
            "template_key",
            "write_date",
        ]
        self.env.flush_all()
        self.env.invalidate_all()
        stages = self.env["crm.stage"].with_context(active_test=False).search([])
        return {
            "stages": stages.read(stage_fields),
            "criteria": self._all_criteria().read(criterion_fields),
        }


class TestTemplate(TemplateCommon):
    def test_initial_data(self):
        """The tests start from crm's stock stages, without any criterion."""
        stages = self.env["crm.stage"].search([("team_id", "=", False)])
        self.assertEqual(stages, self.stock_stages)
        self.assertFalse(self._all_criteria())
        self.assertFalse(self._template_stages())

    def test_apply_on_stock_stages(self):
        summary = self._apply()
        stages = self._template_stages()
        self.assertEqual(set(stages), set(EXPECTED_FUNNEL))

        # the shared won stage is reused, the four others are created
        self.assertEqual(stages["won"], self.stage_won)
        self.assertTrue(stages["won"].is_won)
        new_stages = self.env["crm.stage"].search([("team_id", "=", False)])
        self.assertEqual(len(new_stages), 8, "4 stock stages + 4 created")
        created = new_stages - self.stock_stages
        self.assertEqual(
            created,
            stages["start"]
            | stages["needs"]
            | stages["solution"]
            | stages["negotiation"],
        )
        for stage in created:
            self.assertFalse(stage.is_won)
            self.assertFalse(stage.team_id)
        # in funnel order, the won stage last
        ordered = self.env["crm.stage"].search([("template_key", "!=", False)])
        self.assertEqual(
            ordered.mapped("template_key"),
            ["start", "needs", "solution", "negotiation", "won"],
        )

        for key, expected in EXPECTED_FUNNEL.items():
            name, win_rate, category, rotting, criteria = expected
            stage = stages[key]
            with self.subTest(stage=name):
                self.assertEqual(stage.name, name)
                self.assertEqual(stage.win_rate, win_rate)
                self.assertEqual(stage.forecast_category, category)
                self.assertEqual(stage.rotting_days, rotting)
                self.assertEqual(stage.gate_policy, "block")
                self.assertEqual(stage.allow_create, key == "start")
                self.assertEqual(
                    [
                        (c.template_key, c.name, c.kind, c.required, c.active)
                        for c in stage.criterion_ids
                    ],
                    [(k, n, kind, True, True) for k, n, kind, __ in criteria],
                )
                self.assertEqual(stage.criterion_count, len(criteria))
                for criterion, (__, __, kind, target) in zip(
                    stage.criterion_ids, criteria, strict=True
                ):
                    self.assertTrue(criterion.guidance)
                    if kind == "field":
                        self.assertEqual(criterion.field_id.model, "crm.lead")
                        self.assertEqual(criterion.field_id.name, target)
                        self.assertFalse(criterion.activity_type_ids)
                    elif kind == "activity":
                        self.assertEqual(
                            criterion.activity_type_ids,
                            self.meeting_type
                            | self.env.ref("sales_funnel_pro.mail_activity_type_visit")
                            | self.env.ref(
                                "sales_funnel_pro.mail_activity_type_demonstration"
                            ),
                        )
                        self.assertEqual(criterion.min_count, 1)
                        self.assertFalse(criterion.field_id)
                    else:
                        self.assertFalse(criterion.field_id)
                        self.assertFalse(criterion.activity_type_ids)

        # the stock stages other than Won are kept as they were
        for stage in self.stage_new | self.stage_qualified | self.stage_proposition:
            self.assertTrue(stage.exists())
            self.assertFalse(stage.template_key)
            self.assertFalse(stage.criterion_ids)

        # the summary says what changed
        lines = summary.split("\n")
        for name in ("Start", "Needs confirmed", "Solution & quote", "Negotiation"):
            self.assertIn(f"Created stage “{name}”.", lines)
        self.assertNotIn("Created stage “Won”.", lines)
        for __, (stage_name, __, __, __, criteria) in EXPECTED_FUNNEL.items():
            for __, criterion_name, __, __ in criteria:
                self.assertIn(
                    f"Added criterion “{criterion_name}” to stage “{stage_name}”.",
                    lines,
                )
        self.assertIn("New, Qualified, Proposition", summary)
        self.assertNotIn(NOTHING_CHANGED, summary)

    def test_apply_twice_changes_nothing(self):
        self._apply()
        stages = self._template_stages()
        criteria = self._all_criteria()
        self.assertEqual(len(criteria), 9)
        before = self._snapshot()

        summary = self._apply()

        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self._template_stages(), stages)
        self.assertEqual(self._all_criteria(), criteria)
        self.assertIn(NOTHING_CHANGED, summary)
        for verb in ("Created", "Added", "Updated", "Restored"):
            self.assertNotIn(verb, summary)

    def test_apply_keeps_user_stages_and_criteria(self):
        self._apply()
        start = self._template_stages()["start"]
        own_criterion = self.env["funnel.stage.criterion"].create(
            {
                "stage_id": start.id,
                "name": "Site survey booked",
                "guidance": "Our own rule.",
                "required": False,
                "sequence": 5,
            }
        )
        own_stage = self.env["crm.stage"].create(
            {
                "name": "Pilot",
                "sequence": 35,
                "win_rate": 60,
                "forecast_category": "best_case",
                "rotting_days": 45,
                "gate_policy": "warn",
            }
        )
        own_stage_criterion = self.env["funnel.stage.criterion"].create(
            {"stage_id": own_stage.id, "name": "Pilot report signed"}
        )
        before = self._snapshot()

        summary = self._apply()

        self.assertEqual(self._snapshot(), before)
        self.assertIn(NOTHING_CHANGED, summary)
        self.assertEqual(len(start.criterion_ids), 4)
        self.assertIn(own_criterion, start.criterion_ids)
        self.assertEqual(own_criterion.name, "Site survey booked")
        self.assertFalse(own_criterion.required)
        self.assertFalse(own_criterion.template_key)
        self.assertEqual(own_stage.criterion_ids, own_stage_criterion)
        self.assertFalse(own_stage.template_key)
        self.assertEqual(own_stage.win_rate, 60.0)
        self.assertEqual(own_stage.gate_policy, "warn")

    def test_apply_restores_changed_template_criteria(self):
        self._apply()
        stages = self._template_stages()
        criteria = {
            criterion.template_key: criterion for criterion in self._all_criteria()
        }
        criteria["budget"].active = False
        criteria["needs_documented"].required = False
        criteria["customer"].field_id = self.env["ir.model.fields"]._get(
            "crm.lead", "email_from"
        )
        criteria["quotation"].write(
            {
                "kind": "field",
                "field_id": self.env["ir.model.fields"]._get("crm.lead", "phone").id,
            }
        )
        criteria["demo"].min_count = 3
        # a stage setting changed by the user is put back too
        stages["solution"].win_rate = 40
        untouched = (
            criteria["decision_maker"] | criteria["revenue"] | criteria["terms"]
        ).read(["write_date"])

        summary = self._apply()

        self.env.invalidate_all()
        self.assertTrue(criteria["budget"].active)
        self.assertTrue(criteria["needs_documented"].required)
        self.assertEqual(criteria["customer"].field_id.name, "partner_id")
        self.assertEqual(criteria["quotation"].kind, "checklist")
        self.assertEqual(criteria["demo"].min_count, 1)
        self.assertEqual(stages["solution"].win_rate, 50.0)
        self.assertEqual(
            (criteria["decision_maker"] | criteria["revenue"] | criteria["terms"]).read(
                ["write_date"]
            ),
            untouched,
        )
        # restored in place: no new criterion
        self.assertEqual(len(self._all_criteria()), 9)
        self.assertEqual(
            {criterion.template_key: criterion for criterion in self._all_criteria()},
            criteria,
        )
        lines = summary.split("\n")
        for criterion_name, stage_name in (
            ("Budget identified", "Start"),
            ("Needs documented", "Needs confirmed"),
            ("Customer set", "Start"),
            ("Quotation sent", "Solution & quote"),
            ("Demo or site visit held", "Solution & quote"),
        ):
            self.assertIn(
                f"Restored criterion “{criterion_name}” of stage “{stage_name}”.",
                lines,
            )
        self.assertIn("Updated stage “Solution & quote”: Win Rate.", lines)
        self.assertNotIn("Decision maker identified", summary)
        self.assertNotIn(NOTHING_CHANGED, summary)

    def test_apply_adopts_user_stage_of_same_name(self):
        own_start = self.env["crm.stage"].create(
            {"name": "Start", "sequence": 5, "gate_policy": "none", "rotting_days": 3}
        )
        own_criterion = self.env["funnel.stage.criterion"].create(
            {"stage_id": own_start.id, "name": "Trade fair contact"}
        )

        summary = self._apply()

        self.env.invalidate_all()
        self.assertEqual(
            self.env["crm.stage"].search_count([("name", "=ilike", "start")]), 1
        )
        self.assertEqual(self._template_stages()["start"], own_start)
        self.assertEqual(own_start.template_key, "start")
        self.assertEqual(own_start.win_rate, 10.0)
        self.assertEqual(own_start.gate_policy, "block")
        self.assertEqual(own_start.rotting_days, 14)
        self.assertEqual(own_start.forecast_category, "pipeline")
        self.assertEqual(
            own_start.criterion_ids.mapped("name"),
            [
                "Trade fair contact",
                "Budget identified",
                "Decision maker identified",
                "Customer set",
            ],
        )
        self.assertFalse(own_criterion.template_key)
        lines = summary.split("\n")
        self.assertNotIn("Created stage “Start”.", lines)
        self.assertTrue(
            any(line.startswith("Updated stage “Start”: ") for line in lines), summary
        )
        self.assertIn("Added criterion “Budget identified” to stage “Start”.", lines)

    # ------------------------------------------------------------
    # Translations
    # ------------------------------------------------------------

    def test_created_stages_translated_zh_cn(self):
        """With Chinese installed, the created stages and criteria get their
        zh_CN names from the addon's zh_CN.po; without a zh_CN.po (or a term
        missing from it), the English name is used."""
        self.env["res.lang"]._activate_lang("zh_CN")
        po_path = os.path.join(get_module_path("sales_funnel_pro"), "i18n", "zh_CN.po")
        has_po = os.path.isfile(po_path)

        self._apply()

        stages = self._template_stages()
        for key, (name, *__) in EXPECTED_FUNNEL.items():
            if key == "won":
                continue
            stage = stages[key]
            expected = ZH_CN_STAGE_NAMES[key] if has_po else name
            with self.subTest(stage=name):
                self.assertEqual(stage.with_context(lang="zh_CN").name, expected)
                self.assertEqual(stage.with_context(lang="en_US").name, name)
        budget = stages["start"].criterion_ids.filtered(
            lambda c: c.template_key == "budget"
        )
        self.assertEqual(budget.with_context(lang="en_US").name, "Budget identified")
        if not has_po:
            self.assertEqual(
                budget.with_context(lang="zh_CN").name, "Budget identified"
            )
        else:
            self.assertNotEqual(
                budget.with_context(lang="zh_CN").name, "Budget identified"
            )

    def test_created_stages_fallback_language(self):
        """A language the addon has no translation for gets the English names,
        not empty ones."""
        self.env["res.lang"]._activate_lang("fr_BE")
        self._apply()
        stages = self._template_stages()
        self.assertEqual(stages["start"].with_context(lang="fr_BE").name, "Start")
        self.assertEqual(
            stages["solution"].with_context(lang="fr_BE").name, "Solution & quote"
        )
        self.assertEqual(
            stages["start"].criterion_ids.with_context(lang="fr_BE").mapped("name"),
            ["Budget identified", "Decision maker identified", "Customer set"],
        )
        # searching the names in that language finds the stages again
        self.assertEqual(
            self.env["crm.stage"]
            .with_context(lang="fr_BE")
            .search([("name", "=", "Needs confirmed")]),
            stages["needs"],
        )
        # and applying again in that language still changes nothing
        before = self._snapshot()
        wizard = (
            self.env["funnel.template.wizard"]
            .with_user(self.user_manager)
            .with_context(lang="fr_BE")
            .create({})
        )
        wizard.action_apply()
        self.assertEqual(self._snapshot(), before)

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    def test_only_managers_apply(self):
        for user in (self.user_salesman, self.user_all_leads):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.env["funnel.template.wizard"].with_user(user).create({})
                with self.assertRaises(AccessError):
                    self.env["funnel.template.wizard"].with_user(user)._apply_template()
        self.assertFalse(self._template_stages())
        self.assertFalse(self._all_criteria())
        self.assertEqual(
            self.env["crm.stage"].search([("team_id", "=", False)]), self.stock_stages
        )
        # a manager can
        self._apply(self.user_manager)
        self.assertEqual(len(self._template_stages()), 5)
