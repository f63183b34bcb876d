from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .installed_base_common import InstalledBaseCommon


@tagged("post_install", "-at_install")
class TestFunnelHandoffUi(HttpCase, InstalledBaseCommon):
    """The whole loop with the mouse: the salesman wins an opportunity, the
    hand-over to customer care opens and he hands it over, logs a care call on
    the new asset (the quick log), finds a new opportunity there and sees it in
    his pipeline; on the forecast board, the customer's old unit reaching its end
    of life shows as replacement potential, apart from the funnel's sums.

    The browser works with the real date: the old unit ends its life in 45 days,
    when the open opportunity closes."""

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
        end_of_life = fields.Date.today() + timedelta(days=45)
        cls.old_unit = cls._asset(
            end_of_life - relativedelta(months=cls.category.lifetime_months),
            name="Old pressure calibrator",
        )
        cls.dated = cls._create_lead(
            name="Boiler calibrators for the power plant",
            expected_revenue=4000,
            date_deadline=end_of_life,
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
        self.assertEqual(self.old_unit.end_of_life_date, self.dated.date_deadline)
        care = self.env["funnel.activity.log"].search([("asset_id", "=", asset.id)])
        self.assertEqual(care.summary, "Callback: the users want a second unit")
        self.assertEqual((care.source, care.lead_id), ("care", care.lead_id.browse()))
        found = self.env["crm.lead"].search(
            [("name", "=", "Second calibrator for the power plant")]
        )
        self.assertEqual(
            (found.stage_id, found.user_id, found.referred_by_id, found.asset_ids),
            (self.s1, self.user_salesman, self.user_salesman, asset),
        )
