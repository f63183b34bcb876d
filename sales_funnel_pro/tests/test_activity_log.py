from datetime import date, datetime, timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged, users

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import FunnelCommon

T0 = datetime(2024, 3, 4, 9, 0, 0)  # a Monday
# marking an activity done on an opportunity as its salesperson, flush included:
# mail's (the chatter message, the activity deleted, the followers notified) and
# the addon's (the log row inserted once, the next step and the last touch
# recomputed, the opportunity written once); 26 or 27, as the salesperson's
# record is read once more or not after the deletion of the activity empties the
# cache, depending on the tests run before
DONE_BUDGET = 27


def _at(days, hours=0.0):
    """The moment ``days`` days and ``hours`` hours after T0."""
    return T0 + timedelta(days=days, hours=hours)


class ActivityLogCommon(FunnelCommon):
    """Activity types and helpers to plan, hold and read logged activities.

    Default durations: Call 0.25 h, To-Do 0.5 h, Meeting 1 h, Demo 1.5 h,
    Visit 2 h.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.visit_type = cls.env.ref("sales_funnel_pro.mail_activity_type_visit")
        cls.demo_type = cls.env.ref("sales_funnel_pro.mail_activity_type_demonstration")
        cls.todo_type = cls.env.ref("mail.mail_activity_data_todo")

    @property
    def Log(self):
        return self.env["funnel.activity.log"]

    def _logs(self, leads):
        """Log rows of ``leads``, re-read from the database, oldest first."""
        self.env.flush_all()
        self.env.invalidate_all()
        return self.Log.sudo().search([("lead_id", "in", leads.ids)], order="date, id")

    def _log_count(self):
        self.env.flush_all()
        return self.Log.sudo().search_count([])

    def _schedule(self, record, activity_type, user=None, **values):
        """Plan an activity of ``activity_type`` on ``record`` for ``user`` (default
        the salesman)."""
        return record.activity_schedule(
            activity_type_id=activity_type.id,
            user_id=(user or self.user_salesman).id,
            **values,
        )

    def _move(self, lead, stage):
        """Move ``lead`` to ``stage`` as its salesperson, through no blocking gate
        (s3 warns, s4 has no gate, backward moves are always allowed)."""
        lead.with_user(lead.user_id).write({"stage_id": stage.id})

    def _meeting(
        self, lead, start, hours=1.5, user=None, name="Demo at the lab", **values
    ):
        """A meeting of ``hours`` hours from ``start`` on ``lead``, organized by
        ``user`` (default the salesperson of the opportunity)."""
        return self.env["calendar.event"].create(
            {
                "name": name,
                "opportunity_id": lead.id,
                "start": start,
                "stop": start + timedelta(hours=hours),
                "user_id": (user or lead.user_id).id,
                **values,
            }
        )

    def _log_meetings(self):
        """Run the meetings job; return the log rows it wrote."""
        return self.env["calendar.event"]._funnel_log_ended_meetings()


@tagged("post_install", "-at_install")
class TestDoneActivityLog(ActivityLogCommon):
    """Every activity marked done on an opportunity writes exactly one row, in the
    stage of the opportunity at that moment, whatever the path."""

    def _expected(self, lead, **values):
        """The values of a row written for an activity done on ``lead``."""
        return {
            "lead_id": lead.id,
            "partner_id": lead.partner_id.id,
            "user_id": self.user_salesman.id,
            "team_id": self.team.id,
            "stage_id": lead.stage_id.id,
            "company_id": self.company.id,
            "outcome": "neutral",
            "note": False,
            "next_step": False,
            "source": "done",
            "calendar_event_id": False,
            **values,
        }

    def test_mark_done(self):
        with freeze_time(T0):
            lead = self._create_lead("Pressure calibrators", partner_id=self.partner.id)
        with freeze_time(_at(1)):
            activity = self._schedule(
                lead, self.call_type, summary="Call the lab manager"
            )
            activity.with_user(self.user_salesman).action_done()
        self.assertFalse(activity.exists())
        logs = self._logs(lead)
        self.assertRecordValues(
            logs,
            [
                self._expected(
                    lead,
                    stage_id=self.s1.id,
                    activity_type_id=self.call_type.id,
                    date=_at(1),
                    duration=0.25,
                    summary="Call the lab manager",
                )
            ],
        )
        self.assertEqual(lead.activity_log_ids, logs)
        self.assertEqual(lead.activity_log_count, 1)
        self.assertEqual(lead.activity_log_hours, 0.25)
        self.assertEqual(lead.last_touch_date, _at(1))

    def _done_queries(self, stage):
        """Queries of marking a call done as the salesman on an opportunity in
        ``stage``, its flush included, with the opportunity's cache cold (as a
        request finds it)."""
        lead = self._create_lead("Budget", stage=stage, partner_id=self.partner.id)
        activity = self._schedule(lead, self.call_type)
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        activity.with_user(self.user_salesman).action_feedback(feedback="Called")
        self.env.flush_all()
        self.env.cr.flush()
        count = self.cr.sql_log_count - before
        self.assertEqual(len(self._logs(lead)), 1)
        return count

    def test_mark_done_query_budget(self):
        """Marking an activity done writes its log row once and reads the checks
        only where the stage has activity criteria (s2, not s1)."""
        self._done_queries(self.s1)  # warm: the users, the types, the company
        in_s1 = self._done_queries(self.s1)
        in_s2 = self._done_queries(self.s2)
        self.assertLessEqual(in_s1, DONE_BUDGET)
        # the checks of s2 read and the activity criterion evaluated
        self.assertLessEqual(in_s2, in_s1 + 2)
        self.assertGreater(in_s2, in_s1)

    def test_feedback_with_and_without_text(self):
        lead = self._create_lead("Thermometers", partner_id=self.partner.id)
        with freeze_time(_at(1)):
            self._schedule(lead, self.visit_type).with_user(
                self.user_salesman
            ).action_feedback(feedback="Budget confirmed: 12 k€")
        with freeze_time(_at(2)):
            self._schedule(lead, self.todo_type).with_user(
                self.user_salesman
            ).action_feedback()
        self.assertRecordValues(
            self._logs(lead),
            [
                self._expected(
                    lead,
                    activity_type_id=self.visit_type.id,
                    date=_at(1),
                    duration=2.0,
                    summary="Visit",
                    note="Budget confirmed: 12 k€",
                ),
                self._expected(
                    lead,
                    activity_type_id=self.todo_type.id,
                    date=_at(2),
                    duration=0.5,
                    summary="To-Do",
                ),
            ],
        )

    def test_done_and_schedule_next(self):
        """Both "Done & Schedule Next" buttons log the activity done, and only it;
        an activity type that triggers the next one logs only the one done."""
        lead = self._create_lead("Hygrometers", partner_id=self.partner.id)
        chained = self.env["mail.activity.type"].create(
            {
                "name": "Survey",
                "res_model": "crm.lead",
                "default_duration": 3.0,
                "chaining_type": "trigger",
                "triggered_next_type_id": self.call_type.id,
            }
        )
        with freeze_time(_at(1)):
            action = (
                self._schedule(lead, self.demo_type, summary="Demo of the bench")
                .with_user(self.user_salesman)
                .action_feedback_schedule_next(feedback="They liked it")
            )
        self.assertEqual(action["res_model"], "mail.activity")
        self.assertEqual(action["context"]["default_res_id"], lead.id)
        with freeze_time(_at(2)):
            action = (
                self._schedule(lead, self.call_type)
                .with_user(self.user_salesman)
                .action_done_schedule_next()
            )
        self.assertEqual(action["res_model"], "mail.activity")
        with freeze_time(_at(3)):
            action = (
                self._schedule(lead, chained)
                .with_user(self.user_salesman)
                .action_done_schedule_next()
            )
        self.assertFalse(action, "the next activity was planned by itself")
        self.assertEqual(lead.activity_ids.activity_type_id, self.call_type)
        self.assertRecordValues(
            self._logs(lead),
            [
                self._expected(
                    lead,
                    activity_type_id=self.demo_type.id,
                    date=_at(1),
                    duration=1.5,
                    summary="Demo of the bench",
                    note="They liked it",
                ),
                self._expected(
                    lead,
                    activity_type_id=self.call_type.id,
                    date=_at(2),
                    duration=0.25,
                    summary="Call",
                ),
                self._expected(
                    lead,
                    activity_type_id=chained.id,
                    date=_at(3),
                    duration=3.0,
                    summary="Survey",
                ),
            ],
        )

    def test_keep_done_type(self):
        """An activity kept once done (archived, not deleted) is logged once."""
        kept = self.env["mail.activity.type"].create(
            {
                "name": "Site survey",
                "res_model": "crm.lead",
                "keep_done": True,
                "default_duration": 3.0,
            }
        )
        lead = self._create_lead("Climate chamber")
        activity = self._schedule(lead, kept)
        with freeze_time(_at(1)):
            activity.with_user(self.user_salesman).action_done()
        self.assertTrue(activity.exists())
        self.assertFalse(activity.active)
        # marking it done again does nothing more
        with freeze_time(_at(2)):
            activity.with_user(self.user_salesman).action_done()
        self.assertRecordValues(
            self._logs(lead),
            [
                self._expected(
                    lead,
                    activity_type_id=kept.id,
                    date=_at(1),
                    duration=3.0,
                    summary="Site survey",
                )
            ],
        )

    def test_batch_on_several_opportunities(self):
        """Activities of several reps on several opportunities, done in one call by
        a manager: one row each, with the assignee and the stage of its own
        opportunity."""
        lead_a = self._create_lead("Deal A", partner_id=self.partner.id)
        lead_b = self._create_lead("Deal B", stage=self.s3, user=self.user_salesman_2)
        activities = (
            self._schedule(lead_a, self.call_type)
            | self._schedule(lead_a, self.visit_type, summary="Visit the lab")
            | self._schedule(lead_b, self.demo_type, user=self.user_salesman_2)
        )
        before = self._log_count()
        with freeze_time(_at(1)):
            activities.with_user(self.user_manager).action_done()
        self.assertFalse(activities.exists())
        self.assertEqual(self._log_count(), before + 3)
        logs = self._logs(lead_a | lead_b).sorted(lambda log: log.activity_type_id.id)
        expected = sorted(
            [
                self._expected(
                    lead_a,
                    activity_type_id=self.call_type.id,
                    date=_at(1),
                    duration=0.25,
                    summary="Call",
                ),
                self._expected(
                    lead_a,
                    activity_type_id=self.visit_type.id,
                    date=_at(1),
                    duration=2.0,
                    summary="Visit the lab",
                ),
                self._expected(
                    lead_b,
                    partner_id=False,
                    user_id=self.user_salesman_2.id,
                    stage_id=self.s3.id,
                    activity_type_id=self.demo_type.id,
                    date=_at(1),
                    duration=1.5,
                    summary="Demo",
                ),
            ],
            key=lambda values: values["activity_type_id"],
        )
        self.assertRecordValues(logs, expected)
        self.assertEqual(lead_a.activity_log_count, 2)
        self.assertEqual(lead_a.activity_log_hours, 2.25)
        self.assertEqual(lead_b.activity_log_count, 1)

    def test_activity_on_customer_logged_as_care(self):
        """Done on a customer, an activity is care work: logged without an
        opportunity (see test_handoff.py), never on the customer's deals."""
        lead = self._create_lead("Untouched deal", partner_id=self.partner.id)
        activity = self._schedule(self.partner, self.call_type)
        activity.with_user(self.user_salesman).action_done()
        self.assertFalse(activity.exists())
        care = self.Log.sudo().search([("partner_id", "=", self.partner.id)])
        self.assertEqual(
            (len(care), care.source, care.lead_id), (1, "care", lead.browse())
        )
        self.assertFalse(self._logs(lead))

    def test_stage_at_that_moment(self):
        """Each row keeps the stage of its moment when the opportunity moves on."""
        with freeze_time(T0):
            lead = self._create_lead("Moving deal", stage=self.s3)
        with freeze_time(_at(1)):
            self._schedule(lead, self.call_type).with_user(
                self.user_salesman
            ).action_done()
        with freeze_time(_at(2)):
            self._move(lead, self.s4)
        with freeze_time(_at(3)):
            self._schedule(lead, self.visit_type).with_user(
                self.user_salesman
            ).action_done()
        with freeze_time(_at(4)):
            self._move(lead, self.s1)
        with freeze_time(_at(5)):
            self._schedule(lead, self.demo_type).with_user(
                self.user_salesman
            ).action_done()
        self.assertEqual(
            [
                (log.activity_type_id, log.stage_id, log.date)
                for log in self._logs(lead)
            ],
            [
                (self.call_type, self.s3, _at(1)),
                (self.visit_type, self.s4, _at(3)),
                (self.demo_type, self.s1, _at(5)),
            ],
        )

    def test_duration_and_outcome_from_the_dialog(self):
        lead = self._create_lead("Calibration contract")
        activity = self._schedule(lead, self.visit_type)
        with freeze_time(_at(1)):
            activity.with_user(self.user_salesman).with_context(
                funnel_log_duration=1.75, funnel_log_outcome="positive"
            ).action_feedback(feedback="Quote requested")
        self.assertRecordValues(
            self._logs(lead),
            [
                {
                    "activity_type_id": self.visit_type.id,
                    "duration": 1.75,
                    "outcome": "positive",
                    "note": "Quote requested",
                    "date": _at(1),
                }
            ],
        )

    def test_bad_values_from_the_dialog(self):
        """A bad duration or outcome refuses marking the activity done: nothing is
        logged, the activity stays planned and no message is posted."""
        lead = self._create_lead("Careful deal")
        activity = self._schedule(lead, self.visit_type)
        messages = len(lead.message_ids)
        for context, message in (
            ({"funnel_log_outcome": "great"}, "not “great”"),
            ({"funnel_log_duration": 24.5}, "at most 24 hours (24.5 given)"),
            ({"funnel_log_duration": -1.0}, "more than 0"),
        ):
            with self.subTest(context=context):
                with self.assertRaises(ValidationError) as caught:
                    activity.with_user(self.user_salesman).with_context(
                        **context
                    ).action_done()
                self.assertIn(message, str(caught.exception))
                self.assertFalse(self._logs(lead))
                self.assertTrue(activity.exists())
                self.assertTrue(activity.active)
                lead.invalidate_recordset(["message_ids"])
                self.assertEqual(len(lead.message_ids), messages)


