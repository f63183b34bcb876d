from odoo.tests import HttpCase, tagged

from .common import FunnelCommon


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
