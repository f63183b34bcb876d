from odoo import Command
from odoo.tests import tagged

from odoo.addons.sales_funnel_pro.tests.common import FunnelCommon


@tagged("post_install", "-at_install")
class TestQuotationCriterion(FunnelCommon):
    """s3's "Quotation sent" becomes a quotation criterion (from 1,000 untaxed):
    a draft does not count, a sent or confirmed quotation does, with its order,
    sent date and amount as evidence; cancelling it reopens the gate."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c3_quote.write({"kind": "quotation", "quotation_min_amount": 1000})
        cls.product = cls.env["product.product"].create(
            {"name": "Pressure calibrator", "list_price": 1500, "taxes_id": False}
        )
        cls.lead = cls._create_lead(
            "Calibrators", stage=cls.s3, partner_id=cls.partner.id
        )

    def _quotation(self, price=1500, qty=1):
        return self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "opportunity_id": self.lead.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": qty,
                            "price_unit": price,
                        }
                    )
                ],
            }
        )

    def _check(self):
        return self.lead.check_ids.filtered(lambda c: c.criterion_id == self.c3_quote)

    def test_draft_does_not_count_sent_does_cancel_reopens(self):
        order = self._quotation()
        self.assertEqual(self._check().state, "todo", "a draft does not count")
        self.assertFalse(order.funnel_sent_date)
        self.assertTrue(self.lead._funnel_unmet_criteria(self.s4))

        # e-mailing it writes the state without tracking
        order.with_context(tracking_disable=True).write({"state": "sent"})
        self.assertTrue(order.funnel_sent_date, "the sent date is stamped")
        check = self._check()
        self.assertEqual(check.state, "met")
        self.assertIn(order.name, check.evidence)
        self.assertIn("1,500.00", check.evidence)
        self.lead.with_user(self.user_salesman).stage_id = self.s4
        self.assertEqual(self.lead.stage_id, self.s4)

        self.lead.with_user(self.user_salesman).stage_id = self.s3
        order._action_cancel()
        self.assertEqual(self._check().state, "todo", "cancel reopens the gate")

    def test_confirmed_counts_and_minimum_amount(self):
        small = self._quotation(price=500)
        small.action_confirm()
        self.assertEqual(self._check().state, "todo", "below the minimum amount")
        self.assertTrue(small.funnel_sent_date)
        big = self._quotation(price=1200)
        big.action_confirm()
        self.assertEqual(self._check().state, "met")
        self.assertIn(big.name, self._check().evidence)
        self.c3_quote.quotation_min_amount = 5000
        self.assertEqual(self._check().state, "todo")

    def test_template_uses_the_quotation_kind(self):
        self.env["funnel.template.wizard"]._apply_template()
        criterion = self.env["funnel.stage.criterion"].search(
            [("template_key", "=", "quotation")]
        )
        self.assertEqual(criterion.kind, "quotation")

    def test_hand_over_proposes_the_ordered_units(self):
        category = self.env["funnel.asset.category"].create({"name": "Calibrators"})
        self.product.product_tmpl_id.funnel_asset_category_id = category
        order = self._quotation(qty=2)
        order.action_confirm()
        won = self._create_lead("Won", stage=self.won, partner_id=self.partner.id)
        order.opportunity_id = won
        action = won.action_funnel_hand_over()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(len(wizard.line_ids), 2)
        self.assertEqual(wizard.line_ids.category_id, category)
        wizard.action_hand_over()
        self.assertEqual(len(won.sold_asset_ids), 2, "one per unit")
        action = won.action_funnel_hand_over()
        self.env[action["res_model"]].browse(action["res_id"]).action_hand_over()
        self.assertEqual(len(won.sold_asset_ids), 2, "nothing twice")
