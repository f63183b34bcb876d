from datetime import date, datetime, timedelta

from odoo import fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import FIXTURE_REASON, FunnelCommon

T0 = datetime(2024, 3, 4, 9, 0, 0)
# Query budgets, with the ORM's usual chunking. Measured: 14 for moving 500
# opportunities (the checks of the new stage and which are current written in
# one statement, the qualification set from them without reading them again),
# 522 for creating 500, of which 450 are stock crm's (one won-stage search per
# lead); 10 for moving one (without mail tracking), of which three are the
# addon's: the checks read for the gate, the history rows, the checks written.
MOVE_500_BUDGET = 14
CREATE_500_BUDGET = 522
MOVE_ONE_BUDGET = 10


def _at(days):
    """The moment ``days`` days after T0."""
    return T0 + timedelta(days=days)


class StageHistoryCommon(FunnelCommon):
    """Helpers to move opportunities and read their stage history."""

    def _rows(self, lead):
        """History rows of ``lead``, oldest first."""
        return self.env["funnel.stage.history"].search(
            [("lead_id", "=", lead.id)], order="date_in, id"
        )

    def _trail(self, lead):
        """(event, from, stage, date_in, date_out, days, open, backward) per row."""
        return [
            (
                row.event,
                row.stage_from_id,
                row.stage_id,
                row.date_in,
                row.date_out,
                row.days_in_stage,
                row.is_open,
                row.is_backward,
            )
            for row in self._rows(lead)
        ]

    def _assert_one_open_row(self, leads):
        """Each of ``leads`` has exactly one open row: its latest one, not closed."""
        for lead in leads:
            rows = self._rows(lead)
            open_rows = rows.filtered("is_open")
            self.assertEqual(len(open_rows), 1, f"one open row for {lead.name}")
            self.assertEqual(open_rows, rows[-1], "the open row is the latest one")
            self.assertFalse(open_rows.date_out)
            self.assertFalse((rows - open_rows).filtered(lambda r: not r.date_out))

    def _qualify(self, lead):
        """Meet the required exit criteria of the current stage of ``lead``."""
        if lead.stage_id == self.s1:
            self._meet_s1(lead)
        elif lead.stage_id == self.s2:
            self._tick(lead, self.c2_needs)
            self._done_activity(lead, self.meeting_type)
        elif lead.stage_id == self.s3:
            self._tick(lead, self.c3_quote)
        elif lead.stage_id == self.s4:
            self._tick(lead, self.c4_terms)

    def _advance(self, lead, stage, user=None):
        """Meet the current stage's criteria, then move ``lead`` to ``stage`` as
        ``user`` (default: its salesperson)."""
        self._qualify(lead)
        lead.with_user(user or lead.user_id).write({"stage_id": stage.id})


