from odoo.tests import tagged

from .common import FunnelCommon

LOAD = {"funnel_load_history": True}


@tagged("post_install", "-at_install")
class TestDemoLoading(FunnelCommon):
    """What the demo generator relies on to write a dated history in bulk: a
    context key that leaves the history and the checks to the caller, and the
    carrying over of crm's stock pipeline to the funnel's stages."""

    def _history(self, leads):
        return self.env["funnel.stage.history"].search(
            [("lead_id", "in", leads.ids)], order="lead_id, date_in, id"
        )

    def test_create_leaves_history_and_checks_to_the_caller(self):
        """With ``funnel_load_history``, creating opportunities opens no history
        row and creates no check, and logging an activity syncs no check; without
        it, both happen."""
        loaded = (
            self.env["crm.lead"]
            .with_context(**LOAD)
            .create(
                {
                    "name": "Loaded",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s2.id,
                    "user_id": self.user_salesman.id,
                }
            )
        )
        self.assertFalse(self._history(loaded))
        self.assertFalse(loaded.check_ids)
        self.assertEqual(loaded.qualification_required_count, 2)
        self.assertEqual(loaded.qualification_met_count, 0)
        self.env["funnel.activity.log"].with_context(**LOAD).create(
            {
                "lead_id": loaded.id,
                "user_id": self.user_salesman.id,
                "activity_type_id": self.meeting_type.id,
                "duration": 1.0,
            }
        )
        self.assertFalse(loaded.check_ids)
        # the caller writes them, and the qualification follows
        self.env["funnel.lead.check"].create(
            [
                {
                    "lead_id": loaded.id,
                    "criterion_id": criterion.id,
                    "state": "met",
                    "is_current": True,
                }
                for criterion in (self.c2_needs, self.c2_meeting)
            ]
        )
        self.assertTrue(loaded.gate_ready)
        self.assertEqual(loaded.qualification_progress, 100)

        usual = self._create_lead("Usual", stage=self.s2)
        self.assertEqual(len(self._history(usual)), 1)
        self.assertEqual(
            self._checks(usual), {self.c2_needs: "todo", self.c2_meeting: "todo"}
        )
        self.env["funnel.activity.log"].create(
            {
                "lead_id": usual.id,
                "user_id": self.user_salesman.id,
                "activity_type_id": self.meeting_type.id,
                "duration": 1.0,
            }
        )
        self.assertEqual(self._checks(usual)[self.c2_meeting], "met")

    def test_restage(self):
        """Opportunities of stock stages are put in the funnel's stage for stage as
        if they had always been there: no move, same dates, the history rows
        follow (with the new stage's forecast category), the checks of the new
        stage are created; other opportunities are left alone."""
        Stage = self.env["crm.stage"]
        new = Stage.create({"name": "New", "sequence": 98, "team_id": self.team.id})
        qualified = Stage.create(
            {
                "name": "Qualified",
                "sequence": 99,
                "team_id": self.team.id,
                "forecast_category": "best_case",
            }
        )
        self.s2.forecast_category = "commit"
        moved = self._create_lead("Moved", stage=new)
        moved.stage_id = qualified
        lost = self._create_lead("Lost", stage=new)
        lost.action_set_lost()
        other = self._create_lead("Other", stage=self.s3)
        before = {
            lead: (
                lead.date_last_stage_update,
                [row.date_in for row in self._history(lead)],
            )
            for lead in moved | lost | other
        }
        rows_before = len(self._history(moved | lost | other))

        restaged = self.env["crm.lead"]._funnel_restage(
            {new.id: self.s1.id, qualified.id: self.s2.id}
        )

        self.assertEqual(restaged, moved | lost)
        self.assertEqual(moved.stage_id, self.s2)
        self.assertEqual(lost.stage_id, self.s1)
        self.assertFalse(lost.active)
        self.assertEqual(other.stage_id, self.s3)
        self.assertEqual(len(self._history(moved | lost | other)), rows_before)
        for lead, (date_last, dates) in before.items():
            self.assertEqual(lead.date_last_stage_update, date_last, lead.name)
            self.assertEqual([row.date_in for row in self._history(lead)], dates)
        self.assertEqual(
            [
                (row.event, row.stage_from_id, row.stage_id, row.forecast_category)
                for row in self._history(moved)
            ],
            [
                ("enter", Stage, self.s1, self.s1.forecast_category),
                ("enter", self.s1, self.s2, "commit"),
            ],
        )
        self.assertEqual(
            [(row.event, row.stage_id) for row in self._history(lost)],
            [("enter", self.s1), ("lost", self.s1)],
        )
        self.assertEqual(moved.forecast_category, "commit")
        self.assertEqual(
            self._checks(moved), {self.c2_needs: "todo", self.c2_meeting: "todo"}
        )
        self.assertEqual(moved.qualification_required_count, 2)
        self.assertTrue(moved.check_ids.mapped("is_current"))
        self.assertEqual(set(self._checks(lost)), set(self.s1.criterion_ids))
        self.assertFalse(
            self.env["funnel.stage.history"].search_count(
                [
                    "|",
                    ("stage_id", "in", (new | qualified).ids),
                    ("stage_from_id", "in", (new | qualified).ids),
                ]
            )
        )
