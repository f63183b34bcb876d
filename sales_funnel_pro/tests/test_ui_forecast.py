from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import FunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelForecastUi(HttpCase, FunnelCommon):
    """The forecast board as the salesman sees it: his opportunities by month of
    expected closing, the undated one in "Needs a date", the column sums per
    category; committing a card from the board moves its amount from the
    pipeline sum to the commit sum.

    The browser works with the real date: the opportunities close in 40 days."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s1.forecast_category = "pipeline"
        cls.s2.forecast_category = "pipeline"
        cls.s4.forecast_category = "commit"
        closing = fields.Date.today() + timedelta(days=40)
        cls.lead = cls._create_lead(
            name="Pressure calibrators for the refinery",
            expected_revenue=12000,
            date_deadline=closing,
        )
        cls.lead_commit = cls._create_lead(
            name="Calibration bench for the laboratory",
            stage=cls.s4,
            expected_revenue=5000,
            date_deadline=closing,
        )
        cls.lead_undated = cls._create_lead(
            name="Torque wrenches for the workshop",
            stage=cls.s2,
            expected_revenue=3000,
        )

    def test_forecast_tour(self):
        self.assertEqual(self.lead.forecast_category, "pipeline")
        self.assertFalse(self.lead.forecast_category_override)

        self.start_tour(
            "/odoo", "sales_funnel_pro_forecast_tour", login="funnel_salesman"
        )

        self.env.invalidate_all()
        self.assertEqual(self.lead.forecast_category, "commit")
        self.assertEqual(self.lead.forecast_category_override, "commit")
        self.assertEqual(self.lead.stage_id, self.s1, "the stage stays")
        sums = self.env["crm.lead"].funnel_forecast_column_sums(
            [("id", "in", (self.lead | self.lead_commit | self.lead_undated).ids)],
            "forecast_date:month",
        )["columns"]
        month = next(key for key in sums if key != "False")
        self.assertEqual(
            sums[month],
            {"commit": 17000, "best_case": 0, "pipeline": 0, "weighted": 4950},
        )
        self.assertEqual(
            sums["False"],
            {"commit": 0, "best_case": 0, "pipeline": 3000, "weighted": 750},
        )


@tagged("post_install", "-at_install")
class TestForecastCategoryUi(HttpCase, FunnelCommon):
    """A salesman commits an opportunity from its card in the pipeline."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.team.id, "user_id": cls.user_salesman.id}
        )
        cls.s3.forecast_category = "best_case"
        cls.lead = cls._create_lead(
            name="Dry-block calibrators for the brewery", stage=cls.s3
        )

    def test_forecast_category_tour(self):
        self.assertEqual(self.lead.forecast_category, "best_case")
        self.start_tour(
            "/odoo", "sales_funnel_pro_forecast_category_tour", login="funnel_salesman"
        )
        self.env.invalidate_all()
        self.assertEqual(self.lead.forecast_category, "commit")
        self.assertEqual(self.lead.forecast_category_override, "commit")
        self.assertEqual(self.lead.stage_id, self.s3)
