"""The demo's installed base tells its story (demo database only, like
test_demo_data.py; not imported by tests/__init__.py)."""

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged

MODULE = "sales_funnel_pro"


@tagged("post_install", "-at_install")
class TestDemoInstalledBase(TransactionCase):
    """The calibration vendor's installed base: its own and competitors' units
    over ten years, a care team with a year of care logs, opportunities that
    came from care and from ageing units, some won."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.assets = cls.env["funnel.installed.asset"].search([])
        cls.care_users = cls.env.ref(f"{MODULE}.user_li_na_demo") | cls.env.ref(
            f"{MODULE}.user_zhang_wei_demo"
        )

    def test_assets_ours_and_competitors_over_ten_years(self):
        self.assertGreater(len(self.assets), 60)
        competitors = self.assets.filtered("is_competitor")
        self.assertTrue(competitors and competitors != self.assets)
        today = fields.Date.today()
        self.assertLess(
            min(self.assets.mapped("install_date")), today - relativedelta(years=10)
        )
        phases = set(self.assets.mapped("life_phase"))
        self.assertEqual(phases, {"early", "mid", "late", "end_of_life"})
        self.assertTrue(self.assets.filtered("origin_lead_id"), "won deals installed")
        self.assertEqual(self.assets.care_user_id, self.care_users)

    def test_a_year_of_care(self):
        logs = self.env["funnel.activity.log"].search([("is_care", "=", True)])
        self.assertGreater(len(logs), 100)
        self.assertEqual(logs.user_id, self.care_users)
        self.assertFalse(logs.lead_id)
        first = min(logs.mapped("date"))
        self.assertLess(first, fields.Datetime.now() - relativedelta(months=10))
        self.assertTrue(self.assets.partner_id.filtered("funnel_last_care_date"))

    def test_opportunities_from_care_and_end_of_life(self):
        Lead = self.env["crm.lead"].with_context(active_test=False)
        care = Lead.search(
            [
                (
                    "source_id",
                    "=",
                    self.env.ref(f"{MODULE}.utm_source_after_sales_care").id,
                )
            ]
        )
        base = Lead.search(
            [("source_id", "=", self.env.ref(f"{MODULE}.utm_source_installed_base").id)]
        )
        self.assertTrue(care.referred_by_id <= self.care_users)
        self.assertTrue(care.filtered(lambda lead: lead._funnel_state() == "won"))
        replacements = base.filtered(
            lambda lead: lead.name.startswith("Replacement of")
        )
        self.assertTrue(replacements, "opened by the life-phase job")
        self.assertTrue(base.filtered(lambda lead: lead._funnel_state() == "won"))
        # the job ran: running it again opens nothing more
        result = self.env["funnel.installed.asset"]._refresh_life_phases()
        self.assertEqual((result["plans"], result["actions"]), (0, 0))
