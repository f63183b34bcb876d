from datetime import date, timedelta

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .installed_base_common import TODAY, InstalledBaseCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestHandOver(InstalledBaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.won_lead = cls._create_lead(
            "Calibrators for Metro Lab",
            stage=cls.won,
            partner_id=cls.customer.id,
            expected_revenue=20000,
        )

    def _hand_over(self, lead, user, serial="SN-100", care_user=None):
        action = lead.with_user(user).action_funnel_hand_over()
        wizard = self.env[action["res_model"]].with_user(user).browse(action["res_id"])
        wizard.line_ids.write({"serial_no": serial, "brand": "Acme"})
        if care_user:
            wizard.care_user_id = care_user
        wizard.action_hand_over()
        return wizard

    def test_hand_over_as_salesman(self):
        lead = self.won_lead
        self.assertTrue(lead.funnel_can_hand_over)
        wizard = self._hand_over(lead, self.user_salesman)
        self.assertEqual(wizard.care_user_id, self.user_care, "from the care team")
        asset = lead.sold_asset_ids
        self.assertEqual(len(asset), 1)
        self.assertEqual(
            (
                asset.partner_id,
                asset.category_id,
                asset.care_user_id,
                asset.sales_user_id,
                asset.install_date,
                asset.life_phase,
            ),
            (
                self.customer,
                self.category,
                self.user_care,
                self.user_salesman,
                TODAY,
                "early",
            ),
        )
        activities = self._asset_activities(asset)
        self.assertEqual(len(activities), 3, "the early-life plan")
        self.assertEqual(activities.user_id, self.user_care)
        self.assertTrue(asset.plan_early_done)
        self.assertEqual(lead.handoff_date.date(), TODAY)
        self.assertEqual(self.customer.funnel_care_user_id, self.user_care)
        self.assertFalse(lead.funnel_can_hand_over)
        self.assertEqual(lead.asset_count, 1)
        for record in (lead, self.customer):
            self.assertIn("Handed over to customer care", record.message_ids[0].body)

        # twice: nothing twice (the form offers it no more, the method stays safe)
        messages = len(lead.message_ids)
        self.env["funnel.handover.wizard"].with_user(self.user_salesman).create(
            {
                "lead_id": lead.id,
                "care_user_id": self.user_care.id,
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "name": lead.name,
                            "category_id": self.category.id,
                            "serial_no": "SN-100",
                        },
                    )
                ],
            }
        ).action_hand_over()
        self.assertEqual(len(lead.sold_asset_ids), 1)
        self.assertEqual(len(self._asset_activities(asset)), 3)
        self.assertEqual(len(lead.message_ids), messages)
        # the early plan is not launched again by the nightly job
        self.assertEqual(
            self.env["funnel.installed.asset"]._refresh_life_phases()["plans"], 0
        )

    def test_hand_over_as_care_user(self):
        lead = self._create_lead(
            "Unassigned win",
            stage=self.won,
            partner_id=self.customer.id,
            user=self.env["res.users"],
        )
        lead.user_id = False
        self._hand_over(lead, self.user_care, serial="SN-200")
        self.assertEqual(lead.sold_asset_ids.care_user_id, self.user_care)
        self.assertTrue(lead.handoff_date)

    def test_unconfirmed_lines_are_left_out(self):
        action = self.won_lead.with_user(self.user_salesman).action_funnel_hand_over()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        wizard.line_ids.confirmed = False
        wizard.action_hand_over()
        self.assertFalse(self.won_lead.sold_asset_ids)
        self.assertTrue(self.won_lead.handoff_date)

    def test_refused_before_won_or_without_customer(self):
        open_lead = self._create_lead("Open", partner_id=self.customer.id)
        with self.assertRaisesRegex(UserError, "Only a won opportunity"):
            open_lead.with_user(self.user_salesman).action_funnel_hand_over()
        no_customer = self._create_lead("No customer", stage=self.won)
        with self.assertRaisesRegex(UserError, "Set the customer"):
            no_customer.with_user(self.user_salesman).action_funnel_hand_over()
        self.assertFalse(self.env["funnel.handover.wizard"].search([]))


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestOpportunityFound(InstalledBaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.asset = cls._asset(
            date(2020, 1, 1), care_user_id=cls.user_care.id, name="Old calibrator"
        )

    def _found(self, user, **where):
        action = self.env["funnel.opportunity.found"].with_user(user)._open_for(**where)
        wizard = self.env[action["res_model"]].with_user(user).browse(action["res_id"])
        result = wizard.action_create()
        return self.env["crm.lead"].browse(result["res_id"])

    def test_found_on_an_asset_by_the_care_user(self):
        lead = self._found(self.user_care, asset=self.asset.with_user(self.user_care))
        self.assertEqual(
            (
                lead.type,
                lead.stage_id,
                lead.partner_id,
                lead.asset_ids,
                lead.source_id,
                lead.referred_by_id,
                lead.user_id,
                lead.expected_revenue,
            ),
            (
                "opportunity",
                self.s1,
                self.customer,
                self.asset,
                self.source_base,
                self.user_care,
                self.user_salesman,
                10000,
            ),
        )
        (activity,) = lead.activity_ids
        self.assertEqual(activity.user_id, self.user_salesman)
        self.assertEqual(activity.date_deadline, TODAY + timedelta(days=3))
        self.assertIn("New opportunity found by Carl Care", lead.message_ids[0].body)
        self.assertIn(
            "New opportunity found by Carl Care", self.asset.message_ids[0].body
        )
        self.assertEqual(self.asset.lead_count, 1)

    def test_found_from_a_care_log_by_the_salesman(self):
        log = self.env["funnel.activity.log"].create(
            {
                "partner_id": self.customer.id,
                "asset_id": self.asset.id,
                "activity_type_id": self.env.ref(
                    "sales_funnel_pro.mail_activity_type_customer_care"
                ).id,
                "user_id": self.user_salesman.id,
                "date": "2026-06-14 10:00:00",
            }
        )
        action = log.with_user(self.user_salesman).action_funnel_find_opportunity()
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.user_salesman)
            .browse(action["res_id"])
        )
        self.assertEqual(wizard.source_id, self.source_base, "about an asset")
        wizard.source_id = self.source_care
        lead = self.env["crm.lead"].browse(wizard.action_create()["res_id"])
        self.assertEqual(
            (lead.source_id, lead.referred_by_id, lead.user_id),
            (self.source_care, self.user_salesman, self.user_salesman),
        )

    def test_never_reopens_a_lost_one(self):
        lost = self._create_lead("Lost before", partner_id=self.customer.id)
        lost.action_set_lost()
        lead = self._found(self.user_salesman, partner=self.customer)
        self.assertNotEqual(lead, lost)
        self.assertFalse(lost.active)
        self.assertEqual(lead.source_id, self.source_care, "found on the customer")
        self.assertEqual(lead.stage_id, self.s1)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCareLog(InstalledBaseCommon):
    def test_care_done_on_customer_and_asset(self):
        asset = self._asset(date(2024, 1, 1), care_user_id=self.user_care.id)
        care_type = self.env.ref("sales_funnel_pro.mail_activity_type_customer_care")
        lead = self._create_lead("Deal", stage=self.s2, partner_id=self.customer.id)
        for record in (self.customer, asset):
            record.activity_schedule(
                activity_type_id=care_type.id, user_id=self.user_care.id
            ).with_user(self.user_care).action_done()
        # a care meeting on the customer does not count toward the gate
        self.customer.activity_schedule(
            activity_type_id=self.meeting_type.id, user_id=self.user_care.id
        ).action_done()
        logs = self.env["funnel.activity.log"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(len(logs), 3)
        self.assertEqual(set(logs.mapped("source")), {"care"})
        self.assertTrue(all(logs.mapped("is_care")))
        self.assertFalse(logs.lead_id)
        self.assertEqual(logs.asset_id, asset)
        self.assertEqual(self.customer.funnel_last_care_date.date(), TODAY)
        self.assertEqual(asset.last_care_date.date(), TODAY)
        self.assertEqual(self._checks(lead)[self.c2_meeting], "todo")

    def test_care_log_action_and_dates_follow_deletions(self):
        asset = self._asset(date(2024, 1, 1), care_user_id=self.user_care.id)
        action = asset.with_user(self.user_care).action_log_care()
        self.env[action["res_model"]].with_user(self.user_care).with_context(
            **action["context"]
        ).create({"date": "2026-06-01 09:00:00"}).action_log()
        log = self.env["funnel.activity.log"].search([("asset_id", "=", asset.id)])
        self.assertEqual(
            (log.partner_id, log.asset_id, log.source), (self.customer, asset, "care")
        )
        self.assertEqual(self.customer.funnel_last_care_date.date(), date(2026, 6, 1))
        log.unlink()
        self.assertFalse(self.customer.funnel_last_care_date)
        self.assertFalse(asset.last_care_date)
