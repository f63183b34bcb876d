from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import FunnelCommon

REASON = "Signed framework contract before the team used the funnel"


@tagged("post_install", "-at_install")
class TestGateCreate(FunnelCommon):
    """No door around a gate: an opportunity created, copied, imported or
    converted directly in a later stage is judged as a forward move from the
    first stage of its funnel (S1) to that stage.

    Where opportunities may be created, by default: S1 (the first open stage)
    and S4 (no gate); not S2, S3 (gated) or Won.
    """

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _values(self, name, stage, **values):
        return {
            "name": name,
            "type": "opportunity",
            "team_id": self.team.id,
            "stage_id": stage.id,
            "user_id": self.user_salesman.id,
            **values,
        }

    def _create(self, user, *vals_list):
        return self.env["crm.lead"].with_user(user).create(list(vals_list))

    def _counts(self):
        """How many opportunities, history rows, checks and messages exist."""
        self.env.flush_all()
        return {
            model: self.env[model]
            .sudo()
            .with_context(active_test=False)
            .search_count([])
            for model in (
                "crm.lead",
                "funnel.stage.history",
                "funnel.lead.check",
                "mail.message",
            )
        }

    def _refused(self, function, regex, exception=UserError):
        """``function`` raises ``exception`` matching ``regex`` and writes
        nothing; return the message."""
        before = self._counts()
        with self.assertRaisesRegex(exception, regex) as error:
            function()
        self.assertEqual(self._counts(), before, "nothing was written")
        return str(error.exception)

    def _open_row(self, lead):
        return lead.stage_history_ids.filtered("is_open")

    def _waived(self, lead):
        return lead.check_ids.filtered(lambda check: check.state == "waived")

    # ------------------------------------------------------------
    # The stage option
    # ------------------------------------------------------------

    def test_option_defaults(self):
        self.assertEqual(
            [
                stage.allow_create
                for stage in (self.s1, self.s2, self.s3, self.s4, self.won)
            ],
            [True, False, False, True, False],
            "the first open stage and the stage without a gate",
        )
        self.s2.gate_policy = "none"
        self.assertTrue(self.s2.allow_create, "follows the gate until chosen")
        self.s2.gate_policy = "warn"
        self.assertFalse(self.s2.allow_create)
        self.s2.allow_create = True
        self.s2.sequence = 99  # reordering keeps the choice
        self.assertTrue(self.s2.allow_create)
        other_team = self.env["crm.team"].create({"name": "Own stages"})
        Stage = self.env["crm.stage"]
        own_first = Stage.create(
            {"name": "Own intake", "sequence": 1, "team_id": other_team.id}
        )
        self.assertTrue(own_first.allow_create, "first of its team's funnel")
        later = Stage.create({"name": "After S1", "sequence": 150})
        self.assertFalse(later.allow_create)

    def test_first_stage_of_each_funnel(self):
        Stage = self.env["crm.stage"]
        self.assertEqual(Stage._funnel_first_stage_id(self.team.id), self.s1.id)
        self.assertEqual(Stage._funnel_first_stage_id(False), self.s1.id)
        other_team = self.env["crm.team"].create({"name": "Own stages"})
        own_first = Stage.create(
            {"name": "Own intake", "sequence": 100, "team_id": other_team.id}
        )
        self.assertEqual(Stage._funnel_first_stage_id(other_team.id), own_first.id)
        self.assertEqual(Stage._funnel_first_stage_id(self.team.id), self.s1.id)
        self.s1.fold = True
        self.assertEqual(
            Stage._funnel_first_stage_id(self.team.id),
            self.s2.id,
            "crm starts new opportunities in the first stage that is not folded",
        )

    # ------------------------------------------------------------
    # Create
    # ------------------------------------------------------------

    def test_create_in_first_stage_as_stock(self):
        lead = self._create(self.user_salesman, self._values("New deal", self.s1))
        self.assertEqual(lead.stage_id, self.s1)
        self.assertFalse(self._waived(lead))
        self.assertFalse(self._open_row(lead).gate_waived)
        default = (
            self.env["crm.lead"]
            .with_user(self.user_salesman)
            .create(
                {
                    "name": "Default stage",
                    "type": "opportunity",
                    "team_id": self.team.id,
                }
            )
        )
        self.assertEqual(default.stage_id, self.s1, "crm's default stage")

    def test_create_in_closed_stage_refused(self):
        for user in (self.user_salesman, self.user_manager):
            with self.subTest(user=user.login):
                message = self._refused(
                    lambda user=user: self._create(
                        user,
                        self._values(
                            "Skips ahead", self.s2, partner_id=self.partner.id
                        ),
                    ),
                    "cannot be created in",
                )
                self.assertIn("“Skips ahead” cannot be created in “S2 Needs”", message)
                self.assertIn(
                    "“S2 Needs” does not take new opportunities: they start in "
                    "“S1 Start”",
                    message,
                )
                self.assertIn("S1 Start: Budget identified", message)
                self.assertNotIn("Customer set", message, "met from the values")
                self.assertNotIn("Competitors known", message, "optional")
                self.assertEqual(
                    "As a sales manager, give the Reason to Start Past the Gates"
                    in message,
                    user == self.user_manager,
                )

    def test_create_in_open_stage_judged_by_the_gates(self):
        """S4 takes new opportunities, but the checklist of S1 and S2 and the
        demo of S2 cannot be met by a new one: refused, naming each stage."""
        for user in (self.user_salesman, self.user_manager):
            with self.subTest(user=user.login):
                message = self._refused(
                    lambda user=user: self._create(user, self._values("Late", self.s4)),
                    "cannot be created in “S4 Terms”",
                )
                self.assertNotIn("does not take new opportunities", message)
                self.assertIn("S1 Start: Budget identified and Customer set", message)
                self.assertIn("S2 Needs: Needs documented and Demo held", message)
                self.assertIn("S3 Quote: Quotation sent", message)

    def test_field_criteria_met_from_the_values(self):
        """Where only fields gate the way, an opportunity created with them set
        starts in the later stage."""
        self.c1_budget.required = False
        self.s2.allow_create = True
        self._refused(
            lambda: self._create(self.user_salesman, self._values("Bare", self.s2)),
            r"S1 Start: Customer set",
        )
        lead = self._create(
            self.user_salesman,
            self._values("With customer", self.s2, partner_id=self.partner.id),
        )
        self.assertEqual(lead.stage_id, self.s2)
        self.assertEqual(
            self._checks(lead), {self.c2_needs: "todo", self.c2_meeting: "todo"}
        )
        row = self._open_row(lead)
        self.assertFalse(row.gate_waived)
        self.assertFalse(row.skipped_criteria)

    def test_create_in_won(self):
        self._refused(
            lambda: self._create(
                self.user_salesman, self._values("Won already", self.won)
            ),
            "“Won already” cannot be created in “S5 Won”",
        )
        # the won stage's own rule: where it takes new opportunities, they must
        # still meet every criterion before it
        self.won.allow_create = True
        message = self._refused(
            lambda: self._create(
                self.user_salesman, self._values("Won already", self.won)
            ),
            "Unmet exit criteria of the stages before it",
        )
        self.assertIn("S2 Needs: Needs documented and Demo held", message)
        # a sales manager is refused too, unless they give a reason
        self._refused(
            lambda: self._create(
                self.user_manager, self._values("Won already", self.won)
            ),
            "Unmet exit criteria of the stages before it",
        )
        lead = self._create(
            self.user_manager,
            self._values("Won already", self.won, funnel_waive_reason=REASON),
        )
        self.assertEqual(lead.stage_id, self.won)
        self.assertEqual(lead.probability, 100)
        row = self._open_row(lead)
        self.assertEqual(row.event, "won")
        self.assertTrue(row.gate_waived)
        self.assertEqual(row.waive_reason, REASON)

    def test_form_as_salesman(self):
        before = self._counts()
        form = Form(self.env["crm.lead"].with_user(self.user_salesman))
        form.name = "From the form"
        form.team_id = self.team
        form.stage_id = self.s3
        with self.assertRaisesRegex(UserError, "cannot be created in “S3 Quote”"):
            form.save()
        self.assertEqual(self._counts(), before)

    # ------------------------------------------------------------
    # Copy
    # ------------------------------------------------------------

    def test_copy(self):
        original = self._create_lead("Original", partner_id=self.partner.id)
        for user in (self.user_salesman, self.user_manager):
            with self.subTest(user=user.login):
                self._refused(
                    lambda user=user: original.with_user(user).copy(
                        {"stage_id": self.s3.id}
                    ),
                    "“Original” cannot be created in “S3 Quote”",
                )
        copied = original.with_user(self.user_salesman).copy()
        self.assertEqual(copied.stage_id, self.s1, "a plain copy starts in S1")
        advanced = self._create_lead("Advanced", stage=self.s3)
        copied = advanced.with_user(self.user_salesman).copy()
        self.assertEqual(copied.stage_id, self.s1, "not in the original's stage")
        copied = original.with_user(self.user_manager).copy(
            {"stage_id": self.s3.id, "funnel_waive_reason": REASON}
        )
        self.assertEqual(copied.stage_id, self.s3)
        self.assertEqual(self._open_row(copied).waive_reason, REASON)

    # ------------------------------------------------------------
    # Batch
    # ------------------------------------------------------------

    def test_batch_lists_each_refused(self):
        values = [
            self._values("First fine", self.s1),
            self._values("Closed door", self.s2),
            self._values("Unmet gates", self.s4),
            self._values("Second fine", self.s1),
        ]
        for user in (self.user_salesman, self.user_manager):
            with self.subTest(user=user.login):
                message = self._refused(
                    lambda user=user: self._create(user, *values),
                    "2 opportunities cannot be created in their stage; nothing was "
                    "created",
                )
                self.assertIn("Closed door → S2 Needs", message)
                self.assertIn("Unmet gates → S4 Terms", message)
                self.assertNotIn("fine", message)
                self.assertEqual(
                    message.count("S1 Start: Budget identified"), 2, "each one"
                )

    # ------------------------------------------------------------
    # Import
    # ------------------------------------------------------------

    def _load(self, user, rows, reason_column=False, **context):
        columns = ["name", "type", "team_id/.id", "stage_id/.id", "user_id/.id"]
        if reason_column:
            columns.append("funnel_waive_reason")
        return (
            self.env["crm.lead"]
            .with_user(user)
            .with_context(**context)
            .load(columns, rows)
        )

    def _row(self, name, stage, *extra):
        return [
            name,
            "opportunity",
            str(self.team.id),
            str(stage.id),
            str(self.user_salesman.id),
            *extra,
        ]

    def test_import(self):
        for user in (self.user_salesman, self.user_manager):
            with self.subTest(user=user.login):
                before = self._counts()
                result = self._load(
                    user,
                    [
                        self._row("Imported fine", self.s1),
                        self._row("Imported", self.s3),
                    ],
                )
                self.assertFalse(result["ids"])
                # the error of the whole batch, then the row's
                self.assertEqual(
                    {(m["type"], m["message"]) for m in result["messages"]},
                    {("error", result["messages"][0]["message"])},
                )
                self.assertIn(
                    "“Imported” cannot be created in “S3 Quote”",
                    result["messages"][0]["message"],
                )
                self.assertEqual(self._counts(), before)

    def test_import_reason_column_by_manager(self):
        result = self._load(
            self.user_manager,
            [
                self._row("Historical", self.s3, REASON),
                self._row("Fresh", self.s1, ""),
            ],
            reason_column=True,
        )
        self.assertEqual(len(result["ids"]), 2, result["messages"])
        historical, fresh = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(historical.stage_id, self.s3)
        self.assertEqual(self._open_row(historical).waive_reason, REASON)
        self.assertEqual(
            self._waived(historical).criterion_id,
            self.c1_budget | self.c1_partner | self.c2_needs | self.c2_meeting,
        )
        self.assertFalse(self._open_row(fresh).gate_waived)

    def test_import_reason_column_by_salesman(self):
        """The column is a sales manager's: a salesman cannot even see it, and
        giving it anyway refuses the row."""
        self.assertNotIn(
            "funnel_waive_reason",
            self.env["crm.lead"].with_user(self.user_salesman).fields_get(),
        )
        before = self._counts()
        result = self._load(
            self.user_salesman,
            [self._row("Trusted", self.s3, REASON)],
            reason_column=True,
        )
        self.assertFalse(result["ids"])
        self.assertIn("Only a sales manager", result["messages"][0]["message"])
        self.assertEqual(self._counts(), before, "nothing was written")

    def test_import_reason_for_the_whole_file(self):
        """The import wizard of a sales manager gives the reason once: the rows
        that start past the gates are waived with it, the others are created as
        usual."""
        wizard = (
            self.env["funnel.lead.import"]
            .with_user(self.user_manager)
            .create({"reason": f"  {REASON} "})
        )
        action = wizard.action_open_import()
        self.assertEqual(action["tag"], "import")
        self.assertEqual(action["params"]["active_model"], "crm.lead")
        context = action["params"]["context"]
        self.assertEqual(context["default_funnel_waive_reason"], REASON)
        result = self._load(
            self.user_manager,
            [
                self._row("Carried over 1", self.s2),
                self._row("Carried over 2", self.won),
                self._row("Carried over 3", self.s1),
            ],
            **context,
        )
        self.assertEqual(len(result["ids"]), 3, result["messages"])
        leads = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(leads.stage_id, self.s2 | self.won | self.s1)
        self.assertEqual(
            [self._open_row(lead).waive_reason for lead in leads],
            [REASON, REASON, False],
        )
        self.assertEqual(set(self._waived(leads).mapped("waive_reason")), {REASON})

    def test_import_wizard_refusals(self):
        with self.assertRaises(AccessError):
            self.env["funnel.lead.import"].with_user(self.user_salesman).create(
                {"reason": REASON}
            )
        wizard = self.env["funnel.lead.import"].create({"reason": REASON})
        with self.assertRaisesRegex(AccessError, "Only a sales manager"):
            wizard.with_user(self.user_all_leads).action_open_import()
        wizard = (
            self.env["funnel.lead.import"]
            .with_user(self.user_manager)
            .create({"reason": "   "})
        )
        with self.assertRaisesRegex(UserError, "Give the reason"):
            wizard.action_open_import()

    # ------------------------------------------------------------
    # A sales manager's reason
    # ------------------------------------------------------------

    def test_manager_with_reason(self):
        lead = self._create(
            self.user_manager,
            self._values(
                "Far along",
                self.s3,
                partner_id=self.partner.id,
                funnel_waive_reason=REASON,
            ),
        )
        self.assertEqual(lead.stage_id, self.s3)
        waived = self._waived(lead)
        self.assertEqual(
            waived.criterion_id,
            self.c1_budget | self.c2_needs | self.c2_meeting,
            "the unmet criteria; the customer was given",
        )
        self.assertEqual(set(waived.mapped("waive_reason")), {REASON})
        self.assertEqual(waived.waived_by_id, self.user_manager)
        self.assertFalse(waived.filtered("is_current"))
        self.assertEqual(
            self._checks(lead)[self.c3_quote], "todo", "the stage's own criterion"
        )
        self.assertRecordValues(
            lead.stage_history_ids,
            [
                {
                    "stage_id": self.s3.id,
                    "gate_waived": True,
                    "waive_reason": REASON,
                    "moved_by_id": self.user_manager.id,
                    "skipped_criteria": False,
                }
            ],
        )
        note = lead.message_ids[0]
        self.assertIn("Started in “S3 Quote” by Max Manager, who waived", note.body)
        self.assertIn("Budget identified", note.body)
        self.assertIn(REASON, note.body)

    def test_manager_reason_opens_a_closed_stage(self):
        """Only the stage refused it: the waiver is on the history row and in
        the chatter, no criterion is waived."""
        self.c1_budget.required = False
        lead = self._create(
            self.user_manager,
            self._values(
                "Door only",
                self.s2,
                partner_id=self.partner.id,
                funnel_waive_reason=REASON,
            ),
        )
        self.assertEqual(lead.stage_id, self.s2)
        self.assertFalse(self._waived(lead))
        self.assertEqual(self._open_row(lead).waive_reason, REASON)
        self.assertIn("does not take new opportunities", lead.message_ids[0].body)

    def test_manager_needs_a_reason(self):
        for reason in (False, "   "):
            with self.subTest(reason=reason):
                self._refused(
                    lambda reason=reason: self._create(
                        self.user_manager,
                        self._values("No reason", self.s3, funnel_waive_reason=reason),
                    ),
                    "cannot be created in “S3 Quote”",
                )

    def test_salesman_cannot_give_a_reason(self):
        for user in (self.user_salesman, self.user_all_leads):
            with self.subTest(user=user.login):
                self._refused(
                    lambda user=user: self._create(
                        user,
                        self._values("Trust me", self.s3, funnel_waive_reason=REASON),
                    ),
                    "Only a sales manager",
                    AccessError,
                )
        lead = self._create(
            self.user_salesman,
            self._values("Harmless", self.s1, funnel_waive_reason=REASON),
        )
        self.assertFalse(
            self._open_row(lead).gate_waived, "nothing to waive: the reason is unused"
        )

    # ------------------------------------------------------------
    # Warning gates
    # ------------------------------------------------------------

    def test_warn(self):
        (self.s1 | self.s2).write({"gate_policy": "warn"})
        self.assertFalse(self.s2.allow_create)
        # S3 does not take new opportunities, warnings or not
        self._refused(
            lambda: self._create(self.user_salesman, self._values("Warned", self.s3)),
            "“S3 Quote” does not take new opportunities",
        )
        lead = self._create(
            self.user_salesman,
            self._values("Warned", self.s4, partner_id=self.partner.id),
        )
        self.assertEqual(lead.stage_id, self.s4)
        self.assertFalse(self._waived(lead))
        row = self._open_row(lead)
        self.assertFalse(row.gate_waived)
        self.assertEqual(
            row.skipped_criteria,
            "S1 Start: Budget identified\n"
            "S2 Needs: Needs documented and Demo held\n"
            "S3 Quote: Quotation sent",
        )
        note = lead.message_ids[0]
        self.assertIn(
            "Started in “S4 Terms” although these exit criteria of the stages before "
            "it were not met",
            note.body,
        )
        self.assertIn("Demo held", note.body)

    def test_warn_with_a_reason_waives(self):
        (self.s1 | self.s2).write({"gate_policy": "warn"})
        lead = self._create(
            self.user_manager,
            self._values("Waived warnings", self.s4, funnel_waive_reason=REASON),
        )
        row = self._open_row(lead)
        self.assertFalse(row.skipped_criteria)
        self.assertEqual(row.waive_reason, REASON)
        self.assertEqual(len(self._waived(lead)), 5)

    # ------------------------------------------------------------
    # As stock CRM
    # ------------------------------------------------------------

    def test_leads_as_stock(self):
        lead = self._create(
            self.user_salesman, self._values("A lead", self.s3, type="lead")
        )
        self.assertEqual(lead.stage_id, self.s3)
        self.assertEqual(lead.type, "lead")

    def test_stages_without_gates_as_stock(self):
        """The stock stages of the database, now of another team, come before
        S1 in that team's funnel and have no criteria: creating in any of them
        passes no gate, whatever their option says."""
        elsewhere = self.env["crm.stage"].search(
            [("team_id.name", "=", "Elsewhere"), ("is_won", "=", False)]
        )
        self.assertGreaterEqual(len(elsewhere), 2)
        self.assertFalse(elsewhere[-1].allow_create)
        lead = self._create(
            self.user_salesman,
            self._values("Stock", elsewhere[-1], team_id=elsewhere.team_id.id),
        )
        self.assertEqual(lead.stage_id, elsewhere[-1])
        (self.s1 | self.s2 | self.s3).write({"gate_policy": "none"})
        self.s3.allow_create = False
        lead = self._create(self.user_salesman, self._values("No gate", self.s3))
        self.assertEqual(lead.stage_id, self.s3, "no gate on the way: as stock")
        self.assertFalse(self._open_row(lead).skipped_criteria)

    def test_load_history_key(self):
        """The demo generator (superuser) writes its own history and checks; a
        user giving its context key is judged all the same."""
        Lead = self.env["crm.lead"].with_context(funnel_load_history=True)
        loaded = Lead.create(self._values("Generated", self.s3))
        self.assertEqual(loaded.stage_id, self.s3)
        self._refused(
            lambda: Lead.with_user(self.user_salesman).create(
                self._values("Sneaky", self.s3)
            ),
            "cannot be created in “S3 Quote”",
        )

    # ------------------------------------------------------------
    # Conversion and merge
    # ------------------------------------------------------------

    def test_conversion_is_no_way_around(self):
        lead = self._create(
            self.user_salesman, self._values("Lead far ahead", self.s3, type="lead")
        )
        for user in (self.user_salesman, self.user_manager):
            with self.subTest(user=user.login):
                self._refused(
                    lambda user=user: lead.with_user(user).convert_opportunity(
                        self.partner
                    ),
                    "“Lead far ahead” cannot become an opportunity in “S3 Quote”",
                )
                lead.invalidate_recordset()
                self.assertEqual(lead.type, "lead")
        # the stock way: a lead in the first stage is converted as usual
        lead.stage_id = self.s1
        lead.with_user(self.user_salesman).convert_opportunity(self.partner)
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(lead.stage_id, self.s1)

    def test_conversion_wizard(self):
        lead = self._create(
            self.user_salesman, self._values("Wizard lead", self.s2, type="lead")
        )
        wizard = (
            self.env["crm.lead2opportunity.partner"]
            .with_user(self.user_salesman)
            .with_context(
                active_model="crm.lead", active_id=lead.id, active_ids=lead.ids
            )
            .create({"name": "convert", "action": "nothing"})
        )
        self._refused(wizard.action_apply, "cannot become an opportunity")

    def test_merge_keeps_a_stage_reached_legitimately(self):
        advanced = self._create_lead("Advanced deal", partner_id=self.partner.id)
        self._tick(advanced, self.c1_budget)
        advanced.with_user(self.user_salesman).write({"stage_id": self.s2.id})
        newcomer = self._create_lead("Same deal, again")
        merged = (
            (advanced | newcomer)
            .with_user(self.user_salesman)
            ._merge_opportunity(auto_unlink=False)
        )
        self.assertEqual(merged, advanced)
        self.assertEqual(merged.stage_id, self.s2)
        # a lead parked in a later stage merged into an opportunity of S1 does
        # not lend it its stage
        parked = self._create(
            self.user_salesman, self._values("Parked lead", self.s3, type="lead")
        )
        fresh = self._create_lead("Fresh opportunity")
        merged = (
            (parked | fresh)
            .with_user(self.user_salesman)
            ._merge_opportunity(auto_unlink=False)
        )
        self.assertEqual(merged, fresh)
        self.assertEqual(merged.stage_id, self.s1)
        # two leads merged stay a lead, whose conversion is judged
        other = self._create(
            self.user_salesman, self._values("Parked lead too", self.s1, type="lead")
        )
        parked_again = self._create(
            self.user_salesman, self._values("Parked again", self.s3, type="lead")
        )
        merged = (
            (other | parked_again)
            .with_user(self.user_salesman)
            ._merge_opportunity(auto_unlink=False)
        )
        self.assertEqual((merged.type, merged.stage_id), ("lead", self.s3))
        self._refused(
            lambda: merged.with_user(self.user_salesman).convert_opportunity(
                self.partner
            ),
            "cannot become an opportunity",
        )

    # ------------------------------------------------------------
    # Kanban quick create
    # ------------------------------------------------------------

    def _quick_create_check(self, user, stage):
        return (
            self.env["crm.lead"]
            .with_user(user)
            .with_context(default_type="opportunity", default_team_id=self.team.id)
            .funnel_check_quick_create(stage.id)
        )

    def test_quick_create_check(self):
        salesman = self.user_salesman
        self.assertFalse(self._quick_create_check(salesman, self.s1))
        refusal = self._quick_create_check(salesman, self.s2)
        self.assertEqual(
            refusal["message"],
            "“S2 Needs” does not take new opportunities: they start in “S1 Start” "
            "and move forward as their exit criteria are met.",
        )
        self.assertEqual(refusal["first_stage_id"], self.s1.id)
        self.assertEqual(refusal["first_stage_name"], "S1 Start")
        refusal = self._quick_create_check(salesman, self.s4)
        self.assertIn(
            "A new opportunity cannot meet these exit criteria of the stages before "
            "“S4 Terms”: S1 Start: Budget identified; S2 Needs: Needs documented and "
            "Demo held.",
            refusal["message"],
        )
        self.assertNotIn("Customer set", refusal["message"], "may be typed in")
        self.assertNotIn("Quotation sent", refusal["message"], "a warning only")
        self.assertNotIn("sales manager", refusal["message"])
        refusal = self._quick_create_check(self.user_manager, self.s2)
        self.assertIn("As a sales manager", refusal["message"])
        # only fields on the way: the quick create may meet them
        self.c1_budget.required = False
        self.s2.allow_create = True
        self.assertFalse(self._quick_create_check(salesman, self.s2))
