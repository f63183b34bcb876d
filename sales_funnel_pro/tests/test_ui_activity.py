from odoo.tests import HttpCase, tagged

from .common import FunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelActivityUi(HttpCase, FunnelCommon):
    """What the salesman does with the mouse: a visit logged from the card menu
    opens the stage's "Visit held" criterion on the card, and a planned call
    marked done from the chatter is logged with the duration and outcome given
    in the dialog."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.team.id, "user_id": cls.user_salesman.id}
        )
        cls.visit_type = cls.env.ref("sales_funnel_pro.mail_activity_type_visit")
        cls.c1_visit = cls.env["funnel.stage.criterion"].create(
            {
                "stage_id": cls.s1.id,
                "name": "Visit held",
                "kind": "activity",
                "activity_type_ids": cls.visit_type.ids,
                "min_count": 1,
            }
        )
        cls.lead = cls._create_lead(
            name="Pressure calibrators for the power plant",
            expected_revenue=60000,
            partner_id=cls.partner.id,
        )
        cls.lead.check_ids.filtered(
            lambda check: check.criterion_id == cls.c1_budget
        ).with_user(cls.user_salesman).action_mark_met()
        cls.call = cls.lead.activity_schedule(
            activity_type_id=cls.call_type.id,
            user_id=cls.user_salesman.id,
            summary="Confirm the budget",
        )

    def test_activity_tour(self):
        lead = self.lead
        self.assertEqual(
            (lead.qualification_met_count, lead.qualification_required_count), (2, 3)
        )
        self.assertFalse(lead.activity_log_ids)

        self.start_tour(
            "/odoo", "sales_funnel_pro_activity_tour", login="funnel_salesman"
        )

        self.env.invalidate_all()
        self.assertEqual(
            (lead.qualification_met_count, lead.qualification_required_count), (3, 3)
        )
        self.assertTrue(lead.gate_ready)
        self.assertFalse(self.call.exists(), "the call is done")
        visit, call = lead.activity_log_ids.sorted("id")
        self.assertRecordValues(
            visit,
            [
                {
                    "activity_type_id": self.visit_type.id,
                    "user_id": self.user_salesman.id,
                    "stage_id": self.s1.id,
                    "duration": 2.0,
                    "outcome": "positive",
                    "summary": "Visited the instrument workshop",
                    "source": "quick",
                }
            ],
        )
        self.assertRecordValues(
            call,
            [
                {
                    "activity_type_id": self.call_type.id,
                    "user_id": self.user_salesman.id,
                    "stage_id": self.s1.id,
                    "duration": 0.75,
                    "outcome": "positive",
                    "summary": "Confirm the budget",
                    "note": "Budget confirmed: 60k",
                    "source": "done",
                }
            ],
        )
        self.assertEqual(
            self.env["funnel.activity.log"].search_count(
                [("lead_id", "=", lead.id), ("source", "=", "done")]
            ),
            1,
        )
