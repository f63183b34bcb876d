from datetime import date

from odoo.tests import freeze_time

from .test_forecast_snapshot import ForecastSnapshotCommon

MARCH = date(2024, 3, 1)
APRIL = date(2024, 4, 1)
MAY = date(2024, 5, 1)
CALL_FIGURES = [
    "actual_revenue",
    "call_actual_revenue",
    "forecast_submitted",
    "forecast_adjusted",
    "accuracy_submitted",
    "bias_submitted",
    "accuracy_adjusted",
    "bias_adjusted",
]


class TestForecastCallAccuracy(ForecastSnapshotCommon):
    """The calls measured against what was won, in the accuracy analysis.

    ========== ===== ======================================================
    when       who   what
    ========== ===== ======================================================
    26/02      Sam   a (s4, 10,000, expected 15/03), c (s4, 3,000, 10/04)
    26/02      Tess  b (s4, 8,000, expected 20/03)
    26/02      Lea   l (s4, 5,000, expected 25/03), no call
    27/02      Sam   calls March 9,000 / 12,000, Q2 6,000 / 9,000, May 1,000
    28/02      Max   adjusts Sam's March call to 11,000
    04/03 09h  -     snapshot S (forecasts March to February)
    05/03      Sam   calls March again, 15,000 (after the start: not counted)
    05/03      Tess  calls March 6,000 (her only call: counted)
    14/03            a won for 12,000; 20/03 b won; 25/03 l won
    10/04            c won for 3,000
    ========== ===== ======================================================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sam, tess, lea = cls.user_salesman, cls.user_salesman_2, cls.user_all_leads
        cls.reps = {sam: "sam", tess: "tess", lea: "lea"}
        cls.team.member_ids = sam | tess | lea
        Submission = cls.env["funnel.forecast.submission"]
        with freeze_time("2024-02-26 10:00:00"):
            cls.lead_a = cls._deal("a", sam, 10000, date(2024, 3, 15))
            cls.lead_c = cls._deal("c", sam, 3000, date(2024, 4, 10))
            cls.lead_b = cls._deal("b", tess, 8000, date(2024, 3, 20))
            cls.lead_l = cls._deal("l", lea, 5000, date(2024, 3, 25))
        with freeze_time("2024-02-27 10:00:00"):
            cls.sam_march = cls._call(sam, MARCH, 9000, 12000)
            cls._call(sam, APRIL, 6000, 9000, period_type="quarter")
            cls._call(sam, MAY, 1000, 2000)
        with freeze_time("2024-02-28 10:00:00"):
            Submission.with_user(cls.user_manager).create(
                {
                    "submission_id": cls.sam_march.id,
                    "commit_amount": 11000,
                    "best_case_amount": 12000,
                    "note": "a grows: the second lab joins",
                }
            )
        with freeze_time("2024-03-04 09:00:00"):
            cls.snapshot = cls.env["funnel.forecast.snapshot"]._take_snapshots(
                cls.env.company
            )
        with freeze_time("2024-03-05 10:00:00"):
            cls._call(sam, MARCH, 15000, 15000)
            cls._call(tess, MARCH, 6000, 8000)
        with freeze_time("2024-03-14 10:00:00"):
            cls.lead_a.write({"stage_id": cls.won.id, "expected_revenue": 12000})
        with freeze_time("2024-03-20 10:00:00"):
            cls.lead_b.stage_id = cls.won
        with freeze_time("2024-03-25 10:00:00"):
            cls.lead_l.stage_id = cls.won
        with freeze_time("2024-04-10 10:00:00"):
            cls.lead_c.stage_id = cls.won

    @classmethod
    def _deal(cls, name, user, revenue, deadline):
        return cls._create_lead(
            name,
            stage=cls.s4,
            user=user,
            expected_revenue=revenue,
            probability=80,
            date_deadline=deadline,
        )

    @classmethod
    def _call(cls, user, period, commit, best_case, period_type="month"):
        return (
            cls.env["funnel.forecast.submission"]
            .with_user(user)
            .create(
                {
                    "user_id": user.id,
                    "period_start": period,
                    "period_type": period_type,
                    "commit_amount": commit,
                    "best_case_amount": best_case,
                }
            )
        )

    def _groups(self, groupby, domain=()):
        return self.env["funnel.accuracy.report"]._read_group(
            [("snapshot_id", "=", self.snapshot.id), *domain],
            groupby,
            [f"{fname}:sum" for fname in CALL_FIGURES],
        )

    def test_calls_per_rep_and_month(self):
        """Sam's call is his February one, the manager's the adjustment; Tess's
        is her only call, made after the start; Lea made none: no figure."""
        self.maxDiff = None
        groups = self._groups(["period:month", "user_id"], [("period", "<", MAY)])
        self.assertEqual(
            {
                (period, self.reps[user]): list(figures)
                for period, user, *figures in groups
            },
            {
                (MARCH, "sam"): [12000, 12000, 9000, 11000, 75.0, -25.0, 91.7, -8.3],
                (MARCH, "tess"): [8000, 8000, 6000, 6000, 75.0, -25.0, 75.0, -25.0],
                (MARCH, "lea"): [5000, 0, 0, 0, False, False, False, False],
                # a third of the quarter's call
                (APRIL, "sam"): [3000, 3000, 2000, 2000, 66.7, -33.3, 66.7, -33.3],
            },
        )

    def test_calls_of_a_team_and_a_quarter(self):
        """The team's March: the calls against what the callers won (Lea's
        5,000 left out); Sam's quarter: April and June a third each of his
        quarter's call, May his own call of the month."""
        [march] = self._groups(["period:month"], [("period", "<", APRIL)])
        self.assertEqual(
            list(march[1:]), [25000, 20000, 15000, 17000, 75.0, -25.0, 85.0, -15.0]
        )
        [quarter] = self._groups(
            ["period:quarter"],
            [
                ("user_id", "=", self.user_salesman.id),
                ("period", ">=", APRIL),
                ("period", "<", date(2024, 7, 1)),
            ],
        )
        self.assertEqual(
            list(quarter[1:]), [3000, 3000, 5000, 5000, 33.3, 66.7, 33.3, 66.7]
        )

    def test_row_figures(self):
        row = self.env["funnel.accuracy.report"].search(
            [
                ("snapshot_id", "=", self.snapshot.id),
                ("period", "=", MARCH),
                ("user_id", "=", self.user_salesman.id),
                ("row_type", "=", "forecast"),
            ]
        )
        self.assertEqual(
            [row[fname] for fname in CALL_FIGURES],
            [12000, 12000, 9000, 11000, 75.0, -25.0, 91.7, -8.3],
        )

    def test_salesman_sees_own_calls(self):
        groups = (
            self.env["funnel.accuracy.report"]
            .with_user(self.user_salesman)
            ._read_group(
                [("snapshot_id", "=", self.snapshot.id), ("period", "=", MARCH)],
                [],
                ["forecast_submitted:sum", "call_actual_revenue:sum"],
            )
        )
        self.assertEqual(groups, [(9000, 12000)])
