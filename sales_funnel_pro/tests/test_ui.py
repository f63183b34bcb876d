from odoo.tests import HttpCase, tagged

from .common import FunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelUi(HttpCase, FunnelCommon):
    """The gate as a salesman meets it in the browser: a refused drag, the
    Qualification tab, a successful drag and the Stage History tab."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the salesman works in the test team, whose pipeline shows only the
        # fixture's stages (the database's own stages belong to another team)
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.team.id, "user_id": cls.user_salesman.id}
        )
        cls.lead = cls._create_lead(
            name="Multifunction calibrators for the refinery", expected_revenue=48000
        )

    def test_gate_tour(self):
        lead = self.lead
        self.assertEqual(lead.stage_id, self.s1)
        self.assertFalse(lead.partner_id)
        self.assertEqual(len(lead.stage_history_ids), 1)

        self.start_tour("/odoo", "sales_funnel_pro_gate_tour", login="funnel_salesman")

        self.env.invalidate_all()
        self.assertEqual(
            lead.stage_id, self.s2, "the second drag moved the opportunity"
        )
        self.assertEqual(lead.partner_id, self.partner)
        self.assertEqual(
            self._checks(lead),
            {
                self.c1_budget: "met",
                self.c1_partner: "met",
                self.c1_optional: "todo",
                self.c2_needs: "todo",
                self.c2_meeting: "todo",
            },
        )
        budget = lead.check_ids.filtered(lambda c: c.criterion_id == self.c1_budget)
        self.assertEqual(budget.done_by_id, self.user_salesman)
        self.assertTrue(budget.done_date)

        # the refused drag wrote nothing: one row for the creation, one for the move
        history = lead.stage_history_ids.sorted("id")
        self.assertEqual(len(history), 2)
        created, moved = history
        self.assertEqual(created.stage_id, self.s1)
        self.assertTrue(created.date_out, "entering S2 closed the S1 row")
        self.assertRecordValues(
            moved,
            [
                {
                    "event": "enter",
                    "stage_from_id": self.s1.id,
                    "stage_id": self.s2.id,
                    "moved_by_id": self.user_salesman.id,
                    "user_id": self.user_salesman.id,
                    "team_id": self.team.id,
                    "is_backward": False,
                    "gate_waived": False,
                    "date_out": False,
                }
            ],
        )
        self.assertEqual(lead.backward_move_count, 0)


@tagged("post_install", "-at_install")
class TestFunnelQuickCreateUi(HttpCase, FunnelCommon):
    """The pipeline's quick create says at once where new opportunities may not
    start, before anything is typed, and offers the first stage instead."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for user in (cls.user_salesman, cls.user_manager):
            cls.env["crm.team.member"].create(
                {"crm_team_id": cls.team.id, "user_id": user.id}
            )

    def _quick_create_tour(self, user):
        Lead = self.env["crm.lead"].with_context(active_test=False)
        before = Lead.search([])
        self.start_tour("/odoo", "sales_funnel_pro_quick_create_tour", login=user.login)
        created = Lead.search([]) - before
        self.assertRecordValues(
            created,
            [
                {
                    "name": "Quick deal for the lab",
                    "stage_id": self.s1.id,
                    "team_id": self.team.id,
                    "user_id": user.id,
                }
            ],
        )

    def test_quick_create_tour_salesman(self):
        self._quick_create_tour(self.user_salesman)

    def test_quick_create_tour_manager(self):
        self._quick_create_tour(self.user_manager)
