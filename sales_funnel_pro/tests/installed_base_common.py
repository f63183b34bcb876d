from datetime import date

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import FunnelCommon

# the day the tests live on (frozen)
TODAY = date(2026, 6, 15)


class InstalledBaseCommon(FunnelCommon):
    """An installed base the tests can reason about.

    - ``user_care``: a care owner (salesman group), member of the care team;
    - ``category``: "Calibrators", lifetime 100 months (early < 33 %, late from
      67 %), plans for the three phases, late action as each test sets it,
      replacement value 10,000;
    - ``customer``: a company whose salesperson is ``user_salesman``;
    - ``other_customer``: a company of ``user_salesman_2``.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_care = mail_new_test_user(
            cls.env,
            login="funnel_care",
            name="Carl Care",
            email="carl@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.care_team = cls.env["crm.team"].create(
            {"name": "Customer Care", "member_ids": [(4, cls.user_care.id)]}
        )
        cls.inside_team = cls.env["crm.team"].create({"name": "Inside Sales"})
        cls.team.member_ids = [(4, cls.user_salesman.id), (4, cls.user_salesman_2.id)]
        cls.plan_early = cls.env.ref("sales_funnel_pro.mail_activity_plan_early_life")
        cls.plan_mid = cls.env.ref("sales_funnel_pro.mail_activity_plan_mid_life")
        cls.plan_late = cls.env.ref("sales_funnel_pro.mail_activity_plan_late_life")
        cls.category = cls.env["funnel.asset.category"].create(
            {
                "name": "Calibrators",
                "lifetime_months": 100,
                "early_until_pct": 33,
                "late_from_pct": 67,
                "plan_early_id": cls.plan_early.id,
                "plan_mid_id": cls.plan_mid.id,
                "plan_late_id": cls.plan_late.id,
                "replacement_value": 10000,
                "care_team_id": cls.care_team.id,
                "late_team_id": cls.inside_team.id,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Metro Lab", "is_company": True, "user_id": cls.user_salesman.id}
        )
        cls.other_customer = cls.env["res.partner"].create(
            {
                "name": "Other Lab",
                "is_company": True,
                "user_id": cls.user_salesman_2.id,
            }
        )
        cls.source_base = cls.env.ref("sales_funnel_pro.utm_source_installed_base")
        cls.source_care = cls.env.ref("sales_funnel_pro.utm_source_after_sales_care")

    @classmethod
    def _asset(cls, install_date, **values):
        return cls.env["funnel.installed.asset"].create(
            {
                "name": values.pop("name", "Calibrator"),
                "partner_id": values.pop("partner", cls.customer).id,
                "category_id": values.pop("category", cls.category).id,
                "install_date": install_date,
                **values,
            }
        )

    def _asset_activities(self, assets):
        return self.env["mail.activity"].search(
            [("res_model", "=", "funnel.installed.asset"), ("res_id", "in", assets.ids)]
        )