@tagged("post_install", "-at_install")
class TestStageHistory(StageHistoryCommon):
    """Rows written by the live hooks: create, moves, won, lost, restore."""

    # ------------------------------------------------------------
    # Creation
    # ------------------------------------------------------------

    def test_create_enter_row(self):
        """Creating an opportunity opens an "enter" row with its values."""
        with freeze_time(T0):
            lead = (
                self.env["crm.lead"]
                .with_user(self.user_salesman)
                .create(
                    {
                        "name": "Pressure calibrators",
                        "type": "opportunity",
                        "team_id": self.team.id,
                        "stage_id": self.s1.id,
                        "user_id": self.user_salesman.id,
                        "expected_revenue": 12000,
                        "probability": 20,
                    }
                )
            )
        row = self._rows(lead)
        self.assertEqual(len(row), 1)
        self.assertRecordValues(
            row,
            [
                {
                    "lead_id": lead.id,
                    "event": "enter",
                    "stage_from_id": False,
                    "stage_id": self.s1.id,
                    "date_in": T0,
                    "date_out": False,
                    "days_in_stage": 0.0,
                    "is_open": True,
                    "is_backward": False,
                    "user_id": self.user_salesman.id,
                    "team_id": self.team.id,
                    "moved_by_id": self.user_salesman.id,
                    "company_id": self.company.id,
                    "expected_revenue": 12000.0,
                    "probability": 20.0,
                    "forecast_category": "pipeline",
                    "gate_waived": False,
                    "waive_reason": False,
                    "skipped_criteria": False,
                }
            ],
        )
        self.assertEqual(lead.stage_history_ids, row)
        self.assertEqual(lead.backward_move_count, 0)
        self.assertEqual(lead.deadline_push_count, 0)

    def test_create_won_row(self):
        """An opportunity created in a won stage gets a "won" row."""
        with freeze_time(T0):
            lead = self._create_lead(
                "Signed at once", stage=self.won, expected_revenue=800
            )
        self.assertRecordValues(
            self._rows(lead),
            [
                {
                    "event": "won",
                    "stage_from_id": False,
                    "stage_id": self.won.id,
                    "date_in": T0,
                    "is_open": True,
                    "probability": 100.0,
                    "expected_revenue": 800.0,
                    "forecast_category": "closed",
                    "moved_by_id": self.env.uid,
                }
            ],
        )

    def test_create_keeps_a_given_stage_date(self):
        """An imported opportunity that says since when it is in its stage gets
        its entry row dated then; one created lost gets a "lost" row."""
        with freeze_time(T0):
            imported = self._create_lead(
                "Imported", stage=self.s2, date_last_stage_update="2026-01-05 08:00:00"
            )
            lost = self._create_lead("Imported lost", stage=self.s3, active=False)
        self.assertRecordValues(
            self._rows(imported) + self._rows(lost),
            [
                {"event": "enter", "stage_id": self.s2.id, "is_open": True},
                {"event": "lost", "stage_id": self.s3.id, "is_open": True},
            ],
        )
        self.assertEqual(
            self._rows(imported).date_in,
            fields.Datetime.to_datetime("2026-01-05 08:00"),
        )
        self.assertEqual(self._rows(lost).date_in, T0)

    def test_moving_a_lost_opportunity_keeps_it_lost(self):
        """A lost opportunity moved to another stage is still lost there."""
        with freeze_time(T0):
            lead = self._create_lead("Lost and moved", stage=self.s3)
        with freeze_time(_at(1)):
            lead.action_set_lost()
        with freeze_time(_at(2)):
            lead.write({"stage_id": self.s1.id})
        self.assertEqual(
            [(row.event, row.stage_id, row.is_open) for row in self._rows(lead)],
            [
                ("enter", self.s3, False),
                ("lost", self.s3, False),
                ("lost", self.s1, True),
            ],
        )

    def test_create_batch_rows(self):
        """A batch create writes one row per opportunity, in its own stage."""
        with freeze_time(T0):
            leads = self.env["crm.lead"].create(
                [
                    {
                        "name": f"Batch {stage.name}",
                        "type": "opportunity",
                        "team_id": self.team.id,
                        "stage_id": stage.id,
                        "user_id": self.user_salesman.id,
                        "funnel_waive_reason": FIXTURE_REASON,
                    }
                    for stage in (self.s1, self.s3, self.won)
                ]
            )
        self.assertEqual(
            [self._trail(lead) for lead in leads],
            [
                [("enter", self.s1.browse(), self.s1, T0, False, 0.0, True, False)],
                [("enter", self.s1.browse(), self.s3, T0, False, 0.0, True, False)],
                [("won", self.s1.browse(), self.won, T0, False, 0.0, True, False)],
            ],
        )

    # ------------------------------------------------------------
    # Stage changes
    # ------------------------------------------------------------

    def test_moves_close_previous_row(self):
        """Each move closes the open row with exact date_out and duration."""
        no_stage = self.s1.browse()
        with freeze_time(T0) as frozen:
            lead = self._create_lead("Thermocouple bench")
            frozen.move_to(_at(2.5))
            self._advance(lead, self.s2)
            self._assert_one_open_row(lead)
            frozen.move_to(_at(4))
            self._advance(lead, self.s3)
            self._assert_one_open_row(lead)
            frozen.move_to(_at(4.5))
            self._advance(lead, self.s4)
            self._assert_one_open_row(lead)
        self.assertEqual(
            self._trail(lead),
            [
                ("enter", no_stage, self.s1, T0, _at(2.5), 2.5, False, False),
                ("enter", self.s1, self.s2, _at(2.5), _at(4), 1.5, False, False),
                ("enter", self.s2, self.s3, _at(4), _at(4.5), 0.5, False, False),
                ("enter", self.s3, self.s4, _at(4.5), False, 0.0, True, False),
            ],
        )
        self.assertEqual(lead.backward_move_count, 0)

    def test_move_values_at_the_moment(self):
        """A row keeps the owner, team, amount and probability of its move, and
        who moved; later edits of the opportunity leave it alone."""
        other_team = self.env["crm.team"].create({"name": "Funnel Team 2"})
        with freeze_time(T0) as frozen:
            lead = self._create_lead(
                "Multimeter fleet", expected_revenue=5000, probability=10
            )
            self._qualify(lead)
            frozen.move_to(_at(1))
            lead.with_user(self.user_salesman).write(
                {
                    "stage_id": self.s2.id,
                    "expected_revenue": 7500,
                    "probability": 35,
                }
            )
            frozen.move_to(_at(2))
            self._qualify(lead)
            lead.with_user(self.user_manager).write(
                {
                    "stage_id": self.s3.id,
                    "user_id": self.user_salesman_2.id,
                    "team_id": other_team.id,
                }
            )
            frozen.move_to(_at(3))
            lead.write({"expected_revenue": 99999, "probability": 90})
        self.assertRecordValues(
            self._rows(lead),
            [
                {
                    "stage_id": self.s1.id,
                    "moved_by_id": self.env.uid,
                    "user_id": self.user_salesman.id,
                    "team_id": self.team.id,
                    "company_id": self.company.id,
                    "expected_revenue": 5000.0,
                    "probability": 10.0,
                    "forecast_category": "pipeline",
                },
                {
                    "stage_id": self.s2.id,
                    "moved_by_id": self.user_salesman.id,
                    "user_id": self.user_salesman.id,
                    "team_id": self.team.id,
                    "company_id": self.company.id,
                    "expected_revenue": 7500.0,
                    "probability": 35.0,
                    "forecast_category": "pipeline",
                },
                {
                    "stage_id": self.s3.id,
                    "moved_by_id": self.user_manager.id,
                    "user_id": self.user_salesman_2.id,
                    "team_id": other_team.id,
                    "company_id": self.company.id,
                    "expected_revenue": 7500.0,
                    "probability": 35.0,
                    "forecast_category": "pipeline",
                },
            ],
        )

    def test_write_without_move_adds_no_row(self):
        """Writing the same stage, or other fields, adds no row."""
        with freeze_time(T0) as frozen:
            lead = self._create_lead("Same stage")
            frozen.move_to(_at(1))
            lead.write({"stage_id": self.s1.id})
            lead.write({"expected_revenue": 300, "probability": 40, "priority": "2"})
            lead.write({"user_id": self.user_salesman_2.id})
        self.assertEqual(
            self._trail(lead),
            [("enter", self.s1.browse(), self.s1, T0, False, 0.0, True, False)],
        )

    def test_batch_move_from_different_stages(self):
        """A batch write to one stage records, per opportunity, its own source
        stage; the one already there gets no row."""
        no_stage = self.s1.browse()
        with freeze_time(T0) as frozen:
            in_s1 = self._create_lead("From S1")
            in_s2 = self._create_lead("Already S2", stage=self.s2)
            in_s4 = self._create_lead("From S4", stage=self.s4)
            in_won = self._create_lead("From Won", stage=self.won)
            leads = in_s1 | in_s2 | in_s4 | in_won
            self._qualify(in_s1)
            frozen.move_to(_at(0.5))
            leads.with_user(self.user_all_leads).write({"stage_id": self.s2.id})
        self.assertEqual(
            [self._trail(lead) for lead in leads],
            [
                [
                    ("enter", no_stage, self.s1, T0, _at(0.5), 0.5, False, False),
                    ("enter", self.s1, self.s2, _at(0.5), False, 0.0, True, False),
                ],
                [("enter", no_stage, self.s2, T0, False, 0.0, True, False)],
                [
                    ("enter", no_stage, self.s4, T0, _at(0.5), 0.5, False, False),
                    ("enter", self.s4, self.s2, _at(0.5), False, 0.0, True, True),
                ],
                [
                    ("won", no_stage, self.won, T0, _at(0.5), 0.5, False, False),
                    ("enter", self.won, self.s2, _at(0.5), False, 0.0, True, True),
                ],
            ],
        )
        self.assertEqual(leads.mapped("backward_move_count"), [0, 0, 1, 1])
        self.assertEqual(
            [self._rows(lead).mapped("moved_by_id") for lead in leads],
            [
                self.env.user | self.user_all_leads,
                self.env.user,
                self.env.user | self.user_all_leads,
                self.env.user | self.user_all_leads,
            ],
        )

    # ------------------------------------------------------------
    # Backward moves
    # ------------------------------------------------------------

    def test_backward_moves(self):
        """Moving to an earlier stage is flagged and counted; moving forward
        again is not; reopening a won deal is a backward move too."""
        no_stage = self.s1.browse()
        with freeze_time(T0) as frozen:
            lead = self._create_lead("Going back and forth")
            frozen.move_to(_at(1))
            self._advance(lead, self.s2)
            frozen.move_to(_at(2))
            self._advance(lead, self.s3)
            frozen.move_to(_at(3.5))
            lead.with_user(self.user_salesman).write({"stage_id": self.s1.id})
            self.assertEqual(lead.backward_move_count, 1)
            frozen.move_to(_at(4))
            self._advance(lead, self.s2)
            frozen.move_to(_at(5))
            self._advance(lead, self.s3)
            frozen.move_to(_at(6))
            self._advance(lead, self.s4)
            frozen.move_to(_at(7))
            lead.with_user(self.user_salesman).action_set_won()
            frozen.move_to(_at(9))
            lead.with_user(self.user_salesman).write({"stage_id": self.s4.id})
        self.assertEqual(
            self._trail(lead),
            [
                ("enter", no_stage, self.s1, T0, _at(1), 1.0, False, False),
                ("enter", self.s1, self.s2, _at(1), _at(2), 1.0, False, False),
                ("enter", self.s2, self.s3, _at(2), _at(3.5), 1.5, False, False),
                ("enter", self.s3, self.s1, _at(3.5), _at(4), 0.5, False, True),
                ("enter", self.s1, self.s2, _at(4), _at(5), 1.0, False, False),
                ("enter", self.s2, self.s3, _at(5), _at(6), 1.0, False, False),
                ("enter", self.s3, self.s4, _at(6), _at(7), 1.0, False, False),
                ("won", self.s4, self.won, _at(7), _at(9), 2.0, False, False),
                ("enter", self.won, self.s4, _at(9), False, 0.0, True, True),
            ],
        )
        self.assertEqual(lead.backward_move_count, 2)

    def test_backward_batch_counts_each_opportunity_once(self):
        """A batch move back increments the counter of each opportunity moved
        back, once, and not of the one already in the target stage."""
        leads = (
            self._create_lead("In S1")
            | self._create_lead("In S2", stage=self.s2)
            | self._create_lead("In S4", stage=self.s4)
        )
        leads.with_user(self.user_all_leads).write({"stage_id": self.s1.id})
        self.assertEqual(leads.mapped("backward_move_count"), [0, 1, 1])
        self.assertEqual(
            [self._rows(lead).mapped("is_backward") for lead in leads],
            [[False], [False, True], [False, True]],
        )
        leads.with_user(self.user_all_leads).write({"stage_id": self.s1.id})
        self.assertEqual(leads.mapped("backward_move_count"), [0, 1, 1])
        self.assertEqual([len(self._rows(lead)) for lead in leads], [1, 2, 2])

    # ------------------------------------------------------------
    # Won, lost, restored
    # ------------------------------------------------------------

    def test_won_button(self):
        """The Won button closes the open row and opens a "won" row in the won
        stage."""
        with freeze_time(T0) as frozen:
            lead = self._create_lead(
                "Won through the button", stage=self.s4, expected_revenue=4200
            )
            frozen.move_to(_at(3.5))
            lead.with_user(self.user_salesman).action_set_won()
        self.assertEqual(lead.stage_id, self.won)
        self.assertEqual(
            self._trail(lead),
            [
                ("enter", self.s1.browse(), self.s4, T0, _at(3.5), 3.5, False, False),
                ("won", self.s4, self.won, _at(3.5), False, 0.0, True, False),
            ],
        )
        self.assertRecordValues(
            self._rows(lead)[-1],
            [
                {
                    "moved_by_id": self.user_salesman.id,
                    "probability": 100.0,
                    "expected_revenue": 4200.0,
                    "forecast_category": "closed",
                }
            ],
        )

    def test_won_by_stage_write(self):
        """Dropping the card on the won stage writes the same "won" row."""
        with freeze_time(T0) as frozen:
            lead = self._create_lead("Won by drop", stage=self.s4)
            frozen.move_to(_at(0.5))
            lead.with_user(self.user_salesman).write({"stage_id": self.won.id})
        self.assertEqual(
            self._trail(lead),
            [
                ("enter", self.s1.browse(), self.s4, T0, _at(0.5), 0.5, False, False),
                ("won", self.s4, self.won, _at(0.5), False, 0.0, True, False),
            ],
        )
        self.assertEqual(self._rows(lead)[-1].probability, 100.0)

    def test_won_blocked_writes_no_row(self):
        """Winning from a blocking stage with unmet criteria writes nothing."""
        with freeze_time(T0) as frozen:
            lead = self._create_lead("Not ready to win")
            before = self._trail(lead)
            frozen.move_to(_at(1))
            with self.assertRaises(UserError):
                lead.with_user(self.user_salesman).action_set_won()
            with self.assertRaises(UserError):
                lead.with_user(self.user_salesman).write({"stage_id": self.won.id})
        self.assertEqual(lead.stage_id, self.s1)
        self.assertEqual(self._trail(lead), before)
        self.assertEqual(
            before, [("enter", self.s1.browse(), self.s1, T0, False, 0.0, True, False)]
        )

    def test_lost_and_restored(self):
        """Lost and restore close the open row and open a row in the same stage."""
        lost_reason = self.env["crm.lost.reason"].create({"name": "Too expensive"})
        with freeze_time(T0) as frozen:
            lead = self._create_lead("Lost then back", stage=self.s2, probability=30)
            frozen.move_to(_at(2))
            lead.with_user(self.user_salesman).action_set_lost(
                lost_reason_id=lost_reason.id
            )
            self.assertFalse(lead.active)
            self._assert_one_open_row(lead)
            frozen.move_to(_at(3.5))
            lead.with_user(self.user_salesman).action_unarchive()
            self.assertTrue(lead.active)
            self._assert_one_open_row(lead)
        self.assertEqual(
            self._trail(lead),
            [
                ("enter", self.s1.browse(), self.s2, T0, _at(2), 2.0, False, False),
                ("lost", self.s2, self.s2, _at(2), _at(3.5), 1.5, False, False),
                ("restored", self.s2, self.s2, _at(3.5), False, 0.0, True, False),
            ],
        )
        self.assertEqual(
            self._rows(lead).mapped("moved_by_id"),
            self.env.user | self.user_salesman,
        )
        self.assertEqual(lead.backward_move_count, 0)

    def test_lost_and_restored_probability(self):
        """The lost and restored rows hold the probability the opportunity has
        in the state they open, as the won row holds 100: 0 while lost, the
        recomputed probability once restored."""
        lead = self._create_lead("Probability", stage=self.s2, probability=30)
        lead.with_user(self.user_salesman).action_set_lost()
        self.assertEqual(lead.probability, 0.0)
        lead.with_user(self.user_salesman).action_unarchive()
        self.assertEqual(lead.probability, lead.automated_probability)
        self.assertGreater(lead.probability, 0.0)
        self.assertEqual(
            self._rows(lead).mapped("probability"), [30.0, 0.0, lead.probability]
        )

    def test_archive_and_toggle_active(self):
        """Archiving by write and toggling active log lost and restored too."""
        with freeze_time(T0) as frozen:
            lead = self._create_lead("Toggled", stage=self.s3)
            frozen.move_to(_at(1))
            lead.write({"active": False})
            frozen.move_to(_at(1.5))
            lead.toggle_active()
            frozen.move_to(_at(2))
            lead.toggle_active()
            frozen.move_to(_at(4.5))
            lead.action_unarchive()
            # already active: nothing happens
            lead.action_unarchive()
            lead.write({"active": True})
        self.assertEqual(
            self._trail(lead),
            [
                ("enter", self.s1.browse(), self.s3, T0, _at(1), 1.0, False, False),
                ("lost", self.s3, self.s3, _at(1), _at(1.5), 0.5, False, False),
                ("restored", self.s3, self.s3, _at(1.5), _at(2), 0.5, False, False),
                ("lost", self.s3, self.s3, _at(2), _at(4.5), 2.5, False, False),
                ("restored", self.s3, self.s3, _at(4.5), False, 0.0, True, False),
            ],
        )

    def test_lost_is_never_blocked(self):
        """Lost and restore are written even when the gate is not met."""
        lead = self._create_lead("Unqualified")
        self.assertFalse(lead.gate_ready)
        lead.with_user(self.user_salesman).action_set_lost()
        lead.with_user(self.user_salesman).action_unarchive()
        self.assertEqual(
            self._rows(lead).mapped("event"), ["enter", "lost", "restored"]
        )

    def test_one_open_row_per_opportunity(self):
        """Through batch moves, won, lost and restore, every opportunity keeps
        exactly one open row."""
        History = self.env["funnel.stage.history"]
        with freeze_time(T0) as frozen:
            leads = self.env["crm.lead"]
            for index in range(4):
                leads |= self._create_lead(f"Open row {index}", stage=self.s4)
            steps = [
                lambda: leads[:2].write({"stage_id": self.s3.id}),
                lambda: leads.action_set_won(),
                lambda: leads[1:3].action_set_lost(),
                lambda: leads[1:3].action_unarchive(),
                lambda: leads.write({"stage_id": self.s4.id}),
                lambda: leads[3].toggle_active(),
            ]
            for step, action in enumerate(steps, start=1):
                frozen.move_to(_at(step))
                action()
                self._assert_one_open_row(leads)
                groups = History._read_group(
                    [("lead_id", "in", leads.ids), ("is_open", "=", True)],
                    ["lead_id"],
                    ["__count"],
                )
                self.assertEqual(
                    sorted((lead.id, count) for lead, count in groups),
                    [(lead.id, 1) for lead in leads.sorted("id")],
                )
        self.assertEqual(
            [self._rows(lead).mapped("event") for lead in leads],
            [
                ["enter", "enter", "won", "enter"],
                ["enter", "enter", "won", "lost", "restored", "enter"],
                ["enter", "won", "lost", "restored", "enter"],
                ["enter", "won", "enter", "lost"],
            ],
        )

    def test_days_in_stage_aggregates_completed_stays(self):
        """Averages, minimum and maximum of days in stage count completed stays
        only: an opportunity still in the stage has no duration yet."""
        with freeze_time(T0) as frozen:
            fast = self._create_lead("Fast")
            slow = self._create_lead("Slow")
            self._create_lead("Still there")
            frozen.move_to(_at(1))
            self._advance(fast, self.s2)
            frozen.move_to(_at(3))
            self._advance(slow, self.s2)
        groups = self.env["funnel.stage.history"]._read_group(
            [("stage_id", "in", (self.s1 | self.s2).ids)],
            ["stage_id"],
            [
                "days_in_stage:avg",
                "days_in_stage:min",
                "days_in_stage:max",
                "__count",
            ],
        )
        self.assertEqual(
            [tuple(group) for group in groups],
            [(self.s1, 2.0, 1.0, 3.0, 3), (self.s2, False, False, False, 2)],
        )

    # ------------------------------------------------------------
    # Closing date pushes
    # ------------------------------------------------------------

    def test_deadline_push_count(self):
        """Only moving an existing expected closing date later counts."""
        lead = self._create_lead("Slipping")
        steps = [
            (date(2024, 6, 30), 0),  # first setting
            (date(2024, 7, 31), 1),  # later
            (date(2024, 7, 31), 1),  # unchanged
            (date(2024, 7, 15), 1),  # earlier
            ("2024-09-30", 2),  # later, as a string
            (False, 2),  # cleared
            (date(2024, 12, 31), 2),  # set again after clearing
            (date(2025, 1, 1), 3),  # later
        ]
        for deadline, expected in steps:
            lead.with_user(self.user_salesman).write({"date_deadline": deadline})
            self.assertEqual(
                lead.deadline_push_count, expected, f"after setting {deadline}"
            )
        self.assertEqual(lead.date_deadline, date(2025, 1, 1))
        self.assertEqual(len(self._rows(lead)), 1, "a date push is not a move")

    def test_deadline_push_count_batch(self):
        """In a batch write each opportunity is judged on its own date."""
        no_date = self._create_lead("No date")
        earlier = self._create_lead("Earlier", date_deadline=date(2024, 5, 1))
        later = self._create_lead("Later", date_deadline=date(2024, 9, 1))
        same = self._create_lead("Same", date_deadline=date(2024, 6, 1))
        leads = no_date | earlier | later | same
        self.assertEqual(leads.mapped("deadline_push_count"), [0, 0, 0, 0])
        leads.with_user(self.user_all_leads).write({"date_deadline": "2024-06-01"})
        self.assertEqual(leads.mapped("deadline_push_count"), [0, 1, 0, 0])
        leads.with_user(self.user_all_leads).write({"date_deadline": "2024-06-02"})
        self.assertEqual(leads.mapped("deadline_push_count"), [1, 2, 1, 1])

    # ------------------------------------------------------------
    # Gates
    # ------------------------------------------------------------

    def test_blocked_move_writes_no_row(self):
        """A move refused by a blocking gate leaves the history untouched, also
        for the ready opportunities of the same batch."""
        with freeze_time(T0) as frozen:
            ready = self._create_lead("Ready")
            self._qualify(ready)
            blocked = self._create_lead("Blocked")
            frozen.move_to(_at(1))
            with self.assertRaises(UserError):
                blocked.with_user(self.user_salesman).write({"stage_id": self.s2.id})
            with self.assertRaises(UserError):
                (ready | blocked).with_user(self.user_salesman).write(
                    {"stage_id": self.s2.id}
                )
            with self.assertRaises(UserError):
                blocked.with_user(self.user_salesman).write({"stage_id": self.s4.id})
        for lead in ready | blocked:
            self.assertEqual(lead.stage_id, self.s1)
            self.assertEqual(
                self._trail(lead),
                [("enter", self.s1.browse(), self.s1, T0, False, 0.0, True, False)],
            )
            self.assertEqual(lead.backward_move_count, 0)

    def test_waiver_stores_reason_on_new_row(self):
        """A manager's waiver moves the opportunity; the new row says waived and
        why, the previous rows do not."""
        with freeze_time(T0) as frozen:
            lead = self._create_lead("Strategic account")
            frozen.move_to(_at(1.5))
            wizard = (
                self.env["funnel.gate.waiver"]
                .with_user(self.user_manager)
                .with_context(default_lead_ids=lead.ids)
                .create({"stage_id": self.s3.id, "reason": "Framework contract"})
            )
            wizard.action_confirm()
        self.assertEqual(lead.stage_id, self.s3)
        self.assertEqual(
            self._trail(lead),
            [
                ("enter", self.s1.browse(), self.s1, T0, _at(1.5), 1.5, False, False),
                ("enter", self.s1, self.s3, _at(1.5), False, 0.0, True, False),
            ],
        )
        self.assertRecordValues(
            self._rows(lead),
            [
                {
                    "gate_waived": False,
                    "waive_reason": False,
                    "moved_by_id": self.env.uid,
                    "skipped_criteria": False,
                },
                {
                    "gate_waived": True,
                    "waive_reason": "Framework contract",
                    "moved_by_id": self.user_manager.id,
                    "skipped_criteria": False,
                },
            ],
        )

    def test_waiver_default_stage_and_nothing_to_waive(self):
        """The wizard proposes the next stage; with all criteria met the move is
        an ordinary one, not a waiver."""
        lead = self._create_lead("Already qualified")
        self._qualify(lead)
        wizard = (
            self.env["funnel.gate.waiver"]
            .with_user(self.user_manager)
            .with_context(default_lead_ids=lead.ids)
            .create({"reason": "Just move it"})
        )
        self.assertEqual(wizard.stage_id, self.s2)
        wizard.action_confirm()
        self.assertEqual(lead.stage_id, self.s2)
        self.assertRecordValues(
            self._rows(lead)[-1],
            [
                {
                    "stage_id": self.s2.id,
                    "gate_waived": False,
                    "waive_reason": False,
                    "moved_by_id": self.user_manager.id,
                }
            ],
        )

    def test_waiver_refused_to_salesman_writes_no_row(self):
        """A salesman cannot waive: no move, no row."""
        lead = self._create_lead("Wants to skip")
        with self.assertRaises(AccessError):
            wizard = (
                self.env["funnel.gate.waiver"]
                .with_user(self.user_salesman)
                .with_context(default_lead_ids=lead.ids)
                .create({"stage_id": self.s2.id, "reason": "Please"})
            )
            wizard.action_confirm()
        wizard = (
            self.env["funnel.gate.waiver"]
            .with_context(default_lead_ids=lead.ids)
            .create({"stage_id": self.s2.id, "reason": "Please"})
        )
        with self.assertRaises(AccessError):
            wizard.with_user(self.user_salesman).action_confirm()
        self.assertEqual(lead.stage_id, self.s1)
        self.assertEqual(len(self._rows(lead)), 1)
        self.assertFalse(self._rows(lead).gate_waived)

    def test_warn_gate_stores_skipped_criteria(self):
        """Leaving a warning stage with unmet criteria records them on the new
        row and in the chatter; meeting them first records nothing."""
        with freeze_time(T0) as frozen:
            skipper = self._create_lead("Skips the quote", stage=self.s3)
            diligent = self._create_lead("Sends the quote", stage=self.s3)
            self._qualify(diligent)
            frozen.move_to(_at(1))
            (skipper | diligent).with_user(self.user_all_leads).write(
                {"stage_id": self.s4.id}
            )
        self.assertEqual((skipper | diligent).stage_id, self.s4)
        self.assertRecordValues(
            self._rows(skipper),
            [
                {
                    "stage_from_id": False,
                    "stage_id": self.s3.id,
                    "skipped_criteria": False,
                    # the fixture starts it in S3 past the gates before
                    "gate_waived": True,
                    "moved_by_id": self.env.uid,
                },
                {
                    "stage_from_id": self.s3.id,
                    "stage_id": self.s4.id,
                    "skipped_criteria": "S3 Quote: Quotation sent",
                    "gate_waived": False,
                    "moved_by_id": self.user_all_leads.id,
                },
            ],
        )
        self.assertEqual(
            self._rows(diligent).mapped("skipped_criteria"), [False, False]
        )
        notes = skipper.message_ids.filtered(
            lambda m: "although these exit criteria were not met" in m.body
        )
        self.assertEqual(len(notes), 1)
        self.assertIn("Quotation sent", notes.body)
        self.assertFalse(
            diligent.message_ids.filtered(lambda m: "although" in (m.body or ""))
        )

    def test_warn_gate_skipped_on_won(self):
        """Winning straight from a warning stage records the skipped criteria on
        the "won" row; criteria of a stage without gate are not listed."""
        lead = self._create_lead("Rushed", stage=self.s3)
        lead.with_user(self.user_salesman).action_set_won()
        self.assertRecordValues(
            self._rows(lead)[-1],
            [
                {
                    "event": "won",
                    "stage_from_id": self.s3.id,
                    "stage_id": self.won.id,
                    "skipped_criteria": "S3 Quote: Quotation sent",
                }
            ],
        )