@tagged("post_install", "-at_install")
class TestMeetingLog(ActivityLogCommon):
    """Meetings linked to an opportunity are logged once, by the hourly job, when
    they have ended; the log follows later changes of the meeting."""

    def test_cron(self):
        cron = self.env.ref("sales_funnel_pro.ir_cron_log_meetings")
        self.assertRecordValues(
            cron,
            [
                {
                    "model_id": self.env["ir.model"]._get_id("calendar.event"),
                    "interval_number": 1,
                    "interval_type": "hours",
                    "active": True,
                }
            ],
        )
        with freeze_time(T0):
            lead = self._create_lead("Cron deal", stage=self.s3)
            self._meeting(lead, _at(-1))
            cron.method_direct_trigger()
        self.assertEqual(len(self._logs(lead)), 1)

    def test_logged_once_when_ended(self):
        with freeze_time(T0):
            lead = self._create_lead(
                "Thermal chamber", stage=self.s3, partner_id=self.partner.id
            )
            meeting = self._meeting(lead, _at(2), user=self.user_salesman_2)
        # planned, then under way: not logged
        for moment in (_at(1), _at(2, 1)):
            with freeze_time(moment):
                self.assertFalse(self._log_meetings())
        self.assertFalse(self._logs(lead))
        with freeze_time(_at(2, 2)):
            logs = self._log_meetings()
        self.assertRecordValues(
            logs,
            [
                {
                    "lead_id": lead.id,
                    "partner_id": self.partner.id,
                    "user_id": self.user_salesman_2.id,
                    "team_id": self.team.id,
                    "stage_id": self.s3.id,
                    "activity_type_id": self.meeting_type.id,
                    "date": _at(2),
                    "duration": 1.5,
                    "outcome": "neutral",
                    "summary": "Demo at the lab",
                    "note": False,
                    "source": "meeting",
                    "calendar_event_id": meeting.id,
                    "company_id": self.company.id,
                }
            ],
        )
        # once
        for moment in (_at(2, 3), _at(30)):
            with freeze_time(moment):
                self.assertFalse(self._log_meetings())
        self.assertEqual(self._logs(lead), logs)
        self.assertEqual(lead.activity_log_count, 1)
        self.assertEqual(lead.activity_log_hours, 1.5)
        self.assertEqual(lead.last_touch_date, _at(2))

    def test_stage_at_the_meeting_start(self):
        """The stage comes from the stage history at the meeting's start; a meeting
        held before the opportunity existed takes its current stage."""
        with freeze_time(T0):
            lead = self._create_lead("Moving deal", stage=self.s3)
            early = self._meeting(lead, _at(-2), name="Trade fair")
            in_s3 = self._meeting(lead, _at(0, 2), name="First demo")
        with freeze_time(_at(1)):
            self._move(lead, self.s4)
            in_s4 = self._meeting(lead, _at(1, 2), name="Terms")
        with freeze_time(_at(2)):
            self._move(lead, self.s1)
        with freeze_time(_at(3)):
            logs = self._log_meetings()
        self.assertEqual(len(logs), 3)
        self.assertEqual(
            [
                (log.calendar_event_id, log.stage_id, log.date, log.summary)
                for log in self._logs(lead)
            ],
            [
                (early, self.s1, _at(-2), "Trade fair"),
                (in_s3, self.s3, _at(0, 2), "First demo"),
                (in_s4, self.s4, _at(1, 2), "Terms"),
            ],
        )

    def test_meeting_opens_the_gate(self):
        """s2 needs a meeting held: the logged meeting meets the criterion."""
        with freeze_time(T0):
            lead = self._create_lead("Gated deal", stage=self.s2)
            self._tick(lead, self.c2_needs)
            self._meeting(lead, _at(1))
        with freeze_time(_at(1, 2)):
            with self.assertRaises(UserError) as caught:
                lead.with_user(self.user_salesman).write({"stage_id": self.s3.id})
            self.assertIn("Demo held", str(caught.exception))
            self.assertEqual(self._checks(lead)[self.c2_meeting], "todo")
            self.assertEqual(lead.qualification_progress, 50)
            self._log_meetings()
            self.assertEqual(self._checks(lead)[self.c2_meeting], "met")
            self.assertEqual(lead.qualification_progress, 100)
            lead.with_user(self.user_salesman).write({"stage_id": self.s3.id})
        self.assertEqual(lead.stage_id, self.s3)

    def test_meetings_of_lost_opportunities_and_batch(self):
        """One job logs the ended meetings of several opportunities, lost ones too
        (the time was spent); meetings without opportunity are no sales work."""
        with freeze_time(T0):
            lead_a = self._create_lead("Deal A", stage=self.s3)
            lead_b = self._create_lead(
                "Deal B", stage=self.s4, user=self.user_salesman_2
            )
            meetings = (
                self._meeting(lead_a, _at(0, 1), hours=1)
                | self._meeting(lead_a, _at(0, 3), hours=2)
                | self._meeting(lead_b, _at(0, 1), hours=0.5)
            )
            unlinked = self.env["calendar.event"].create(
                {"name": "Dentist", "start": _at(0, 1), "stop": _at(0, 2)}
            )
            lead_b.action_set_lost()
        with freeze_time(_at(1)):
            logs = self._log_meetings()
        self.assertEqual(logs.calendar_event_id, meetings)
        self.assertNotIn(unlinked, logs.calendar_event_id)
        self.assertEqual(
            sorted((log.lead_id.id, log.user_id.id, log.duration) for log in logs),
            sorted(
                [
                    (lead_a.id, self.user_salesman.id, 1.0),
                    (lead_a.id, self.user_salesman.id, 2.0),
                    (lead_b.id, self.user_salesman_2.id, 0.5),
                ]
            ),
        )

    def test_job_query_count_does_not_grow(self):
        """The job is set-based: as many queries for six meetings as for two (after
        a first run that warms the caches up)."""
        counts = []
        for size in (1, 2, 6):
            with freeze_time(T0):
                leads = self.env["crm.lead"].browse(
                    [
                        self._create_lead(f"Deal {size}-{index}", stage=self.s3).id
                        for index in range(size)
                    ]
                )
                for lead in leads:
                    self._meeting(lead, _at(-1))
            with freeze_time(_at(1)):
                self.env.flush_all()
                self.env.invalidate_all()
                start = self.env.cr.sql_log_count
                logs = self._log_meetings()
                self.env.flush_all()
                counts.append(self.env.cr.sql_log_count - start)
            self.assertEqual(len(logs), size)
        self.assertEqual(counts[1], counts[2])

    # ------------------------------------------------------------
    # Durations
    # ------------------------------------------------------------

    def test_all_day_long_and_empty_meetings(self):
        """All day: 8 hours per day; never more than 24 hours; a meeting without
        duration counts the meeting type's default duration (1 hour)."""
        with freeze_time(T0):
            lead = self._create_lead("Long deal", stage=self.s3)
            Event = self.env["calendar.event"]
            values = {"opportunity_id": lead.id, "user_id": self.user_salesman.id}
            one_day = Event.create(
                dict(
                    values,
                    name="Workshop",
                    allday=True,
                    start_date=date(2024, 3, 5),
                    stop_date=date(2024, 3, 5),
                )
            )
            two_days = Event.create(
                dict(
                    values,
                    name="Acceptance tests",
                    allday=True,
                    start_date=date(2024, 3, 6),
                    stop_date=date(2024, 3, 7),
                )
            )
            fair = Event.create(
                dict(
                    values,
                    name="Trade fair",
                    allday=True,
                    start_date=date(2024, 3, 11),
                    stop_date=date(2024, 3, 14),
                )
            )
            night = Event.create(
                dict(values, name="Night shift", start=_at(7), stop=_at(8, 6))
            )
            instant = Event.create(
                dict(values, name="Handshake", start=_at(9), stop=_at(9))
            )
        self.assertEqual(
            [meeting.duration for meeting in (one_day, two_days, fair, night, instant)],
            [10, 34, 82, 30, 0],
            "the durations the calendar gives",
        )
        with freeze_time(_at(12)):
            self._log_meetings()
        self.assertEqual(
            {log.summary: (log.duration, log.date) for log in self._logs(lead)},
            {
                "Workshop": (8.0, datetime(2024, 3, 5, 8, 0)),
                "Acceptance tests": (16.0, datetime(2024, 3, 6, 8, 0)),
                "Trade fair": (24.0, datetime(2024, 3, 11, 8, 0)),
                "Night shift": (24.0, _at(7)),
                "Handshake": (1.0, _at(9)),
            },
        )

    # ------------------------------------------------------------
    # The log follows the meeting
    # ------------------------------------------------------------

    def test_editing_a_logged_meeting_updates_its_log(self):
        with freeze_time(T0):
            lead = self._create_lead(
                "Thermal chamber", stage=self.s3, partner_id=self.partner.id
            )
            partner_2 = self.env["res.partner"].create({"name": "Metrology Inc"})
            lead_2 = self._create_lead(
                "Other deal", stage=self.s4, partner_id=partner_2.id
            )
            meeting = self._meeting(lead, _at(0, 2))
        with freeze_time(_at(1)):
            self._move(lead, self.s4)
        with freeze_time(_at(2)):
            log = self._log_meetings()
        self.assertEqual(
            (log.stage_id, log.date, log.duration), (self.s3, _at(0, 2), 1.5)
        )

        # another rep, who may not write the salesman's log, moves the meeting:
        # its log follows, into the stage of the new date
        with freeze_time(_at(3)):
            meeting.with_user(self.user_salesman_2).write(
                {"start": _at(1, 3), "stop": _at(1, 5), "name": "Demo and audit"}
            )
        self.assertEqual(self._logs(lead), log)
        self.assertRecordValues(
            log,
            [
                {
                    "date": _at(1, 3),
                    "duration": 2.0,
                    "stage_id": self.s4.id,
                    "summary": "Demo and audit",
                    "user_id": self.user_salesman.id,
                    "source": "meeting",
                }
            ],
        )
        with freeze_time(_at(3)):
            meeting.write({"duration": 3.0, "user_id": self.user_salesman_2.id})
        self.assertRecordValues(
            self._logs(lead),
            [
                {
                    "id": log.id,
                    "date": _at(1, 3),
                    "duration": 3.0,
                    "user_id": self.user_salesman_2.id,
                }
            ],
        )
        # moved to another opportunity: the log moves with it
        with freeze_time(_at(3)):
            meeting.write({"opportunity_id": lead_2.id})
        self.assertFalse(self._logs(lead))
        self.assertRecordValues(
            self._logs(lead_2),
            [
                {
                    "id": log.id,
                    "lead_id": lead_2.id,
                    "partner_id": partner_2.id,
                    "stage_id": self.s4.id,
                    "calendar_event_id": meeting.id,
                }
            ],
        )
        with freeze_time(_at(4)):
            self.assertFalse(self._log_meetings())
        self.assertEqual(lead.activity_log_count, 0)
        self.assertEqual(lead_2.activity_log_count, 1)

    def test_meeting_moved_into_the_future(self):
        """A meeting that has not taken place after all loses its log; it is logged
        again once it has ended."""
        with freeze_time(T0):
            lead = self._create_lead("Postponed deal", stage=self.s3)
            meeting = self._meeting(lead, _at(1))
        with freeze_time(_at(2)):
            log = self._log_meetings()
            self.assertEqual(len(log), 1)
            meeting.write({"start": _at(5), "stop": _at(5, 1)})
        self.assertFalse(log.exists())
        self.assertFalse(self._logs(lead))
        with freeze_time(_at(5, 0.5)):
            self.assertFalse(self._log_meetings())
        with freeze_time(_at(6)):
            log = self._log_meetings()
        self.assertRecordValues(
            self._logs(lead),
            [{"id": log.id, "date": _at(5), "duration": 1.0, "source": "meeting"}],
        )

    def test_meeting_detached_archived_or_deleted(self):
        with freeze_time(T0):
            lead = self._create_lead("Cancelled deal", stage=self.s3)
            detached, archived, deleted, kept = (
                self._meeting(lead, _at(0, hours)) for hours in (1, 2, 3, 4)
            )
        with freeze_time(_at(1)):
            self.assertEqual(len(self._log_meetings()), 4)
            detached.write({"opportunity_id": False})
            archived.write({"active": False})
            deleted.unlink()
            self.assertFalse(self._log_meetings())
        self.assertEqual(self._logs(lead).calendar_event_id, kept)

    def test_meeting_planned_from_an_activity_keeps_its_type(self):
        """A meeting planned from a Demo activity is logged as a Demo."""
        with freeze_time(T0):
            lead = self._create_lead("Demo deal", stage=self.s3)
            activity = self._schedule(lead, self.demo_type)
            meeting = self._meeting(
                lead, _at(1), activity_ids=[Command.set(activity.ids)]
            )
        with freeze_time(_at(2)):
            log = self._log_meetings()
        self.assertEqual(log.activity_type_id, self.demo_type)
        self.assertEqual(log.calendar_event_id, meeting)

    # ------------------------------------------------------------
    # With the meeting's activity marked done
    # ------------------------------------------------------------

    def _meeting_with_activity(self, lead, start):
        """A meeting planned from a Meeting activity, as the chatter does."""
        activity = self._schedule(lead, self.meeting_type)
        meeting = self._meeting(lead, start, activity_ids=[Command.set(activity.ids)])
        self.assertEqual(activity.calendar_event_id, meeting)
        self.assertEqual(activity.summary, "Demo at the lab")
        return meeting, activity

    def test_activity_done_then_job(self):
        """Marking the meeting's activity done logs the meeting; the job does not
        log it again, and later changes of the meeting update that log."""
        with freeze_time(T0):
            lead = self._create_lead("Done deal", stage=self.s3)
            meeting, activity = self._meeting_with_activity(lead, _at(1))
        with freeze_time(_at(1, 2)):
            activity.with_user(self.user_salesman).with_context(
                funnel_log_outcome="positive"
            ).action_feedback(feedback="They want a quote")
        logs = self._logs(lead)
        self.assertRecordValues(
            logs,
            [
                {
                    "activity_type_id": self.meeting_type.id,
                    "date": _at(1, 2),
                    "duration": 1.5,
                    "outcome": "positive",
                    "note": "They want a quote",
                    "summary": "Demo at the lab",
                    "source": "done",
                    "calendar_event_id": meeting.id,
                }
            ],
        )
        with freeze_time(_at(2)):
            self.assertFalse(self._log_meetings())
            meeting.write({"name": "Demo at the lab, quote asked"})
        self.assertRecordValues(
            self._logs(lead),
            [
                {
                    "id": logs.id,
                    "date": _at(1),
                    "duration": 1.5,
                    "outcome": "positive",
                    "note": "They want a quote",
                    "summary": "Demo at the lab, quote asked",
                    "source": "done",
                }
            ],
        )

    def test_job_then_activity_done(self):
        """The job logs the meeting first; marking its activity done completes that
        log (outcome, feedback) instead of adding another."""
        with freeze_time(T0):
            lead = self._create_lead("Late deal", stage=self.s3)
            meeting, activity = self._meeting_with_activity(lead, _at(1))
        with freeze_time(_at(2)):
            log = self._log_meetings()
        self.assertEqual(log.source, "meeting")
        with freeze_time(_at(3)):
            activity.with_user(self.user_salesman).with_context(
                funnel_log_outcome="negative"
            ).action_feedback(feedback="Competitor is cheaper")
        self.assertRecordValues(
            self._logs(lead),
            [
                {
                    "id": log.id,
                    "date": _at(1),
                    "duration": 1.5,
                    "outcome": "negative",
                    "note": "Competitor is cheaper",
                    "source": "done",
                    "calendar_event_id": meeting.id,
                }
            ],
        )
        with freeze_time(_at(4)):
            self.assertFalse(self._log_meetings())
        self.assertEqual(len(self._logs(lead)), 1)

    def test_done_log_kept_when_the_meeting_moves_into_the_future(self):
        """The rep said the meeting was held: moving it later keeps that log."""
        with freeze_time(T0):
            lead = self._create_lead("Early deal", stage=self.s3)
            meeting, activity = self._meeting_with_activity(lead, _at(1))
        with freeze_time(_at(1, 2)):
            activity.with_user(self.user_salesman).action_done()
        with freeze_time(_at(2)):
            meeting.write({"start": _at(5), "stop": _at(5, 1)})
        with freeze_time(_at(6)):
            self.assertFalse(self._log_meetings())
        self.assertRecordValues(
            self._logs(lead),
            [
                {
                    "date": _at(1, 2),
                    "duration": 1.5,
                    "source": "done",
                    "calendar_event_id": meeting.id,
                }
            ],
        )


