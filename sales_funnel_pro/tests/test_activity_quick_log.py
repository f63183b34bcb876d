from datetime import datetime, timedelta

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users

from .common import FunnelCommon

NOW = datetime(2025, 3, 12, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestActivityQuickLog(FunnelCommon):
    """The quick-log wizard, the Mark Done context and the Neglected First order,
    as the salesman meets them.

    Besides the fixture's stages, s1 gets a required activity criterion
    ``c1_visit`` ("Visit held": one Visit, any stage), so an opportunity of s1
    has three required criteria: budget (checklist), customer (field), visit.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.visit_type = cls.env.ref("sales_funnel_pro.mail_activity_type_visit")
        cls.demo_type = cls.env.ref("sales_funnel_pro.mail_activity_type_demonstration")
        cls.todo_type = cls.env.ref("mail.mail_activity_data_todo")
        cls.email_type = cls.env.ref("mail.mail_activity_data_email")
        cls.c1_visit = cls.env["funnel.stage.criterion"].create(
            {
                "stage_id": cls.s1.id,
                "name": "Visit held",
                "kind": "activity",
                "activity_type_ids": cls.visit_type.ids,
                "min_count": 1,
                "sequence": 4,
            }
        )
        cls.team_2 = cls.env["crm.team"].create({"name": "Funnel Team North"})
        cls.partner_2 = cls.env["res.partner"].create({"name": "Pressure Gauges Inc"})
        cls.lead = cls._create_lead("Calibrators", partner_id=cls.partner.id)
        cls.lead_other = cls._create_lead("Other's deal", user=cls.user_salesman_2)

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _wizard(self, leads, **values):
        """A quick-log wizard opened on ``leads`` as from the card menu, the
        form button or the list's Action menu, filled with ``values``."""
        form = Form(
            self.env["funnel.activity.quick.log"].with_context(
                default_lead_ids=leads.ids
            )
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def _logs(self, leads):
        return (
            self.env["funnel.activity.log"]
            .sudo()
            .search([("lead_id", "in", leads.ids)], order="lead_id.id, id")
        )

    def _lead_activities(self, leads):
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)],
                order="res_id, id",
            )
        )

    def _assert_refused(self, wizard, exception, message):
        """``action_log`` raises ``exception`` saying ``message``, and neither a
        log row nor a planned activity is written."""
        leads = wizard.lead_ids
        logs_before = self.env["funnel.activity.log"].sudo().search_count([])
        activities_before = self._lead_activities(leads)
        with self.assertRaises(exception) as error:
            wizard.action_log()
        self.assertEqual(str(error.exception), message)
        self.assertEqual(
            self.env["funnel.activity.log"].sudo().search_count([]), logs_before
        )
        self.assertEqual(self._lead_activities(leads), activities_before)
        self.assertEqual(leads.sudo().mapped("last_touch_date"), [False] * len(leads))

    # ------------------------------------------------------------
    # Logging
    # ------------------------------------------------------------

    @freeze_time(NOW)
    @users("funnel_salesman")
    def test_log_one_opportunity(self):
        lead = self.lead.with_env(self.env)
        form = Form(
            self.env["funnel.activity.quick.log"].with_context(
                default_lead_ids=lead.ids
            )
        )
        # what the salesman finds in the dialog
        self.assertEqual(form.lead_ids[:], lead)
        self.assertEqual(form.activity_type_id, self.visit_type)
        self.assertEqual(form.date, NOW)
        self.assertEqual(form.duration, 2.0)
        self.assertEqual(form.outcome, "neutral")
        self.assertFalse(form.schedule_next)

        form.duration = 1.25
        form.outcome = "positive"
        form.date = NOW - timedelta(hours=3)
        form.summary = "Site visit at the lab"
        form.note = "Met the quality manager; 12 pressure calibrators to replace."
        form.next_step = "Send the quotation"
        action = form.save().action_log()

        self.assertEqual(action, {"type": "ir.actions.act_window_close"})
        log = self._logs(lead)
        self.assertRecordValues(
            log,
            [
                {
                    "lead_id": lead.id,
                    "partner_id": self.partner.id,
                    "user_id": self.user_salesman.id,
                    "team_id": self.team.id,
                    "stage_id": self.s1.id,
                    "activity_type_id": self.visit_type.id,
                    "date": NOW - timedelta(hours=3),
                    "duration": 1.25,
                    "outcome": "positive",
                    "summary": "Site visit at the lab",
                    "note": "Met the quality manager; 12 pressure calibrators to "
                    "replace.",
                    "next_step": "Send the quotation",
                    "source": "quick",
                    "company_id": self.company.id,
                    "calendar_event_id": False,
                }
            ],
        )
        self.assertEqual(lead.activity_log_count, 1)
        self.assertEqual(lead.activity_log_hours, 1.25)
        self.assertEqual(lead.last_touch_date, NOW - timedelta(hours=3))
        # logging plans nothing unless asked
        self.assertFalse(self._lead_activities(lead))
        self.assertEqual(lead.next_activity_state, "none")

    @freeze_time(NOW)
    @users("funnel_salesman")
    def test_log_three_opportunities(self):
        """One row each, each with the stage, team and customer of its
        opportunity at that moment."""
        first = self.lead
        second = self._create_lead(
            "Torque wrenches", stage=self.s2, partner_id=self.partner_2.id
        )
        third = self._create_lead("Thermometers", stage=self.s3, team_id=self.team_2.id)
        leads = (first | second | third).with_env(self.env)

        self._wizard(
            leads,
            activity_type_id=self.demo_type,
            outcome="negative",
            summary="Demo of the calibration software",
        ).action_log()

        logs = self._logs(leads)
        expected = {
            "user_id": self.user_salesman.id,
            "activity_type_id": self.demo_type.id,
            "date": NOW,
            "duration": 1.5,
            "outcome": "negative",
            "summary": "Demo of the calibration software",
            "note": False,
            "next_step": False,
            "source": "quick",
        }
        self.assertRecordValues(
            logs,
            [
                dict(
                    expected,
                    lead_id=first.id,
                    stage_id=self.s1.id,
                    team_id=self.team.id,
                    partner_id=self.partner.id,
                ),
                dict(
                    expected,
                    lead_id=second.id,
                    stage_id=self.s2.id,
                    team_id=self.team.id,
                    partner_id=self.partner_2.id,
                ),
                dict(
                    expected,
                    lead_id=third.id,
                    stage_id=self.s3.id,
                    team_id=self.team_2.id,
                    partner_id=False,
                ),
            ],
        )
        self.assertEqual(leads.mapped("activity_log_count"), [1, 1, 1])
        self.assertEqual(leads.mapped("last_touch_date"), [NOW] * 3)

        # the row keeps the stage of that moment when the opportunity moves on
        third.stage_id = self.s4
        self.assertEqual(logs[2].stage_id, self.s3)

    @users("funnel_salesman")
    def test_summary_defaults_to_type(self):
        self._wizard(self.lead.with_env(self.env)).action_log()
        self.assertEqual(self._logs(self.lead).summary, "Visit")

    @users("funnel_salesman")
    def test_duration_prefilled_per_type(self):
        form = Form(
            self.env["funnel.activity.quick.log"].with_context(
                default_lead_ids=self.lead.ids
            )
        )
        expected = [
            (self.visit_type, 2.0),
            (self.demo_type, 1.5),
            (self.call_type, 0.25),
            (self.email_type, 0.25),
            (self.meeting_type, 1.0),
            (self.todo_type, 0.5),
        ]
        for activity_type, duration in expected:
            form.activity_type_id = activity_type
            self.assertEqual(form.duration, duration, activity_type.name)
        # a duration typed by hand follows the next change of type
        form.duration = 3.0
        form.activity_type_id = self.demo_type
        self.assertEqual(form.duration, 1.5)
        form.duration = 0.75
        wizard = form.save()
        self.assertEqual(wizard.duration, 0.75, "the typed duration is kept")
        wizard.action_log()
        self.assertEqual(self._logs(self.lead).duration, 0.75)

    # ------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_refused_durations(self):
        lead = self.lead.with_env(self.env)
        for duration, shown in ((0, "0.0"), (-1.5, "-1.5"), (24.5, "24.5")):
            self._assert_refused(
                self._wizard(lead, duration=duration),
                ValidationError,
                "The duration of an activity must be more than 0 and at most 24 "
                f"hours ({shown} given).",
            )
        # 24 hours is the most a row may say
        self._wizard(lead, duration=24).action_log()
        self.assertEqual(self._logs(lead).duration, 24)

    @freeze_time(NOW)
    @users("funnel_salesman")
    def test_refused_future_date(self):
        self._assert_refused(
            self._wizard(self.lead.with_env(self.env), date=NOW + timedelta(hours=1)),
            ValidationError,
            "A logged activity has happened: its date cannot be in the future. "
            "Schedule an activity instead.",
        )

    @users("funnel_salesman")
    def test_refused_without_opportunity(self):
        wizard = self.env["funnel.activity.quick.log"].create({})
        self.assertFalse(wizard.lead_ids)
        self._assert_refused(
            wizard,
            ValidationError,
            "Log the activity on an opportunity or on a customer.",
        )

    @freeze_time(NOW)
    @users("funnel_salesman")
    def test_refused_next_step(self):
        lead = self.lead.with_env(self.env)
        self._assert_refused(
            self._wizard(
                lead, schedule_next=True, next_date=NOW.date() - timedelta(days=1)
            ),
            UserError,
            "The next step cannot be planned in the past (03/11/2025).",
        )
        wizard = self._wizard(lead, schedule_next=True)
        wizard.next_date = False
        self._assert_refused(
            wizard,
            UserError,
            "To schedule the next step, give its activity and date.",
        )

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_salesman_cannot_log_on_other_opportunity(self):
        Wizard = self.env["funnel.activity.quick.log"]
        with self.assertRaises(AccessError):
            Wizard.create({"lead_ids": [Command.set(self.lead_other.ids)]}).action_log()
        self.assertFalse(self._logs(self.lead_other))
        # nor on his own and another's at once: nothing is logged on either
        with self.assertRaises(AccessError):
            Wizard.create(
                {"lead_ids": [Command.set((self.lead | self.lead_other).ids)]}
            ).action_log()
        self.assertFalse(self._logs(self.lead | self.lead_other))

    def test_other_salesman_all_leads_and_manager(self):
        """The other salesman logs on his own opportunity and does not see the
        salesman's log; an all-documents salesman and a manager log on anyone's
        opportunity, under their own name."""
        Wizard = self.env["funnel.activity.quick.log"]
        Wizard.with_user(self.user_salesman).with_context(
            default_lead_ids=self.lead.ids
        ).create({}).action_log()
        Wizard.with_user(self.user_salesman_2).with_context(
            default_lead_ids=self.lead_other.ids
        ).create({"activity_type_id": self.call_type.id}).action_log()
        for user in (self.user_all_leads, self.user_manager):
            Wizard.with_user(user).with_context(
                default_lead_ids=self.lead_other.ids
            ).create({}).action_log()

        self.assertEqual(
            self._logs(self.lead).mapped("user_id"), self.user_salesman, "one row"
        )
        self.assertEqual(
            self._logs(self.lead_other).mapped(lambda log: (log.user_id, log.duration)),
            [
                (self.user_salesman_2, 0.25),
                (self.user_all_leads, 2.0),
                (self.user_manager, 2.0),
            ],
        )
        Log = self.env["funnel.activity.log"].with_user(self.user_salesman_2)
        self.assertEqual(
            Log.search([("lead_id", "in", (self.lead | self.lead_other).ids)]),
            self._logs(self.lead_other),
            "the other salesman sees the logs of his opportunity only",
        )

    # ------------------------------------------------------------
    # Next step
    # ------------------------------------------------------------

    @freeze_time(NOW)
    @users("funnel_salesman")
    def test_schedule_next_step(self):
        free = (
            self.env["crm.lead"]
            .sudo()
            .create(
                {
                    "name": "Unassigned deal",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s1.id,
                    "user_id": False,
                }
            )
        )
        leads = (self.lead | free).with_env(self.env)
        self.assertEqual(leads.mapped("next_activity_state"), ["none", "none"])

        form = Form(
            self.env["funnel.activity.quick.log"].with_context(
                default_lead_ids=leads.ids
            )
        )
        form.schedule_next = True
        form.next_activity_type_id = self.call_type
        form.next_date = NOW.date() + timedelta(days=3)
        form.next_step = "Call back about the budget"
        form.save().action_log()

        self.assertEqual(len(self._logs(leads)), 2)
        self.assertEqual(
            self._logs(leads).mapped("next_step"), ["Call back about the budget"] * 2
        )
        activities = self._lead_activities(leads)
        self.assertRecordValues(
            activities,
            [
                {
                    "res_model": "crm.lead",
                    "res_id": self.lead.id,
                    "activity_type_id": self.call_type.id,
                    "date_deadline": NOW.date() + timedelta(days=3),
                    "summary": "Call back about the budget",
                    "user_id": self.user_salesman.id,
                },
                {
                    "res_model": "crm.lead",
                    "res_id": free.id,
                    "activity_type_id": self.call_type.id,
                    "date_deadline": NOW.date() + timedelta(days=3),
                    "summary": "Call back about the budget",
                    "user_id": self.user_salesman.id,
                },
            ],
        )
        self.assertEqual(leads.mapped("next_activity_state"), ["planned", "planned"])
        self.assertFalse(leads.mapped("is_neglected")[0])

    @freeze_time(NOW)
    def test_next_step_defaults(self):
        """The next activity is the one the logged type suggests, else a To-Do;
        its date follows the delay of the next activity's type."""
        self.todo_type.write(
            {"delay_count": 2, "delay_unit": "days", "delay_from": "current_date"}
        )
        self.demo_type.write(
            {"delay_count": 1, "delay_unit": "weeks", "delay_from": "current_date"}
        )
        form = Form(
            self.env["funnel.activity.quick.log"]
            .with_user(self.user_salesman)
            .with_context(default_lead_ids=self.lead.ids)
        )
        self.assertEqual(form.next_activity_type_id, self.todo_type)
        self.assertEqual(form.next_date, NOW.date() + timedelta(days=2))

        self.visit_type.suggested_next_type_ids = self.demo_type
        form.activity_type_id = self.call_type
        form.activity_type_id = self.visit_type
        self.assertEqual(form.next_activity_type_id, self.demo_type)
        self.assertEqual(form.next_date, NOW.date() + timedelta(days=7))

    # ------------------------------------------------------------
    # Gates
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_visit_opens_activity_criterion(self):
        lead = self.lead.with_env(self.env)
        self.assertEqual(
            self._checks(lead),
            {
                self.c1_budget: "todo",
                self.c1_partner: "met",
                self.c1_optional: "todo",
                self.c1_visit: "todo",
            },
        )
        self.assertEqual(lead.qualification_met_count, 1)
        self.assertEqual(lead.qualification_required_count, 3)

        # a call is not a visit
        self._wizard(lead, activity_type_id=self.call_type).action_log()
        self.assertEqual(self._checks(lead)[self.c1_visit], "todo")
        self.assertEqual(lead.qualification_met_count, 1)

        self._wizard(lead).action_log()
        check = lead.check_ids.filtered(lambda c: c.criterion_id == self.c1_visit)
        self.assertEqual(check.state, "met")
        self.assertEqual(check.done_by_id, self.user_salesman)
        self.assertEqual(lead.qualification_met_count, 2)
        self.assertEqual(lead.qualification_progress, 67)
        self.assertFalse(lead.gate_ready)

        self._tick(lead, self.c1_budget)
        self.assertEqual(lead.qualification_progress, 100)
        self.assertTrue(lead.gate_ready)
        lead.stage_id = self.s2
        self.assertEqual(lead.stage_id, self.s2)

    @users("funnel_salesman")
    def test_visit_counted_in_its_stage_only(self):
        """A criterion counting the visits of its own stage ignores the visit
        logged in the stage before."""
        self.env["funnel.stage.criterion"].sudo().create(
            {
                "stage_id": self.s4.id,
                "name": "Visit in this stage",
                "kind": "activity",
                "activity_type_ids": self.visit_type.ids,
                "count_scope": "stage",
            }
        )
        lead = self._create_lead("Flow meters", stage=self.s3).with_env(self.env)
        self._wizard(lead).action_log()
        # S3's gate only warns
        lead.stage_id = self.s4
        self.assertEqual(lead.qualification_required_count, 2)
        self.assertEqual(lead.qualification_met_count, 0)
        self._wizard(lead).action_log()
        self.assertEqual(lead.qualification_met_count, 1)
        self.assertEqual(self._logs(lead).stage_id.ids, [self.s3.id, self.s4.id])

    # ------------------------------------------------------------
    # Mark Done dialog
    # ------------------------------------------------------------

    @freeze_time(NOW)
    @users("funnel_salesman")
    def test_done_dialog_context(self):
        """What the Mark Done dialog sends: the duration and outcome the user
        gave, else the type's default duration and a neutral outcome."""
        lead = self.lead.with_env(self.env)
        planned = lead.activity_schedule(
            activity_type_id=self.call_type.id,
            user_id=self.user_salesman.id,
            summary="Ask for the budget",
        )
        planned.with_context(
            funnel_log_duration=0.75, funnel_log_outcome="positive"
        ).action_feedback("ok")
        log = self._logs(lead)
        self.assertRecordValues(
            log,
            [
                {
                    "activity_type_id": self.call_type.id,
                    "duration": 0.75,
                    "outcome": "positive",
                    "summary": "Ask for the budget",
                    "note": "ok",
                    "stage_id": self.s1.id,
                    "user_id": self.user_salesman.id,
                    "date": NOW,
                    "source": "done",
                }
            ],
        )

        # Done & Schedule Next sends the same context
        planned = lead.activity_schedule(
            activity_type_id=self.visit_type.id, user_id=self.user_salesman.id
        )
        action = planned.with_context(
            funnel_log_duration=3.5, funnel_log_outcome="negative"
        ).action_feedback_schedule_next("far away")
        self.assertEqual(action["res_model"], "mail.activity")
        # the dialog left alone: default duration, neutral
        planned = lead.activity_schedule(
            activity_type_id=self.demo_type.id, user_id=self.user_salesman.id
        )
        planned.action_feedback()
        self.assertEqual(
            self._logs(lead).mapped(
                lambda log: (log.activity_type_id, log.duration, log.outcome)
            ),
            [
                (self.call_type, 0.75, "positive"),
                (self.visit_type, 3.5, "negative"),
                (self.demo_type, 1.5, "neutral"),
            ],
        )
        self.assertEqual(self._checks(lead)[self.c1_visit], "met")

    # ------------------------------------------------------------
    # Where the rep finds it
    # ------------------------------------------------------------

    def test_entry_points(self):
        action = self.env.ref("sales_funnel_pro.funnel_activity_quick_log_action")
        self.assertEqual(action.binding_model_id.model, "crm.lead")
        self.assertEqual(action.binding_view_types, "list")
        marker = f"{action.id}"
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        kanban = etree.fromstring(
            Lead.get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        )
        (item,) = kanban.xpath("//t[@t-name='menu']/a[hasclass('o_funnel_quick_log')]")
        self.assertEqual((item.get("type"), item.get("name")), ("action", marker))
        form = etree.fromstring(
            Lead.get_views([(False, "form")])["views"]["form"]["arch"]
        )
        (button,) = form.xpath(f"//header/button[@name='{marker}']")
        self.assertEqual(button.get("string"), "Log Activity")
        # the action opens on the opportunities it is called from
        context = action.context
        self.assertEqual(context, "{'default_lead_ids': active_ids}")

    # ------------------------------------------------------------
    # Neglected first
    # ------------------------------------------------------------

    @freeze_time(NOW)
    def test_neglected_first_order(self):
        """No next step first (the longest untouched on top, never touched before
        all), then overdue, planned and due today."""

        def lead(name, stage_days, log_days=None, deadline_days=None):
            record = self._create_lead(
                name, date_last_stage_update=NOW - timedelta(days=stage_days)
            )
            if log_days is not None:
                self.env["funnel.activity.log"].create(
                    {
                        "lead_id": record.id,
                        "activity_type_id": self.call_type.id,
                        "date": NOW - timedelta(days=log_days),
                    }
                )
            if deadline_days is not None:
                record.activity_schedule(
                    activity_type_id=self.call_type.id,
                    date_deadline=NOW.date() + timedelta(days=deadline_days),
                    user_id=self.user_salesman.id,
                )
            return record

        planned = lead("Planned", 40, deadline_days=2)
        touched_recently = lead("Touched yesterday", 40, log_days=1)
        never_touched = lead("Never touched", 30)
        overdue = lead("Overdue", 40, deadline_days=-3)
        touched_long_ago = lead("Touched long ago", 40, log_days=20)
        today = lead("Due today", 40, deadline_days=0)
        never_touched_older = lead("Never touched, older", 35)
        leads = (
            planned
            | touched_recently
            | never_touched
            | overdue
            | touched_long_ago
            | today
            | never_touched_older
        )
        self.assertEqual(
            leads.mapped("next_activity_state"),
            ["planned", "none", "none", "overdue", "none", "today", "none"],
        )
        expected = [
            "Never touched, older",
            "Never touched",
            "Touched long ago",
            "Touched yesterday",
            "Overdue",
            "Planned",
            "Due today",
        ]
        action = self.env.ref("sales_funnel_pro.crm_lead_action_neglected_first")
        views = dict((mode, view) for view, mode in action.views)
        self.assertEqual(list(views), ["kanban", "list", "form", "activity"])
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        for view_type in ("kanban", "list"):
            arch = Lead.get_views([(views[view_type], view_type)])["views"][view_type]
            order = etree.fromstring(arch["arch"]).get("default_order")
            self.assertEqual(
                order,
                "next_activity_state, quiet_since, id",
            )
            self.assertEqual(
                Lead.search([("id", "in", leads.ids)], order=order).mapped("name"),
                expected,
                view_type,
            )
        self.assertEqual(
            self.env.ref("sales_funnel_pro.crm_lead_menu_neglected_first").parent_id,
            self.env.ref("crm.crm_menu_sales"),
        )
        # the Neglected filter of the pipeline is there to narrow it down
        self.s1.next_step_days = 10
        self.assertEqual(
            Lead.search(
                [("id", "in", leads.ids), ("is_neglected", "=", True)],
                order="next_activity_state, quiet_since, id",
            ).mapped("name"),
            ["Never touched, older", "Never touched", "Touched long ago"],
        )