@tagged("post_install", "-at_install")
class TestStageHistoryBackfill(StageHistoryCommon):
    """The backfill rebuilds from the chatter what the live hooks record."""

    maxDiff = None

    def setUp(self):
        super().setUp()
        # the ORM dates records with the transaction's time: follow the frozen
        # clock, as each request of a real database has its own transaction
        self.patch(self.env.cr, "now", fields.Datetime.now)
        context = dict(self.env.context)
        context.pop("tracking_disable")
        self.tracked_env = self.env(context=context)

    def _flush_tracking(self, user=None):
        """End the "request" of ``user`` (default: the superuser): flush its
        pending computations and write its tracking messages, at the frozen
        time. Steps of different users must not share a flush, or the chatter
        credits the first of them with everything."""
        self.env(user=user or self.env.user).flush_all()
        self.env.cr.precommit.run()

    def _advance_tracked(self, lead, stage):
        """Meet the current stage's criteria, then move ``lead`` to ``stage`` as
        its salesperson, each in its own request."""
        self._qualify(lead.with_env(self.tracked_env))
        self._flush_tracking()
        lead.with_env(self.tracked_env).with_user(lead.user_id).write(
            {"stage_id": stage.id}
        )
        self._flush_tracking(lead.user_id)

    def _act_tracked(self, lead, method, user=None, env=None):
        """Call ``method`` on ``lead`` as ``user`` (default its salesperson) in
        ``env`` (default with tracking), as one request."""
        user = user or lead.user_id
        getattr(lead.with_env(env or self.tracked_env).with_user(user), method)()
        self._flush_tracking(user)

    def _create_tracked(self, name, stage, user=None):
        """Create an opportunity of the salesman in ``stage`` as ``user``
        (default the salesman), as one request; past S1, it starts there past
        the gates, created by a sales manager (default) with a reason."""
        values = {
            "name": name,
            "type": "opportunity",
            "team_id": self.team.id,
            "stage_id": stage.id,
            "user_id": self.user_salesman.id,
        }
        if stage != self.s1:
            user = user or self.user_manager
            values["funnel_waive_reason"] = FIXTURE_REASON
        user = user or self.user_salesman
        lead = self.tracked_env["crm.lead"].with_user(user).create(values)
        self._flush_tracking(user)
        return lead.with_env(self.env)

    def _facts(self, leads):
        """The rows of ``leads`` as the backfill can know them."""
        return {
            lead: [
                (
                    row.event,
                    row.stage_from_id,
                    row.stage_id,
                    row.date_in,
                    row.date_out,
                    row.days_in_stage,
                    row.is_open,
                    row.is_backward,
                    row.moved_by_id,
                    row.forecast_category,
                    row.user_id,
                    row.team_id,
                    row.company_id,
                )
                for row in self._rows(lead)
            ]
            for lead in leads
        }

    def _wipe_history(self, leads):
        """Delete the history of ``leads`` and zero their backward counter, as
        on a database where the addon was not installed yet."""
        rows = (
            self.env["funnel.stage.history"]
            .sudo()
            .search([("lead_id", "in", leads.ids)])
        )
        rows.unlink()
        self.env.cr.execute(
            "UPDATE crm_lead SET backward_move_count = 0 WHERE id IN %s",
            [tuple(leads.ids)],
        )
        self.env.invalidate_all()
        return len(rows)

    def _tracked_journeys(self):
        """Four opportunities worked with tracking on, one step per moment."""
        untracked = self.tracked_env(context=dict(self.env.context))
        with freeze_time(T0) as frozen:
            journey = self._create_tracked("Journey", self.s1)
            frozen.move_to(_at(0.5))
            winner = self._create_tracked("Winner", self.s2, self.user_manager)
            frozen.move_to(_at(1))
            loser = self._create_tracked("Loser", self.s1)
            frozen.move_to(_at(1.5))
            quiet_loss = self._create_tracked("Quiet loss", self.s1)
            steps = [
                (2, lambda: self._act_tracked(loser, "action_set_lost")),
                (2.5, lambda: self._advance_tracked(journey, self.s2)),
                (3, lambda: self._advance_tracked(winner, self.s3)),
                (3.5, lambda: self._advance_tracked(quiet_loss, self.s2)),
                (4, lambda: self._advance_tracked(journey, self.s3)),
                (4.5, lambda: self._advance_tracked(journey, self.s1)),
                (5, lambda: self._advance_tracked(winner, self.s4)),
                (6, lambda: self._advance_tracked(journey, self.s2)),
                (
                    6.5,
                    lambda: self._act_tracked(
                        quiet_loss, "action_set_lost", env=untracked
                    ),
                ),
                (7, lambda: self._act_tracked(journey, "action_set_lost")),
                (8, lambda: self._act_tracked(winner, "action_set_won")),
                (9.5, lambda: self._act_tracked(journey, "action_unarchive")),
                (10, lambda: self._advance_tracked(journey, self.s3)),
            ]
            for moment, step in steps:
                frozen.move_to(_at(moment))
                step()
        return journey, winner, loser, quiet_loss

    def test_backfill_rebuilds_live_history(self):
        """Wiped and rebuilt from the chatter, the history equals the live one:
        stages, events, dates, durations, backward moves, the open row, who
        moved, and the backward counter."""
        journey, winner, loser, quiet_loss = self._tracked_journeys()
        leads = journey | winner | loser | quiet_loss
        no_stage = self.s1.browse()
        live = self._facts(leads)
        self.assertEqual(
            [fact[:8] for fact in live[journey]],
            [
                ("enter", no_stage, self.s1, T0, _at(2.5), 2.5, False, False),
                ("enter", self.s1, self.s2, _at(2.5), _at(4), 1.5, False, False),
                ("enter", self.s2, self.s3, _at(4), _at(4.5), 0.5, False, False),
                ("enter", self.s3, self.s1, _at(4.5), _at(6), 1.5, False, True),
                ("enter", self.s1, self.s2, _at(6), _at(7), 1.0, False, False),
                ("lost", self.s2, self.s2, _at(7), _at(9.5), 2.5, False, False),
                ("restored", self.s2, self.s2, _at(9.5), _at(10), 0.5, False, False),
                ("enter", self.s2, self.s3, _at(10), False, 0.0, True, False),
            ],
        )
        self.assertEqual(
            [fact[:8] for fact in live[winner]],
            [
                ("enter", no_stage, self.s2, _at(0.5), _at(3), 2.5, False, False),
                ("enter", self.s2, self.s3, _at(3), _at(5), 2.0, False, False),
                ("enter", self.s3, self.s4, _at(5), _at(8), 3.0, False, False),
                ("won", self.s4, self.won, _at(8), False, 0.0, True, False),
            ],
        )
        self.assertEqual(
            [fact[:8] for fact in live[loser]],
            [
                ("enter", no_stage, self.s1, _at(1), _at(2), 1.0, False, False),
                ("lost", self.s1, self.s1, _at(2), False, 0.0, True, False),
            ],
        )
        self.assertEqual(
            [fact[:8] for fact in live[quiet_loss]],
            [
                ("enter", no_stage, self.s1, _at(1.5), _at(3.5), 2.0, False, False),
                ("enter", self.s1, self.s2, _at(3.5), _at(6.5), 3.0, False, False),
                ("lost", self.s2, self.s2, _at(6.5), False, 0.0, True, False),
            ],
        )
        self.assertEqual(live[winner][0][8], self.user_manager, "created by")
        self.assertEqual(leads.mapped("backward_move_count"), [1, 0, 0, 0])

        # opportunities that already have a history are left alone
        History = self.env["funnel.stage.history"]
        History._backfill_from_tracking()
        self.assertEqual(self._facts(leads), live)

        wiped = self._wipe_history(leads)
        self.assertEqual(wiped, 17)
        self.assertEqual(leads.mapped("backward_move_count"), [0, 0, 0, 0])

        self.assertEqual(History._backfill_from_tracking(), 17)
        self.assertEqual(self._facts(leads), live)
        self.assertEqual(leads.mapped("backward_move_count"), [1, 0, 0, 0])
        self._assert_one_open_row(leads)

    def test_backfill_twice_adds_nothing(self):
        """A second run finds every opportunity with a history and adds nothing."""
        journey, winner, loser, quiet_loss = self._tracked_journeys()
        leads = journey | winner | loser | quiet_loss
        History = self.env["funnel.stage.history"]
        History._backfill_from_tracking()
        self._wipe_history(leads)
        self.assertEqual(History._backfill_from_tracking(), 17)
        rebuilt = self._facts(leads)
        row_ids = History.search([("lead_id", "in", leads.ids)]).ids
        self.assertEqual(History._backfill_from_tracking(), 0)
        self.assertEqual(History.search([("lead_id", "in", leads.ids)]).ids, row_ids)
        self.assertEqual(self._facts(leads), rebuilt)
        self.assertEqual(leads.mapped("backward_move_count"), [1, 0, 0, 0])

    def test_backfill_without_tracking(self):
        """Without any tracking only the current stage is known, since creation;
        a lost opportunity without active tracking is lost at its closing date."""
        History = self.env["funnel.stage.history"]
        History._backfill_from_tracking()
        with freeze_time(T0) as frozen:
            moved = self._create_lead("Moved silently")
            lost = self._create_lead("Lost silently", stage=self.s3)
            self._qualify(moved)
            frozen.move_to(_at(2))
            moved.write({"stage_id": self.s2.id})
            frozen.move_to(_at(3.5))
            self._act_tracked(lost, "action_set_lost", env=self.env)
        self.assertEqual(lost.date_closed, _at(3.5))
        leads = moved | lost
        self.assertEqual(self._wipe_history(leads), 4)
        self.assertFalse(
            self.env["mail.tracking.value"].search_count(
                [
                    ("mail_message_id.model", "=", "crm.lead"),
                    ("mail_message_id.res_id", "in", leads.ids),
                ]
            )
        )

        self.assertEqual(History._backfill_from_tracking(), 3)
        no_stage = self.s1.browse()
        self.assertEqual(
            self._trail(moved),
            [("enter", no_stage, self.s2, T0, False, 0.0, True, False)],
        )
        self.assertEqual(
            self._trail(lost),
            [
                ("enter", no_stage, self.s3, T0, _at(3.5), 3.5, False, False),
                ("lost", self.s3, self.s3, _at(3.5), False, 0.0, True, False),
            ],
        )
        self.assertEqual(
            self._rows(lost).mapped("moved_by_id"),
            self.env.user | self.user_salesman,
        )
        self.assertEqual(History._backfill_from_tracking(), 0)

    def test_backfill_lost_again_without_tracking(self):
        """Lost with tracking, restored with tracking, then lost again without:
        the rebuilt history ends lost, as the opportunity is."""
        untracked = self.tracked_env(context=dict(self.env.context))
        with freeze_time(T0) as frozen:
            lead = self._create_tracked("Lost twice", self.s2)
            frozen.move_to(_at(1))
            self._act_tracked(lead, "action_set_lost")
            frozen.move_to(_at(2))
            self._act_tracked(lead, "action_unarchive")
            frozen.move_to(_at(4.5))
            self._act_tracked(lead, "action_set_lost", env=untracked)
        live = self._trail(lead)
        no_stage = self.s1.browse()
        self.assertEqual(
            live,
            [
                ("enter", no_stage, self.s2, T0, _at(1), 1.0, False, False),
                ("lost", self.s2, self.s2, _at(1), _at(2), 1.0, False, False),
                ("restored", self.s2, self.s2, _at(2), _at(4.5), 2.5, False, False),
                ("lost", self.s2, self.s2, _at(4.5), False, 0.0, True, False),
            ],
        )
        self.env["funnel.stage.history"]._backfill_from_tracking()
        self._wipe_history(lead)
        self.env["funnel.stage.history"]._backfill_from_tracking()
        self.assertEqual(self._trail(lead), live)
        self._assert_one_open_row(lead)

    def test_backfill_ranks_stages_as_they_are_now(self):
        """The backfill judges backward moves by today's order of the stages:
        a forward move becomes backward once the stages are reordered, while
        the live row keeps what was true at the time."""
        History = self.env["funnel.stage.history"]
        with freeze_time(T0) as frozen:
            lead = self._create_tracked("Reordered", self.s3)
            frozen.move_to(_at(1))
            self._advance_tracked(lead, self.s4)
        self.assertEqual(self._rows(lead).mapped("is_backward"), [False, False])
        self.s4.sequence = 100  # before S1 (101): S3 -> S4 now goes back
        History._backfill_from_tracking()
        self.assertEqual(self._rows(lead).mapped("is_backward"), [False, False])
        self._wipe_history(lead)
        self.assertEqual(History._backfill_from_tracking(), 2)
        self.assertEqual(
            self._trail(lead),
            [
                ("enter", self.s1.browse(), self.s3, T0, _at(1), 1.0, False, False),
                ("enter", self.s3, self.s4, _at(1), False, 0.0, True, True),
            ],
        )
        self.assertEqual(lead.backward_move_count, 1)

    def test_backfill_days_in_stage_stored_like_live(self):
        """The stored duration of a rebuilt row is the one the live hook stores,
        also for a stay that is not a whole tenth of a day (8 hours)."""
        with freeze_time(T0) as frozen:
            lead = self._create_tracked("Eight hours", self.s3)
            frozen.move_to(T0 + timedelta(hours=8))
            self._advance_tracked(lead, self.s4)
        query = (
            "SELECT days_in_stage::float FROM funnel_stage_history "
            "WHERE lead_id = %s ORDER BY date_in"
        )
        self.env.cr.execute(query, [lead.id])
        live = self.env.cr.fetchall()
        self.env["funnel.stage.history"]._backfill_from_tracking()
        self._wipe_history(lead)
        self.env["funnel.stage.history"]._backfill_from_tracking()
        self.env.cr.execute(query, [lead.id])
        self.assertEqual(self.env.cr.fetchall(), live)


