from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .installed_base_common import TODAY, InstalledBaseCommon

RAINBOW = "Boom! Team record for the past 30 days."


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestWonOpensHandOver(InstalledBaseCommon):
    """The Won button opens the hand-over to customer care, the rainbow of the
    win kept; winning any other way, or with nothing to hand over, stays as in
    crm, and the hand-over never stands in the way of the win."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls._create_lead(
            "Calibrators for the refinery",
            stage=cls.s4,
            partner_id=cls.customer.id,
            expected_revenue=30000,
        )
        cls.Wizard = cls.env["funnel.handover.wizard"]

    def _win(self, lead, user):
        with patch.object(
            self.registry["crm.lead"], "_get_rainbowman_message", return_value=RAINBOW
        ):
            return lead.with_user(user).action_set_won_rainbowman()

    def _assert_offered(self, result, lead, user):
        self.assertTrue(lead.stage_id.is_won)
        self.assertEqual(
            (result["type"], result["res_model"], result["target"]),
            ("ir.actions.act_window", "funnel.handover.wizard", "new"),
        )
        self.assertEqual(result["effect"]["message"], RAINBOW, "the rainbow stays")
        self.assertEqual(result["effect"]["type"], "rainbow_man")
        wizard = self.Wizard.with_user(user).browse(result["res_id"])
        self.assertEqual(wizard.lead_id, lead)
        self.assertEqual(wizard.care_user_id, self.user_care)
        self.assertEqual(wizard.line_ids.category_id, self.category)
        self.assertFalse(lead.handoff_date, "offered, not done")
        wizard.action_hand_over()
        self.assertTrue(lead.handoff_date)
        self.assertEqual(len(lead.sold_asset_ids), 1)

    def test_won_by_the_salesman_opens_the_hand_over(self):
        result = self._win(self.lead, self.user_salesman)
        self._assert_offered(result, self.lead, self.user_salesman)
        # won again after a reopening: handed over already, nothing offered
        self.lead.write({"stage_id": self.s4.id, "funnel_waive_reason": "Reopened"})
        self.assertEqual(set(self._win(self.lead, self.user_salesman)), {"effect"})

    def test_won_by_the_manager_opens_the_hand_over(self):
        result = self._win(self.lead, self.user_manager)
        self._assert_offered(result, self.lead, self.user_manager)

    def test_without_rainbow_the_dialog_alone(self):
        with patch.object(
            self.registry["crm.lead"], "_get_rainbowman_message", return_value=False
        ):
            result = self.lead.with_user(self.user_salesman).action_set_won_rainbowman()
        self.assertEqual(result["res_model"], "funnel.handover.wizard")
        self.assertNotIn("effect", result)

    def test_nothing_to_hand_over(self):
        """Without a customer, or without an asset category, or when the
        company does not offer it: won as in crm, no dialog."""
        no_customer = self._create_lead("No customer", stage=self.s4)
        result = self._win(no_customer, self.user_salesman)
        self.assertTrue(no_customer.stage_id.is_won)
        self.assertEqual(set(result), {"effect"})

        self.env.company.funnel_handover_on_won = False
        result = self._win(self.lead, self.user_salesman)
        self.assertTrue(self.lead.stage_id.is_won)
        self.assertEqual(set(result), {"effect"})
        self.assertFalse(self.Wizard.search([]))

    def test_without_asset_category(self):
        self.env["funnel.asset.category"].search([]).active = False
        result = self._win(self.lead, self.user_salesman)
        self.assertTrue(self.lead.stage_id.is_won)
        self.assertEqual(set(result), {"effect"})
        self.assertFalse(self.Wizard.search([]))

    def test_a_refused_hand_over_does_not_block_the_win(self):
        with patch.object(
            self.registry["funnel.handover.wizard"],
            "_open_for",
            side_effect=AccessError("No care for you"),
        ):
            result = self._win(self.lead, self.user_salesman)
        self.assertTrue(self.lead.stage_id.is_won)
        self.assertEqual(set(result), {"effect"})

    def test_won_by_a_write_offers_nothing(self):
        """A card dragged to the won stage, an RPC write, the server-side Won:
        won, no dialog created."""
        other = self._create_lead("Dragged", stage=self.s4, partner_id=self.customer.id)
        other.with_user(self.user_salesman).write({"stage_id": self.won.id})
        self.assertTrue(other.stage_id.is_won)
        self.assertIs(self.lead.with_user(self.user_salesman).action_set_won(), True)
        self.assertTrue(self.lead.stage_id.is_won)
        self.assertFalse(self.Wizard.search([]))
        # the button on the won opportunity stays
        self.assertTrue(self.lead.funnel_can_hand_over)
        action = self.lead.with_user(self.user_salesman).action_funnel_hand_over()
        self.assertEqual(action["res_model"], "funnel.handover.wizard")
