from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import FunnelCommon


@tagged("post_install", "-at_install")
class TestForecastCallUi(HttpCase, FunnelCommon):
    """A salesman submits his forecast from the forecast board: the call is
    prefilled with the month's figures, and the board's flag clears.

    The browser works with the real date: the opportunities close later this
    month, or on its last day when it is nearly over."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.member_ids = cls.user_salesman
        cls.s1.forecast_category = "pipeline"
        cls.s4.forecast_category = "commit"
        today = fields.Date.today()
        closing = min(today + timedelta(days=1), fields.Date.end_of(today, "month"))
        cls._create_lead(
            name="Pressure calibrators for the refinery",
            expected_revenue=12000,
            date_deadline=closing,
        )
        cls._create_lead(
            name="Calibration bench for the laboratory",
            stage=cls.s4,
            expected_revenue=5000,
            date_deadline=closing,
        )

    def test_forecast_call_tour(self):
        Submission = self.env["funnel.forecast.submission"]
        self.assertFalse(Submission.search([("user_id", "=", self.user_salesman.id)]))

        self.start_tour(
            "/odoo", "sales_funnel_pro_forecast_call_tour", login="funnel_salesman"
        )

        call = Submission.search([("user_id", "=", self.user_salesman.id)])
        today = fields.Date.today()
        self.assertRecordValues(
            call,
            [
                {
                    "kind": "submission",
                    "period_type": "month",
                    "period_start": fields.Date.start_of(today, "month"),
                    "team_id": self.team.id,
                    "commit_amount": 5000,
                    "best_case_amount": 9000,
                    "system_commit": 5000,
                    "system_pipeline": 12000,
                    "system_won": 0,
                    "note": "The refinery confirms its budget in two weeks",
                }
            ],
        )
        status = Submission.with_user(self.user_salesman).funnel_board_status()
        self.assertEqual(
            (status["days"], status["stale"], status["commit"], status["best_case"]),
            (0, False, 5000, 9000),
        )

    def test_forecast_adjust_tour(self):
        """A sales manager adjusts the salesman's call from the list of calls."""
        Submission = self.env["funnel.forecast.submission"]
        call = Submission.with_user(self.user_salesman).create(
            {"user_id": self.user_salesman.id, "note": "As on the board"}
        )
        self.assertEqual(call.commit_amount, 5000)
        self.assertEqual(
            call.period_start, fields.Date.start_of(fields.Date.today(), "month")
        )

        self.start_tour(
            "/odoo", "sales_funnel_pro_forecast_adjust_tour", login="funnel_manager"
        )

        self.env.invalidate_all()
        self.assertRecordValues(
            call.adjustment_ids,
            [
                {
                    "kind": "adjustment",
                    "user_id": self.user_salesman.id,
                    "submitted_by_id": self.user_manager.id,
                    "commit_amount": 7000,
                    "best_case_amount": 9000,
                    "note": "The refinery signs early",
                }
            ],
        )
        self.assertEqual(
            (call.commit_amount, call.note, call.adjusted_commit_amount),
            (5000, "As on the board", 7000),
        )
