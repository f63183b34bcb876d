from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, TransactionCase, tagged

from .common import FunnelCommon


@tagged("post_install", "-at_install")
class TestGates(FunnelCommon):
    """Exit criteria are enforced by the ORM, whatever the path of the move."""

    def _history_count(self, leads):
        return self.env["funnel.stage.history"].search_count(
            [("lead_id", "in", leads.ids)]
        )

    # ------------------------------------------------------------
    # Checks and progress
    # ------------------------------------------------------------

    def test_checks_created_on_entering_stage(self):
        lead = self._create_lead()
        self.assertEqual(
            self._checks(lead),
            {self.c1_budget: "todo", self.c1_partner: "todo", self.c1_optional: "todo"},
        )
        self.assertEqual(lead.current_check_ids, lead.check_ids)
        self.assertEqual(lead.qualification_required_count, 2)
        self.assertEqual(lead.qualification_met_count, 0)
        self.assertEqual(lead.qualification_progress, 0)
        self.assertFalse(lead.gate_ready)

    def test_progress_follows_checks_and_fields(self):
        lead = self._create_lead()
        self._tick(lead, self.c1_optional)
        self.assertEqual(lead.qualification_met_count, 0, "optional items do not count")
        self._tick(lead, self.c1_budget)
        self.assertEqual(lead.qualification_met_count, 1)
        self.assertEqual(lead.qualification_progress, 50)
        lead.partner_id = self.partner
        self.assertEqual(self._checks(lead)[self.c1_partner], "met")
        self.assertEqual(lead.qualification_progress, 100)
        self.assertTrue(lead.gate_ready)
        lead.partner_id = False
        self.assertEqual(self._checks(lead)[self.c1_partner], "todo")
        self.assertFalse(lead.gate_ready)

    def test_check_audit_trail(self):
        lead = self._create_lead()
        check = lead.check_ids.filtered(lambda c: c.criterion_id == self.c1_budget)
        check.with_user(self.user_salesman).write({"evidence": "Budget 80k CNY"})
        check.with_user(self.user_salesman).action_mark_met()
        self.assertEqual(check.state, "met")
        self.assertEqual(check.done_by_id, self.user_salesman)
        self.assertTrue(check.done_date)
        self.assertEqual(check.evidence, "Budget 80k CNY")
        check.with_user(self.user_salesman).action_reset()
        self.assertEqual(check.state, "todo")
        self.assertFalse(check.done_by_id)
        self.assertFalse(check.done_date)

    def test_automatic_criteria_cannot_be_ticked(self):
        lead = self._create_lead()
        check = lead.check_ids.filtered(lambda c: c.criterion_id == self.c1_partner)
        with self.assertRaisesRegex(UserError, "checked automatically"):
            check.with_user(self.user_salesman).action_mark_met()
        self.assertEqual(check.state, "todo")

    def test_waived_state_cannot_be_set_by_hand(self):
        lead = self._create_lead()
        check = lead.check_ids.filtered(lambda c: c.criterion_id == self.c1_budget)
        for user in (self.user_salesman, self.user_manager):
            with self.assertRaisesRegex(UserError, "Advance anyway"):
                check.with_user(user).write({"state": "waived"})
        self.assertEqual(check.state, "todo")

    def test_activity_criterion_counts_done_activities(self):
        lead = self._create_lead(stage=self.s2)
        self.assertEqual(self._checks(lead)[self.c2_meeting], "todo")
        self._done_activity(lead, self.call_type)
        self.assertEqual(
            self._checks(lead)[self.c2_meeting], "todo", "a call is no demo"
        )
        self._done_activity(lead, self.meeting_type)
        self.assertEqual(self._checks(lead)[self.c2_meeting], "met")
        self.assertEqual(lead.qualification_met_count, 1)

    def test_activity_criterion_minimum_count(self):
        self.c2_meeting.min_count = 2
        lead = self._create_lead(stage=self.s2)
        self._done_activity(lead, self.meeting_type)
        self.assertEqual(self._checks(lead)[self.c2_meeting], "todo")
        self._done_activity(lead, self.meeting_type)
        self.assertEqual(self._checks(lead)[self.c2_meeting], "met")

    def test_new_criterion_reaches_opportunities_in_stage(self):
        lead = self._create_lead()
        self._meet_s1(lead)
        self.assertTrue(lead.gate_ready)
        criterion = self.env["funnel.stage.criterion"].create(
            {"stage_id": self.s1.id, "name": "Site access granted"}
        )
        self.assertEqual(self._checks(lead)[criterion], "todo")
        self.assertEqual(lead.qualification_required_count, 3)
        self.assertFalse(lead.gate_ready)
        criterion.active = False
        self.assertEqual(lead.qualification_required_count, 2)
        self.assertTrue(lead.gate_ready)
        lead.stage_id = self.s2
        self.assertEqual(lead.stage_id, self.s2, "an archived criterion does not gate")

    # ------------------------------------------------------------
    # Blocking gates
    # ------------------------------------------------------------

    def test_block_names_unmet_criteria_and_writes_nothing(self):
        lead = self._create_lead(name="Pressure controllers for Line 3")
        self._tick(lead, self.c1_optional)
        history_before = self._history_count(lead)
        checks_before = self._checks(lead)
        with self.assertRaises(UserError) as error:
            lead.with_user(self.user_salesman).write({"stage_id": self.s2.id})
        message = str(error.exception)
        self.assertIn("Pressure controllers for Line 3", message)
        self.assertIn("S2 Needs", message)
        self.assertIn("S1 Start: Budget identified and Customer set", message)
        self.assertNotIn("Competitors known", message, "optional items never block")
        lead.invalidate_recordset()
        self.assertEqual(lead.stage_id, self.s1)
        self.assertEqual(self._history_count(lead), history_before)
        self.assertEqual(self._checks(lead), checks_before)

    def test_move_once_criteria_met(self):
        lead = self._create_lead()
        self._meet_s1(lead)
        lead.with_user(self.user_salesman).write({"stage_id": self.s2.id})
        self.assertEqual(lead.stage_id, self.s2)
        self.assertEqual(
            lead.current_check_ids.criterion_id, self.c2_needs | self.c2_meeting
        )
        self.assertEqual(
            lead.past_check_ids.criterion_id,
            self.c1_budget | self.c1_partner | self.c1_optional,
            "the checks of the stage left behind are kept",
        )
        self.assertEqual(self._checks(lead)[self.c1_budget], "met")

    def test_skipping_stages_checks_every_stage_between(self):
        lead = self._create_lead()
        self._meet_s1(lead)
        with self.assertRaises(UserError) as error:
            lead.write({"stage_id": self.s3.id})
        message = str(error.exception)
        self.assertIn("S2 Needs: Needs documented and Demo held", message)
        self.assertNotIn("S1 Start", message)
        self.assertEqual(lead.stage_id, self.s1)

    def test_backward_moves_are_always_allowed(self):
        lead = self._create_lead(stage=self.s3)
        lead.with_user(self.user_salesman).write({"stage_id": self.s1.id})
        self.assertEqual(lead.stage_id, self.s1)
        self.assertEqual(lead.backward_move_count, 1)

    def test_met_checks_count_again_after_moving_back(self):
        lead = self._create_lead()
        self._meet_s1(lead)
        lead.stage_id = self.s2
        lead.stage_id = self.s1
        self.assertTrue(lead.gate_ready, "earlier evidence is still valid")
        lead.stage_id = self.s2
        self.assertEqual(lead.stage_id, self.s2)

    def test_batch_write_lists_only_blocked_and_writes_nothing(self):
        ready = self._create_lead(name="Ready deal")
        self._meet_s1(ready)
        blocked_1 = self._create_lead(name="Blocked deal one")
        blocked_2 = self._create_lead(
            name="Blocked deal two", user=self.user_salesman_2
        )
        leads = ready | blocked_1 | blocked_2
        history_before = self._history_count(leads)
        with self.assertRaises(UserError) as error:
            leads.write({"stage_id": self.s2.id})
        message = str(error.exception)
        self.assertIn("2 opportunities cannot move", message)
        self.assertIn("Blocked deal one", message)
        self.assertIn("Blocked deal two", message)
        self.assertNotIn("Ready deal", message)
        leads.invalidate_recordset()
        self.assertEqual(
            leads.stage_id, self.s1, "nothing was moved, not even the ready one"
        )
        self.assertEqual(self._history_count(leads), history_before)

    def test_statusbar_and_rpc_write_as_salesman(self):
        lead = self._create_lead()
        with self.assertRaises(UserError):
            with Form(lead.with_user(self.user_salesman)) as form:
                form.stage_id = self.s2
        lead.invalidate_recordset()
        self.assertEqual(lead.stage_id, self.s1)
        self._meet_s1(lead)
        with Form(lead.with_user(self.user_salesman)) as form:
            form.stage_id = self.s2
        self.assertEqual(lead.stage_id, self.s2)

    def test_import_obeys_gates(self):
        lead = self._create_lead()
        result = self.env["crm.lead"].load(
            [".id", "stage_id/.id"], [[str(lead.id), str(self.s2.id)]]
        )
        self.assertFalse(result["ids"])
        self.assertEqual(len(result["messages"]), 1)
        self.assertEqual(result["messages"][0]["type"], "error")
        self.assertIn("Budget identified", result["messages"][0]["message"])
        lead.invalidate_recordset()
        self.assertEqual(lead.stage_id, self.s1)
        self._meet_s1(lead)
        result = self.env["crm.lead"].load(
            [".id", "stage_id/.id"], [[str(lead.id), str(self.s2.id)]]
        )
        self.assertEqual(result["ids"], [lead.id])
        self.assertEqual(lead.stage_id, self.s2)

    def test_won_button_passes_the_gates(self):
        lead = self._create_lead(stage=self.s2, probability=40)
        with self.assertRaisesRegex(UserError, "Needs documented"):
            lead.with_user(self.user_salesman).action_set_won_rainbowman()
        lead.invalidate_recordset()
        self.assertEqual(lead.stage_id, self.s2)
        self.assertEqual(lead.probability, 40)
        self.assertTrue(lead.active)
        with self.assertRaisesRegex(UserError, "Demo held"):
            lead.write({"stage_id": self.won.id})
        self._tick(lead, self.c2_needs)
        self._done_activity(lead, self.meeting_type)
        # s3 (warn) and s4 (no gate) are skipped on the way to won
        lead.with_user(self.user_salesman).action_set_won()
        self.assertEqual(lead.stage_id, self.won)
        self.assertEqual(lead.probability, 100)

    def test_lost_and_restore_are_never_blocked(self):
        lead = self._create_lead()
        lead.with_user(self.user_salesman).action_set_lost()
        self.assertFalse(lead.active)
        lead.with_user(self.user_salesman).action_unarchive()
        self.assertTrue(lead.active)
        self.assertEqual(lead.stage_id, self.s1)

    def test_other_team_stage_does_not_gate(self):
        other_team = self.env["crm.team"].create({"name": "Other Team"})
        other_stage = self.env["crm.stage"].create(
            {"name": "Other team review", "sequence": 101, "team_id": other_team.id}
        )
        self.env["funnel.stage.criterion"].create(
            {"stage_id": other_stage.id, "name": "Other team sign-off"}
        )
        lead = self._create_lead()
        self._meet_s1(lead)
        lead.stage_id = self.s2
        self.assertEqual(lead.stage_id, self.s2)

    def test_stage_order_survives_stage_updates(self):
        """Gates follow the column order, however the stage rows are stored."""
        self.s1.write({"rotting_days": 5})  # the row moves in the table
        self.won.write({"fold": True})
        rank = self.env["crm.stage"]._funnel_rank()
        stages = self.env["crm.stage"].search([])
        self.assertEqual(sorted(stages.ids, key=rank.get), stages.ids)
        lead = self._create_lead()
        with self.assertRaises(UserError):
            lead.write({"stage_id": self.s2.id})
        self.s2.sequence = 100  # S2 is now before S1: moving there is backward
        lead.write({"stage_id": self.s2.id})
        self.assertEqual(lead.stage_id, self.s2)
        self.assertEqual(lead.backward_move_count, 1)

    # ------------------------------------------------------------
    # Warning and open gates
    # ------------------------------------------------------------

    def test_warn_gate_moves_and_records_skipped_criteria(self):
        lead = self._create_lead(stage=self.s3)
        messages_before = len(lead.message_ids)
        lead.with_user(self.user_salesman).write({"stage_id": self.s4.id})
        self.assertEqual(lead.stage_id, self.s4)
        row = lead.stage_history_ids.filtered("is_open")
        self.assertEqual(row.stage_id, self.s4)
        self.assertEqual(row.skipped_criteria, "S3 Quote: Quotation sent")
        self.assertEqual(len(lead.message_ids), messages_before + 1)
        self.assertIn("Quotation sent", lead.message_ids[0].body)

    def test_no_gate_policy_never_checks(self):
        lead = self._create_lead(stage=self.s4)
        lead.write({"stage_id": self.won.id})
        self.assertEqual(lead.stage_id, self.won)
        self.assertFalse(lead.stage_history_ids.filtered("is_open").skipped_criteria)

    def test_block_policy_wins_over_warn_when_skipping(self):
        lead = self._create_lead(stage=self.s2)
        with self.assertRaises(UserError) as error:
            lead.write({"stage_id": self.s4.id})
        self.assertIn("S2 Needs", str(error.exception))
        self.assertIn("S3 Quote: Quotation sent", str(error.exception))

    # ------------------------------------------------------------
    # Waiver
    # ------------------------------------------------------------

    def _waiver(self, leads, user, **values):
        return (
            self.env["funnel.gate.waiver"]
            .with_user(user)
            .with_context(default_lead_ids=leads.ids)
            .create(values)
        )

    def test_manager_waives_with_reason(self):
        lead = self._create_lead()
        lead.partner_id = self.partner
        wizard = self._waiver(lead, self.user_manager, reason="Framework contract")
        self.assertEqual(wizard.stage_id, self.s2, "defaults to the next stage")
        self.assertEqual(
            wizard.unmet_summary, f"{lead.name}\nS1 Start: Budget identified"
        )
        wizard.action_confirm()
        self.assertEqual(lead.stage_id, self.s2)
        check = lead.check_ids.filtered(lambda c: c.criterion_id == self.c1_budget)
        self.assertEqual(check.state, "waived")
        self.assertEqual(check.waived_by_id, self.user_manager)
        self.assertEqual(check.waive_reason, "Framework contract")
        self.assertEqual(
            self._checks(lead)[self.c1_partner], "met", "met criteria are not waived"
        )
        row = lead.stage_history_ids.filtered("is_open")
        self.assertTrue(row.gate_waived)
        self.assertEqual(row.waive_reason, "Framework contract")
        self.assertEqual(row.moved_by_id, self.user_manager)

    def test_waiver_over_several_stages_creates_missing_checks(self):
        lead = self._create_lead()
        wizard = self._waiver(lead, self.user_manager, reason="Repeat order")
        wizard.stage_id = self.s4
        wizard.action_confirm()
        self.assertEqual(lead.stage_id, self.s4)
        waived = lead.check_ids.filtered(lambda c: c.state == "waived").criterion_id
        self.assertEqual(
            waived,
            self.c1_budget
            | self.c1_partner
            | self.c2_needs
            | self.c2_meeting
            | self.c3_quote,
        )

    def test_salesman_cannot_waive(self):
        lead = self._create_lead()
        with self.assertRaises(AccessError):
            self._waiver(lead, self.user_salesman, reason="Trust me")
        wizard = self._waiver(lead, self.user_manager, reason="Trust me")
        with self.assertRaisesRegex(AccessError, "Only a sales manager"):
            wizard.with_user(self.user_all_leads).action_confirm()
        self.assertEqual(lead.stage_id, self.s1)
        self.assertFalse(lead.check_ids.filtered(lambda c: c.state == "waived"))

    def test_waiver_needs_a_reason(self):
        lead = self._create_lead()
        wizard = self._waiver(lead, self.user_manager, reason="   ")
        with self.assertRaisesRegex(UserError, "reason"):
            wizard.action_confirm()
        self.assertEqual(lead.stage_id, self.s1)
        self.assertFalse(lead.check_ids.filtered(lambda c: c.state == "waived"))

    def test_waiver_needs_a_later_stage(self):
        lead = self._create_lead(stage=self.s2)
        wizard = self._waiver(lead, self.user_manager, reason="Back")
        wizard.stage_id = self.s1
        with self.assertRaisesRegex(UserError, "not later"):
            wizard.action_confirm()
        self.assertEqual(lead.stage_id, self.s2)

    def test_manager_may_undo_a_waiver(self):
        lead = self._create_lead()
        self._waiver(lead, self.user_manager, reason="Pilot").action_confirm()
        lead.stage_id = self.s1
        check = lead.check_ids.filtered(lambda c: c.criterion_id == self.c1_budget)
        with self.assertRaises(AccessError):
            check.with_user(self.user_salesman).action_reset()
        self.assertEqual(check.state, "waived")
        check.with_user(self.user_manager).action_reset()
        self.assertEqual(check.state, "todo")
        self.assertFalse(check.waive_reason)

    # ------------------------------------------------------------
    # Filters and card figures
    # ------------------------------------------------------------

    def test_gate_filters(self):
        ready = self._create_lead(name="Ready")
        self._meet_s1(ready)
        blocked = self._create_lead(name="Blocked")
        warned = self._create_lead(name="Warned", stage=self.s3)
        free = self._create_lead(name="Free", stage=self.won)
        leads = ready | blocked | warned | free
        Lead = self.env["crm.lead"]
        self.assertEqual(
            Lead.search([("id", "in", leads.ids), ("gate_ready", "=", True)]),
            ready | free,
        )
        self.assertEqual(
            Lead.search(
                [
                    ("id", "in", leads.ids),
                    ("gate_ready", "=", False),
                    ("stage_id.gate_policy", "=", "block"),
                ]
            ),
            blocked,
        )

    def test_days_in_stage_and_rotting(self):
        self.s1.rotting_days = 10
        fresh, old, older = (
            self._create_lead(name=name) for name in ("Fresh", "Old", "Older")
        )
        now = fields.Datetime.now()
        # crm stamps a move with the transaction's time, microseconds included
        fresh.date_last_stage_update = now + timedelta(microseconds=900000)
        old.date_last_stage_update = now - timedelta(days=10, hours=1)
        older.date_last_stage_update = now - timedelta(days=11, hours=1)
        self.assertEqual((fresh | old | older).mapped("days_in_stage"), [0, 10, 11])
        self.assertEqual(
            (fresh | old | older).mapped("is_rotting"), [False, False, True]
        )
        Lead = self.env["crm.lead"]
        scope = [("id", "in", (fresh | old | older).ids)]
        self.assertEqual(Lead.search(scope + [("is_rotting", "=", True)]), older)
        self.assertEqual(Lead.search(scope + [("is_rotting", "=", False)]), fresh | old)
        self.assertEqual(Lead.search(scope + [("is_rotting", "!=", True)]), fresh | old)
        self.s1.rotting_days = 0
        self.assertFalse(older.is_rotting, "0 days means never rotting")
        self.assertFalse(Lead.search(scope + [("is_rotting", "=", True)]))

    def test_deadline_push_count(self):
        lead = self._create_lead(date_deadline="2026-03-01")
        lead.date_deadline = "2026-02-01"
        self.assertEqual(lead.deadline_push_count, 0, "earlier is no push")
        lead.date_deadline = "2026-04-01"
        lead.date_deadline = "2026-05-01"
        self.assertEqual(lead.deadline_push_count, 2)
        lead.date_deadline = False
        lead.date_deadline = "2026-09-01"
        self.assertEqual(
            lead.deadline_push_count, 2, "setting a cleared date is no push"
        )


@tagged("post_install", "-at_install")
class TestWithoutCriteria(TransactionCase):
    """Right after install no criterion exists: the pipeline behaves as stock."""

    def test_free_moves_without_criteria(self):
        self.env["funnel.stage.criterion"].with_context(active_test=False).search(
            []
        ).unlink()
        stages = self.env["crm.stage"].search([("is_won", "=", False)], limit=2)
        lead = self.env["crm.lead"].create(
            {"name": "Free", "type": "opportunity", "stage_id": stages[1].id}
        )
        self.assertFalse(lead.check_ids)
        self.assertTrue(lead.gate_ready)
        self.assertEqual(lead.qualification_progress, 100)
        lead.stage_id = stages[0]
        lead.action_set_won()
        self.assertTrue(lead.stage_id.is_won)
        self.assertEqual(
            lead.stage_history_ids.sorted("id").mapped("event"),
            ["enter", "enter", "won"],
        )
