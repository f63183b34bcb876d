from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import users

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import FunnelCommon


class TestSecurity(FunnelCommon):
    """Access rows and record rules of the funnel models mirror ``crm.lead``.

    Three opportunities in s1 (three criteria, so three checks and one history
    row each): ``lead_own`` of the salesman, ``lead_other`` of the second
    salesman, ``lead_free`` without salesperson.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead_own = cls._create_lead("Own deal")
        cls.lead_other = cls._create_lead("Other deal", user=cls.user_salesman_2)
        cls.lead_free = cls.env["crm.lead"].create(
            {
                "name": "Free deal",
                "type": "opportunity",
                "team_id": cls.team.id,
                "stage_id": cls.s1.id,
                "user_id": False,
            }
        )
        cls.leads = cls.lead_own | cls.lead_other | cls.lead_free

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _check(self, lead, criterion):
        """The check of ``criterion`` on ``lead``, in the current environment."""
        check = (
            self.env["funnel.lead.check"]
            .sudo()
            .search([("lead_id", "=", lead.id), ("criterion_id", "=", criterion.id)])
        )
        self.assertEqual(len(check), 1)
        return check.with_env(self.env)

    def _db_check(self, check):
        """Re-read a check from the database as superuser."""
        self.env.flush_all()
        check = check.sudo()
        check.invalidate_recordset()
        return check

    def _history(self, lead):
        return (
            self.env["funnel.stage.history"].sudo().search([("lead_id", "=", lead.id)])
        )

    def test_initial_data(self):
        for lead in self.leads:
            self.assertEqual(len(lead.check_ids), 3)
            self.assertEqual(len(self._history(lead)), 1)
        self.assertFalse(self.lead_free.user_id)

    # ------------------------------------------------------------
    # Visibility
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_salesman_sees_own_and_unassigned(self):
        Check = self.env["funnel.lead.check"]
        History = self.env["funnel.stage.history"]
        domain = [("lead_id", "in", self.leads.ids)]

        visible = self.lead_own | self.lead_free
        self.assertEqual(Check.search(domain).lead_id, visible)
        self.assertEqual(Check.search_count(domain), 6)
        self.assertEqual(History.search(domain).lead_id, visible)
        self.assertEqual(History.search_count(domain), 2)
        self.assertFalse(Check.search([("lead_id", "=", self.lead_other.id)]))
        self.assertFalse(History.search([("lead_id", "=", self.lead_other.id)]))

        # reading them anyway is refused
        other_checks = Check.browse(self.lead_other.check_ids.ids)
        with self.assertRaises(AccessError):
            other_checks.read(["state"])
        other_history = History.browse(self._history(self.lead_other).ids)
        with self.assertRaises(AccessError):
            other_history.read(["stage_id"])

        # what he may see, he reads
        own = Check.search([("lead_id", "=", self.lead_own.id)])
        self.assertEqual(
            own.mapped("criterion_id.name"),
            ["Budget identified", "Customer set", "Competitors known"],
        )
        self.assertEqual(own.mapped("state"), ["todo", "todo", "todo"])
        own_history = History.search([("lead_id", "=", self.lead_own.id)])
        self.assertEqual(own_history.stage_id, self.s1)
        self.assertEqual(own_history.event, "enter")
        # and the criteria (configuration) are readable by every salesman
        self.assertEqual(
            self.env["funnel.stage.criterion"]
            .browse(self.c2_meeting.id)
            .activity_type_ids,
            self.meeting_type,
        )

    @users("funnel_salesman")
    def test_salesman_sees_own_lost_opportunity(self):
        """Lost (archived) opportunities keep their audit trail visible to their
        salesman, and still hidden from the others."""
        (self.lead_own | self.lead_other).action_set_lost()
        History = self.env["funnel.stage.history"]
        rows = History.search([("lead_id", "=", self.lead_own.id)])
        self.assertEqual(sorted(rows.mapped("event")), ["enter", "lost"])
        self.assertEqual(
            len(
                self.env["funnel.lead.check"].search(
                    [("lead_id", "=", self.lead_own.id)]
                )
            ),
            3,
        )
        self.assertFalse(History.search([("lead_id", "=", self.lead_other.id)]))
        with self.assertRaises(AccessError):
            History.browse(self._history(self.lead_other).ids).read(["event"])

    @users("funnel_all_leads", "funnel_manager")
    def test_all_leads_and_manager_see_all(self):
        domain = [("lead_id", "in", self.leads.ids)]
        checks = self.env["funnel.lead.check"].search(domain)
        self.assertEqual(len(checks), 9)
        self.assertEqual(checks.lead_id, self.leads)
        history = self.env["funnel.stage.history"].search(domain)
        self.assertEqual(len(history), 3)
        self.assertEqual(history.lead_id, self.leads)
        self.assertEqual(
            sorted(history.read(["lead_id"]), key=lambda r: r["id"])[0]["lead_id"][0],
            self.lead_own.id,
        )

    # ------------------------------------------------------------
    # History rows are facts: only the system writes them
    # ------------------------------------------------------------

    @users("funnel_salesman", "funnel_all_leads", "funnel_manager")
    def test_history_read_only(self):
        row = self._history(self.lead_own).with_env(self.env)
        self.assertEqual(row.stage_id, self.s1)
        with self.assertRaises(AccessError):
            row.write({"waive_reason": "I say so", "gate_waived": True})
        with self.assertRaises(AccessError):
            row.write({"date_in": fields.Datetime.now()})
        with self.assertRaises(AccessError):
            self.env["funnel.stage.history"].create(
                {
                    "lead_id": self.lead_own.id,
                    "stage_id": self.s2.id,
                    "date_in": fields.Datetime.now(),
                }
            )
        with self.assertRaises(AccessError):
            row.unlink()

        history = self._history(self.lead_own)
        self.assertEqual(len(history), 1)
        self.assertEqual(history, row)
        self.assertEqual(history.stage_id, self.s1)
        self.assertFalse(history.gate_waived)
        self.assertFalse(history.waive_reason)

    # ------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_salesman_ticks_own_checks(self):
        for lead in (self.lead_own, self.lead_free):
            check = self._check(lead, self.c1_budget)
            check.write({"evidence": "Budget 12 k€, held by the lab manager"})
            check.action_mark_met()
            check = self._db_check(check)
            self.assertEqual(check.state, "met")
            self.assertEqual(check.done_by_id, self.user_salesman)
            self.assertTrue(check.done_date)
            self.assertEqual(check.evidence, "Budget 12 k€, held by the lab manager")
            # and unticks it again
            check.with_env(self.env).action_reset()
            check = self._db_check(check)
            self.assertEqual(check.state, "todo")
            self.assertFalse(check.done_by_id)
            self.assertFalse(check.done_date)

    @users("funnel_salesman")
    def test_salesman_cannot_tick_other_checks(self):
        check = self._check(self.lead_other, self.c1_budget)
        with self.assertRaises(AccessError):
            check.action_mark_met()
        with self.assertRaises(AccessError):
            check.write({"evidence": "Not my deal"})
        check = self._db_check(check)
        self.assertEqual(check.state, "todo")
        self.assertFalse(check.done_by_id)
        self.assertFalse(check.evidence)

    @users("funnel_salesman_2")
    def test_salesman_2_cannot_tick_salesman_checks(self):
        check = self._check(self.lead_own, self.c1_budget)
        with self.assertRaises(AccessError):
            check.action_mark_met()
        self.assertEqual(self._db_check(check).state, "todo")
        # his own he can
        own = self._check(self.lead_other, self.c1_budget)
        own.action_mark_met()
        self.assertEqual(self._db_check(own).state, "met")
        self.assertEqual(self._db_check(own).done_by_id, self.user_salesman_2)

    @users("funnel_salesman")
    def test_salesman_cannot_create_or_unlink_checks(self):
        Check = self.env["funnel.lead.check"]
        with self.assertRaises(AccessError):
            Check.create(
                {"lead_id": self.lead_own.id, "criterion_id": self.c2_needs.id}
            )
        check = self._check(self.lead_own, self.c1_budget)
        with self.assertRaises(AccessError):
            check.unlink()
        self.assertEqual(
            self.env["funnel.lead.check"]
            .sudo()
            .search_count([("lead_id", "=", self.lead_own.id)]),
            3,
        )
        self.assertTrue(self._db_check(check).exists())

    @users("funnel_salesman")
    def test_salesman_cannot_fake_the_audit_trail(self):
        """Who met or waived a criterion, and when, is written by the system."""
        check = self._check(self.lead_own, self.c1_budget)
        check.action_mark_met()
        for values in (
            {"done_by_id": self.user_salesman_2.id},
            {"done_date": "2020-01-01 00:00:00"},
            {"waived_by_id": self.user_manager.id},
            {"waive_reason": "Approved"},
        ):
            with self.assertRaisesRegex(UserError, "recorded by the system"):
                check.write(values)
        check = self._db_check(check)
        self.assertEqual(check.done_by_id, self.user_salesman)
        self.assertFalse(check.waived_by_id)
        self.assertFalse(check.waive_reason)

    @users("funnel_salesman")
    def test_salesman_cannot_move_check_to_other_opportunity(self):
        """A check belongs to its opportunity: a salesman cannot hand a met
        check of his own over to another salesman's opportunity."""
        check = self._check(self.lead_own, self.c1_budget)
        check.action_mark_met()
        other_check = self._check(self.lead_other, self.c1_budget).sudo()
        other_check.unlink()  # so that no unique constraint protects it
        with self.assertRaisesRegex(UserError, "recorded by the system"):
            check.write({"lead_id": self.lead_other.id})
        check = self._db_check(check)
        self.assertEqual(check.lead_id, self.lead_own)
        self.assertFalse(
            self.env["funnel.lead.check"]
            .sudo()
            .search(
                [
                    ("lead_id", "=", self.lead_other.id),
                    ("criterion_id", "=", self.c1_budget.id),
                ]
            )
        )

    @users("funnel_salesman", "funnel_manager")
    def test_nobody_waives_by_hand(self):
        check = self._check(self.lead_own, self.c1_budget)
        with self.assertRaises(UserError) as caught:
            check.write({"state": "waived"})
        self.assertIn("Advance anyway", str(caught.exception))
        check = self._db_check(check)
        self.assertEqual(check.state, "todo")
        self.assertFalse(check.waived_by_id)

    def _waive(self, check):
        """Waive ``check`` as the waiver wizard does (as the manager)."""
        check.sudo().write(
            {
                "state": "waived",
                "waived_by_id": self.user_manager.id,
                "waived_date": fields.Datetime.now(),
                "waive_reason": "Framework contract",
            }
        )

    @users("funnel_salesman")
    def test_salesman_cannot_undo_waiver(self):
        check = self._check(self.lead_own, self.c1_budget)
        self._waive(check)
        with self.assertRaises(AccessError):
            check.action_reset()
        with self.assertRaises(AccessError):
            check.write({"state": "met"})
        check = self._db_check(check)
        self.assertEqual(check.state, "waived")
        self.assertEqual(check.waived_by_id, self.user_manager)
        self.assertEqual(check.waive_reason, "Framework contract")

    @users("funnel_salesman")
    def test_mark_met_after_a_waiver(self):
        """The salesperson's screen still shows the criterion to do when a
        sales manager waives it: "Mark Met" then leaves the waiver as it is
        (the criterion is satisfied) and ticks the other checks it was given."""
        waived = self._check(self.lead_own, self.c1_budget)
        todo = self._check(self.lead_own, self.c1_optional)
        self._waive(waived)
        (waived | todo).action_mark_met()
        waived, todo = self._db_check(waived), self._db_check(todo)
        self.assertEqual(waived.state, "waived")
        self.assertEqual(waived.waived_by_id, self.user_manager)
        self.assertEqual(waived.waive_reason, "Framework contract")
        self.assertFalse(waived.done_by_id)
        self.assertEqual(todo.state, "met")
        self.assertEqual(todo.done_by_id, self.user_salesman)

    @users("funnel_salesman")
    def test_mark_met_twice(self):
        """A check ticked already keeps who ticked it and when."""
        check = self._check(self.lead_own, self.c1_budget)
        check.with_user(self.user_manager).action_mark_met()
        done_date = self._db_check(check).done_date
        check.action_mark_met()
        check = self._db_check(check)
        self.assertEqual(check.state, "met")
        self.assertEqual(check.done_by_id, self.user_manager)
        self.assertEqual(check.done_date, done_date)

    @users("funnel_manager")
    def test_manager_undoes_waiver(self):
        check = self._check(self.lead_own, self.c1_budget)
        self._waive(check)
        check.action_reset()
        check = self._db_check(check)
        self.assertEqual(check.state, "todo")
        self.assertFalse(check.waived_by_id)
        self.assertFalse(check.waived_date)
        self.assertFalse(check.waive_reason)

    @users("funnel_manager")
    def test_manager_manages_checks(self):
        """Managers have full access to checks, on every opportunity."""
        check = self._check(self.lead_other, self.c1_budget)
        check.action_mark_met()
        self.assertEqual(self._db_check(check).done_by_id, self.user_manager)
        new = self.env["funnel.lead.check"].create(
            {"lead_id": self.lead_other.id, "criterion_id": self.c2_needs.id}
        )
        self.assertEqual(self._db_check(new).state, "todo")
        new.unlink()
        self.assertFalse(self._db_check(new).exists())

    # ------------------------------------------------------------
    # Wizards and configuration
    # ------------------------------------------------------------

    @users("funnel_salesman", "funnel_all_leads")
    def test_wizards_for_managers_only(self):
        with self.assertRaises(AccessError):
            self.env["funnel.gate.waiver"].create(
                {
                    "lead_ids": [Command.set(self.lead_own.ids)],
                    "stage_id": self.s2.id,
                    "reason": "Please",
                }
            )
        with self.assertRaises(AccessError):
            self.env["funnel.template.wizard"].create({})
        with self.assertRaises(AccessError):
            self.env["funnel.stage.criterion"].create(
                {"stage_id": self.s1.id, "name": "Rep's rule"}
            )
        self.assertFalse(
            self.env["funnel.stage.criterion"]
            .sudo()
            .search([("name", "=", "Rep's rule")])
        )

    @users("funnel_manager")
    def test_wizards_as_manager(self):
        waiver = self.env["funnel.gate.waiver"].create(
            {
                "lead_ids": [Command.set(self.lead_own.ids)],
                "stage_id": self.s2.id,
                "reason": "Framework contract",
            }
        )
        self.assertEqual(waiver.lead_ids, self.lead_own)
        self.assertIn("Budget identified", waiver.unmet_summary)
        self.assertEqual(self.env["funnel.template.wizard"].create({}).state, "draft")

    # ------------------------------------------------------------
    # Multi-company
    # ------------------------------------------------------------

    def test_multi_company(self):
        company_main = self.env.company
        company_2 = self.env["res.company"].create({"name": "Funnel Company 2"})
        team_2 = self.env["crm.team"].create(
            {"name": "Team C2", "company_id": company_2.id}
        )
        lead_c2 = self.env["crm.lead"].create(
            {
                "name": "Deal in company 2",
                "type": "opportunity",
                "team_id": team_2.id,
                "company_id": company_2.id,
                "stage_id": self.s1.id,
                "user_id": False,
            }
        )
        self.assertEqual(lead_c2.company_id, company_2)
        self.assertEqual(len(lead_c2.check_ids), 3)
        history_c2 = self._history(lead_c2)
        self.assertEqual(history_c2.company_id, company_2)

        user_mc = mail_new_test_user(
            self.env,
            login="funnel_mc",
            name="Mia Main Company",
            email="mia@example.com",
            company_id=company_main.id,
            company_ids=[Command.set(company_main.ids)],
            groups="sales_team.group_sale_salesman_all_leads",
        )
        domain = [("lead_id", "=", lead_c2.id)]
        Check = self.env["funnel.lead.check"].with_user(user_mc)
        History = self.env["funnel.stage.history"].with_user(user_mc)

        # allowed in the main company only: nothing of company 2
        self.assertFalse(Check.search(domain))
        self.assertFalse(History.search(domain))
        with self.assertRaises(AccessError):
            Check.browse(lead_c2.check_ids.ids).read(["state"])
        with self.assertRaises(AccessError):
            History.browse(history_c2.ids).read(["stage_id"])
        # the opportunities of the main company stay visible
        self.assertEqual(
            Check.search([("lead_id", "=", self.lead_own.id)]).lead_id, self.lead_own
        )
        self.assertEqual(
            History.search([("lead_id", "=", self.lead_own.id)]).lead_id, self.lead_own
        )

        # allowed in both companies
        user_mc.write({"company_ids": [Command.link(company_2.id)]})
        both = [company_main.id, company_2.id]
        Check = Check.with_context(allowed_company_ids=both)
        History = History.with_context(allowed_company_ids=both)
        self.assertEqual(Check.search(domain), lead_c2.check_ids)
        self.assertEqual(History.search(domain), history_c2)
        self.assertEqual(
            Check.browse(lead_c2.check_ids.ids).mapped("state"), ["todo"] * 3
        )
        self.assertEqual(History.browse(history_c2.ids).stage_id, self.s1)

        # but only while company 2 is among the active companies
        Check = Check.with_context(allowed_company_ids=[company_main.id])
        History = History.with_context(allowed_company_ids=[company_main.id])
        self.assertFalse(Check.search(domain))
        self.assertFalse(History.search(domain))
