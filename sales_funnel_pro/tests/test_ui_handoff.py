from odoo.tests import HttpCase, tagged

from .installed_base_common import InstalledBaseCommon


@tagged("post_install", "-at_install")
class TestFunnelHandoffUi(HttpCase, InstalledBaseCommon):
    """The whole loop with the mouse: the salesman wins an opportunity, hands it
    over to customer care, logs a care call on the new asset, finds a new
    opportunity there and sees it in his pipeline."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.category.name = "Pressure calibrators"
        cls.lead = cls._create_lead(
            name="Pressure calibrators for the power plant",
            stage=cls.s4,
            expected_revenue=60000,
            partner_id=cls.customer.id,
        )

    def test_handoff_tour(self):
        self.start_tour(
            f"/odoo/crm/{self.lead.id}",
            "sales_funnel_pro_handoff_tour",
            login="funnel_salesman",
        )
        self.env.invalidate_all()
        lead = self.lead
        self.assertTrue(lead.stage_id.is_won)
        self.assertTrue(lead.handoff_date)
        asset = lead.sold_asset_ids
        self.assertEqual((len(asset), asset.care_user_id), (1, self.user_care))
        care = self.env["funnel.activity.log"].search([("asset_id", "=", asset.id)])
        self.assertEqual(care.summary, "Callback: the users want a second unit")
        found = self.env["crm.lead"].search(
            [("name", "=", "Second calibrator for the power plant")]
        )
        self.assertEqual(
            (found.stage_id, found.user_id, found.referred_by_id, found.asset_ids),
            (self.s1, self.user_salesman, self.user_salesman, asset),
        )
