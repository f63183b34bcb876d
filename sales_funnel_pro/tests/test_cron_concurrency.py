from datetime import timedelta

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name

from .concurrency import run_overlapping


class TestCronConcurrency(BaseCase):
    """Each scheduled job of the addon run twice: by two cron workers at once,
    each with its own database connection (the second one starts while the
    first one's transaction is still open, with its work done, and the first one
    commits once the second one has finished or after a few seconds), then once
    more after both: nothing is done twice, neither worker fails, and the result
    is that of one run.

    The data is committed (each worker has to see it) and removed at the end.
    (The background jobs, funnel.job, are covered by test_job_concurrency.py.)
    """

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        self.cleanups = []
        self.addCleanup(self._clean_up)

    def _clean_up(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for model, ids in reversed(self.cleanups):
                env[model].browse(ids).exists().unlink()
            # the rates of the committed data, without this test's opportunities
            env["funnel.stage.win.rate"]._refresh()

    def _commit(self, build):
        """Run ``build(env)`` in its own committed transaction; return its result."""
        with self.registry.cursor() as cr:
            return build(api.Environment(cr, SUPERUSER_ID, {}))

    def _twice_at_once(self, job, second_job=None):
        """Run ``job(env)`` in two overlapping transactions, as two cron workers
        would (``second_job`` in the second one, when given); return what each
        one raised (None when it did not)."""
        return run_overlapping(
            self.registry,
            lambda cr: job(api.Environment(cr, SUPERUSER_ID, {})),
            lambda cr: (second_job or job)(api.Environment(cr, SUPERUSER_ID, {})),
        )

    def _run(self, job):
        """Twice at once, then once more: no worker fails."""
        self.assertEqual(self._twice_at_once(job), [None, None])
        self._commit(job)

    def _opportunity(self, env, **values):
        lead = env["crm.lead"].create(
            {"name": "Concurrent deal", "type": "opportunity", **values}
        )
        self.cleanups.append(("crm.lead", lead.ids))
        return lead

    def test_forecast_snapshot(self):
        def build(env):
            return self._opportunity(env, expected_revenue=1000).id

        lead_id = self._commit(build)

        def job(env):
            env["funnel.forecast.snapshot"]._cron_take_snapshots()

        self._run(job)

        def result(env):
            snapshots = env["funnel.forecast.snapshot"].search(
                [("date", "=", fields.Date.context_today(env.user))]
            )
            self.cleanups.append(("funnel.forecast.snapshot", snapshots.ids))
            lines = snapshots.line_ids.filtered(lambda line: line.lead_id.id == lead_id)
            return (
                len(snapshots),
                len(set(snapshots.company_id.ids)),
                len(lines),
            )

        companies = self._commit(lambda env: env["res.company"].search_count([]))
        self.assertEqual(
            self._commit(result),
            (companies, companies, 1),
            "one snapshot per company and day, the opportunity frozen once",
        )

    def test_manual_snapshot_while_the_job_runs(self):
        def job(env):
            env["funnel.forecast.snapshot"]._cron_take_snapshots()

        def manual(env):
            env["funnel.forecast.snapshot"]._take_snapshots(env.company, kind="manual")

        first, second = self._twice_at_once(job, manual)
        self._commit(
            lambda env: self.cleanups.append(
                (
                    "funnel.forecast.snapshot",
                    env["funnel.forecast.snapshot"]
                    .search([("date", "=", fields.Date.context_today(env.user))])
                    .ids,
                )
            )
        )
        self.assertIsNone(first)
        self.assertIsInstance(second, UserError)
        self.assertIn("being taken right now", str(second))

    def test_historical_win_rates(self):
        def build(env):
            # closed stays in the history, written directly: winning opportunities
            # would also feed crm's lead scoring frequencies, which outlive them
            won = env["crm.stage"].search([("is_won", "=", True)], limit=1)
            team = env["crm.team"].search([], limit=1)
            now = fields.Datetime.now()
            for __ in range(2):
                lead = self._opportunity(env, team_id=team.id)
                env["funnel.stage.history"].search([("lead_id", "=", lead.id)]).unlink()
                env["funnel.stage.history"].create(
                    {
                        "lead_id": lead.id,
                        "stage_id": won.id,
                        "event": "won",
                        "date_in": now - timedelta(days=1),
                        "is_open": True,
                        "team_id": team.id,
                        "company_id": lead.company_id.id,
                    }
                )
            return won.id

        won_id = self._commit(build)

        def job(env):
            env["funnel.stage.win.rate"]._cron_refresh()

        self._run(job)

        def result(env):
            env.cr.execute(
                "SELECT count(*), count(DISTINCT (company_id, stage_id, team_id)) "
                "FROM funnel_stage_win_rate"
            )
            total, distinct = env.cr.fetchone()
            rated = env["funnel.stage.win.rate"].search_count(
                [("stage_id", "=", won_id)]
            )
            return total == distinct, bool(rated)

        self.assertEqual(
            self._commit(result), (True, True), "each rate once, the won stage rated"
        )

    def test_meetings_job(self):
        def build(env):
            lead = self._opportunity(env)
            now = fields.Datetime.now()
            event = env["calendar.event"].create(
                {
                    "name": "Concurrent meeting",
                    "opportunity_id": lead.id,
                    "start": now - timedelta(hours=2),
                    "stop": now - timedelta(hours=1),
                    "partner_ids": [Command.set([])],
                }
            )
            self.cleanups.append(("calendar.event", event.ids))
            return event.id

        event_id = self._commit(build)

        def job(env):
            env["calendar.event"]._funnel_log_ended_meetings()

        self._run(job)
        logs = self._commit(
            lambda env: env["funnel.activity.log"].search_count(
                [("calendar_event_id", "=", event_id)]
            )
        )
        self.assertEqual(logs, 1, "the meeting is logged once")

    def test_next_step_refresh(self):
        def build(env):
            lead = self._opportunity(env)
            lead.activity_schedule(
                "mail.mail_activity_data_call",
                date_deadline=fields.Date.context_today(env.user) - timedelta(days=1),
            )
            # the state the job brings up to date
            env.flush_all()
            env.cr.execute(
                "UPDATE crm_lead SET next_activity_state = 'planned' WHERE id = %s",
                [lead.id],
            )
            return lead.id

        lead_id = self._commit(build)

        def job(env):
            env["crm.lead"]._cron_refresh_next_activity_state()

        self._run(job)
        state = self._commit(
            lambda env: env["crm.lead"].browse(lead_id).next_activity_state
        )
        self.assertEqual(state, "overdue")
