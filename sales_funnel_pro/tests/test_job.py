from contextlib import contextmanager
from datetime import datetime
from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, users
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

from ..models import funnel_job
from .common import FunnelCommon

# the background threshold of these tests: more than 3 records go to a job
THRESHOLD = 3


@contextmanager
def background_threshold(count=THRESHOLD):
    with patch.object(funnel_job, "BACKGROUND_THRESHOLD", count):
        yield


class JobCommon(FunnelCommon):
    """Seven opportunities of the salesman in s1 (``leads``), and helpers to
    start and run background jobs with a threshold of 3 records and chunks of 2,
    so that a job has four chunks: 2, 2, 2 and 1 opportunities."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.visit_type = cls.env.ref("sales_funnel_pro.mail_activity_type_visit")
        cls.leads = cls.env["crm.lead"].concat(
            *(
                cls._create_lead(f"Deal {index}", partner_id=cls.partner.id)
                for index in range(1, 8)
            )
        )
        cls.Job = cls.env["funnel.job"]

    def _job(self, kind):
        """The last job of ``kind``, as superuser, in chunks of 2."""
        job = self.Job.sudo().search([("kind", "=", kind)], limit=1)
        self.assertTrue(job, f"a {kind} job was started")
        job.chunk_size = 2
        return job

    def _run_chunk(self, job):
        """One run of the cron's loop on ``job``, as the cron runs it."""
        locked = self.Job.sudo()._acquire()
        self.assertEqual(locked, job, "the job is the one whose turn it is")
        return locked._run_chunk()

    def _quick_log(self, leads, user=None, **values):
        """Log a visit on ``leads`` with the quick-log wizard, as ``user``."""
        form = Form(
            self.env["funnel.activity.quick.log"]
            .with_user(user or self.user_salesman)
            .with_context(default_lead_ids=leads.ids)
        )
        form.activity_type_id = self.visit_type
        form.summary = values.pop("summary", "Site visit")
        for name, value in values.items():
            setattr(form, name, value)
        return form.save().action_log()

    def _logs(self, leads):
        return (
            self.env["funnel.activity.log"]
            .sudo()
            .search([("lead_id", "in", leads.ids)], order="lead_id, id")
        )

    @staticmethod
    def _log_values(logs):
        """What the logs say, whatever their opportunity and when written."""
        return [
            (
                log.activity_type_id,
                log.date,
                log.duration,
                log.outcome,
                log.summary,
                log.note,
                log.next_step,
                log.source,
                log.user_id,
                log.stage_id,
                log.partner_id,
                log.team_id,
                log.company_id,
            )
            for log in logs
        ]


