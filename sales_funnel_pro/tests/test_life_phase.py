from datetime import date
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from ..models import funnel_job
from .installed_base_common import InstalledBaseCommon

INSTALL = date(2025, 1, 1)
# lifetime 12 months from INSTALL: 365 days; early < 25 % (91.25 days),
# late from 75 % (273.75 days), end of life on 2026-01-01
BOUNDARIES = [
    (date(2025, 1, 1), "early"),
    (date(2025, 4, 2), "early"),  # day 91
    (date(2025, 4, 3), "mid"),  # day 92
    (date(2025, 10, 1), "mid"),  # day 273
    (date(2025, 10, 2), "late"),  # day 274
    (date(2025, 12, 31), "late"),
    (date(2026, 1, 1), "end_of_life"),
    (date(2030, 1, 1), "end_of_life"),
]


@tagged("post_install", "-at_install")
class TestLifePhase(InstalledBaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.year_category = cls.env["funnel.asset.category"].create(
            {
                "name": "Yearly",
                "lifetime_months": 12,
                "early_until_pct": 25,
                "late_from_pct": 75,
                "plan_early_id": cls.plan_early.id,
                "plan_mid_id": cls.plan_mid.id,
                "plan_late_id": cls.plan_late.id,
                "replacement_value": 5000,
            }
        )

    def _run(self, day):
        with freeze_time(day):
            return self.env["funnel.installed.asset"]._refresh_life_phases()

    def _new_asset(self, **values):
        with freeze_time(INSTALL):
            return self._asset(INSTALL, category=self.year_category, **values)

    def test_phase_boundaries(self):
        asset = self._new_asset()
        for day, phase in BOUNDARIES:
            with self.subTest(day=day):
                self._run(day)
                self.assertEqual(asset.life_phase, phase)

    def test_retired_stays_retired(self):
        asset = self._new_asset()
        with freeze_time(date(2025, 3, 1)):
            asset.action_retire()
        self.assertEqual(asset.life_phase, "retired")
        self._run(date(2026, 3, 1))
        self.assertEqual(asset.life_phase, "retired")

    def test_plan_launched_once_per_phase(self):
        asset = self._new_asset(care_user_id=self.user_care.id)
        result = self._run(date(2025, 1, 2))
        self.assertEqual(result, {"changed": 0, "plans": 1, "actions": 0})
        early = self._asset_activities(asset)
        self.assertEqual(len(early), 3, "technical exchange, customer care, callback")
        self.assertEqual(early.user_id, self.user_care)
        self.assertEqual(
            self._run(date(2025, 1, 3)), {"changed": 0, "plans": 0, "actions": 0}
        )
        self.assertEqual(len(self._asset_activities(asset)), 3)

        self.assertEqual(
            self._run(date(2025, 4, 3)), {"changed": 1, "plans": 1, "actions": 0}
        )
        self.assertEqual(len(self._asset_activities(asset)), 4)
        self._run(date(2025, 4, 4))
        self.assertEqual(len(self._asset_activities(asset)), 4, "mid plan once")
        messages = asset.message_ids.mapped("body")
        self.assertTrue(any("Early Life → Mid Life" in body for body in messages))
        self.assertTrue(
            any("Mid life: usage and workload" in body for body in messages)
        )
        self.assertTrue(asset.plan_early_done and asset.plan_mid_done)
        self.assertFalse(asset.plan_late_done)

    def test_late_action_activity(self):
        self.year_category.late_action = "activity"
        asset = self._new_asset(care_user_id=self.user_care.id)
        self._run(date(2025, 10, 2))
        self._run(date(2025, 10, 3))
        todo = self._asset_activities(asset).filtered(
            lambda a: a.summary == "Late life: introduce the new products"
        )
        self.assertEqual(len(todo), 1)
        self.assertEqual(todo.user_id, self.user_care)
        self.assertTrue(asset.late_action_done)

    def test_late_action_lead(self):
        self.year_category.write(
            {"late_action": "lead", "late_team_id": self.inside_team.id}
        )
        asset = self._new_asset()
        self._run(date(2025, 10, 2))
        self._run(date(2025, 12, 1))
        lead = self.env["crm.lead"].search([("asset_ids", "in", asset.ids)])
        self.assertEqual(len(lead), 1)
        self.assertEqual(
            (lead.type, lead.team_id, lead.user_id, lead.source_id, lead.partner_id),
            (
                "lead",
                self.inside_team,
                self.env["res.users"],
                self.source_base,
                self.customer,
            ),
        )

    def test_late_action_opportunity(self):
        self.year_category.late_action = "opportunity"
        asset = self._new_asset()
        self._run(date(2025, 10, 2))
        self._run(date(2026, 2, 1))
        lead = self.env["crm.lead"].search([("asset_ids", "in", asset.ids)])
        self.assertEqual(len(lead), 1, "nothing opened twice")
        self.assertEqual(
            (
                lead.type,
                lead.user_id,
                lead.date_deadline,
                lead.expected_revenue,
                lead.source_id,
            ),
            (
                "opportunity",
                self.user_salesman,
                date(2026, 1, 1),
                5000,
                self.source_base,
            ),
        )
        self.assertEqual(asset.lead_count, 1)

    def test_old_asset_straight_to_end_of_life(self):
        """A competitor's unit imported at twelve years old: no plan of a phase
        it skipped, but its late-life action once."""
        self.year_category.late_action = "opportunity"
        with freeze_time(date(2026, 6, 1)):
            asset = self._asset(
                date(2014, 6, 1), category=self.year_category, is_competitor=True
            )
        self._run(date(2026, 6, 2))
        self.assertEqual(asset.life_phase, "end_of_life")
        self.assertFalse(self._asset_activities(asset))
        lead = self.env["crm.lead"].search([("asset_ids", "in", asset.ids)])
        self.assertEqual(
            lead.date_deadline, date(2026, 6, 2), "closing not in the past"
        )

    def test_none_late_action(self):
        asset = self._new_asset()
        self._run(date(2025, 11, 1))
        self.assertFalse(self.env["crm.lead"].search([("asset_ids", "in", asset.ids)]))
        self.assertTrue(asset.late_action_done)

    def test_by_hand_through_a_job(self):
        asset = self._new_asset()
        Asset = self.env["funnel.installed.asset"]
        with self.assertRaises(AccessError):
            Asset.with_user(self.user_salesman).action_refresh_life_phases()
        with freeze_time(date(2025, 5, 1)):
            action = Asset.with_user(self.user_manager).action_refresh_life_phases()
            self.assertIn("1 assets changed phase", action["params"]["message"])
            with patch.object(funnel_job, "BACKGROUND_THRESHOLD", 0):
                Asset.with_user(self.user_manager).action_refresh_life_phases()
            job = self.env["funnel.job"].search([("kind", "=", "life_phase")])
            self.assertEqual(job.state, "queued")
            self.env["funnel.job"]._cron_run()
        self.assertEqual((job.state, job.summary), ("done", "Life phases refreshed."))
        self.assertEqual(asset.life_phase, "mid")
