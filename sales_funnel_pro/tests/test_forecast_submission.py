from datetime import date, datetime

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time

from odoo.addons.mail.tests.common import mail_new_test_user

from .test_forecast_snapshot import ForecastSnapshotCommon

MAY = date(2024, 5, 1)
Q2 = date(2024, 4, 1)
# Sam's figures for May 2024, as the forecast analysis gives them on 6 May
SAM_MAY = {
    "system_won": 3000,
    "system_commit": 10000,
    "system_best_case": 6000,
    "system_pipeline": 4000,
    "system_weighted_probability": 11800,
    "system_weighted_stage": 11500,
    "system_weighted_historical": 8800,
}


@freeze_time("2024-05-06 10:00:00")
class SubmissionCommon(ForecastSnapshotCommon):
    """Sam's pipeline on Monday 6 May 2024 (rates: s2 25 %, s3 50 % best case,
    historical 30 %; s4 75 % commit, historical 60 %):

    ==== ===== ====== ====== ==== ======== ==================================
    lead owner stage  amount prob expected
    ==== ===== ====== ====== ==== ======== ==================================
    a    Sam   s4     10,000 80   20/05    commit
    b    Sam   s3      6,000 50   25/05    best case
    c    Sam   s2      4,000 20   28/05    pipeline
    d    Sam   s2      2,000 20   15/05    omitted: left out
    e    Sam   won     3,000      (won 02/05)
    f    Sam   s4      5,000 70   10/06    commit, June (in the quarter only)
    g    Tess  s4      7,000 90   20/05    not Sam's
    ==== ===== ====== ====== ==== ======== ==================================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sam, tess = cls.user_salesman, cls.user_salesman_2
        cls.team.member_ids = sam | tess
        cls.Submission = cls.env["funnel.forecast.submission"]
        with freeze_time("2024-05-02 10:00:00"):
            cls.lead_e = cls._deal("e", cls.s4, sam, 3000, 90, date(2024, 5, 2))
            cls.lead_e.stage_id = cls.won
        cls._deal("a", cls.s4, sam, 10000, 80, date(2024, 5, 20))
        cls._deal("b", cls.s3, sam, 6000, 50, date(2024, 5, 25))
        cls._deal("c", cls.s2, sam, 4000, 20, date(2024, 5, 28))
        lead_d = cls._deal("d", cls.s2, sam, 2000, 20, date(2024, 5, 15))
        lead_d.forecast_category_override = "omitted"
        cls._deal("f", cls.s4, sam, 5000, 70, date(2024, 6, 10))
        cls._deal("g", cls.s4, tess, 7000, 90, date(2024, 5, 20))

    def _submit(self, user, **values):
        return self.Submission.with_user(user).create(
            {"user_id": user.id, "period_start": MAY, **values}
        )

    def _figures(self, submission):
        return {fname: submission[fname] for fname in SAM_MAY}


@freeze_time("2024-05-06 10:00:00")
class TestForecastSubmission(SubmissionCommon):
    def test_system_figures_stored(self):
        """The call keeps the system's figures of its moment, prefilled into
        commit (won + commit) and best case (+ best case)."""
        # when and by whom are the moment's and the user's
        call = self._submit(
            self.user_salesman,
            period_start=date(2024, 5, 17),
            date=datetime(2024, 4, 1),
            submitted_by_id=self.user_manager.id,
        )
        self.assertEqual(call.period_start, MAY)
        self.assertEqual(call.period_end, date(2024, 5, 31))
        self.assertEqual(call.team_id, self.team)
        self.assertEqual(call.submitted_by_id, self.user_salesman)
        self.assertEqual(call.date, datetime(2024, 5, 6, 10, 0))
        self.assertEqual(self._figures(call), SAM_MAY)
        self.assertEqual((call.commit_amount, call.best_case_amount), (13000, 19000))
        # the pipeline moves on, the call keeps its figures
        self._deal("h", self.s4, self.user_salesman, 1000, 90, date(2024, 5, 30))
        call.invalidate_recordset()
        self.assertEqual(self._figures(call), SAM_MAY)

    def test_default_period(self):
        """Without a period, the month (or quarter) under way."""
        Submission = self.Submission.with_user(self.user_salesman)
        month = Submission.create({})
        quarter = Submission.create({"period_type": "quarter"})
        self.assertEqual((month.user_id, month.period_start), (self.user_salesman, MAY))
        self.assertEqual(
            (quarter.period_start, quarter.period_end), (Q2, date(2024, 6, 30))
        )
        self.assertEqual(self._figures(month), SAM_MAY)

    def test_own_amounts_and_quarter(self):
        call = self._submit(
            self.user_salesman,
            period_type="quarter",
            period_start=date(2024, 5, 17),
            commit_amount=14000,
            best_case_amount=20000,
            note="Lab renewal signed in June",
        )
        self.assertEqual((call.period_start, call.period_end), (Q2, date(2024, 6, 30)))
        self.assertEqual((call.commit_amount, call.best_case_amount), (14000, 20000))
        self.assertEqual(
            self._figures(call),
            {
                **SAM_MAY,
                "system_commit": 15000,
                "system_weighted_probability": 15300,
                "system_weighted_stage": 15250,
                "system_weighted_historical": 11800,
            },
        )
        self.assertEqual(call.display_name, "Sam Salesman · Q2 2024 · Call")

    def test_team_roll_up_by_manager(self):
        call = self.Submission.with_user(self.user_manager).create(
            {"user_id": False, "team_id": self.team.id, "period_start": MAY}
        )
        self.assertEqual(
            (call.system_won, call.system_commit, call.system_best_case),
            (3000, 17000, 6000),
        )

    def test_rule_own_forecast_only(self):
        with self.assertRaisesRegex(AccessError, "only submit your own forecast"):
            self._submit(self.user_salesman, user_id=self.user_salesman_2.id)
        with self.assertRaisesRegex(AccessError, "only submit your own forecast"):
            self.Submission.with_user(self.user_all_leads).create(
                {"user_id": False, "team_id": self.team.id, "period_start": MAY}
            )
        self.assertFalse(self.Submission.search([]))

    def test_rule_commit_within_best_case(self):
        with self.assertRaisesRegex(ValidationError, "cannot exceed the best case"):
            self._submit(
                self.user_salesman, commit_amount=12000, best_case_amount=11000
            )
        self.assertFalse(self.Submission.search([]))

    def test_rule_negative_amounts(self):
        with self.assertRaisesRegex(ValidationError, "negative amount"):
            self._submit(self.user_salesman, commit_amount=-1, best_case_amount=5000)
        with self.assertRaisesRegex(ValidationError, "negative amount"):
            self._submit(self.user_salesman, commit_amount=0, best_case_amount=-5)
        self.assertFalse(self.Submission.search([]))

    def test_rule_closed_period(self):
        with self.assertRaisesRegex(UserError, "is over"):
            self._submit(self.user_salesman, period_start=date(2024, 4, 30))
        with self.assertRaisesRegex(UserError, "is over"):
            self.Submission.with_user(self.user_manager).create(
                {"user_id": self.user_salesman.id, "period_start": date(2024, 4, 1)}
            )
        self.assertFalse(self.Submission.search([]))
        # the quarter under way is open
        self._submit(self.user_salesman, period_type="quarter", period_start=Q2)

    def test_adjustment_rights(self):
        call = self._submit(
            self.user_salesman,
            commit_amount=9000,
            best_case_amount=15000,
            note="Sandbagging a bit",
        )
        adjustment = {
            "submission_id": call.id,
            "commit_amount": 12000,
            "best_case_amount": 16000,
            "note": "a will sign: the customer confirmed",
        }
        for user in (self.user_salesman, self.user_all_leads):
            with self.assertRaisesRegex(AccessError, "Only sales managers adjust"):
                self.Submission.with_user(user).create(dict(adjustment))
        self.assertEqual(self.Submission.search([]), call)
        with self.assertRaisesRegex(ValidationError, "reason of the adjustment"):
            self.Submission.with_user(self.user_manager).create(
                {**adjustment, "note": " "}
            )
        self.assertEqual(self.Submission.search([]), call)

        with freeze_time("2024-05-07 08:00:00"):
            adjusted = self.Submission.with_user(self.user_manager).create(adjustment)
        self.assertEqual(adjusted.kind, "adjustment")
        self.assertEqual(
            (adjusted.user_id, adjusted.team_id, adjusted.period_start),
            (self.user_salesman, self.team, MAY),
        )
        self.assertEqual(adjusted.submitted_by_id, self.user_manager)
        self.assertEqual(self._figures(adjusted), SAM_MAY)
        self.assertEqual(call.adjustment_ids, adjusted)
        # the rep's call is kept as submitted
        self.assertEqual(
            (call.kind, call.commit_amount, call.best_case_amount, call.note),
            ("submission", 9000, 15000, "Sandbagging a bit"),
        )
        self.assertEqual(call.date, datetime(2024, 5, 6, 10, 0))
        self.assertEqual(call.submitted_by_id, self.user_salesman)
        self.assertEqual(
            (call.adjusted_commit_amount, call.adjusted_best_case_amount),
            (12000, 16000),
        )
        # neither the rep nor a manager rewrite it
        with self.assertRaisesRegex(UserError, "cannot be changed once submitted"):
            call.with_user(self.user_manager).commit_amount = 1
        with self.assertRaises(AccessError):
            call.with_user(self.user_salesman).note = "Changed"
        self.assertEqual(call.commit_amount, 9000)
        # the action prefills the manager's number
        context = call.with_user(self.user_manager).action_adjust()["context"]
        self.assertEqual(context["default_submission_id"], call.id)
        self.assertEqual(context["default_commit_amount"], 12000)

    def test_record_rules(self):
        sam = self._submit(self.user_salesman)
        tess = self._submit(self.user_salesman_2)
        roll_up = self.Submission.with_user(self.user_manager).create(
            {"user_id": False, "team_id": self.team.id, "period_start": MAY}
        )
        adjustment = self.Submission.with_user(self.user_manager).create(
            {"submission_id": sam.id, "note": "Pulled in"}
        )
        other_company = self.env["res.company"].create({"name": "Funnel Company 2"})
        self.user_manager.company_ids |= other_company
        manager_2 = self.user_manager.with_company(other_company)
        elsewhere = self.Submission.with_user(manager_2).create(
            {
                "user_id": self.user_manager.id,
                "period_start": MAY,
                "company_id": other_company.id,
            }
        )

        def visible(user):
            return self.Submission.with_user(user).search([])

        self.assertEqual(visible(self.user_salesman), sam | roll_up | adjustment)
        self.assertEqual(visible(self.user_salesman_2), tess | roll_up)
        everything = sam | tess | roll_up | adjustment
        self.assertEqual(visible(self.user_all_leads), everything)
        # the manager works in the first company: the other one's call is hidden
        self.assertEqual(
            self.Submission.with_user(self.user_manager)
            .with_context(allowed_company_ids=[self.company.id])
            .search([]),
            everything,
        )
        self.assertEqual(
            self.Submission.with_user(self.user_manager)
            .with_context(allowed_company_ids=[self.company.id, other_company.id])
            .search([]),
            everything | elsewhere,
        )
        with self.assertRaises(AccessError):
            tess.with_user(self.user_salesman).read(["commit_amount"])
        with self.assertRaises(AccessError):
            elsewhere.with_user(self.user_all_leads).read(["commit_amount"])

    def test_not_updated_flag(self):
        """Days since the latest call of the rep for the period, the current
        rows, the 7-day filter and the board's status."""
        sam = self._submit(self.user_salesman, commit_amount=1, best_case_amount=2)
        with freeze_time("2024-05-01 09:00:00"):
            tess = self._submit(self.user_salesman_2)
        with freeze_time("2024-05-10 12:00:00"):
            self.env.invalidate_all()
            self.assertEqual(sam.days_since_update, 4)
            self.assertEqual(tess.days_since_update, 9)
            stale = self.Submission.search(
                [
                    ("is_current", "=", True),
                    ("kind", "=", "submission"),
                    ("days_since_update", ">=", 7),
                ]
            )
            self.assertEqual(stale, tess)
            self.assertEqual(
                self.Submission.search([("days_since_update", "=", 4)]), sam
            )
            self.assertEqual(
                self.Submission.search([("days_since_update", "<", 5)]), sam
            )
            status = self.Submission.with_user(self.user_salesman).funnel_board_status
            currency = self.company.currency_id.id
            self.assertEqual(
                status(),
                {
                    "days": 4,
                    "stale": False,
                    "commit": 1,
                    "best_case": 2,
                    "adjusted_commit": 1,
                    "currency_id": currency,
                },
            )
            Tess = self.Submission.with_user(self.user_salesman_2)
            self.assertEqual(
                Tess.funnel_board_status(),
                {
                    "days": 9,
                    "stale": True,
                    "commit": 7000,
                    "best_case": 7000,
                    "adjusted_commit": 7000,
                    "currency_id": currency,
                },
            )
            Lea = self.Submission.with_user(self.user_all_leads)
            self.assertEqual(Lea.funnel_board_status(), {"days": False, "stale": True})
            # a sales manager sees the team's: Sam called 4 days ago, Tess 9;
            # the members of the other teams are left out
            self.env["crm.team.member"].search(
                [("user_id", "not in", (self.user_salesman | self.user_salesman_2).ids)]
            ).unlink()
            team_status = self.Submission.with_user(self.user_manager)
            self.assertEqual(
                team_status.funnel_board_team_status(), {"reps": 2, "stale": 1}
            )
            self.assertEqual(Lea.funnel_board_team_status(), {})
            # Sam calls again: his older call is no longer current, the flag clears
            again = self._submit(self.user_salesman)
            self.env.invalidate_all()
            self.assertEqual((sam | again).mapped("days_since_update"), [0, 0])
            self.assertEqual(
                self.Submission.search([("is_current", "=", True)]), again | tess
            )
            self.assertEqual((sam | again).mapped("is_current"), [False, True])
            self.Submission.with_user(self.user_manager).create(
                {
                    "submission_id": again.id,
                    "commit_amount": 12000,
                    "best_case_amount": 20000,
                    "note": "Closer to the board",
                }
            )
            self.assertEqual(
                status(),
                {
                    "days": 0,
                    "stale": False,
                    "commit": 13000,
                    "best_case": 19000,
                    "adjusted_commit": 12000,
                    "currency_id": currency,
                },
            )

    def test_views_open(self):
        action = self.env.ref("sales_funnel_pro.funnel_forecast_submission_action")
        self.assertEqual(action.res_model, "funnel.forecast.submission")
        self.Submission.with_user(self.user_salesman).get_views(
            [(False, view) for view in ("list", "pivot", "graph", "form", "search")]
        )
        groups = self.Submission.with_user(self.user_manager).read_group(
            [("is_current", "=", True)],
            ["commit_amount:sum"],
            ["user_id", "kind"],
            lazy=False,
        )
        self.assertEqual(groups, [])
        self.assertTrue(mail_new_test_user)

    def test_batch_reads_in_constant_queries(self):
        """The current flag, the days and the manager's call are read for a
        batch at once: as many queries for 8 calls as for 2."""
        calls = self.Submission.browse()
        for month in range(5, 13):
            calls |= self._submit(self.user_salesman, period_start=date(2024, month, 1))
        fnames = ["is_current", "days_since_update", "adjusted_commit_amount"]

        def count(rows):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            rows.read(fnames)
            return self.env.cr.sql_log_count - before

        # browsed apart: the two do not prefetch the others
        self.assertEqual(count(self.Submission.browse(calls[:2].ids)), count(calls))
        self.assertEqual(calls.mapped("is_current"), [True] * 8)