class TestJob(JobCommon):
    """The mechanism, through the quick log on many opportunities."""

    def test_below_threshold_at_once(self):
        """Up to the threshold, the work is done in the request: no job."""
        with background_threshold(len(self.leads)):
            action = self._quick_log(self.leads)
        self.assertEqual(action, {"type": "ir.actions.act_window_close"})
        self.assertFalse(self.Job.sudo().search([]))
        self.assertEqual(self._logs(self.leads).lead_id, self.leads)

    def test_started_then_run_in_chunks(self):
        with background_threshold():
            action = self._quick_log(self.leads)
        # the button says what was started and how big it is
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn(
            "Log “Site visit” on 7 opportunities (7 opportunities)",
            action["params"]["message"],
        )
        job = self._job("quick_log")
        self.assertEqual(
            (job.state, job.total, job.done, job.user_id, job.res_model, job.res_id),
            ("queued", 7, 0, self.user_salesman, "res.users", self.user_salesman.id),
        )
        self.assertEqual(job.progress_text, "Queued: 0 of 7 opportunities")
        self.assertEqual(job.record_ids, sorted(self.leads.ids))
        self.assertIn(self.user_salesman.partner_id, job.message_partner_ids)
        self.assertFalse(self._logs(self.leads), "nothing logged in the request")
        # the cron is woken at once
        cron = self.env.ref("sales_funnel_pro.ir_cron_funnel_job")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))

        # the first chunk: the two lowest ids
        self.assertEqual(self._run_chunk(job), 2)
        self.assertEqual(
            (job.state, job.done, job.cursor), ("running", 2, self.leads[1].id)
        )
        self.assertEqual(job.progress_text, "Running… 2 of 7 opportunities (29 %)")
        self.assertEqual(self._logs(self.leads).lead_id, self.leads[:2])

        # the cron finishes it
        self.Job._cron_run()
        self.assertEqual((job.state, job.done, job.progress), ("done", 7, 100))
        logs = self._logs(self.leads)
        self.assertEqual(logs.lead_id, self.leads)
        self.assertEqual(len(logs), 7, "one log per opportunity")
        self.assertEqual(job.summary, "Logged “Site visit” on 7 opportunities.")

    def test_chunks_give_the_synchronous_result(self):
        """The same logging on seven other opportunities, at once, writes the
        same logs and planned activities."""
        others = self.env["crm.lead"].concat(
            *(
                self._create_lead(f"Twin {index}", partner_id=self.partner.id)
                for index in range(1, 8)
            )
        )
        values = {
            "date": datetime(2025, 1, 10, 9, 0),
            "note": "Met the lab manager",
            "outcome": "positive",
            "next_step": "Quote",
            "schedule_next": True,
        }
        with background_threshold(len(others)):
            self._quick_log(others, **values)
        with background_threshold():
            self._quick_log(self.leads, **values)
        self._job("quick_log")
        self.Job._cron_run()
        self.assertEqual(
            self._log_values(self._logs(self.leads)),
            self._log_values(self._logs(others)),
        )
        Activity = self.env["mail.activity"].sudo()

        def planned(leads):
            return [
                (a.activity_type_id, a.date_deadline, a.summary, a.user_id)
                for a in Activity.search(
                    [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)],
                    order="res_id",
                )
            ]

        self.assertEqual(len(planned(self.leads)), 7)
        self.assertEqual(planned(self.leads), planned(others))
        self.assertEqual(
            self.leads.mapped("next_activity_state"),
            others.mapped("next_activity_state"),
        )
        self.assertEqual(
            self.leads.mapped("last_touch_date"), others.mapped("last_touch_date")
        )

    def test_resume_after_interruption(self):
        """A chunk is written with the job's cursor, or not at all: a worker
        stopped in the middle of one resumes after the last chunk written."""
        with background_threshold():
            self._quick_log(self.leads)
        job = self._job("quick_log")
        self._run_chunk(job)
        # the next chunk fails after writing a log: none of it stays
        Wizard = type(self.env["funnel.activity.quick.log"])
        original = Wizard._log

        def log_then_fail(wizard, leads, params):
            original(wizard, leads[:1], params)
            raise ValueError("worker killed")

        with patch.object(Wizard, "_log", log_then_fail):
            self.assertEqual(self._run_chunk(job), 0)
        self.assertEqual(
            (job.state, job.done, job.cursor), ("running", 2, self.leads[1].id)
        )
        self.assertEqual(
            (job.attempt_count, job.error), (1, "ValueError: worker killed")
        )
        self.assertEqual(self._logs(self.leads).lead_id, self.leads[:2])
        # a restart: nothing but the database is left
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.Job._cron_run()
        self.assertEqual(
            (job.state, job.done, job.attempt_count, job.error), ("done", 7, 0, False)
        )
        self.assertEqual(len(self._logs(self.leads)), 7, "no opportunity logged twice")
        self.assertEqual(self._logs(self.leads).lead_id, self.leads)

    def test_failing_job_stops_and_says_why(self):
        with background_threshold():
            self._quick_log(self.leads)
        job = self._job("quick_log")
        Wizard = type(self.env["funnel.activity.quick.log"])
        with patch.object(Wizard, "_log", side_effect=UserError("No visit today")):
            self.Job._cron_run()
        self.assertEqual((job.state, job.done, job.attempt_count), ("failed", 0, 3))
        self.assertEqual(job.error, "No visit today")
        self.assertFalse(self._logs(self.leads))
        note = job.message_ids[:1]
        self.assertIn("No visit today", note.body)
        self.assertIn(
            self.user_salesman.partner_id, note.partner_ids, "the starter is told"
        )
        # a failed job does not block a new one
        with background_threshold():
            self._quick_log(self.leads)

    def test_second_start_refused(self):
        with background_threshold():
            self._quick_log(self.leads)
            job = self._job("quick_log")
            with self.assertRaisesRegex(
                UserError,
                r"already queued, 0 % done \(0 of 7 opportunities\), "
                r"started by Sam Salesman",
            ):
                self._quick_log(self.leads)
            self._run_chunk(job)
            self._run_chunk(job)
            with self.assertRaisesRegex(
                UserError,
                r"“Log “Site visit” on 7 opportunities” is already running, "
                r"57 % done \(4 of 7 opportunities\)",
            ):
                self._quick_log(self.leads[:4])
            # another salesperson's logging is another job
            lead_2 = self.env["crm.lead"].concat(
                *(
                    self._create_lead(f"Tess {i}", user=self.user_salesman_2)
                    for i in range(4)
                )
            )
            self._quick_log(lead_2, user=self.user_salesman_2)
        self.assertEqual(
            self.Job.sudo().search_count([("state", "in", ("queued", "running"))]), 2
        )
        # the database refuses a second one started at the same moment too
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.env.cr.savepoint(),
        ):
            job.copy({"record_ids": job.record_ids})

    def test_progress_reported_to_the_cron(self):
        with background_threshold():
            self._quick_log(self.leads)
        self._job("quick_log")
        reported = []
        Cron = type(self.env["ir.cron"])
        with patch.object(
            Cron, "_notify_progress", lambda cron, **kw: reported.append(kw)
        ):
            self.Job._cron_run(time_budget=0)  # one chunk
            self.Job._cron_run(time_budget=0)
            self.Job._cron_run()
        self.assertEqual(
            reported,
            [
                {"done": 2, "remaining": 5},
                {"done": 2, "remaining": 3},
                {"done": 3, "remaining": 0},
            ],
        )

    def test_done_notifies_the_starter(self):
        with background_threshold():
            self._quick_log(self.leads)
        job = self._job("quick_log")
        with patch.object(type(self.env["res.users"]), "_bus_send") as bus:
            self.Job._cron_run()
        bus.assert_called_once()
        self.assertEqual(bus.call_args.args[0], "simple_notification")
        self.assertEqual(
            bus.call_args.args[1]["message"], "Logged “Site visit” on 7 opportunities."
        )
        self.assertEqual(bus.call_args.args[1]["type"], "success")
        note = job.message_ids[:1]
        self.assertIn("Logged “Site visit” on 7 opportunities.", note.body)
        self.assertEqual(note.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(
            note.notification_ids.res_partner_id,
            self.user_salesman.partner_id,
            "in the inbox of the salesman",
        )

    def test_job_runs_as_its_starter(self):
        """A salesman's job logs as him, on what he may read: an opportunity
        that became another's while queued is left out and counted."""
        with background_threshold():
            self._quick_log(self.leads)
        job = self._job("quick_log")
        self.leads[-1].user_id = self.user_salesman_2
        self.Job._cron_run()
        logs = self._logs(self.leads)
        self.assertEqual(logs.lead_id, self.leads[:-1])
        self.assertEqual(logs.user_id, self.user_salesman)
        self.assertEqual(logs.create_uid, self.user_salesman)
        self.assertEqual(job.summary, "Logged “Site visit” on 6 opportunities.")

    def test_bad_input_refused_before_queuing(self):
        with (
            background_threshold(),
            self.assertRaisesRegex(ValidationError, "duration"),
        ):
            self._quick_log(self.leads, duration=30)
        self.assertFalse(self.Job.sudo().search([]))
        self.assertFalse(self._logs(self.leads))

    def test_cancel(self):
        with background_threshold():
            self._quick_log(self.leads)
        job = self._job("quick_log")
        self._run_chunk(job)
        with self.assertRaises(AccessError):
            job.with_user(self.user_salesman).action_cancel()
        job.with_user(self.user_manager).action_cancel()
        self.assertEqual(job.state, "cancelled")
        self.Job._cron_run()
        self.assertEqual(job.done, 2, "a cancelled job does not run")
        self.assertEqual(job.progress_text, "Cancelled after 2 of 7 opportunities")

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    def test_salesman_refused_manager_jobs(self):
        Job = self.Job.with_user(self.user_salesman)
        for kind in ("template", "stage_refresh", "win_rate", "snapshot"):
            with (
                self.subTest(kind=kind),
                self.assertRaisesRegex(AccessError, "Only sales managers may start"),
            ):
                Job._start(kind, 1)
        with self.assertRaises(AccessError):
            self.env["funnel.stage.win.rate"].with_user(
                self.user_salesman
            ).action_refresh()
        with self.assertRaises(AccessError):
            self.env["funnel.forecast.snapshot"].with_user(
                self.user_salesman
            ).action_take_snapshot()
        with self.assertRaises(AccessError):
            self.env["funnel.template.wizard"].with_user(self.user_salesman).create({})
        self.assertFalse(self.Job.sudo().search([]))
        # a manager may
        self.assertTrue(self.Job.with_user(self.user_manager)._start("win_rate", 1))

    def test_who_sees_which_job(self):
        with background_threshold():
            self._quick_log(self.leads)
            mine = self._job("quick_log")
            theirs = self.Job.with_user(self.user_manager)._start("win_rate", 1)
        self.assertEqual(self.Job.with_user(self.user_salesman).search([]), mine)
        self.assertEqual(self.Job.with_user(self.user_all_leads).search([]), self.Job)
        self.assertEqual(
            self.Job.with_user(self.user_manager).search([]), mine | theirs
        )
        with self.assertRaises(AccessError):
            theirs.with_user(self.user_salesman).read(["name"])
        with self.assertRaises(AccessError):
            mine.with_user(self.user_salesman).write({"state": "done"})
        with self.assertRaises(AccessError):
            mine.with_user(self.user_manager).unlink()

    def test_multi_company(self):
        company_2 = self.env["res.company"].create({"name": "Funnel Company 2"})
        manager_2 = mail_new_test_user(
            self.env,
            login="funnel_job_manager_2",
            groups="sales_team.group_sale_manager",
            company_id=company_2.id,
            company_ids=[Command.set(company_2.ids)],
        )
        job = (
            self.Job.with_user(manager_2).with_company(company_2)._start("win_rate", 1)
        )
        self.assertEqual(job.company_id, company_2)
        self.assertEqual(self.Job.with_user(self.user_manager).search([]), self.Job)
        self.assertEqual(
            self.Job.with_user(manager_2).with_company(company_2).search([]), job
        )
        self.Job._cron_run()
        self.assertEqual(job.state, "done", "it ran in its own company")

    # ------------------------------------------------------------
    # The list's entry points
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_quick_log_bound_to_the_list(self):
        for xmlid in (
            "sales_funnel_pro.funnel_activity_quick_log_action",
            "sales_funnel_pro.funnel_lead_mass_update_action_stage",
            "sales_funnel_pro.funnel_lead_mass_update_action_category",
        ):
            action = self.env.ref(xmlid).sudo()
            self.assertEqual(action.binding_model_id.model, "crm.lead")
            self.assertEqual(action.binding_view_types, "list")

    def test_views(self):
        """The forms and lists open for the people who use them."""
        for user in (self.user_salesman, self.user_manager):
            for model, views in (
                ("funnel.job", [(False, "list"), (False, "form"), (False, "search")]),
                ("crm.stage", [(False, "form")]),
                ("funnel.lead.mass.update", [(False, "form")]),
                ("funnel.activity.quick.log", [(False, "form")]),
            ):
                with self.subTest(user=user.login, model=model):
                    self.env[model].with_user(user).get_views(views)
        arch = (
            self.env["crm.stage"]
            .with_user(self.user_salesman)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertNotIn("funnel_job_id", arch, "the job is the managers'")
