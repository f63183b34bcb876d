from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .installed_base_common import InstalledBaseCommon


@tagged("post_install", "-at_install")
class TestInstalledBaseSecurity(InstalledBaseCommon):
    """Who sees which asset:

    - ``mine``: at the salesman's customer, looked after by the care user;
    - ``theirs``: at the other salesman's customer, no care owner;
    - ``unassigned``: at a customer without salesperson, no care owner;
    - ``far``: in another company.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine = cls._asset(
            date(2024, 1, 1), name="Mine", care_user_id=cls.user_care.id
        )
        cls.theirs = cls._asset(
            date(2024, 1, 1), name="Theirs", partner=cls.other_customer
        )
        cls.unassigned = cls._asset(
            date(2024, 1, 1),
            name="Unassigned",
            partner=cls.env["res.partner"].create({"name": "Nobody's Lab"}),
        )
        cls.other_company = cls.env["res.company"].create({"name": "Far Company"})
        cls.user_manager.company_ids = [(4, cls.other_company.id)]
        cls.far = cls.env["funnel.installed.asset"].create(
            {
                "name": "Far",
                "partner_id": cls.env["res.partner"]
                .create({"name": "Far Lab", "user_id": cls.user_salesman.id})
                .id,
                "category_id": cls.category.id,
                "install_date": date(2024, 1, 1),
                "company_id": cls.other_company.id,
            }
        )
        cls.all_assets = cls.mine | cls.theirs | cls.unassigned | cls.far

    def _visible(self, user, company=None):
        """What ``user`` sees with the main company selected (and ``company``)."""
        Asset = self.env["funnel.installed.asset"].with_user(user)
        companies = [self.company.id] + ([company.id] if company else [])
        Asset = Asset.with_context(allowed_company_ids=companies)
        return Asset.search([("id", "in", self.all_assets.ids)])

    def test_rep_sees_the_assets_of_his_customers(self):
        self.assertEqual(self._visible(self.user_salesman), self.mine | self.unassigned)
        self.assertEqual(
            self._visible(self.user_salesman_2), self.theirs | self.unassigned
        )
        with self.assertRaises(AccessError):
            self.theirs.with_user(self.user_salesman).name = "Not mine"

    def test_care_user_sees_and_edits_what_he_looks_after(self):
        self.assertEqual(self._visible(self.user_care), self.mine | self.unassigned)
        self.mine.with_user(self.user_care).condition = "attention"
        self.assertEqual(self.mine.condition, "attention")
        # the customer's care owner sees all its assets
        self.other_customer.funnel_care_user_id = self.user_care
        self.assertIn(self.theirs, self._visible(self.user_care))
        with self.assertRaises(AccessError):
            self.mine.with_user(self.user_care).unlink()

    def test_manager_sees_all_of_his_companies(self):
        self.assertEqual(
            self._visible(self.user_manager), self.mine | self.theirs | self.unassigned
        )
        self.assertEqual(
            self._visible(self.user_manager, self.other_company), self.all_assets
        )
        self.mine.with_user(self.user_manager).unlink()

    def test_other_company_hidden(self):
        # the far asset's customer is the salesman's, but not his company
        self.assertNotIn(self.far, self._visible(self.user_salesman))
        with self.assertRaises(AccessError):
            self.far.with_user(self.user_salesman).read(["name"])

    def test_categories_by_managers_only(self):
        Category = self.env["funnel.asset.category"]
        for user in (self.user_salesman, self.user_care, self.user_all_leads):
            self.assertTrue(
                Category.with_user(user).search([("id", "=", self.category.id)])
            )
            with self.assertRaises(AccessError):
                Category.with_user(user).create({"name": "Not allowed"})
            with self.assertRaises(AccessError):
                self.category.with_user(user).lifetime_months = 12
        Category.with_user(self.user_manager).create({"name": "Allowed"})
        self.category.with_user(self.user_manager).lifetime_months = 72

    def test_own_care_logs(self):
        Log = self.env["funnel.activity.log"]
        values = {
            "partner_id": self.customer.id,
            "asset_id": self.mine.id,
            "activity_type_id": self.call_type.id,
        }
        log = Log.with_user(self.user_care).create(values)
        self.assertEqual(Log.with_user(self.user_care).search([]), log)
        self.assertFalse(Log.with_user(self.user_salesman_2).search([]))
        self.assertEqual(Log.with_user(self.user_manager).search([]), log)
        with self.assertRaises(AccessError):
            log.with_user(self.user_salesman_2).summary = "Not mine"

    def test_wizards_open_for_salesman_and_care_user(self):
        for user in (self.user_salesman, self.user_care):
            action = self.mine.with_user(user).action_find_opportunity()
            self.assertEqual(action["res_model"], "funnel.opportunity.found")
        stranger = mail_new_test_user(
            self.env, login="funnel_stranger", groups="base.group_user"
        )
        with self.assertRaises(AccessError):
            self.env["funnel.installed.asset"].with_user(stranger).search([])