@tagged("post_install", "-at_install")
class TestActivityLogRules(ActivityLogCommon):
    """Bad input is refused with a clear message, and nothing is written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls._create_lead("Ruled deal", partner_id=cls.partner.id)

    def _values(self, **values):
        return {
            "lead_id": self.lead.id,
            "activity_type_id": self.visit_type.id,
            "duration": 2.0,
            "summary": "Visit",
            **values,
        }

    @users("funnel_salesman")
    def test_bad_input_refused(self):
        before = self._log_count()
        with freeze_time(T0):
            for values, message in (
                ({"duration": 0.0}, "more than 0 and at most 24 hours (0.0 given)"),
                ({"duration": -1.5}, "(-1.5 given)"),
                ({"duration": 24.5}, "(24.5 given)"),
                ({"date": _at(0, 1)}, "cannot be in the future"),
                ({"date": T0 + timedelta(minutes=6)}, "cannot be in the future"),
                ({"outcome": "great"}, "Positive, Neutral or Negative, not “great”"),
                (
                    {"lead_id": False, "partner_id": False},
                    "Log the activity on an opportunity or on a customer.",
                ),
            ):
                with self.subTest(values=values):
                    with self.assertRaises(ValidationError) as caught:
                        self.Log.create(self._values(**values))
                    self.assertIn(message, str(caught.exception))
                    self.assertEqual(self._log_count(), before)
            # within the tolerance of a browser's clock
            log = self.Log.create(self._values(date=T0 + timedelta(minutes=4)))
            self.assertEqual(log.date, T0 + timedelta(minutes=4))

    @users("funnel_salesman")
    def test_bad_changes_refused(self):
        with freeze_time(T0):
            log = self.Log.create(self._values(outcome="positive"))
            for values in (
                {"duration": 0.0},
                {"duration": 24.5},
                {"date": _at(1)},
                {"outcome": "great"},
                {"lead_id": False, "partner_id": False},
            ):
                with self.subTest(values=values):
                    with self.assertRaises(ValidationError):
                        log.write(values)
                    self.assertRecordValues(
                        self._logs(self.lead),
                        [
                            {
                                "id": log.id,
                                "duration": 2.0,
                                "date": T0,
                                "outcome": "positive",
                                "lead_id": self.lead.id,
                                "partner_id": self.partner.id,
                            }
                        ],
                    )

    @users("funnel_salesman")
    def test_log_on_a_customer_only(self):
        with freeze_time(T0):
            log = self.Log.create(
                self._values(lead_id=False, partner_id=self.partner.id, duration=0.5)
            )
        log.invalidate_recordset()
        self.assertRecordValues(
            log,
            [
                {
                    "lead_id": False,
                    "partner_id": self.partner.id,
                    "user_id": self.user_salesman.id,
                    "stage_id": False,
                    "team_id": False,
                    "company_id": self.company.id,
                    "duration": 0.5,
                    "date": T0,
                    "outcome": "neutral",
                    "source": "quick",
                }
            ],
        )


@tagged("post_install", "-at_install")
class TestActivityLogAccess(ActivityLogCommon):
    """A salesman reads his own logs and the logs of the opportunities he may read
    (his own and unassigned ones); he changes only his own; managers change all.

    ====================== ================ ==============
    log                    opportunity      logged by
    ====================== ================ ==============
    log_own                lead_own         salesman
    log_own_on_other       lead_other       salesman
    log_own_partner        (customer only)  salesman
    log_rep2_on_own        lead_own         salesman 2
    log_rep2_on_other      lead_other       salesman 2
    log_rep2_on_free       lead_free        salesman 2
    log_rep2_partner       (customer only)  salesman 2
    ====================== ================ ==============
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead_own = cls._create_lead("Own deal", partner_id=cls.partner.id)
        cls.lead_other = cls._create_lead("Other deal", user=cls.user_salesman_2)
        cls.lead_free = cls._create_lead("Free deal")
        cls.lead_free.user_id = False

        def log(lead, user, summary):
            return cls.env["funnel.activity.log"].create(
                {
                    "lead_id": lead.id,
                    **({} if lead else {"partner_id": cls.partner.id}),
                    "user_id": user.id,
                    "activity_type_id": cls.visit_type.id,
                    "duration": 1.0,
                    "summary": summary,
                }
            )

        no_lead = cls.env["crm.lead"]
        cls.log_own = log(cls.lead_own, cls.user_salesman, "own")
        cls.log_own_on_other = log(cls.lead_other, cls.user_salesman, "own on other")
        cls.log_own_partner = log(no_lead, cls.user_salesman, "own partner")
        cls.log_rep2_on_own = log(cls.lead_own, cls.user_salesman_2, "rep2 on own")
        cls.log_rep2_on_other = log(
            cls.lead_other, cls.user_salesman_2, "rep2 on other"
        )
        cls.log_rep2_on_free = log(cls.lead_free, cls.user_salesman_2, "rep2 on free")
        cls.log_rep2_partner = log(no_lead, cls.user_salesman_2, "rep2 partner")
        cls.all_logs = (
            cls.log_own
            | cls.log_own_on_other
            | cls.log_own_partner
            | cls.log_rep2_on_own
            | cls.log_rep2_on_other
            | cls.log_rep2_on_free
            | cls.log_rep2_partner
        )

    def _visible(self):
        return self.env["funnel.activity.log"].search([("id", "in", self.all_logs.ids)])

    def _db(self, log):
        self.env.flush_all()
        log = log.sudo()
        log.invalidate_recordset()
        return log

    @users("funnel_salesman")
    def test_salesman_reads(self):
        self.assertEqual(
            sorted(self._visible().mapped("summary")),
            ["own", "own on other", "own partner", "rep2 on free", "rep2 on own"],
        )
        Log = self.env["funnel.activity.log"]
        for log in (self.log_rep2_on_other, self.log_rep2_partner):
            with self.subTest(log=log.sudo().summary):
                with self.assertRaises(AccessError):
                    Log.browse(log.id).read(["summary"])
        self.assertEqual(
            self.env["crm.lead"].browse(self.lead_own.id).activity_log_count, 2
        )

    @users("funnel_salesman_2")
    def test_other_salesman_reads(self):
        self.assertEqual(
            sorted(self._visible().mapped("summary")),
            [
                "own on other",
                "rep2 on free",
                "rep2 on other",
                "rep2 on own",
                "rep2 partner",
            ],
        )
        with self.assertRaises(AccessError):
            self.env["funnel.activity.log"].browse(self.log_own.id).read(["summary"])

    @users("funnel_salesman")
    def test_salesman_changes_his_own(self):
        Log = self.env["funnel.activity.log"]
        log = Log.browse(self.log_own.id)
        log.write({"summary": "Visit, budget confirmed", "outcome": "positive"})
        self.assertRecordValues(
            self._db(log),
            [{"summary": "Visit, budget confirmed", "outcome": "positive"}],
        )
        Log.browse(self.log_own_partner.id).unlink()
        self.assertFalse(self._db(self.log_own_partner).exists())
        new = Log.create(
            {
                "lead_id": self.lead_own.id,
                "activity_type_id": self.call_type.id,
                "duration": 0.25,
            }
        )
        self.assertEqual(self._db(new).user_id, self.user_salesman)

    @users("funnel_salesman")
    def test_salesman_cannot_change_another_reps_log(self):
        """Not even on his own opportunity; nor log in another rep's name."""
        Log = self.env["funnel.activity.log"]
        log = Log.browse(self.log_rep2_on_own.id)
        self.assertEqual(log.summary, "rep2 on own")
        with self.assertRaises(AccessError):
            log.write({"summary": "Mine now", "duration": 5.0})
        with self.assertRaises(AccessError):
            log.write({"user_id": self.user_salesman.id})
        with self.assertRaises(AccessError):
            log.unlink()
        self.assertRecordValues(
            self._db(log),
            [
                {
                    "summary": "rep2 on own",
                    "duration": 1.0,
                    "user_id": self.user_salesman_2.id,
                }
            ],
        )
        with self.assertRaises(AccessError):
            Log.create(
                {
                    "lead_id": self.lead_own.id,
                    "user_id": self.user_salesman_2.id,
                    "activity_type_id": self.call_type.id,
                    "duration": 0.25,
                }
            )
        self.assertEqual(self._logs(self.lead_own), self.log_own | self.log_rep2_on_own)

    @users("funnel_all_leads")
    def test_all_leads_reads_all_changes_own(self):
        self.assertEqual(self._visible(), self.all_logs)
        with self.assertRaises(AccessError):
            self.env["funnel.activity.log"].browse(self.log_rep2_on_other.id).write(
                {"summary": "Not mine"}
            )
        self.assertEqual(self._db(self.log_rep2_on_other).summary, "rep2 on other")

    @users("funnel_manager")
    def test_manager_changes_all(self):
        self.assertEqual(self._visible(), self.all_logs)
        Log = self.env["funnel.activity.log"]
        Log.browse(self.log_rep2_on_other.id).write(
            {"duration": 1.5, "outcome": "negative"}
        )
        self.assertRecordValues(
            self._db(self.log_rep2_on_other),
            [
                {
                    "duration": 1.5,
                    "outcome": "negative",
                    "user_id": self.user_salesman_2.id,
                }
            ],
        )
        Log.browse(self.log_rep2_partner.id).unlink()
        self.assertFalse(self._db(self.log_rep2_partner).exists())

    def test_multi_company(self):
        company_main = self.env.company
        company_2 = self.env["res.company"].create({"name": "Funnel Company 2"})
        team_2 = self.env["crm.team"].create(
            {"name": "Team C2", "company_id": company_2.id}
        )
        lead_c2 = self.env["crm.lead"].create(
            {
                "name": "Deal in company 2",
                "type": "opportunity",
                "team_id": team_2.id,
                "company_id": company_2.id,
                "stage_id": self.s1.id,
                "user_id": False,
            }
        )
        log_c2 = self.Log.create(
            {
                "lead_id": lead_c2.id,
                "user_id": self.user_salesman_2.id,
                "activity_type_id": self.visit_type.id,
                "duration": 2.0,
            }
        )
        self.assertEqual(log_c2.company_id, company_2)
        self.assertEqual(log_c2.team_id, team_2)
        user_mc = mail_new_test_user(
            self.env,
            login="funnel_log_mc",
            name="Mia Main Company",
            email="mia.log@example.com",
            company_id=company_main.id,
            company_ids=[Command.set(company_main.ids)],
            groups="sales_team.group_sale_salesman_all_leads",
        )
        Log = self.env["funnel.activity.log"].with_user(user_mc)
        domain = [("lead_id", "=", lead_c2.id)]
        self.assertFalse(Log.search(domain))
        with self.assertRaises(AccessError):
            Log.browse(log_c2.id).read(["duration"])
        self.assertEqual(Log.search([("id", "in", self.all_logs.ids)]), self.all_logs)

        user_mc.write({"company_ids": [Command.link(company_2.id)]})
        both = Log.with_context(allowed_company_ids=[company_main.id, company_2.id])
        self.assertEqual(both.search(domain), log_c2)
        self.assertEqual(both.browse(log_c2.id).duration, 2.0)
        only_main = Log.with_context(allowed_company_ids=[company_main.id])
        self.assertFalse(only_main.search(domain))


