"""The demo's forecast calls tell their story (demo database only, like
test_demo_data.py; not imported by tests/__init__.py)."""

import logging
from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged

MODULE = "sales_funnel_pro"
_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestDemoCalls(TransactionCase):
    """A year of weekly calls: Chen Jing calls less than she wins, Mark Thompson
    more; the sales manager corrects both before each month; Anna Keller stopped
    calling three weeks ago and is flagged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Submission = cls.env["funnel.forecast.submission"]
        cls.calls = cls.Submission.search([("kind", "=", "submission")])
        cls.adjustments = cls.Submission.search([("kind", "=", "adjustment")])
        cls.manager = cls.env.ref(f"{MODULE}.user_helen_zhou_demo")
        cls.reps = {
            key: cls.env.ref(f"{MODULE}.user_{key}_demo")
            for key in ("chen_jing", "mark_thompson", "liu_yang", "anna_keller")
        }

    def test_a_year_of_weekly_calls(self):
        """Two calls a week per rep (this month and the next), the day after the
        snapshot; the silent rep's last one three weeks ago."""
        self.assertEqual(
            self.calls.user_id, self.env["res.users"].union(*self.reps.values())
        )
        now = fields.Datetime.now()
        for key, rep in self.reps.items():
            mine = self.calls.filtered(lambda call, rep=rep: call.user_id == rep)
            weeks = 52 - (2 if key == "anna_keller" else 0)
            self.assertEqual(len(mine), 2 * weeks, key)
            self.assertEqual(mine.team_id, rep.sale_team_id, key)
            self.assertEqual(mine.submitted_by_id, rep, key)
            # the day after the last snapshot, or two weeks before for Anna
            newest = max(mine.mapped("date")).date()
            days = 20 if key == "anna_keller" else 6
            self.assertEqual((now.date() - newest).days, days, key)
            self.assertLess(min(mine.mapped("date")), now - timedelta(days=350))
        for call in self.calls:
            self.assertLessEqual(call.commit_amount, call.best_case_amount)
            self.assertGreaterEqual(call.commit_amount, call.system_won)
        self.assertTrue(self.calls.filtered("system_commit"))
        self.assertTrue(self.calls.filtered("system_weighted_historical"))

    def test_manager_adjusts_the_biased_calls(self):
        chen, mark = self.reps["chen_jing"], self.reps["mark_thompson"]
        self.assertEqual(self.adjustments.user_id, chen | mark)
        self.assertEqual(self.adjustments.submitted_by_id, self.manager)
        # one per month and biased rep, the last call before the month
        for rep in (chen, mark):
            mine = self.adjustments.filtered(lambda row, rep=rep: row.user_id == rep)
            self.assertEqual(len(mine), len(set(mine.mapped("period_start"))))
            # every month begun whose last call before it was not nil
            last = {}
            for call in self.calls.filtered(
                lambda call, rep=rep: call.user_id == rep
                and call.date < fields.Datetime.to_datetime(call.period_start)
            ).sorted("date"):
                last[call.period_start] = call
            today = fields.Date.today()  # the day the story was told
            self.assertEqual(
                set(mine.mapped("period_start")),
                {
                    period
                    for period, call in last.items()
                    if call.commit_amount and period <= today
                },
                rep.name,
            )
            self.assertGreaterEqual(len(mine), 4, rep.name)
            changed = 0
            for row in mine:
                call = row.submission_id
                self.assertLess(
                    call.date, fields.Datetime.to_datetime(row.period_start)
                )
                if rep == chen:
                    self.assertGreaterEqual(row.commit_amount, call.commit_amount)
                else:
                    self.assertLessEqual(row.commit_amount, call.commit_amount)
                changed += row.commit_amount != call.commit_amount
            self.assertGreater(changed, len(mine) / 2, rep.name)

    def test_calls_accuracy_story(self):
        """Over the last twelve months: Chen Jing's calls are too low, Mark
        Thompson's too high; the manager's are closer for both."""
        chen, mark = self.reps["chen_jing"], self.reps["mark_thompson"]
        Report = self.env["funnel.accuracy.report"].with_user(self.manager)
        today = fields.Date.today()  # the day the story was told
        groups = Report._read_group(
            [
                ("is_period_over", "=", True),
                ("months_ahead", "<", 3),
                ("period", ">=", today.replace(day=1) - timedelta(days=365)),
            ],
            ["user_id"],
            ["bias_submitted:sum", "bias_adjusted:sum"],
        )
        bias = {user: (submitted, adjusted) for user, submitted, adjusted in groups}
        _logger.info(
            "Bias of the calls (rep's, manager's): %s",
            {user.name: figures for user, figures in bias.items()},
        )
        self.assertLess(bias[chen][0], -15, bias[chen])
        self.assertGreater(bias[mark][0], 30, bias[mark])
        for key in ("liu_yang", "anna_keller"):
            self.assertLess(abs(bias[self.reps[key]][0]), 15, key)
        for rep in (chen, mark):
            self.assertLess(abs(bias[rep][1]), abs(bias[rep][0]), rep.name)

    def test_silent_rep_flagged(self):
        anna = self.reps["anna_keller"]
        stale = self.Submission.search(
            [
                ("is_current", "=", True),
                ("kind", "=", "submission"),
                ("period_end", ">=", fields.Date.context_today(self.Submission)),
                ("days_since_update", ">=", 7),
            ]
        )
        self.assertIn(anna, stale.user_id)
        self.assertNotIn(self.reps["chen_jing"], stale.user_id)
        for key, rep in self.reps.items():
            status = self.Submission.with_user(rep).funnel_board_status()
            self.assertEqual(status["stale"], key == "anna_keller", key)
