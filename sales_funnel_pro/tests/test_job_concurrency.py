import threading
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name

from ..models import funnel_job

LEADS = 6


class TestJobConcurrency(BaseCase):
    """Two cron workers on one job, each with its own database connection and
    committing after each chunk, as in production: no chunk runs twice.

    The data is committed (each worker has to see it) and removed at the end: a
    salesman-free quick log by the administrator on six opportunities, in
    chunks of one.
    """

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            admin = env.ref("base.user_admin")
            leads = env["crm.lead"].create(
                [
                    {"name": f"Concurrent deal {index}", "type": "opportunity"}
                    for index in range(LEADS)
                ]
            )
            wizard = (
                env["funnel.activity.quick.log"]
                .with_user(admin)
                .create(
                    {
                        "lead_ids": leads.ids,
                        "activity_type_id": env.ref("mail.mail_activity_data_call").id,
                        "summary": "Concurrent call",
                    }
                )
            )
            with patch.object(funnel_job, "BACKGROUND_THRESHOLD", 1):
                wizard.action_log()
            job = env["funnel.job"].search([("kind", "=", "quick_log")], limit=1)
            job.chunk_size = 1
            self.lead_ids, self.job_id = leads.ids, job.id
        self.addCleanup(self._clean_up)

    def _clean_up(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["funnel.job"].browse(self.job_id).unlink()
            env["crm.lead"].browse(self.lead_ids).unlink()

    def _run_cron(self):
        """What a cron worker does: ``_cron_run`` on its own connection."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["funnel.job"]._cron_run(time_budget=30)

    def _final_state(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            job = env["funnel.job"].browse(self.job_id)
            logs = env["funnel.activity.log"].search([("lead_id", "in", self.lead_ids)])
            return job.state, job.done, sorted(logs.lead_id.ids), len(logs)

    def _patched_log(self, hook):
        """Run ``hook`` at each chunk, in the worker that runs it."""
        Wizard = self.registry["funnel.activity.quick.log"]
        original = Wizard._log

        def log(wizard, leads, params):
            hook()
            return original(wizard, leads, params)

        return patch.object(Wizard, "_log", log)

    def test_worker_skips_the_job_another_holds(self):
        locked, tried = threading.Event(), threading.Event()

        def first_chunk_waits():
            if not locked.is_set():
                locked.set()
                tried.wait(timeout=10)

        def second_worker():
            locked.wait(timeout=10)
            try:
                return self._run_cron()
            finally:
                tried.set()

        with (
            self._patched_log(first_chunk_waits),
            ThreadPoolExecutor(max_workers=2) as executor,
        ):
            first = executor.submit(self._run_cron)
            second = executor.submit(second_worker)
            done_first, done_second = first.result(timeout=60), second.result(60)
        self.assertEqual(done_second, 0, "the job was locked: skipped, not waited for")
        self.assertEqual(done_first, LEADS)
        self.assertEqual(
            self._final_state(), ("done", LEADS, sorted(self.lead_ids), LEADS)
        )

    def test_two_workers_at_once(self):
        start = threading.Barrier(2)

        def run():
            start.wait(timeout=10)
            return self._run_cron()

        with (
            self._patched_log(lambda: threading.Event().wait(0.05)),
            ThreadPoolExecutor(max_workers=2) as executor,
        ):
            futures = [executor.submit(run) for __ in range(2)]
            done = [future.result(timeout=60) for future in futures]
        self.assertEqual(sum(done), LEADS, "each chunk done by one of them")
        self.assertEqual(
            self._final_state(),
            ("done", LEADS, sorted(self.lead_ids), LEADS),
            "every opportunity logged once",
        )