@tagged("post_install", "-at_install")
class TestActivityLogLifecycle(ActivityLogCommon):
    """Logs live and die with their opportunity; lost ones keep them in reports."""

    def _log(self, lead, activity_type, duration, outcome="neutral"):
        return self.Log.create(
            {
                "lead_id": lead.id,
                "user_id": lead.user_id.id,
                "activity_type_id": activity_type.id,
                "duration": duration,
                "outcome": outcome,
            }
        )

    def test_deleting_the_opportunity_removes_its_logs(self):
        lead = self._create_lead("Doomed deal")
        other = self._create_lead("Other deal")
        logs = self._log(lead, self.visit_type, 2.0) | self._log(
            lead, self.call_type, 0.25
        )
        other_log = self._log(other, self.call_type, 0.25)
        lead.unlink()
        self.assertFalse(logs.exists())
        self.assertTrue(other_log.exists())
        self.assertEqual(self._logs(other), other_log)

    def test_lost_opportunity_keeps_its_logs_in_reports(self):
        lead_lost = self._create_lead("Lost deal")
        lead_open = self._create_lead("Open deal", user=self.user_salesman_2)
        logs = (
            self._log(lead_lost, self.visit_type, 2.0, "positive")
            | self._log(lead_lost, self.demo_type, 1.5, "negative")
            | self._log(lead_open, self.call_type, 0.25)
        )
        lead_lost.with_user(self.user_salesman).action_set_lost()
        self.assertFalse(lead_lost.active)
        self.assertEqual(self._logs(lead_lost), logs[:2])
        self.assertEqual(lead_lost.activity_log_count, 2)
        self.assertEqual(lead_lost.activity_log_hours, 3.5)
        leads = lead_lost | lead_open
        report = self.Log.with_user(self.user_manager)._read_group(
            [("lead_id", "in", leads.ids)],
            ["lead_id"],
            ["__count", "duration:sum"],
        )
        self.assertEqual(
            {lead.id: (count, hours) for lead, count, hours in report},
            {lead_lost.id: (2, 3.5), lead_open.id: (1, 0.25)},
        )
        report = self.Log.with_user(self.user_manager)._read_group(
            [("lead_id", "in", leads.ids)], ["outcome"], ["duration:sum"]
        )
        self.assertEqual(
            dict(report), {"positive": 2.0, "negative": 1.5, "neutral": 0.25}
        )
        # and their salesman still reads them
        self.assertEqual(
            self.Log.with_user(self.user_salesman).search(
                [("lead_id", "=", lead_lost.id)]
            ),
            logs[:2],
        )


