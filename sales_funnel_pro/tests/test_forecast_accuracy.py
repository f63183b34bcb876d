from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, users

from .test_forecast_snapshot import ForecastSnapshotCommon

S1 = date(2024, 3, 4)
S2 = date(2024, 3, 18)
MARCH = date(2024, 3, 1)
APRIL = date(2024, 4, 1)
FIGURES = [
    "line_count",
    "slipped_count",
    "slip_rate",
    "expected_revenue",
    "closed_revenue",
    "actual_revenue",
    "forecast_probability",
    "forecast_stage",
    "forecast_historical",
    "forecast_commit",
    "forecast_best_case",
    "accuracy_probability",
    "accuracy_stage",
    "accuracy_historical",
    "accuracy_commit",
    "accuracy_best_case",
    "bias_probability",
    "bias_stage",
    "bias_historical",
    "bias_commit",
    "bias_best_case",
]
# the figures in the order of FIGURES
EXPECTED = {
    (S1, MARCH, "sam"): (
        2, 1, 50.0, 16000, 0, 12000, 11000, 10500, 7800, 10000, 16000,
        91.7, 87.5, 65.0, 83.3, 66.7, -8.3, -12.5, -35.0, -16.7, 33.3,
    ),
    (S1, APRIL, "sam"): (
        1, 0, 0.0, 4000, 0, 6000, 800, 1000, 1000, 4000, 4000,
        13.3, 16.7, 16.7, 66.7, 66.7, -86.7, -83.3, -83.3, -33.3, -33.3,
    ),
    (S1, MARCH, "tess"): (
        2, 1, 50.0, 13000, 3000, 10000, 12200, 11500, 9300, 11000, 16000,
        78.0, 85.0, 93.0, 90.0, 40.0, 22.0, 15.0, -7.0, 10.0, 60.0,
    ),
    (S2, MARCH, "sam"): (
        1, 1, 100.0, 6000, 12000, 12000, 15000, 15000, 13800, 12000, 18000,
        75.0, 75.0, 85.0, 100.0, 50.0, 25.0, 25.0, 15.0, 0.0, 50.0,
    ),
    (S2, APRIL, "sam"): (
        1, 0, 0.0, 4000, 0, 6000, 800, 1000, 1000, 4000, 4000,
        13.3, 16.7, 16.7, 66.7, 66.7, -86.7, -83.3, -83.3, -33.3, -33.3,
    ),
    (S2, MARCH, "tess"): (
        1, 1, 100.0, 8000, 8000, 10000, 15200, 14000, 12800, 16000, 16000,
        48.0, 60.0, 72.0, 40.0, 40.0, 52.0, 40.0, 28.0, 60.0, 60.0,
    ),
}  # fmt: skip


