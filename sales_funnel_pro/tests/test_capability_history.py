from datetime import datetime, timedelta

from odoo.tests import freeze_time, tagged

from .common import FunnelCommon, migration

T0 = datetime(2025, 3, 3, 9, 0, 0)


def _at(days):
    return T0 + timedelta(days=days)


@tagged("post_install", "-at_install")
class TestCapabilityHistory(FunnelCommon):
    """The stage history knows each stage's rank at entry, the first passes and
    how each stay ended, on every move, won, lost and restore; the migration
    fills the same from older rows."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the gates are tested elsewhere: here every move is allowed
        (cls.s1 | cls.s2 | cls.s3 | cls.s4).write({"gate_policy": "none"})
        cls.rank = cls.env["crm.stage"]._funnel_rank()

    def _rows(self, lead):
        return self.env["funnel.stage.history"].search(
            [("lead_id", "=", lead.id)], order="date_in, id"
        )

    def _passes(self, lead):
        """(event, stage, rank is the stage's, first pass, exit) per row."""
        return [
            (row.event, row.stage_id, row.stage_rank, row.is_first_pass, row.exit_kind)
            for row in self._rows(lead)
        ]

    def _story(self):
        """s1 → s3 (skipping s2) → s2 (back) → s3 (again) → lost → restored →
        won; returns the opportunity."""
        with freeze_time(T0):
            lead = self._create_lead("Skipper")
        for day, values in enumerate(
            [
                {"stage_id": self.s3.id},
                {"stage_id": self.s2.id},
                {"stage_id": self.s3.id},
                {"active": False},
                {"active": True},
                {"stage_id": self.won.id},
            ],
            start=1,
        ):
            with freeze_time(_at(day)):
                lead.write(values)
        return lead

    def test_first_pass_and_exit_on_every_event(self):
        lead = self._story()
        r = self.rank
        self.assertEqual(
            self._passes(lead),
            [
                ("enter", self.s1, r[self.s1.id], True, "advanced"),
                ("enter", self.s3, r[self.s3.id], True, "regressed"),
                # back in s2, which the jump passed: a regression, not a pass
                ("enter", self.s2, r[self.s2.id], False, "advanced"),
                ("enter", self.s3, r[self.s3.id], False, "lost"),
                ("lost", self.s3, r[self.s3.id], False, "restored"),
                ("restored", self.s3, r[self.s3.id], False, "won"),
                ("won", self.won, r[self.won.id], True, False),
            ],
        )
        # the furthest stage reached before each row: the jump from s1 to s3
        # passed s2, the win passed s4
        self.assertEqual(
            self._rows(lead).mapped("prior_top_rank"),
            [0, r[self.s1.id]] + [r[self.s3.id]] * 5,
        )

    def test_rank_is_kept_when_stages_are_reordered(self):
        with freeze_time(T0):
            lead = self._create_lead("Reordered")
        with freeze_time(_at(1)):
            lead.stage_id = self.s2
        rank_s2 = self.rank[self.s2.id]
        self.s2.sequence = 1
        self.assertEqual(
            self._rows(lead).mapped("stage_rank"), [self.rank[self.s1.id], rank_s2]
        )

    def test_created_in_a_later_stage(self):
        with freeze_time(T0):
            lead = self._create_lead("Late start", stage=self.s3)
        self.assertEqual(
            self._passes(lead), [("enter", self.s3, self.rank[self.s3.id], True, False)]
        )

    def test_reassignment_keeps_the_stay(self):
        """A stay counts for the salesperson of its row: reassigning the
        opportunity does not move it; the next stage's row is the new owner's."""
        with freeze_time(T0):
            lead = self._create_lead("Handed over")
        with freeze_time(_at(1)):
            lead.user_id = self.user_salesman_2
        with freeze_time(_at(2)):
            lead.stage_id = self.s2
        self.assertEqual(
            self._rows(lead).mapped("user_id"),
            self.user_salesman | self.user_salesman_2,
        )
        self.assertIn(
            "reassignment",
            self.env["funnel.stage.history"]._fields["user_id"].help,
        )

    def test_migration_fills_older_rows(self):
        """Rows written before 1.4 get what the live path would have written;
        a second run writes nothing."""
        lead = self._story()
        expected = self._passes(lead)
        rows = self._rows(lead)
        rows.flush_recordset()
        self.env.cr.execute(
            "UPDATE funnel_stage_history SET stage_rank = NULL, "
            "is_first_pass = NULL, exit_kind = NULL WHERE lead_id = %s",
            [lead.id],
        )
        rows.invalidate_recordset()
        script = migration("18.0.1.4.0")
        self.assertEqual(script.fill_pass_columns(self.env), 7)
        self.assertEqual(self._passes(lead), expected)
        self.assertEqual(script.fill_pass_columns(self.env), 0)

    def _jump_back_and_lose(self):
        """s1 → s3 (skipping s2) → s2 (back) → lost; returns the opportunity."""
        with freeze_time(T0):
            lead = self._create_lead("Fell back")
        for day, values in enumerate(
            [{"stage_id": self.s3.id}, {"stage_id": self.s2.id}, {"active": False}],
            start=1,
        ):
            with freeze_time(_at(day)):
                lead.write(values)
        return lead

    def test_got_past_on_every_event(self):
        """A stay got past its stage when it advanced or was won, or when the
        opportunity reached a later stage afterwards; a current stay has not."""
        story = self._story()
        # every stay of the story led further: the win is past them all
        self.assertEqual(self._rows(story).mapped("got_past"), [True] * 6 + [False])
        lead = self._jump_back_and_lose()
        # s1 advanced; s3 went back, s2 was lost: neither got past its stage
        self.assertEqual(
            self._rows(lead).mapped("got_past"), [True, False, False, False]
        )
        # restored, then moved to s4: past s3 and s2 now, the lost stay too
        with freeze_time(_at(5)):
            lead.active = True
        with freeze_time(_at(6)):
            lead.stage_id = self.s4
        self.assertEqual(self._rows(lead).mapped("got_past"), [True] * 5 + [False])

    def test_migration_fills_got_past(self):
        """Rows written before 1.6 get the got past the live path keeps; a
        second run writes nothing."""
        leads = self._story() | self._jump_back_and_lose()
        expected = {lead: self._rows(lead).mapped("got_past") for lead in leads}
        self.env["funnel.stage.history"].flush_model()
        self.env.cr.execute(
            "UPDATE funnel_stage_history SET got_past = NULL WHERE lead_id IN %s",
            [tuple(leads.ids)],
        )
        self.env["funnel.stage.history"].invalidate_model(["got_past"])
        migration("18.0.1.6.0").migrate(self.env.cr, "18.0.1.5.0")
        self.env["funnel.stage.history"].invalidate_model(["got_past"])
        for lead in leads:
            self.assertEqual(self._rows(lead).mapped("got_past"), expected[lead])
        self.assertEqual(self.env["funnel.stage.history"]._fill_got_past(), 0)
