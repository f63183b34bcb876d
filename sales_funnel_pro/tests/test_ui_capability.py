from odoo import fields
from odoo.tests import HttpCase, tagged

from .capability_common import CapabilityCommon


@tagged("post_install", "-at_install")
class TestCapabilityUi(HttpCase, CapabilityCommon):
    """The manager's way to coaching: the Coaching list, the top row's
    capability card, and from it the salesperson's opportunities stuck at the
    stage to coach. The history is told from today (the browser's date)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._now = fields.Datetime.now()
        sam, tess = cls.user_salesman, cls.user_salesman_2
        for index in range(40):
            if index < 10:
                cls._deal(sam, [(cls.s2, 30), (cls.s3, 20)], ("won", 10))
            else:
                cls._deal(sam, [(cls.s2, 30)], ("lost", 15))
        for index in range(30):
            if index < 20:
                cls._deal(tess, [(cls.s2, 30), (cls.s3, 20)], ("won", 10))
            else:
                cls._deal(tess, [(cls.s2, 30)], ("lost", 15))
        for name in ("Stuck at needs A", "Stuck at needs B"):
            cls._deal(sam, [(cls.s2, 40)], name=name)
        cls.env["funnel.rep.benchmark"]._rebuild()

    def test_capability_tour(self):
        card = self.env["funnel.rep.benchmark"].search(
            [
                ("user_id", "=", self.user_salesman.id),
                ("stage_id", "=", False),
                ("span", "=", "long"),
            ]
        )
        self.assertEqual(card.coach_stage_id, self.s2)
        self.start_tour(
            "/odoo", "sales_funnel_pro_capability_tour", login="funnel_manager"
        )