class TestForecastAccuracy(ForecastSnapshotCommon):
    """Two weekly snapshots of the same opportunities, and what became of them.

    Rates: s2 25 %, s3 50 % (best case, historical 30 %), s4 75 % (commit,
    historical 60 %). Every opportunity is created on Friday 1 March; Tess wins
    ``lead_h`` (s4, 3,000) that day.

    ==== ===== ==== ====== ==== ======== =============================================
    lead owner stage amount prob expected what became of it
    ==== ===== ==== ====== ==== ======== =============================================
    a    Sam   s4   10,000 80   15/03    won 14/03 for 12,000
    b    Sam   s3    6,000 50   28/03    pushed to 20/04 on 25/03, won 18/04 (slipped)
    c    Sam   s2    4,000 20   10/04    rep's commit; lost 05/04 (not slipped)
    d    Tess  s4    8,000 90   20/03    pushed to 15/05 on 25/03, still open (slipped)
    e    Tess  s3    5,000 40   10/03    won 08/03
    f    Sam   s2    1,000 20   none     part of no period
    g    Sam   s2    1,000 20   20/02    overdue: part of no period
    i    Tess  (created 22/03 and won the same day for 2,000: not forecast)
    ==== ===== ==== ====== ==== ======== =============================================

    Snapshots S1 on Monday 4 March and S2 on Monday 18 March, at 09:00. Actuals:
    Sam 12,000 in March and 6,000 in April; Tess 10,000 in March (h, e, i).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sam, tess = cls.user_salesman, cls.user_salesman_2
        cls.reps = {"sam": sam, "tess": tess}
        with freeze_time("2024-03-01 10:00:00"):
            cls.lead_h = cls._create_lead(
                "h", stage=cls.s4, user=tess, expected_revenue=3000, probability=90
            )
            cls.lead_h.stage_id = cls.won
            cls.lead_a = cls._deal("a", cls.s4, sam, 10000, 80, date(2024, 3, 15))
            cls.lead_b = cls._deal("b", cls.s3, sam, 6000, 50, date(2024, 3, 28))
            cls.lead_c = cls._deal("c", cls.s2, sam, 4000, 20, date(2024, 4, 10))
            cls.lead_c.forecast_category_override = "commit"
            cls.lead_d = cls._deal("d", cls.s4, tess, 8000, 90, date(2024, 3, 20))
            cls.lead_e = cls._deal("e", cls.s3, tess, 5000, 40, date(2024, 3, 10))
            cls.lead_f = cls._deal("f", cls.s2, sam, 1000, 20, False)
            cls.lead_g = cls._deal("g", cls.s2, sam, 1000, 20, date(2024, 2, 20))
        with freeze_time("2024-03-04 09:00:00"):
            cls.snapshot_1 = cls._take_class()
        with freeze_time("2024-03-08 10:00:00"):
            cls.lead_e.stage_id = cls.won
        with freeze_time("2024-03-14 10:00:00"):
            cls.lead_a.write({"stage_id": cls.won.id, "expected_revenue": 12000})
        with freeze_time("2024-03-18 09:00:00"):
            cls.snapshot_2 = cls._take_class()
        with freeze_time("2024-03-22 10:00:00"):
            cls.lead_i = cls._create_lead(
                "i", stage=cls.s4, user=tess, expected_revenue=2000
            )
            cls.lead_i.stage_id = cls.won
        with freeze_time("2024-03-25 10:00:00"):
            cls.lead_b.date_deadline = date(2024, 4, 20)
            cls.lead_d.date_deadline = date(2024, 5, 15)
        with freeze_time("2024-04-05 10:00:00"):
            cls.lead_c.action_set_lost()
        with freeze_time("2024-04-18 10:00:00"):
            cls.lead_b.stage_id = cls.won
        cls.snapshots = cls.snapshot_1 | cls.snapshot_2
        cls.key = {cls.snapshot_1: S1, cls.snapshot_2: S2}

    @classmethod
    def _take_class(cls):
        return cls.env["funnel.forecast.snapshot"]._take_snapshots(cls.env.company)

    def _report(self):
        return self.env["funnel.accuracy.report"]

    def _target_values(self, owner, period, date_from, amount):
        """A target of ``owner``, a salesperson or a team."""
        field = "user_id" if owner._name == "res.users" else "team_id"
        return {
            field: owner.id,
            "period": period,
            "date_from": date_from,
            "amount": amount,
        }

    def _rows(self, domain=None):
        rows = self._report().search(
            [("snapshot_id", "in", self.snapshots.ids), *(domain or [])]
        )
        name = {user: key for key, user in self.reps.items()}
        return {
            (row.snapshot_date, row.period, name[row.user_id]): tuple(
                row[fname] for fname in FIGURES
            )
            for row in rows
        }

    def _group(self, groupby, domain=None):
        return self._report()._read_group(
            [("snapshot_id", "in", self.snapshots.ids), *(domain or [])],
            groupby,
            [f"{fname}:sum" for fname in FIGURES],
        )

    def _assert_groups_expected(self):
        """Grouped by snapshot, month and salesperson: the figures of EXPECTED."""
        groups = self._group(["snapshot_id", "period:month", "user_id"])
        name = {user: key for key, user in self.reps.items()}
        self.assertEqual(
            {
                (self.key[snapshot], period, name[user]): figures
                for snapshot, period, user, *figures in groups
            },
            {key: list(figures) for key, figures in EXPECTED.items()},
        )

    def test_initial_data(self):
        self.assertEqual(self.lead_h.date_closed.date(), date(2024, 3, 1))
        self.assertEqual(
            self.snapshot_1.line_ids.lead_id,
            self.lead_a
            | self.lead_b
            | self.lead_c
            | self.lead_d
            | self.lead_e
            | self.lead_f
            | self.lead_g,
        )
        self.assertEqual(
            self.snapshot_2.line_ids.lead_id,
            self.lead_b | self.lead_c | self.lead_d | self.lead_f | self.lead_g,
        )
        self.assertEqual(self.lead_b.date_closed.date(), date(2024, 4, 18))
        self.assertEqual(self.lead_c.date_closed.date(), date(2024, 4, 5))

    # ------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------

    def test_rows(self):
        """Each snapshot × month × rep: forecasts, actual, accuracy, bias, slip."""
        self.assertEqual(self._rows(), EXPECTED)
        row = self._report().search(
            [
                ("snapshot_id", "=", self.snapshot_1.id),
                ("user_id", "=", self.reps["sam"].id),
                ("period", "=", MARCH),
            ]
        )
        self.assertRecordValues(
            row,
            [
                {
                    "team_id": self.team.id,
                    "company_id": self.company.id,
                    "is_period_over": True,
                    "is_before_period": False,
                }
            ],
        )

    def test_grouped_by_snapshot_and_period(self):
        """The same figures at every level: read from the totals of the group. Two
        reps' errors of opposite sign offset each other in the team's forecast."""
        self._assert_groups_expected()
        [(__, __, *team_march)] = self._group(
            ["snapshot_id", "period:month"],
            [("snapshot_id", "=", self.snapshot_1.id), ("period", "=", MARCH)],
        )
        figures = dict(zip(FIGURES, team_march, strict=True))
        self.assertEqual(
            figures,
            {
                "line_count": 4,
                "slipped_count": 2,
                "slip_rate": 50.0,
                "expected_revenue": 29000,
                "closed_revenue": 3000,
                "actual_revenue": 22000,
                "forecast_probability": 23200,
                "forecast_stage": 22000,
                "forecast_historical": 17100,
                "forecast_commit": 21000,
                "forecast_best_case": 32000,
                "accuracy_probability": 94.5,
                "accuracy_stage": 100.0,
                "accuracy_historical": 77.7,
                "accuracy_commit": 95.5,
                "accuracy_best_case": 54.5,
                "bias_probability": 5.5,
                "bias_stage": 0.0,
                "bias_historical": -22.3,
                "bias_commit": -4.5,
                "bias_best_case": 45.5,
            },
        )

    def test_over_several_snapshots(self):
        """Over two snapshots the actual of a month counts once: the amounts are
        averages per snapshot, accuracy and bias those of the average forecast,
        the slip rate that of all their opportunities."""
        groups = self._group(["user_id", "period:month"])
        by_key = {
            (user, period): dict(zip(FIGURES, figures, strict=True))
            for user, period, *figures in groups
        }
        sam_march = by_key[self.reps["sam"], MARCH]
        self.assertEqual(sam_march["actual_revenue"], 12000)
        self.assertEqual(sam_march["forecast_probability"], 13000)
        self.assertEqual(sam_march["forecast_commit"], 11000)
        self.assertEqual(sam_march["closed_revenue"], 6000)
        self.assertEqual(sam_march["accuracy_probability"], 91.7)
        self.assertEqual(sam_march["bias_probability"], 8.3)
        self.assertEqual(sam_march["accuracy_commit"], 91.7)
        self.assertEqual(sam_march["bias_commit"], -8.3)
        self.assertEqual(sam_march["line_count"], 3)
        self.assertEqual(sam_march["slip_rate"], 66.7)
        tess_march = by_key[self.reps["tess"], MARCH]
        self.assertEqual(tess_march["actual_revenue"], 10000)
        self.assertEqual(tess_march["forecast_commit"], 13500)
        self.assertEqual(tess_march["bias_commit"], 35.0)
        self.assertEqual(tess_march["slip_rate"], 66.7)
        # by quarter: March is all of Q1, April is in Q2
        quarters = self._group(
            ["user_id", "period:quarter"], [("user_id", "=", self.reps["sam"].id)]
        )
        bias = FIGURES.index("bias_commit")
        self.assertEqual(
            [(period, figures[bias]) for __, period, *figures in quarters],
            [(date(2024, 1, 1), -8.3), (date(2024, 4, 1), -33.3)],
        )

    def test_evolution(self):
        """The forecast of Sam's March, snapshot after snapshot, with the actual
        as reference."""
        groups = self.env["funnel.accuracy.trend"]._read_group(
            [
                ("snapshot_id", "in", self.snapshots.ids),
                ("user_id", "=", self.reps["sam"].id),
                ("period", "=", MARCH),
            ],
            ["snapshot_date:day", "figure"],
            ["amount:sum"],
        )
        self.assertEqual(
            {(day, figure): amount for day, figure, amount in groups},
            {
                (S1, "actual"): 12000,
                (S1, "commit"): 10000,
                (S1, "best_case"): 16000,
                (S1, "probability"): 11000,
                (S1, "stage"): 10500,
                (S1, "historical"): 7800,
                (S2, "actual"): 12000,
                (S2, "commit"): 12000,
                (S2, "best_case"): 18000,
                (S2, "probability"): 15000,
                (S2, "stage"): 15000,
                (S2, "historical"): 13800,
            },
        )

    def test_evolution_sees_a_win_at_once(self):
        """Won a moment ago, in the same transaction: the evolution, read first,
        shows the new actual (it flushes what the accuracy analysis reads)."""
        with freeze_time("2024-03-28 10:00:00"):
            self.lead_d.stage_id = self.won
        domain = [
            ("snapshot_id", "=", self.snapshot_1.id),
            ("user_id", "=", self.reps["tess"].id),
            ("period", "=", MARCH),
            ("figure", "=", "actual"),
        ]
        Trend = self.env["funnel.accuracy.trend"]
        # Tess's 10,000 of March and the 8,000 of lead d
        self.assertEqual(Trend._read_group(domain, [], ["amount:sum"]), [(18000,)])
        self.assertEqual(Trend.search(domain).amount, 18000)

    def test_accuracy_floored_at_zero(self):
        """A forecast that misses by more than the actual scores 0 %, not less;
        the bias says by how much it missed."""
        sam = self.reps["sam"]
        with freeze_time("2024-06-03 09:00:00"):
            self._deal("big", self.s4, sam, 35000, 90, date(2024, 6, 20))
            small = self._deal("small", self.s4, sam, 10000, 90, date(2024, 6, 25))
            snapshot = self._take_class()
        with freeze_time("2024-06-10 10:00:00"):
            small.stage_id = self.won
        domain = [("snapshot_id", "=", snapshot.id), ("period", "=", date(2024, 6, 1))]
        measures = [
            "forecast_commit",
            "actual_revenue",
            "accuracy_commit",
            "bias_commit",
            "accuracy_historical",
            "bias_historical",
        ]
        # commit 45,000 against 10,000 won: 1 − 35,000 ÷ 10,000 = −250 %;
        # historical (the team's 60 %) 27,000
        expected = (45000, 10000, 0.0, 350.0, 0.0, 170.0)
        [row] = self._report().search(domain)
        self.assertEqual(tuple(row[fname] for fname in measures), expected)
        self.assertEqual(
            self._report()._read_group(
                domain, [], [f"{fname}:sum" for fname in measures]
            ),
            [expected],
        )

    def test_target_and_attainment(self):
        """The target of each period (the targets month by month, as in the
        forecast), per snapshot like the actual; attainment = actual ÷ target.
        A team's month counts its team target; grouped by salesperson, the
        team's target is in no group. The other figures do not change."""
        sam, tess = self.reps["sam"], self.reps["tess"]
        self.env["crm.team.member"].create(
            [{"crm_team_id": self.team.id, "user_id": user.id} for user in (sam, tess)]
        )
        self.env["funnel.target"].create(
            [
                # 10,000 a month; the snapshots of March forecast March only
                self._target_values(sam, "quarter", date(2024, 1, 1), 30000),
                self._target_values(tess, "month", MARCH, 8000),
                self._target_values(self.team, "month", MARCH, 25000),
            ]
        )
        measures = ["actual_revenue:sum", "target:sum", "attainment:avg"]
        by_user = self._report()._read_group(
            [("snapshot_id", "in", self.snapshots.ids)],
            ["user_id", "period:month"],
            measures,
        )
        self.assertEqual(
            by_user,
            [
                (sam, MARCH, 12000, 10000, 120.0),
                (sam, APRIL, 6000, 0, False),
                (tess, MARCH, 10000, 8000, 125.0),
            ],
        )
        # the team: its target of 25,000, not 25,000 + 18,000
        self.assertEqual(
            self._report()._read_group(
                [("snapshot_id", "in", self.snapshots.ids), ("period", "=", MARCH)],
                ["team_id"],
                measures,
            ),
            [(self.team, 22000, 25000, 88.0)],
        )
        self.assertEqual(
            self._report()._read_group(
                [("snapshot_id", "in", self.snapshots.ids), ("period", "=", MARCH)],
                [],
                measures,
            ),
            [(22000, 25000, 88.0)],
        )
        # a target row per snapshot and month of each target
        targets = self._report().search(
            [("snapshot_id", "in", self.snapshots.ids), ("row_type", "=", "target")]
        )
        self.assertEqual(len(targets), 6)
        self.assertEqual(set(targets.mapped("period")), {MARCH})
        self.assertEqual(
            sorted(targets.mapped("target")), [8000, 8000, 10000, 10000, 25000, 25000]
        )
        self.assertEqual(set(targets.mapped("line_count")), {0})
        self.assertFalse(any(targets.mapped("accuracy_commit")))
        # accuracy, bias, amounts and slip rate as without targets
        self._assert_groups_expected()
        self.assertEqual(
            self.env["funnel.accuracy.trend"].search_count(
                [("snapshot_id", "in", self.snapshots.ids)]
            ),
            6 * len(EXPECTED),
            "the evolution shows the forecasts, not the targets",
        )

    # ------------------------------------------------------------
    # Who sees what
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_salesman_sees_own_accuracy(self):
        self.assertEqual(
            self._rows(), {k: v for k, v in EXPECTED.items() if k[2] == "sam"}
        )
        trend = self.env["funnel.accuracy.trend"].search([])
        self.assertEqual(trend.user_id, self.env.user)
        tess_rows = (
            self._report().sudo().search([("user_id", "=", self.reps["tess"].id)])
        )
        self.assertEqual(len(tess_rows), 2)
        with self.assertRaises(AccessError):
            tess_rows.with_env(self.env).read(["bias_commit"])
        with self.assertRaises(AccessError):
            self._report().create({})

    @users("funnel_salesman_2")
    def test_other_salesman_sees_own_accuracy(self):
        self.assertEqual(
            self._rows(), {k: v for k, v in EXPECTED.items() if k[2] == "tess"}
        )

    @users("funnel_all_leads", "funnel_manager")
    def test_all_leads_and_manager_see_all(self):
        self.assertEqual(self._rows(), EXPECTED)

    def test_multi_company(self):
        with freeze_time("2024-03-04 09:00:00"):
            other, other_rep, lead = self._other_company_deal(probability=50)
            theirs = self.env["funnel.forecast.snapshot"]._take_snapshots(other)
        self.assertEqual(theirs.line_ids.lead_id, lead)
        env = self.env(user=other_rep, context={"allowed_company_ids": other.ids})
        rows = env["funnel.accuracy.report"].search([])
        self.assertEqual(rows.company_id, other)
        self.assertEqual(rows.mapped("forecast_probability"), [150])
        self.assertEqual(rows.mapped("slip_rate"), [100.0])
        self.assertFalse(
            env["funnel.accuracy.report"].search(
                [("snapshot_id", "in", self.snapshots.ids)]
            )
        )