@tagged("post_install", "-at_install")
class TestActivityLogBackfill(ActivityLogCommon):
    """Installing the addon logs the activities already done, from the chatter."""

    def test_backfill_from_messages(self):
        with freeze_time(T0):
            lead_a = self._create_lead(
                "Deal A", stage=self.s3, partner_id=self.partner.id
            )
            lead_b = self._create_lead(
                "Deal B", stage=self.s4, user=self.user_salesman_2
            )
        with freeze_time(_at(1)):
            self._schedule(lead_a, self.call_type).with_user(
                self.user_salesman
            ).action_feedback(feedback="Call back on Friday")
        with freeze_time(_at(2)):
            self._move(lead_a, self.s4)
        with freeze_time(_at(3)):
            self._schedule(lead_a, self.visit_type).with_user(
                self.user_salesman
            ).action_done()
            self._schedule(lead_b, self.demo_type, user=self.user_salesman_2).with_user(
                self.user_salesman_2
            ).action_done()
            self._schedule(self.partner, self.call_type).action_done()
        leads = lead_a | lead_b
        self.assertEqual(len(self._logs(leads)), 3)
        # as before the addon was installed
        self._logs(leads).unlink()
        before = self._log_count()

        self.assertEqual(self.Log._backfill_from_messages(), 3)
        self.assertEqual(self._log_count(), before + 3)
        self.assertRecordValues(
            self._logs(leads),
            [
                {
                    "lead_id": lead_a.id,
                    "partner_id": self.partner.id,
                    "user_id": self.user_salesman.id,
                    "team_id": self.team.id,
                    "stage_id": self.s3.id,
                    "activity_type_id": self.call_type.id,
                    "date": _at(1),
                    "duration": 0.25,
                    "outcome": "neutral",
                    "summary": "Call",
                    "source": "import",
                    "company_id": self.company.id,
                },
                {
                    "lead_id": lead_a.id,
                    "partner_id": self.partner.id,
                    "user_id": self.user_salesman.id,
                    "team_id": self.team.id,
                    "stage_id": self.s4.id,
                    "activity_type_id": self.visit_type.id,
                    "date": _at(3),
                    "duration": 2.0,
                    "outcome": "neutral",
                    "summary": "Visit",
                    "source": "import",
                    "company_id": self.company.id,
                },
                {
                    "lead_id": lead_b.id,
                    "partner_id": False,
                    "user_id": self.user_salesman_2.id,
                    "team_id": self.team.id,
                    "stage_id": self.s4.id,
                    "activity_type_id": self.demo_type.id,
                    "date": _at(3),
                    "duration": 1.5,
                    "outcome": "neutral",
                    "summary": "Demo",
                    "source": "import",
                    "company_id": self.company.id,
                },
            ],
        )
        self.assertEqual(lead_a.activity_log_count, 2)
        # it may run again: opportunities with logs are skipped
        self.assertEqual(self.Log._backfill_from_messages(), 0)
        self.assertEqual(len(self._logs(leads)), 3)


