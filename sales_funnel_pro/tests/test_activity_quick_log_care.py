from datetime import date, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, freeze_time, tagged

from .installed_base_common import TODAY, InstalledBaseCommon

NOW = "2026-06-15 10:00:00"


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestQuickLogCare(InstalledBaseCommon):
    """The quick log of the opportunities logs care work too: on a customer or
    one of its assets, opened from their "Log Activity" button, with the asset
    on the row, never counted toward an opportunity's gate."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.asset = cls._asset(date(2024, 1, 1), care_user_id=cls.user_care.id)
        cls.care_type = cls.env.ref("sales_funnel_pro.mail_activity_type_customer_care")
        cls.visit_type = cls.env.ref("sales_funnel_pro.mail_activity_type_visit")
        cls.lead = cls._create_lead("Deal", stage=cls.s2, partner_id=cls.customer.id)
        cls.Log = cls.env["funnel.activity.log"]

    def _wizard(self, user, record, **values):
        """The dialog as the button of ``record`` opens it, filled with ``values``."""
        record = record.with_user(user)
        if record._name == "funnel.installed.asset":
            action = record.action_log_care()
        else:
            action = record.action_funnel_log_care()
        self.assertEqual(
            (action["res_model"], action["name"], action["target"]),
            ("funnel.activity.quick.log", "Log Activity", "new"),
        )
        Wizard = self.env[action["res_model"]].with_user(user)
        form = Form(Wizard.with_context(**action["context"]))
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def _care_logs(self):
        return self.Log.search([("partner_id", "=", self.customer.id)])

    def _assert_refused(self, wizard, exception, message):
        before = self.Log.search_count([])
        activities = self.env["mail.activity"].search_count([])
        with self.assertRaisesRegex(exception, message):
            wizard.action_log()
        self.assertEqual(self.Log.search_count([]), before)
        self.assertEqual(self.env["mail.activity"].search_count([]), activities)

    def test_on_the_asset_as_care_user(self):
        wizard = self._wizard(
            self.user_care,
            self.asset,
            summary="Callback: the users want a second unit",
            outcome="positive",
            schedule_next=True,
        )
        self.assertTrue(wizard.is_care)
        self.assertEqual(
            (wizard.partner_id, wizard.asset_id, wizard.activity_type_id),
            (self.customer, self.asset, self.care_type),
        )
        self.assertEqual(wizard.duration, 0.5, "the care type's duration")
        wizard.action_log()
        log = self._care_logs()
        self.assertEqual(
            (
                len(log),
                log.asset_id,
                log.lead_id,
                log.user_id,
                log.source,
                log.is_care,
                log.outcome,
                log.summary,
            ),
            (
                1,
                self.asset,
                self.Log.lead_id,
                self.user_care,
                "care",
                True,
                "positive",
                "Callback: the users want a second unit",
            ),
        )
        self.assertEqual(self.asset.last_care_date.date(), TODAY)
        self.assertEqual(self.customer.funnel_last_care_date.date(), TODAY)
        # the next step is planned on the asset, for its care owner
        (planned,) = self.asset.activity_ids
        self.assertEqual(planned.user_id, self.user_care)

    def test_on_the_customer_as_salesman_never_counts_toward_a_gate(self):
        self.assertEqual(self._checks(self.lead)[self.c2_meeting], "todo")
        wizard = self._wizard(
            self.user_salesman,
            self.customer,
            activity_type_id=self.meeting_type,
            schedule_next=True,
        )
        self.assertFalse(wizard.asset_id)
        wizard.action_log()
        log = self._care_logs()
        self.assertEqual(
            (len(log), log.asset_id, log.lead_id),
            (1, self.asset.browse(), log.lead_id.browse()),
        )
        self.assertEqual(log.activity_type_id, self.meeting_type)
        self.assertEqual(self._checks(self.lead)[self.c2_meeting], "todo")
        self.assertFalse(self.lead.last_touch_date)
        # planned on the customer, for the user (the customer has no care owner)
        (planned,) = self.customer.activity_ids
        self.assertEqual(planned.user_id, self.user_salesman)

    def test_as_manager_on_another_salesmans_customer(self):
        self.asset.care_user_id = False
        self.asset.sales_user_id = self.user_salesman_2
        self._wizard(self.user_manager, self.asset).action_log()
        self.assertEqual(self._care_logs().user_id, self.user_manager)
        self.assertEqual(self._care_logs().asset_id, self.asset)

    def test_choosing_the_asset_fills_the_customer(self):
        Wizard = self.env["funnel.activity.quick.log"].with_user(self.user_care)
        form = Form(Wizard.with_context(default_is_care=True))
        form.asset_id = self.asset
        self.assertEqual(form.partner_id, self.customer)

    def test_refused(self):
        def wizard(**values):
            return (
                self.env["funnel.activity.quick.log"]
                .with_user(self.user_care)
                .create(
                    {
                        "is_care": True,
                        "activity_type_id": self.care_type.id,
                        **values,
                    }
                )
            )

        self._assert_refused(wizard(), UserError, "Log the care activity on a customer")
        self._assert_refused(
            wizard(partner_id=self.other_customer.id, asset_id=self.asset.id),
            UserError,
            "is not installed at Other Lab",
        )
        self._assert_refused(
            wizard(partner_id=self.customer.id, lead_ids=[(6, 0, self.lead.ids)]),
            UserError,
            "not on opportunities",
        )
        self._assert_refused(
            wizard(partner_id=self.customer.id, activity_type_id=self.visit_type.id),
            UserError,
            "is an activity of opportunities",
        )
        technical = self.env.ref(
            "sales_funnel_pro.mail_activity_type_technical_exchange"
        )
        self._assert_refused(
            wizard(
                partner_id=self.customer.id,
                schedule_next=True,
                next_activity_type_id=technical.id,
            ),
            UserError,
            "cannot be planned on Metro Lab",
        )
        self._assert_refused(
            wizard(
                partner_id=self.customer.id,
                schedule_next=True,
                next_date=TODAY - timedelta(days=1),
            ),
            UserError,
            "cannot be planned in the past",
        )
        self._assert_refused(
            wizard(partner_id=self.customer.id, duration=30),
            Exception,
            "at most 24 hours",
        )

    def test_refused_on_an_asset_the_user_may_not_read(self):
        other_asset = self._asset(
            date(2024, 1, 1),
            partner=self.other_customer,
            sales_user_id=self.user_salesman_2.id,
        )
        wizard = (
            self.env["funnel.activity.quick.log"]
            .with_user(self.user_salesman)
            .create(
                {
                    "is_care": True,
                    "partner_id": self.other_customer.id,
                    "asset_id": other_asset.id,
                    "activity_type_id": self.care_type.id,
                }
            )
        )
        self._assert_refused(wizard, AccessError, "Installed Asset")
