from contextlib import closing, contextmanager
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError

from ..models import funnel_forecast_snapshot, funnel_stage_win_rate
from .test_job import JobCommon, background_threshold
from .test_template import TemplateCommon


class TestJobTemplate(TemplateCommon):
    """The professional funnel applied to a pipeline too large for a request.

    Crm's stock stages New, Qualified and Proposition are named as the
    template's first three stages, so that the template adopts them with their
    opportunities: 3, 2 and 2 opportunities (7 in all), whose checks the
    template creates (3, 2 and 3 criteria: 9 + 4 + 6 = 19 checks), and the
    last two move to the Best Case forecast category of Solution & quote.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Stage = cls.env["crm.stage"].with_context(lang="en_US")
        for stage, name in (
            (cls.stage_new, "Start"),
            (cls.stage_qualified, "Needs confirmed"),
            (cls.stage_proposition, "Solution & quote"),
        ):
            stage.with_env(Stage.env).name = name
        cls.partner = cls.env["res.partner"].create({"name": "Lab"})
        cls.leads = cls.env["crm.lead"].create(
            [
                {
                    "name": f"Deal {index}",
                    "type": "opportunity",
                    "stage_id": stage.id,
                    "user_id": cls.user_salesman.id,
                    "partner_id": cls.partner.id if index % 2 else False,
                    "expected_revenue": 1000 * index,
                }
                for index, stage in enumerate(
                    [cls.stage_new] * 3
                    + [cls.stage_qualified] * 2
                    + [cls.stage_proposition] * 2
                )
            ]
        )
        cls.Job = cls.env["funnel.job"]

    @contextmanager
    def assertRaisesRegex(self, expected_exception, expected_regex):
        """As ``assertRaises``: the error rolls back what was written before it
        (the criterion written before its stage's job refuses it)."""
        with self.assertRaises(expected_exception) as context:
            yield context
        self.assertRegex(str(context.exception), expected_regex)

    def _result(self):
        """What the template leaves on the opportunities: their checks, by
        stage and criterion key, and their qualification."""
        self.env.flush_all()
        self.env.invalidate_all()
        checks = (
            self.env["funnel.lead.check"]
            .sudo()
            .search([("lead_id", "in", self.leads.ids)])
        )
        return (
            sorted(
                (
                    check.lead_id.name,
                    check.criterion_id.stage_id.template_key,
                    check.criterion_id.template_key,
                    check.state,
                    check.is_current,
                    check.done_by_id.login or "",
                )
                for check in checks
            ),
            [
                (
                    lead.qualification_met_count,
                    lead.qualification_required_count,
                    lead.qualification_progress,
                    lead.gate_ready,
                    lead.forecast_category,
                )
                for lead in self.leads
            ],
        )

    def _wizard(self):
        return (
            self.env["funnel.template.wizard"].with_user(self.user_manager).create({})
        )

    def test_template_in_chunks_gives_the_synchronous_result(self):
        with closing(self.env.cr.savepoint()):
            summary = self._apply()
            expected = self._result()
        self.env.registry.clear_cache()
        self.assertEqual(len(expected[0]), 19)

        with background_threshold():
            wizard = self._wizard()
            wizard.action_apply()
        # the stages and criteria are there at once, the checks not yet
        self.assertEqual(len(self._template_stages()), 5)
        self.assertEqual(self._result()[0], [])
        job = wizard.job_id.sudo()
        self.assertEqual((job.kind, job.state, job.total), ("template", "queued", 7))
        self.assertEqual(wizard.summary, summary, "the same summary, at once")
        self.assertEqual(wizard.job_progress_text, "Queued: 0 of 7 opportunities")
        # the stage form says what runs
        start = self._template_stages()["start"].with_user(self.user_manager)
        self.assertEqual(start.funnel_job_id, job)
        job.chunk_size = 2

        locked = self.Job.sudo()._acquire()
        self.assertEqual(locked._run_chunk(), 2, "two opportunities of Start")
        start.invalidate_recordset()
        self.assertEqual(
            start.funnel_job_progress, "Running… 2 of 7 opportunities (29 %)"
        )
        # the criteria of its stages wait for it
        with self.assertRaisesRegex(UserError, "already running, 29 % done"):
            start.criterion_ids[:1].with_user(self.user_manager).required = False
        with self.assertRaisesRegex(UserError, "already running"):
            self._wizard().action_apply()

        self.Job._cron_run()
        self.assertEqual((job.state, job.done), ("done", 7))
        self.assertEqual(self._result(), expected)
        start.invalidate_recordset()
        self.assertFalse(start.funnel_job_id)
        self.assertEqual(
            job.summary,
            summary + "\nIts 7 opportunities are in line with their stages: exit "
            "criteria checks, qualification and forecast category.",
        )
        note = job.message_ids[:1]
        self.assertIn("Created stage", note.body)
        self.assertEqual(note.partner_ids, self.user_manager.partner_id)

    def test_criteria_change_on_a_large_stage(self):
        """A criterion added to a stage with many opportunities: a checks job
        of that stage."""
        self._apply()
        start = self._template_stages()["start"]
        with background_threshold(2):
            self.env["funnel.stage.criterion"].with_user(self.user_manager).create(
                {"stage_id": start.id, "name": "Site known"}
            )
        job = self.Job.sudo().search([("kind", "=", "stage_refresh")])
        self.assertEqual(
            (job.res_model, job.res_id, job.total, job.name),
            (
                "crm.stage",
                start.id,
                3,
                "Apply the changes of “Start” to their opportunities",
            ),
        )
        self.Job._cron_run()
        self.assertEqual(job.state, "done")
        self.assertEqual(
            len(self.leads.filtered(lambda lead: lead.stage_id == start).check_ids),
            12,
        )

    def test_stage_category_change_on_a_large_stage(self):
        """The forecast category of a stage with many opportunities: theirs are
        recomputed by a job, tracked as the manager who changed it."""
        self._apply()
        start = self._template_stages()["start"].with_user(self.user_manager)
        leads = self.leads.filtered(lambda lead: lead.stage_id == start)
        with background_threshold(2):
            start.forecast_category = "best_case"
        self.env.flush_all()
        job = self.Job.sudo().search([("kind", "=", "stage_refresh")])
        self.assertEqual((job.total, job.params["check_stage_ids"]), (3, []))
        self.assertEqual(set(leads.mapped("forecast_category")), {"pipeline"})
        leads.message_ids.unlink()
        self.Job.with_context(tracking_disable=False)._cron_run()
        leads.invalidate_recordset()
        self.assertEqual(set(leads.mapped("forecast_category")), {"best_case"})
        tracking = leads.message_ids.tracking_value_ids
        self.assertEqual(len(tracking), 3, "tracked as the synchronous write does")
        self.assertEqual(leads.message_ids.author_id, self.user_manager.partner_id)
        # small stages: at once, as before
        stage = self._template_stages()["needs"].with_user(self.user_manager)
        stage.forecast_category = "commit"
        self.assertEqual(
            set(
                self.leads.filtered(lambda lead: lead.stage_id == stage).mapped(
                    "forecast_category"
                )
            ),
            {"commit"},
        )
        self.assertEqual(len(self.Job.sudo().search([])), 1)

    def test_below_threshold_at_once(self):
        wizard = self._wizard()
        wizard.action_apply()
        self.assertFalse(wizard.job_id)
        self.assertFalse(self.Job.sudo().search([]))
        self.assertEqual(len(self._result()[0]), 19)


class TestJobRefreshes(JobCommon):
    """Historical win rates and the forecast snapshot: one statement each, in
    the background as one step (0 then 1 of 1) beyond their own thresholds."""

    def _rates(self):
        fields = ["stage_id", "team_id", "won_count", "lost_count", "rate"]
        rates = self.env["funnel.stage.win.rate"].sudo().search([])
        return [
            {key: value for key, value in row.items() if key != "id"}
            for row in rates.read(fields, load=None)
        ]

    def test_win_rates_in_the_background(self):
        (self.leads[0] | self.leads[1]).action_set_lost()
        Rate = self.env["funnel.stage.win.rate"].with_user(self.user_manager)
        with closing(self.env.cr.savepoint()):
            Rate.action_refresh()
            expected = self._rates()
        self.assertTrue(expected)
        with patch.object(funnel_stage_win_rate, "BACKGROUND_HISTORY_ROWS", -1):
            action = Rate.action_refresh()
            self.assertIn("Historical win rates (1 steps)", action["params"]["message"])
            with self.assertRaisesRegex(UserError, "already queued, 0 % done"):
                Rate.action_refresh()
        job = self._job("win_rate")
        self.assertEqual(job.progress_text, "Queued: 0 of 1 steps")
        self.Job._cron_run()
        self.assertEqual((job.state, job.done), ("done", 1))
        self.assertEqual(self._rates(), expected)
        self.assertEqual(
            job.summary,
            "Historical win rates refreshed from the closings of the last 12 months.",
        )

    def test_snapshot_in_the_background(self):
        Snapshot = self.env["funnel.forecast.snapshot"].with_user(self.user_manager)
        with patch.object(funnel_forecast_snapshot, "BACKGROUND_OPEN_LEADS", 0):
            Snapshot.action_take_snapshot()
            with self.assertRaisesRegex(UserError, "already queued"):
                Snapshot.action_take_snapshot()
        job = self._job("snapshot")
        self.assertEqual((job.res_model, job.res_id), ("res.company", self.company.id))
        self.assertFalse(Snapshot.sudo().search([]))
        self.Job._cron_run()
        snapshot = Snapshot.sudo().search([])
        self.assertEqual(snapshot.kind, "manual")
        self.assertEqual(snapshot.user_id, self.user_manager)
        self.assertEqual(
            job.summary,
            f"Forecast snapshot taken: {snapshot.line_count} open opportunities "
            "frozen.",
        )
        self.assertIn(self.leads[0], snapshot.line_ids.lead_id)

    def test_snapshot_below_threshold_at_once(self):
        action = (
            self.env["funnel.forecast.snapshot"]
            .with_user(self.user_manager)
            .action_take_snapshot()
        )
        self.assertEqual(action["params"]["type"], "success")
        self.assertFalse(self.Job.sudo().search([]))


class TestJobMassUpdate(JobCommon):
    """Move to Stage and Change Forecast Category from the list's Action menu."""

    def _update(self, leads, user=None, **values):
        wizard = (
            self.env["funnel.lead.mass.update"]
            .with_user(user or self.user_salesman)
            .with_context(default_lead_ids=leads.ids)
            .create(values)
        )
        return wizard.action_apply()

    def _meet_all(self, leads):
        for lead in leads:
            self._tick(lead, self.c1_budget)

    def test_stage_move_below_threshold_as_multi_edit(self):
        self._meet_all(self.leads[:3])
        with background_threshold():
            self._update(self.leads[:3], change="stage_move", stage_id=self.s2.id)
        self.assertEqual(self.leads[:3].stage_id, self.s2)
        self.assertFalse(self.Job.sudo().search([]))
        # the gates as on the kanban: nothing moved
        with background_threshold(), self.assertRaisesRegex(UserError, "cannot move"):
            self._update(self.leads[3:6], change="stage_move", stage_id=self.s2.id)
        self.assertEqual(self.leads[3:6].stage_id, self.s1)

    def test_stage_move_in_the_background(self):
        with background_threshold():
            # checked first, as the write would: refused, nothing queued
            with self.assertRaisesRegex(UserError, "7 opportunities cannot move"):
                self._update(self.leads, change="stage_move", stage_id=self.s2.id)
            self.assertFalse(self.Job.sudo().search([]))
            self._meet_all(self.leads)
            action = self._update(self.leads, change="stage_move", stage_id=self.s2.id)
        self.assertIn("Move 7 opportunities to “S2 Needs”", action["params"]["message"])
        job = self._job("stage_move")
        self._run_chunk(job)
        self.assertEqual(self.leads[:2].stage_id, self.s2)
        # meanwhile, the last one loses its customer: its gate blocks it now
        self.leads[-1].partner_id = False
        self.Job._cron_run()
        self.assertEqual((job.state, job.done), ("done", 7))
        self.assertEqual(self.leads[:-1].stage_id, self.s2)
        self.assertEqual(self.leads[-1].stage_id, self.s1)
        self.assertEqual(
            self.leads[:-1].stage_history_ids.filtered("is_open").stage_id, self.s2
        )
        self.assertEqual(
            job.summary,
            "Move 7 opportunities to “S2 Needs”: done for 6 opportunities.\n"
            "1 were left as they are, as they could no longer be changed (a gate, "
            "a won opportunity, access rights): Deal 7",
        )

    def test_category_in_the_background(self):
        with background_threshold():
            # a salesman chooses the category of his own opportunities only
            other = self._create_lead("Tess's", user=self.user_salesman_2)
            with self.assertRaises(AccessError):
                self._update(
                    self.leads | other,
                    change="forecast_category",
                    forecast_category="commit",
                )
            self.assertFalse(self.Job.sudo().search([]))
            self._update(
                self.leads, change="forecast_category", forecast_category="commit"
            )
        job = self._job("forecast_category")
        self._run_chunk(job)
        # meanwhile, the last one goes to another salesperson
        self.leads[-1].user_id = self.user_salesman_2
        self.Job._cron_run()
        self.assertEqual(job.state, "done")
        self.assertEqual(set(self.leads[:-1].mapped("forecast_category")), {"commit"})
        self.assertEqual(self.leads[-1].forecast_category, "pipeline")
        self.assertIn("done for 6 opportunities", job.summary)

    def test_category_in_chunks_gives_the_synchronous_result(self):
        others = self.env["crm.lead"].concat(
            *(self._create_lead(f"Twin {index}") for index in range(1, 8))
        )
        with background_threshold(len(others)):
            self._update(
                others, change="forecast_category", forecast_category="best_case"
            )
        with background_threshold():
            self._update(
                self.leads, change="forecast_category", forecast_category="best_case"
            )
        self.Job._cron_run()
        fields = ["forecast_category", "forecast_category_override"]
        self.assertEqual(
            [lead.read(fields)[0] | {"id": 0} for lead in self.leads],
            [lead.read(fields)[0] | {"id": 0} for lead in others],
        )