@tagged("post_install", "-at_install")
class TestNextStep(ActivityLogCommon):
    """The next step of an opportunity, and neglected opportunities."""

    def _state(self, lead):
        self.env.flush_all()
        lead.invalidate_recordset(["next_activity_state"])
        return lead.next_activity_state

    def test_next_activity_state_as_time_passes(self):
        with freeze_time(T0):  # Monday 4 March 2024
            lead = self._create_lead("Planned deal")
            self.assertEqual(self._state(lead), "none")
            first = self._schedule(lead, self.call_type, date_deadline=date(2024, 3, 6))
            self.assertEqual(self._state(lead), "planned")
            second = self._schedule(
                lead, self.visit_type, date_deadline=date(2024, 3, 8)
            )
            self.assertEqual(self._state(lead), "planned")
        with freeze_time(_at(2)):  # Wednesday: the call is due
            self.assertEqual(self._state(lead), "planned", "until the nightly job")
            self.env["crm.lead"]._cron_refresh_next_activity_state()
            self.assertEqual(self._state(lead), "today")
            self.assertEqual(
                self.env["crm.lead"].search(
                    [("id", "=", lead.id), ("next_activity_state", "=", "today")]
                ),
                lead,
            )
        with freeze_time(_at(3)):  # Thursday: overdue
            self.env["crm.lead"]._cron_refresh_next_activity_state()
            self.assertEqual(self._state(lead), "overdue")
            first.with_user(self.user_salesman).action_done()
            self.assertEqual(self._state(lead), "planned", "the visit is on Friday")
        with freeze_time(_at(4)):  # Friday
            self.env["crm.lead"]._cron_refresh_next_activity_state()
            self.assertEqual(self._state(lead), "today")
            second.with_user(self.user_salesman).action_done()
            self.assertEqual(self._state(lead), "none")
        self.assertEqual(len(self._logs(lead)), 2)

    def test_neglected(self):
        """s1 allows 5 days without a planned next step: counted from the stage
        entry, or from the last logged activity when there is one."""
        self.s1.next_step_days = 5
        with freeze_time(T0):
            lead = self._create_lead("Quiet deal", date_last_stage_update=T0)
            unlimited = self._create_lead(
                "Unlimited", stage=self.s3, date_last_stage_update=T0
            )
        leads = lead | unlimited

        def neglected():
            leads.invalidate_recordset(["is_neglected"])
            flags = {record: record.is_neglected for record in leads}
            found = self.env["crm.lead"].search(
                [("id", "in", leads.ids), ("is_neglected", "=", True)]
            )
            others = self.env["crm.lead"].search(
                [("id", "in", leads.ids), ("is_neglected", "=", False)]
            )
            self.assertEqual(found, leads.filtered(lambda r: flags[r]))
            self.assertEqual(others, leads - found)
            return found

        with freeze_time(_at(5)):
            self.assertFalse(neglected(), "5 days exactly: not yet")
        with freeze_time(_at(5, 1)):
            self.assertEqual(neglected(), lead)
            # a planned next step
            activity = self._schedule(lead, self.call_type)
            self.assertFalse(neglected())
            # done: touched now, nothing planned
            activity.with_user(self.user_salesman).action_done()
            self.assertEqual(lead.last_touch_date, _at(5, 1))
            self.assertFalse(neglected())
        with freeze_time(_at(10, 1)):
            self.assertFalse(neglected(), "5 days after the last log exactly")
        with freeze_time(_at(10, 2)):
            self.assertEqual(neglected(), lead)
            lead.with_user(self.user_salesman).action_set_lost()
            self.assertFalse(
                self.env["crm.lead"]
                .with_context(active_test=False)
                .search([("id", "=", lead.id), ("is_neglected", "=", True)])
            )
            self.assertFalse(lead.is_neglected)


