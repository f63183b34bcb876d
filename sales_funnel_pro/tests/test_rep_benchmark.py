from datetime import date

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time, tagged

from odoo.addons.sales_funnel_pro.models.funnel_rep_benchmark_build import (
    _flag,
    _shape,
    _shrunk,
)
from odoo.addons.sales_funnel_pro.statistics import wilson_interval

from .capability_common import NOW, CapabilityCommon


@tagged("post_install", "-at_install")
class TestSmallSamples(CapabilityCommon):
    """The glossary's examples of small samples, against a 45 % team."""

    def test_wilson_bounds(self):
        low, high = wilson_interval(6, 20)
        self.assertEqual((round(100 * low, 1), round(100 * high, 1)), (14.5, 51.9))
        low, high = wilson_interval(18, 60)
        self.assertEqual((round(100 * low, 1), round(100 * high, 1)), (19.9, 42.5))
        self.assertEqual(wilson_interval(0, 0), (None, None))

    def test_flags(self):
        # 6 of 20: the interval holds 45 %, nothing can be said
        self.assertEqual(_flag(20, *wilson_interval(6, 20), 0.45, 10), "in_line")
        # 18 of 60: the upper bound is under the team
        self.assertEqual(_flag(60, *wilson_interval(18, 60), 0.45, 10), "below")
        self.assertEqual(_flag(60, *wilson_interval(42, 60), 0.45, 10), "above")
        self.assertEqual(_flag(9, *wilson_interval(0, 9), 0.45, 10), "too_few")

    def test_shrunk_rates(self):
        self.assertAlmostEqual(_shrunk(6, 20, 0.45, 10), 0.35)
        self.assertEqual(round(_shrunk(18, 60, 0.45, 10), 3), 0.321)
        self.assertEqual(_shrunk(18, 60, 0.45, 0), 0.3)

    def test_funnel_shape(self):
        deviation, dry_top, late_heavy, __ = _shape(
            {1: 1, 2: 3, 3: 6}, {1: 4.0, 2: 3.0, 3: 3.0}, 1, [3]
        )
        self.assertAlmostEqual(deviation, 0.3)
        self.assertTrue(dry_top)  # 10 % of the funnel against 40 % expected
        self.assertTrue(late_heavy)  # 60 % late against 30 %
        deviation, dry_top, late_heavy, __ = _shape(
            {1: 4, 2: 3, 3: 3}, {1: 4.0, 2: 3.0, 3: 3.0}, 1, [3]
        )
        self.assertEqual((deviation, dry_top, late_heavy), (0.0, False, False))


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestRepBenchmark(CapabilityCommon):
    """Sam converts 18 of his 60 passes of s2; Tess, the rest of the team,
    18 of 40 (45 %). Every amount is 10,000.

    - Sam: 60 opportunities created in s2 30 days ago; 18 moved to s3 20 days
      ago and won 10 days ago, 42 lost 15 days ago; 2 open in s3 since 5 days,
      expected to close this quarter; his target of the quarter is 400,000.
    - Tess: 40 opportunities from s1 (31 days ago) to s2 (30 days ago); 18 to
      s3 and won as Sam's, 22 lost as his; 1 open in s3.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sam, tess = cls.user_salesman, cls.user_salesman_2
        for index in range(60):
            if index < 18:
                cls._deal(sam, [(cls.s2, 30), (cls.s3, 20)], ("won", 10))
            else:
                cls._deal(sam, [(cls.s2, 30)], ("lost", 15))
        for index in range(40):
            if index < 18:
                cls._deal(tess, [(cls.s1, 31), (cls.s2, 30), (cls.s3, 20)], ("won", 10))
            else:
                cls._deal(tess, [(cls.s1, 31), (cls.s2, 30)], ("lost", 15))
        for __ in range(2):
            cls._deal(sam, [(cls.s3, 5)]).date_deadline = date(2025, 6, 30)
        cls._deal(tess, [(cls.s3, 5)])
        cls.env["funnel.target"].create(
            {
                "user_id": sam.id,
                "period": "quarter",
                "date_from": date(2025, 4, 1),
                "amount": 400000,
            }
        )
        cls.Benchmark = cls.env["funnel.rep.benchmark"]

    def _row(self, user, stage=None, span="long"):
        return self.Benchmark.search(
            [
                ("user_id", "=", user.id),
                ("stage_id", "=", stage.id if stage else False),
                ("span", "=", span),
                ("team_id", "=", self.team.id),
            ]
        )

    def test_stage_against_the_team(self):
        self.Benchmark._rebuild()
        row = self._row(self.user_salesman, self.s2)
        self.assertRecordValues(
            row,
            [
                {
                    "entered_count": 60,
                    "settled_count": 60,
                    "advanced_count": 18,
                    "lost_count": 42,
                    "conversion_rate": 30.0,
                    "team_rate": 45.0,
                    "wilson_low": 19.9,
                    "wilson_high": 42.5,
                    "flag": "below",
                    "shrunk_rate": 32.1,
                    "gap_points": -12.9,
                    "loss_rate": 70.0,
                    "median_days": 15.0,  # 18 stays of 10 days, 42 of 15
                    "next_stage_to_won": 100.0,
                    "is_coach_here": True,
                }
            ],
        )
        # (45 % − 32.14 %) × 60 entries × 100 % × 10,000 a year (12 months)
        self.assertAlmostEqual(row.impact, 77142.86, places=2)
        # the 90 days' impact is brought to a year
        short = self._row(self.user_salesman, self.s2, "short")
        self.assertAlmostEqual(short.impact, 77142.86 * 365 / 90, places=0)
        # Tess against Sam (30 %): 18 of 40 is above? its interval [30.7, 60.1]
        tess = self._row(self.user_salesman_2, self.s2)
        self.assertEqual((tess.team_rate, tess.flag), (30.0, "above"))
        self.assertLess(tess.impact, 0)

    def test_summary_of_the_rep(self):
        self.Benchmark._rebuild()
        card = self._row(self.user_salesman)
        self.assertRecordValues(
            card,
            [
                {
                    "won_count": 18,
                    "closed_count": 60,
                    "win_rate": 30.0,
                    "team_win_rate": 45.0,
                    "win_rate_value": 30.0,
                    "avg_won_amount": 10000.0,
                    "median_cycle_days": 20.0,
                    # Sam's wins took 20 days, Tess's 21
                    "team_median_cycle_days": 21.0,
                    "days_to_loss": 15.0,
                    "open_qualified_count": 2,
                    "team_open_qualified": 1.0,
                    # 2 × 30 % × 10,000 ÷ 20 days; the team's: 1 × 45 % × 10,000
                    # ÷ 21
                    "velocity": 300.0,
                    "team_velocity": 214.29,
                    "coach_stage_id": self.s2.id,
                    "skill_score": 30.0,
                    "target_amount": 400000.0,
                }
            ],
        )
        # (400,000 − 180,000 won − 2 × 10,000 × 50 %) ÷ (10,000 × 45 % of the
        # first stage's passes won), in the one month left of the quarter
        self.assertEqual(card.entries_needed, 46.7)
        # s3 → won passes s4
        self.assertEqual(
            card.stage_line_ids.mapped("stage_id"), self.s2 | self.s3 | self.s4
        )
        # Sam has no entry in s1: his funnel has no expected shape
        self.assertFalse(card.shape_deviation)

    def test_cumulative_conversion(self):
        self.Benchmark._rebuild()
        tess_s3 = self._row(self.user_salesman_2, self.s3)
        # 18 of Tess's 40 first-stage entrants passed s3
        self.assertEqual(tess_s3.cumulative_rate, 45.0)
        self.assertEqual(tess_s3.team_cumulative_rate, 45.0)

    def test_collaboration(self):
        """团队协同: Sam's closed opportunities that a colleague worked on: found
        by Tess (handed over) or with an activity Tess logged; his own activity
        and his own finds do not count."""
        deals = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search(
                [("user_id", "=", self.user_salesman.id), ("date_closed", "!=", False)],
                order="id",
            )
        )
        self.assertEqual(len(deals), 60)
        deals[:6].referred_by_id = self.user_salesman_2
        deals[6:8].referred_by_id = self.user_salesman
        call = self.env.ref("mail.mail_activity_data_call")
        self.env["funnel.activity.log"].create(
            [
                {"lead_id": deal.id, "user_id": user.id, "activity_type_id": call.id}
                for deal, user in [
                    (deals[10], self.user_salesman_2),
                    (deals[11], self.user_salesman_2),
                    (deals[12], self.user_salesman_2),
                    # found by Tess and helped by her: counted once
                    (deals[0], self.user_salesman_2),
                    (deals[13], self.user_salesman),
                ]
            ]
        )
        self.Benchmark._rebuild()
        # 6 found by Tess + 3 helped by her, of 60 closed
        self.assertEqual(self._row(self.user_salesman).collaboration_score, 15.0)

    def test_rebuild_is_idempotent(self):
        def snapshot():
            fields = [
                "user_id",
                "stage_id",
                "span",
                "conversion_rate",
                "impact",
                "flag",
            ]
            return sorted(
                tuple(str(v) for v in row.values())
                for row in self.Benchmark.search_read([], fields)
                if row.pop("id")
            )

        self.Benchmark._rebuild()
        first = snapshot()
        self.assertTrue(self.Benchmark._rebuild())
        self.assertEqual(snapshot(), first)
        self.assertTrue(first)

    def test_settings_refused(self):
        company = self.company
        for values, message in [
            ({"funnel_min_sample": 0}, "minimum sample"),
            ({"funnel_shrinkage": -1}, "shrinkage cannot be negative"),
            ({"funnel_window_days": 0}, "windows"),
        ]:
            with self.assertRaisesRegex(ValidationError, message):
                company.write(values)
            self.assertEqual(
                (company.funnel_min_sample, company.funnel_shrinkage), (10, 10.0)
            )
        settings = self.env["res.config.settings"].create({"funnel_min_sample": 61})
        settings.execute()
        self.assertEqual(company.funnel_min_sample, 61)
        self.Benchmark._rebuild()
        self.assertEqual(self._row(self.user_salesman, self.s2).flag, "too_few")

    def test_access(self):
        self.Benchmark._rebuild()
        sam, tess = self.user_salesman, self.user_salesman_2
        own = self.Benchmark.with_user(sam).search([])
        self.assertEqual(own.user_id, sam)
        self.assertEqual(self.Benchmark.with_user(tess).search([]).user_id, tess)
        with self.assertRaises(AccessError):
            self._row(tess).with_user(sam).read(["win_rate"])
        for user in (self.user_all_leads, self.user_manager):
            self.assertEqual(
                self.Benchmark.with_user(user)
                .search([("team_id", "=", self.team.id)])
                .user_id,
                sam | tess,
            )
        with self.assertRaises(AccessError):
            own.with_user(sam).write({"win_rate": 99})
        with self.assertRaises(AccessError):
            self.Benchmark.with_user(self.user_manager).create(
                {"company_id": self.company.id, "user_id": sam.id, "span": "long"}
            )
        with self.assertRaises(AccessError):
            self.Benchmark.with_user(sam).action_rebuild()
        result = self.Benchmark.with_user(self.user_manager).action_rebuild()
        self.assertEqual(result["params"]["type"], "success")

    def test_other_company(self):
        self.Benchmark._rebuild()
        other = self.env["res.company"].create({"name": "Other Company"})
        manager = self.user_manager
        manager.write({"company_ids": [(4, other.id)]})
        rows = (
            self.Benchmark.with_user(manager)
            .with_context(allowed_company_ids=[other.id])
            .search([])
        )
        self.assertFalse(rows)
        passes = (
            self.env["funnel.conversion.report"]
            .with_user(manager)
            .with_context(allowed_company_ids=[other.id])
            .search([])
        )
        self.assertFalse(passes)

    def test_opportunities_behind_a_row(self):
        self.Benchmark._rebuild()
        row = self._row(self.user_salesman, self.s2)
        action = row.with_user(self.user_manager).action_open_opportunities()
        leads = (
            self.env["crm.lead"]
            .with_context(**action["context"])
            .search(action["domain"])
        )
        self.assertEqual(len(leads), 60)
        card = self._row(self.user_salesman)
        stuck = card.action_open_stuck()
        self.assertIn(("stage_id", "=", self.s2.id), stuck["domain"])
        self.assertEqual(row.action_open_card()["res_id"], card.id)
