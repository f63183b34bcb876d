from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name, tagged


@tagged("post_install", "-at_install")
class TestLifePhaseConcurrency(BaseCase):
    """Two workers run the nightly life-phase job at once, each on its own
    database connection: the second skips the run the first holds, and a run
    after the first committed opens nothing twice.

    The data is committed (each worker has to see it) and removed at the end:
    an asset past its end of life in a category whose late life opens an
    opportunity, with a late-life plan.
    """

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            category = env["funnel.asset.category"].create(
                {
                    "name": "Concurrent calibrators",
                    "lifetime_months": 24,
                    "late_action": "opportunity",
                    "plan_late_id": env.ref(
                        "sales_funnel_pro.mail_activity_plan_late_life"
                    ).id,
                    "replacement_value": 1000,
                }
            )
            partner = env["res.partner"].create({"name": "Concurrent Lab"})
            asset = env["funnel.installed.asset"].create(
                {
                    "name": "Concurrent unit",
                    "partner_id": partner.id,
                    "category_id": category.id,
                    # 75 % of its life: late
                    "install_date": fields.Date.today() - timedelta(days=548),
                }
            )
            self.assertEqual(asset.life_phase, "late")
            self.ids = category.id, partner.id, asset.id
        self.addCleanup(self._clean_up)

    def _clean_up(self):
        category_id, partner_id, asset_id = self.ids
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["crm.lead"].with_context(active_test=False).search(
                [("asset_ids", "in", [asset_id])]
            ).unlink()
            env["funnel.installed.asset"].browse(asset_id).unlink()
            env["funnel.asset.category"].browse(category_id).unlink()
            env["res.partner"].browse(partner_id).unlink()

    def _state(self, env):
        asset = env["funnel.installed.asset"].browse(self.ids[2])
        leads = env["crm.lead"].search([("asset_ids", "in", asset.ids)])
        activities = env["mail.activity"].search(
            [("res_model", "=", asset._name), ("res_id", "=", asset.id)]
        )
        return len(leads), len(activities)

    def test_two_workers_at_once(self):
        with self.registry.cursor() as cr1:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            first = env1["funnel.installed.asset"]._refresh_life_phases()
            self.assertEqual(first, {"changed": 0, "plans": 1, "actions": 1})
            # the first has not committed yet: the second skips, without waiting
            with self.registry.cursor() as cr2:
                env2 = api.Environment(cr2, SUPERUSER_ID, {})
                self.assertIsNone(env2["funnel.installed.asset"]._refresh_life_phases())
                self.assertEqual(self._state(env2), (0, 0))
        with self.registry.cursor() as cr3:
            env3 = api.Environment(cr3, SUPERUSER_ID, {})
            again = env3["funnel.installed.asset"]._refresh_life_phases()
            self.assertEqual(again, {"changed": 0, "plans": 0, "actions": 0})
            self.assertEqual(self._state(env3), (1, 1), "one opportunity, one plan")