@tagged("post_install", "-at_install")
class TestActivityCriteria(ActivityLogCommon):
    """Activity criteria count the logs of their type: of any stage, or only of
    the criterion's stage."""

    def test_count_scope(self):
        Criterion = self.env["funnel.stage.criterion"]
        visited = Criterion.create(
            {
                "stage_id": self.s2.id,
                "name": "Visited once",
                "kind": "activity",
                "activity_type_ids": self.visit_type.ids,
                "count_scope": "all",
            }
        )
        visited_here = Criterion.create(
            {
                "stage_id": self.s2.id,
                "name": "Visited in this stage",
                "kind": "activity",
                "activity_type_ids": self.visit_type.ids,
                "count_scope": "stage",
            }
        )
        lead = self._create_lead("Visited deal")
        self._schedule(lead, self.visit_type).with_user(
            self.user_salesman
        ).action_done()
        self._meet_s1(lead)
        lead.with_user(self.user_salesman).write({"stage_id": self.s2.id})
        self._tick(lead, self.c2_needs)
        self._done_activity(lead, self.meeting_type)
        checks = self._checks(lead)
        self.assertEqual(
            (checks[visited], checks[visited_here]), ("met", "todo"), "s1's visit"
        )
        self.assertEqual(lead.qualification_required_count, 4)
        self.assertEqual(lead.qualification_progress, 75)
        with self.assertRaises(UserError) as caught:
            lead.with_user(self.user_salesman).write({"stage_id": self.s3.id})
        self.assertIn("Visited in this stage", str(caught.exception))
        self.assertNotIn("Visited once", str(caught.exception))
        self.assertEqual(lead.stage_id, self.s2)

        # a visit in s2 opens the gate at once
        self._schedule(lead, self.visit_type).with_user(
            self.user_salesman
        ).action_done()
        self.assertEqual(self._checks(lead)[visited_here], "met")
        self.assertEqual(lead.qualification_progress, 100)
        lead.with_user(self.user_salesman).write({"stage_id": self.s3.id})
        self.assertEqual(lead.stage_id, self.s3)
        self.assertEqual(
            [(log.activity_type_id, log.stage_id) for log in self._logs(lead)],
            [
                (self.visit_type, self.s1),
                (self.meeting_type, self.s2),
                (self.visit_type, self.s2),
            ],
        )