@tagged("post_install", "-at_install")
class TestStageHistoryQueries(StageHistoryCommon):
    """Query budgets of batch moves and creations: the number of queries does
    not grow with the number of opportunities."""

    def _lead_values(self, count, prefix="Bulk"):
        return [
            {
                "name": f"{prefix} {index}",
                "type": "opportunity",
                "team_id": self.team.id,
                "stage_id": self.s1.id,
                "user_id": self.user_salesman.id,
                "partner_id": self.partner.id,
                "expected_revenue": 1000 + index,
            }
            for index in range(count)
        ]

    def _ready_leads(self, count):
        """``count`` opportunities in S1 whose exit criteria are all met."""
        leads = self.env["crm.lead"].create(self._lead_values(count))
        leads.check_ids.filtered(lambda c: c.criterion_id == self.c1_budget).write(
            {"state": "met"}
        )
        self.env.flush_all()
        self.assertEqual(set(leads.mapped("gate_ready")), {True})
        return leads

    def _forget_leads(self):
        """Empty the cache of the opportunities and their checks and history
        (not of users and companies, which every request finds warm)."""
        for model in ("crm.lead", "funnel.lead.check", "funnel.stage.history"):
            self.env[model].invalidate_model()

    def _count_queries(self, function):
        """Number of queries of ``function`` and of the flush that ends it."""
        self.env.flush_all()
        self.env.cr.flush()
        self._forget_leads()
        before = self.cr.sql_log_count
        function()
        self.env.flush_all()
        self.env.cr.flush()
        return self.cr.sql_log_count - before

    def _without_orm_chunking(self):
        """Let the ORM handle 500 records in one statement, as it does 50.

        The ORM splits its own work in chunks (100 rows per INSERT or UPDATE,
        1,000 records per fetch, recompute or flush), which makes any batch of
        500 cost a few statements more than a batch of 50. Lifting these sizes
        leaves only what grows with the records themselves.
        """
        big = 100_000

        def split_every(n, iterable, piece_maker=tuple):
            return tools.split_every(max(n, big), iterable, piece_maker)

        self.patch(models, "split_every", split_every)
        self.patch(models, "PREFETCH_MAX", big)
        self.patch(fields, "PREFETCH_MAX", big)
        self.patch(models.BaseModel._in_cache_without, "__defaults__", (big,))

    def _create(self, count, user):
        return (
            lambda: self.env["crm.lead"]
            .with_user(user)
            .create(self._lead_values(count))
        )

    def _move_to_s2(self, leads, user):
        return lambda: leads.with_user(user).write({"stage_id": self.s2.id})

    def test_batch_move_500_budget(self):
        """A batch move of 500 ready opportunities to the next stage, as an
        all-leads salesman, stays within its query budget."""
        warm = self._ready_leads(5)
        self._count_queries(self._move_to_s2(warm, self.user_all_leads))
        leads = self._ready_leads(500)
        self._forget_leads()
        with self.assertQueryCount(MOVE_500_BUDGET):
            leads.with_user(self.user_all_leads).write({"stage_id": self.s2.id})
        self.assertEqual(leads.stage_id, self.s2)
        self.assertEqual(len(leads.stage_history_ids), 1000)
        open_rows = leads.stage_history_ids.filtered("is_open")
        self.assertEqual(len(open_rows), 500)
        self.assertEqual(open_rows.stage_id, self.s2)
        self.assertEqual(open_rows.stage_from_id, self.s1)
        self.assertEqual(open_rows.moved_by_id, self.user_all_leads)

    def test_move_one_budget(self):
        """Moving one ready opportunity as a sales manager, as the kanban
        drag does, stays within its query budget, and the checks, the history
        and the qualification say what the move did."""
        self._count_queries(self._move_to_s2(self._ready_leads(1), self.user_manager))
        lead = self._ready_leads(1)
        self._forget_leads()
        with self.assertQueryCount(MOVE_ONE_BUDGET):
            lead.with_user(self.user_manager).write({"stage_id": self.s2.id})
        self.assertEqual(lead.stage_history_ids.filtered("is_open").stage_id, self.s2)
        self.assertEqual(lead.current_check_ids.criterion_id.stage_id, self.s2)
        self.assertEqual(lead.past_check_ids.criterion_id.stage_id, self.s1)
        self.assertEqual(
            (lead.qualification_required_count, lead.qualification_met_count),
            (len(self.s2.criterion_ids.filtered("required")), 0),
        )
        self.assertFalse(lead.gate_ready)

    def test_batch_move_50_costs_as_500(self):
        """Moving 500 opportunities costs the queries of moving 50."""
        self._without_orm_chunking()
        for user in (self.user_all_leads, self.user_manager):
            with self.subTest(user=user.login):
                warm = self._ready_leads(5)
                self._count_queries(self._move_to_s2(warm, user))
                small = self._ready_leads(50)
                large = self._ready_leads(500)
                count_50 = self._count_queries(self._move_to_s2(small, user))
                count_500 = self._count_queries(self._move_to_s2(large, user))
                self.assertEqual(count_500, count_50)
                self.assertEqual((small | large).stage_id, self.s2)

    def test_batch_create_500_budget(self):
        """Creating 500 opportunities as a sales manager stays within its
        query budget."""
        self._count_queries(self._create(5, self.user_manager))
        Lead = self.env["crm.lead"].with_user(self.user_manager)
        vals_list = self._lead_values(500)
        self._forget_leads()
        with self.assertQueryCount(CREATE_500_BUDGET):
            leads = Lead.create(vals_list)
        self.assertEqual(len(leads.stage_history_ids), 500)
        self.assertEqual(len(leads.check_ids), 1500)

    def test_batch_create_50_costs_as_500(self):
        """Creating 500 opportunities costs the queries of creating 50, plus
        the one query stock CRM makes per created opportunity."""
        self._without_orm_chunking()
        for user in (self.user_all_leads, self.user_manager):
            with self.subTest(user=user.login):
                self._count_queries(self._create(5, user))
                count_50 = self._count_queries(self._create(50, user))
                count_500 = self._count_queries(self._create(500, user))
                # crm's create() calls _handle_won_lost() lead by lead, which
                # searches the won stages each time: 450 more for 450 more leads
                self.assertEqual(count_500 - count_50, 450)

    def _create_in(self, count, stage, user, **values):
        vals_list = [
            dict(vals, stage_id=stage.id, **values)
            for vals in self._lead_values(count, prefix=f"In {stage.name}")
        ]
        return lambda: self.env["crm.lead"].with_user(user).create(vals_list)

    def test_batch_create_in_a_later_stage_50_costs_as_500(self):
        """Creating opportunities directly in a later stage, judged by the gates
        of the stages before it, costs the queries of creating 50 plus crm's
        one per opportunity: past the gates with a sales manager's reason (the
        checks waived, the first history rows and the chatter noted), and
        under warning gates (the skipped criteria noted)."""
        self._without_orm_chunking()
        cases = [
            ("waived", self.s3, self.user_manager, {"funnel_waive_reason": "Legacy"}),
            ("warned", self.s4, self.user_all_leads, {}),
        ]
        for case, stage, user, values in cases:
            with self.subTest(case=case):
                if case == "warned":
                    (self.s1 | self.s2).write({"gate_policy": "warn"})
                self._count_queries(self._create_in(5, stage, user, **values))
                count_50 = self._count_queries(
                    self._create_in(50, stage, user, **values)
                )
                count_500 = self._count_queries(
                    self._create_in(500, stage, user, **values)
                )
                self.assertEqual(count_500 - count_50, 450)
                leads = self.env["crm.lead"].search(
                    [("name", "=like", f"In {stage.name} %")]
                )
                self.assertEqual(len(leads), 555)
                self.assertEqual(leads.stage_id, stage)
                rows = leads.stage_history_ids
                if case == "waived":
                    self.assertEqual(set(rows.mapped("waive_reason")), {"Legacy"})
                else:
                    self.assertEqual(len(set(rows.mapped("skipped_criteria"))), 1)
                    self.assertIn("Demo held", rows[0].skipped_criteria)
