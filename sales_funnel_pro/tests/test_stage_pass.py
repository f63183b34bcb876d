from datetime import datetime, timedelta

from odoo.tests import freeze_time, tagged

from .common import FunnelCommon, migration

T0 = datetime(2025, 3, 3, 9, 0, 0)


def _at(days):
    return T0 + timedelta(days=days)


@tagged("post_install", "-at_install")
class TestStagePass(FunnelCommon):
    """The stages passed the first time are stored with the outcome of their
    opportunity (``funnel.stage.pass``), kept on every move, win, loss, restore,
    probability change and change of the stages, and equal at every step to
    what a rebuild from the stage history gives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the gates are tested elsewhere: here every move is allowed
        (cls.s1 | cls.s2 | cls.s3 | cls.s4).write({"gate_policy": "none"})
        cls.Pass = cls.env["funnel.stage.pass"]

    def _passes(self, lead):
        """{stage: (skipped, got past, outcome, days of the first stay)}"""
        return {
            row.stage_id: (
                row.is_skipped,
                row.got_past,
                row.outcome,
                row.days_first_stay or None,
            )
            for row in self.Pass.search([("lead_id", "=", lead.id)])
        }

    def assertInLine(self, leads):
        """The stored passes of ``leads`` are those rebuilt from their history:
        a rebuild changes nothing."""
        self.assertEqual(self.Pass._refresh_all(leads.ids), 0)

    def test_every_event(self):
        """s1 → s3 (jumping s2) → s2 (back) → s3 → lost → restored → won."""
        with freeze_time(T0):
            lead = self._create_lead("Skipper")
        self.assertEqual(self._passes(lead), {self.s1: (False, False, "open", None)})
        steps = [
            (
                {"stage_id": self.s3.id},
                {
                    self.s1: (False, True, "open", 1.0),
                    self.s2: (True, True, "open", None),
                    self.s3: (False, False, "open", None),
                },
            ),
            # back in s2, which the jump passed: no new pass, s3 stays first
            ({"stage_id": self.s2.id}, None),
            ({"stage_id": self.s3.id}, None),
            (
                {"active": False},
                {
                    self.s1: (False, True, "lost", 1.0),
                    self.s2: (True, True, "lost", None),
                    self.s3: (False, False, "lost", 1.0),
                },
            ),
            (
                {"active": True},
                {
                    self.s1: (False, True, "open", 1.0),
                    self.s2: (True, True, "open", None),
                    self.s3: (False, False, "open", 1.0),
                },
            ),
            (
                {"stage_id": self.won.id},
                {
                    self.s1: (False, True, "won", 1.0),
                    self.s2: (True, True, "won", None),
                    # won from s3: it got past it after going back
                    self.s3: (False, True, "won", 1.0),
                    self.s4: (True, True, "won", None),
                },
            ),
        ]
        for day, (values, expected) in enumerate(steps, start=1):
            with freeze_time(_at(day)):
                lead.write(values)
            if values.get("active") is False:
                # as crm marks a lost opportunity
                lead.probability = 0
            self.assertInLine(lead)
            if expected:
                self.assertEqual(self._passes(lead), expected, values)

    def test_lost_and_merely_archived(self):
        lead = self._create_lead("Lost")
        lead.action_set_lost()
        self.assertEqual(self._passes(lead)[self.s1][2], "lost")
        archived = self._create_lead("Archived", probability=30)
        archived.write({"active": False})
        # archived with a probability: crm does not count it as lost
        self.assertEqual(self._passes(archived)[self.s1][2], "open")
        archived.probability = 0
        self.assertEqual(self._passes(archived)[self.s1][2], "lost")
        self.assertInLine(lead | archived)

    def test_a_lead_is_open(self):
        lead = self._create_lead("Still a lead", type="lead")
        lead.action_archive()
        self.assertEqual(self._passes(lead)[self.s1][2], "open")
        lead.action_unarchive()
        lead.type = "opportunity"
        lead.action_archive()
        self.assertEqual(self._passes(lead)[self.s1][2], "lost")
        self.assertInLine(lead)

    def test_stages_changed(self):
        """A stage becoming won is no longer passed, and its opportunities are
        won; reordering the stages moves the stages jumped over."""
        lead = self._create_lead("Jumper")
        lead.stage_id = self.s4
        self.assertEqual(set(self._passes(lead)), {self.s1, self.s2, self.s3, self.s4})
        # s3 after s4: no longer between s1 and s4
        self.s3.sequence = 110
        self.assertEqual(set(self._passes(lead)), {self.s1, self.s2, self.s4})
        self.assertInLine(lead)
        self.s4.with_context(active_test=False).criterion_ids.unlink()
        self.s4.is_won = True
        self.assertEqual(
            self._passes(lead),
            {
                self.s1: (False, True, "won", None),
                self.s2: (True, True, "won", None),
            },
        )
        self.assertInLine(lead)

    def test_deleted_with_their_opportunity_and_stage(self):
        lead = self._create_lead("Gone")
        lead.stage_id = self.s2
        other = self._create_lead("Stays")
        lead.unlink()
        self.assertFalse(self.Pass.search_count([("lead_id", "=", lead.id)]))
        self.assertTrue(self.Pass.search_count([("lead_id", "=", other.id)]))

    def test_rebuild_is_idempotent(self):
        """The 1.7 migration builds the passes of every opportunity from the
        history; a second run writes nothing."""
        leads = self._create_lead("One") | self._create_lead("Two")
        leads.write({"stage_id": self.s3.id})
        leads[0].action_set_won()
        expected = [self._passes(lead) for lead in leads]
        self.env.cr.execute("DELETE FROM funnel_stage_pass")
        self.Pass.invalidate_model()
        migration("18.0.1.7.0").migrate(self.env.cr, "18.0.1.6.0")
        self.assertEqual([self._passes(lead) for lead in leads], expected)
        self.assertEqual(self.Pass._refresh_all(), 0)

    def test_move_writes_only_the_passes_it_changes(self):
        """A move forward writes the pass of the stage left and the pass of the
        stage entered; the passes of the stages left before, already got past,
        keep their row version (a table row rewritten is a new version)."""
        lead = self._create_lead("Forward")
        lead.write({"stage_id": self.s2.id})

        def versions():
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT stage_id, ctid::text FROM funnel_stage_pass WHERE lead_id = %s",
                [lead.id],
            )
            return dict(self.env.cr.fetchall())

        before = versions()
        lead.write({"stage_id": self.s3.id})
        after = versions()
        self.assertEqual(after[self.s1.id], before[self.s1.id])
        self.assertNotEqual(after[self.s2.id], before[self.s2.id])
        self.assertEqual(set(after), {self.s1.id, self.s2.id, self.s3.id})
        self.assertEqual(self._passes(lead)[self.s2], (False, True, "open", None))
        self.assertInLine(lead)

    def test_salesman_sees_own_passes(self):
        mine = self._create_lead("Mine")
        theirs = self._create_lead("Theirs", user=self.user_salesman_2)
        Pass = self.Pass.with_user(self.user_salesman)
        self.assertEqual(Pass.search([]).lead_id & (mine | theirs), mine)
        self.assertEqual(
            self.Pass.with_user(self.user_manager).search([]).lead_id & (mine | theirs),
            mine | theirs,
        )
