import re
from datetime import date, datetime
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.sql_db import Cursor
from odoo.tests import freeze_time, tagged, users
from odoo.tools import SQL
from odoo.tools.sql import index_exists, table_kind

from odoo.addons.mail.tests.common import mail_new_test_user

from .. import uninstall_hook
from ..models.crm_lead_forecast import ROW_COST_FUNCTION
from .common import FunnelCommon, migration
from .test_activity_reports import ActivityReportCommon

# a Wednesday in the middle of May, of the second quarter
NOW = "2024-05-15 10:00:00"

MEASURES = (
    "expected_revenue:sum",
    "weighted_probability:sum",
    "weighted_stage:sum",
    "weighted_historical:sum",
    "late_stage_revenue:sum",
    "won_revenue:sum",
    "target_amount:sum",
    "team_target_amount:sum",
    "target:sum",
    "coverage:avg",
    "weighted_coverage:avg",
    "late_stage_coverage:avg",
    "gap:sum",
)


@freeze_time(NOW)
class ForecastCommon(FunnelCommon):
    """A small forecast on Wednesday 15 May 2024 (Q2).

    Stages: s1 10 % and s2 25 % pipeline, s3 50 % best case, s4 75 % commit.
    Historical win rates: s2 20 % (the team's sample is too small: the company's
    20 %), s3 40 % (the team's own; the company's is 45 %), s4 60 % (the company's,
    no team row), s1 none (its configured 10 %).

    Sam (``user_salesman``), team ``team``:

    ========= ===== ====== ====== ============ ==========================
    lead      stage amount prob.  closing      note
    ========= ===== ====== ====== ============ ==========================
    commit    s4    10,000 80 %   20/05/2024   May, commit
    pipeline  s2     4,000 30 %   10/06/2024   June, pipeline
    undated   s3     6,000 50 %   —            needs a date
    past      s1     2,000 10 %   01/05/2024   needs a date (past)
    won       won    5,000        (31/07)      won on 03/05/2024
    omitted   s3     3,000 40 %   15/06/2024   omitted by Sam
    ========= ===== ====== ====== ============ ==========================

    Tess (``user_salesman_2``), team ``team``: ``best`` s3 8,000 60 % on
    05/07/2024; ``won2`` 7,000 won on 20/04/2024; ``lost`` lost.

    Targets: Sam Q2 30,000 (10,000 a month) and Q3 10,000 (3,333.33, 3,333.33,
    3,333.34); Tess May 9,000 and June 6,000; the team June 20,000.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sam, tess = cls.user_salesman, cls.user_salesman_2
        cls.env["crm.team.member"].create(
            [
                {"crm_team_id": cls.team.id, "user_id": sam.id},
                {"crm_team_id": cls.team.id, "user_id": tess.id},
            ]
        )
        cls.s1.forecast_category = "pipeline"
        cls.s2.forecast_category = "pipeline"
        cls.s3.forecast_category = "best_case"
        cls.s4.forecast_category = "commit"
        Rate = cls.env["funnel.stage.win.rate"].sudo()
        Rate.create(
            [
                cls._rate(cls.s2, None, 20, 20, 30),
                cls._rate(cls.s2, cls.team, 35, 20, 6, is_fallback=True),
                cls._rate(cls.s3, None, 45, 45, 40),
                cls._rate(cls.s3, cls.team, 40, 40, 25),
                cls._rate(cls.s4, None, 60, 60, 30),
            ]
        )
        lead = cls._create_lead
        cls.lead_commit = lead(
            "Sam commit",
            stage=cls.s4,
            expected_revenue=10000,
            probability=80,
            date_deadline=date(2024, 5, 20),
        )
        cls.lead_pipeline = lead(
            "Sam pipeline",
            stage=cls.s2,
            expected_revenue=4000,
            probability=30,
            date_deadline=date(2024, 6, 10),
        )
        cls.lead_undated = lead(
            "Sam undated",
            stage=cls.s3,
            expected_revenue=6000,
            probability=50,
        )
        cls.lead_past = lead(
            "Sam past",
            stage=cls.s1,
            expected_revenue=2000,
            probability=10,
            date_deadline=date(2024, 5, 1),
        )
        cls.lead_won = lead(
            "Sam won",
            stage=cls.s4,
            expected_revenue=5000,
            date_deadline=date(2024, 7, 31),
        )
        cls.lead_omitted = lead(
            "Sam omitted",
            stage=cls.s3,
            expected_revenue=3000,
            probability=40,
            date_deadline=date(2024, 6, 15),
            forecast_category_override="omitted",
        )
        cls.lead_best = lead(
            "Tess best",
            stage=cls.s3,
            user=tess,
            expected_revenue=8000,
            probability=60,
            date_deadline=date(2024, 7, 5),
        )
        cls.lead_won2 = lead(
            "Tess won",
            stage=cls.s4,
            user=tess,
            expected_revenue=7000,
            date_deadline=date(2024, 6, 30),
        )
        cls.lead_lost = lead(
            "Tess lost",
            stage=cls.s2,
            user=tess,
            expected_revenue=9000,
            date_deadline=date(2024, 6, 1),
        )
        (cls.lead_won | cls.lead_won2).action_set_won()
        cls.lead_won.date_closed = datetime(2024, 5, 3, 9, 0)
        cls.lead_won2.date_closed = datetime(2024, 4, 20, 16, 0)
        cls.lead_lost.action_set_lost()
        cls.leads = (
            cls.lead_commit
            | cls.lead_pipeline
            | cls.lead_undated
            | cls.lead_past
            | cls.lead_won
            | cls.lead_omitted
            | cls.lead_best
            | cls.lead_won2
            | cls.lead_lost
        )

        Target = cls.env["funnel.target"]
        cls.targets = Target.create(
            [
                cls._target(sam, None, "quarter", date(2024, 4, 1), 30000),
                cls._target(sam, None, "quarter", date(2024, 7, 1), 10000),
                cls._target(tess, None, "month", date(2024, 5, 1), 9000),
                cls._target(tess, None, "month", date(2024, 6, 1), 6000),
                cls._target(None, cls.team, "month", date(2024, 6, 1), 20000),
            ]
        )
        cls.target_team = cls.targets[-1]

    @classmethod
    def _rate(cls, stage, team, rate, win_rate, sample, is_fallback=False):
        return {
            "company_id": cls.company.id,
            "stage_id": stage.id,
            "team_id": team.id if team else False,
            "rate": rate,
            "win_rate": win_rate,
            "won_count": round(sample * rate / 100),
            "lost_count": sample - round(sample * rate / 100),
            "sample_size": sample,
            "is_fallback": is_fallback,
        }

    @classmethod
    def _target(cls, user, team, period, date_from, amount):
        return {
            "user_id": user.id if user else False,
            "team_id": team.id if team else False,
            "period": period,
            "date_from": date_from,
            "amount": amount,
        }

    def _report(self):
        return self.env["funnel.forecast.report"]

    def _ours(self):
        """The rows of the opportunities and targets of this test."""
        return [
            "|",
            ("lead_id", "in", self.leads.ids),
            ("row_type", "=", "target"),
        ]

    def _figures(self, groupby, domain=(), measures=MEASURES):
        """{group key: (figures…)} of the report, rounded to the cent."""
        rows = self._report()._read_group(
            expression.AND([self._ours(), list(domain)]), groupby, measures
        )
        return {
            row[: len(groupby)]: tuple(
                round(value, 2) if isinstance(value, float) else value
                for value in row[len(groupby) :]
            )
            for row in rows
        }

    _eval_context = ActivityReportCommon._eval_context
    _search_view_filters = ActivityReportCommon._search_view_filters
    _filter_domain = ActivityReportCommon._filter_domain
    _action_domain = ActivityReportCommon._action_domain


@tagged("post_install", "-at_install")
class TestForecastReport(ForecastCommon):
    """The figures of the forecast: weightings, actuals, targets, coverage, gap."""

    # ------------------------------------------------------------
    # Rows
    # ------------------------------------------------------------

    def test_rows(self):
        """One row per open and won opportunity, none for the lost one; the won
        ones on their closing date; those without a coming date need one."""
        rows = self._report().search([("lead_id", "in", self.leads.ids)])
        self.assertEqual(rows.lead_id, self.leads - self.lead_lost)
        by_lead = {row.lead_id: row for row in rows}
        expected = {
            self.lead_commit: ("open", date(2024, 5, 20), date(2024, 5, 20), False),
            self.lead_pipeline: ("open", date(2024, 6, 10), date(2024, 6, 10), False),
            self.lead_undated: ("open", False, False, True),
            self.lead_past: ("open", date(2024, 5, 1), False, True),
            self.lead_won: ("won", date(2024, 5, 3), date(2024, 5, 3), False),
            self.lead_omitted: ("open", date(2024, 6, 15), date(2024, 6, 15), False),
            self.lead_best: ("open", date(2024, 7, 5), date(2024, 7, 5), False),
            self.lead_won2: ("won", date(2024, 4, 20), date(2024, 4, 20), False),
        }
        for lead, (row_type, closing, period, needs_date) in expected.items():
            row = by_lead[lead]
            self.assertEqual(
                (row.row_type, row.date_closing, row.date, row.needs_date),
                (row_type, closing, period, needs_date),
                lead.name,
            )
        self.assertEqual(
            by_lead[self.lead_omitted].forecast_category, "omitted", "kept, marked"
        )
        self.assertEqual(by_lead[self.lead_won].forecast_category, "closed")

    def test_weightings(self):
        """Each opportunity weighted by the rep's probability, by the configured
        win rate of its stage and by its historical win rate (team, else company,
        else configured)."""
        figures = self._figures(
            ["lead_id"],
            [("row_type", "!=", "target")],
            [
                "expected_revenue:sum",
                "weighted_probability:sum",
                "weighted_stage:sum",
                "weighted_historical:sum",
                "late_stage_revenue:sum",
                "won_revenue:sum",
            ],
        )
        self.assertEqual(
            figures,
            {
                # s4: 80 %, 75 %, the company's 60 %, late stage
                (self.lead_commit,): (10000, 8000, 7500, 6000, 10000, 0),
                # s2: 30 %, 25 %, the team's fallback to the company's 20 %
                (self.lead_pipeline,): (4000, 1200, 1000, 800, 0, 0),
                # s3: 50 %, 50 %, the team's own 40 % (not the company's 45 %)
                (self.lead_undated,): (6000, 3000, 3000, 2400, 6000, 0),
                # s1: no history, its configured 10 %
                (self.lead_past,): (2000, 200, 200, 200, 0, 0),
                (self.lead_omitted,): (3000, 1200, 1500, 1200, 3000, 0),
                (self.lead_best,): (8000, 4800, 4000, 3200, 8000, 0),
                (self.lead_won,): (0, 0, 0, 0, 0, 5000),
                (self.lead_won2,): (0, 0, 0, 0, 0, 7000),
            },
        )

    def test_historical_rate_without_history(self):
        """Without any historical rate, the configured win rate weighs."""
        self.env["funnel.stage.win.rate"].sudo().search([]).unlink()
        self.assertEqual(
            self._figures(
                ["lead_id"],
                [("lead_id", "=", self.lead_commit.id)],
                ["weighted_historical:sum", "historical_win_rate:avg"],
            ),
            {(self.lead_commit,): (7500, 75)},
        )

    def test_won_by_closing_date(self):
        """Actuals count in the month of closing, not of the expected closing."""
        self.assertEqual(
            self._figures(
                ["date:month"], [("row_type", "=", "won")], ["won_revenue:sum"]
            ),
            {(date(2024, 4, 1),): (7000,), (date(2024, 5, 1),): (5000,)},
        )

    # ------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------

    def test_target_spread_over_months(self):
        """A quarter's target is spread evenly over its months, the last month
        taking the rounding; months add up to quarters."""
        sam = self.user_salesman
        domain = [("row_type", "=", "target"), ("user_id", "=", sam.id)]
        self.assertEqual(
            self._figures(["date:month"], domain, ["target_amount:sum"]),
            {
                (date(2024, 4, 1),): (10000,),
                (date(2024, 5, 1),): (10000,),
                (date(2024, 6, 1),): (10000,),
                (date(2024, 7, 1),): (3333.33,),
                (date(2024, 8, 1),): (3333.33,),
                (date(2024, 9, 1),): (3333.34,),
            },
        )
        self.assertEqual(
            self._figures(["date:quarter"], domain, ["target_amount:sum"]),
            {(date(2024, 4, 1),): (30000,), (date(2024, 7, 1),): (10000,)},
        )
        rows = self._report().search(
            [("row_type", "=", "target"), ("user_id", "=", sam.id)]
        )
        self.assertEqual(len(rows), 6)
        self.assertEqual(rows.team_id, self.team, "the team of the salesperson")
        team_rows = (
            self._report()
            .search([("row_type", "=", "target"), ("team_id", "=", self.team.id)])
            .filtered(lambda row: not row.user_id)
        )
        self.assertRecordValues(
            team_rows,
            [{"date": date(2024, 6, 1), "team_target_amount": 20000, "target": 20000}],
        )

    # ------------------------------------------------------------
    # Coverage and gap
    # ------------------------------------------------------------

    def test_coverage_and_gap_per_rep_and_month(self):
        """Rep × month without the omitted opportunity: coverage raw (open ÷
        target), weighted by stage, late-stage; gap = target − won − open. The
        team's target is no salesperson's: no row without salesperson."""
        figures = self._figures(
            ["user_id", "date:month"],
            [
                ("forecast_category", "!=", "omitted"),
                ("date", ">=", date(2024, 5, 1)),
                ("date", "<", date(2024, 7, 1)),
            ],
            [
                "expected_revenue:sum",
                "weighted_stage:sum",
                "won_revenue:sum",
                "target:sum",
                "coverage:avg",
                "weighted_coverage:avg",
                "late_stage_coverage:avg",
                "gap:sum",
            ],
        )
        sam, tess = self.user_salesman, self.user_salesman_2
        may, june = date(2024, 5, 1), date(2024, 6, 1)
        self.assertEqual(
            figures,
            {
                # 10,000 open in s4 (75 %) and 5,000 won against 10,000
                (sam, may): (10000, 7500, 5000, 10000, 100, 75, 100, -5000),
                # 4,000 open in s2 (25 %) against 10,000
                (sam, june): (4000, 1000, 0, 10000, 40, 10, 0, 6000),
                (tess, may): (0, 0, 0, 9000, 0, 0, 0, 9000),
                (tess, june): (0, 0, 0, 6000, 0, 0, 0, 6000),
            },
        )

    def test_team_target_or_sum_of_reps(self):
        """A team's month counts its team target when it has one (June), else
        the sum of its reps' targets (April: Sam; May: Sam and Tess); a quarter
        adds its months up."""
        domain = [
            ("forecast_category", "!=", "omitted"),
            ("team_id", "=", self.team.id),
        ]
        measures = ["target:sum", "coverage:avg", "gap:sum"]
        figures = self._figures(["team_id", "date:month"], domain, measures)
        team = self.team
        self.assertEqual(figures[team, date(2024, 4, 1)], (10000, 0, 3000))
        self.assertEqual(figures[team, date(2024, 5, 1)], (19000, 52.63, 4000))
        self.assertEqual(figures[team, date(2024, 6, 1)], (20000, 20, 16000))
        self.assertEqual(
            self._figures(["team_id", "date:quarter"], domain, measures)[
                team, date(2024, 4, 1)
            ],
            # targets 10,000 + 19,000 + 20,000; won 12,000; open 14,000
            (49000, 28.57, 23000),
        )
        # the whole company: the same, its targets being the team's
        self.assertEqual(
            self._figures(
                [],
                domain
                + [("date", ">=", date(2024, 4, 1)), ("date", "<", date(2024, 7, 1))],
                measures,
            ),
            {(): (49000, 28.57, 23000)},
        )

    def test_no_target(self):
        """Without target, no coverage and no gap."""
        figures = self._figures(
            ["user_id"],
            [
                ("user_id", "=", self.user_salesman_2.id),
                ("date", ">=", date(2024, 7, 1)),
            ],
            ["expected_revenue:sum", "target:sum", "coverage:avg", "gap:sum"],
        )
        self.assertEqual(figures, {(self.user_salesman_2,): (8000, 0, False, False)})

    # ------------------------------------------------------------
    # Filters
    # ------------------------------------------------------------

    def _view_filter(self, name):
        return self._filter_domain(
            "funnel.forecast.report",
            "sales_funnel_pro.funnel_forecast_report_view_search",
            name,
        )

    def _leads_of_filter(self, name):
        rows = self._report().search(
            expression.AND([self._ours(), self._view_filter(name)])
        )
        return rows.filtered("lead_id").lead_id

    def test_needs_a_date(self):
        """The open opportunities without a coming date count in no period and
        are found by the data-quality filter."""
        self.assertEqual(
            self._leads_of_filter("filter_needs_date"),
            self.lead_undated | self.lead_past,
        )
        self.assertEqual(
            self._figures(
                ["date:month"], [("date", "=", False)], ["expected_revenue:sum"]
            ),
            {(False,): (8000,)},
        )
        self.assertEqual(
            self._figures(["needs_date"], [("row_type", "=", "open")], ["__count"]),
            {(False,): (4,), (True,): (2,)},
        )

    def test_period_filters(self):
        """Next 3 months: May to July; this quarter: April to June; next
        quarter: July to September."""
        sam_targets = {
            "filter_next_3_months": 23333.33,
            "filter_next_6_months": 30000,
            "filter_next_12_months": 30000,
            "filter_this_quarter": 30000,
            "filter_next_quarter": 10000,
        }
        for name, target in sam_targets.items():
            with self.subTest(filter=name):
                domain = expression.AND(
                    [self._view_filter(name), [("user_id", "=", self.user_salesman.id)]]
                )
                self.assertEqual(
                    self._figures([], domain, ["target_amount:sum"]), {(): (target,)}
                )
        self.assertEqual(
            self._leads_of_filter("filter_next_3_months"),
            self.lead_commit
            | self.lead_pipeline
            | self.lead_won
            | self.lead_omitted
            | self.lead_best,
        )
        self.assertEqual(
            self._leads_of_filter("filter_this_quarter"),
            self.lead_commit
            | self.lead_pipeline
            | self.lead_won
            | self.lead_omitted
            | self.lead_won2,
        )
        self.assertEqual(self._leads_of_filter("filter_next_quarter"), self.lead_best)

    def test_omitted_left_out_by_default(self):
        """The action leaves the omitted opportunity out, not the targets."""
        action, domain = self._action_domain(
            "sales_funnel_pro.funnel_forecast_report_action"
        )
        self.assertEqual(action["res_model"], "funnel.forecast.report")
        rows = self._report().search(expression.AND([self._ours(), domain]))
        self.assertEqual(
            rows.lead_id,
            self.lead_commit | self.lead_pipeline | self.lead_won | self.lead_best,
        )
        # May to next April: Sam's 5 months, Tess's 2, the team's June
        self.assertEqual(len(rows.filtered(lambda row: row.row_type == "target")), 8)
        self.assertEqual(self._leads_of_filter("filter_omitted"), self.lead_omitted)

    def test_category_filters_keep_targets(self):
        """Commit against the target: the category filters keep the targets."""
        domain = expression.AND(
            [self._view_filter("filter_commit"), [("date", ">=", date(2024, 5, 1))]]
        )
        self.assertEqual(
            self._figures(
                ["user_id", "date:month"],
                domain + [("user_id", "=", self.user_salesman.id)],
                ["expected_revenue:sum", "target:sum", "coverage:avg"],
            )[self.user_salesman, date(2024, 5, 1)],
            (10000, 10000, 100),
        )

    def test_search_period_refused(self):
        with self.assertRaises(UserError):
            self._report().search([("date", "like", "2024")])
        with self.assertRaises(UserError):
            self._report().search([("needs_date", "in", [True])])

    def test_today_moves_on(self):
        """A day after its expected closing, an open opportunity needs a date."""
        row = self._report().search([("lead_id", "=", self.lead_commit.id)])
        self.assertFalse(row.needs_date)
        with freeze_time("2024-05-21 10:00:00"):
            self.env.invalidate_all()
            self.assertTrue(row.needs_date)
            self.assertIn(self.lead_commit, self._leads_of_filter("filter_needs_date"))

    def test_open_lead(self):
        row = self._report().search([("lead_id", "=", self.lead_commit.id)])
        action = row.action_open_lead()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("crm.lead", self.lead_commit.id)
        )
        target_row = self._report().search([("row_type", "=", "target")], limit=1)
        self.assertFalse(target_row.action_open_lead())

    def test_group_order(self):
        """Groups come in the order of the ORM: many2one groups as their model
        orders its records (sorted after grouping), the others by value, empty
        groups last; the same as with a limit, which the ORM orders itself."""
        # the first salesperson by id comes last by name
        self.user_salesman.name = "Zoe Salesman"
        # the first stage by id comes last by sequence
        self.s1.sequence = 200
        # an opportunity of nobody: the empty groups (the team's targets are
        # no salesperson's)
        self.lead_pipeline.write({"team_id": False, "user_id": False})
        self.env["crm.team"].create(
            {"name": "Aardvark Team"}
        ).member_ids = self.user_salesman_2
        groupbys = (
            ["user_id"],
            ["stage_id"],
            ["team_id"],
            ["user_id", "date:month"],
            ["date:month", "stage_id"],
            ["forecast_category", "user_id"],
            ["needs_date", "team_id"],
            ["row_type", "lead_id"],
        )
        Report = self._report()
        for groupby in groupbys:
            with self.subTest(groupby=groupby):
                keys = [
                    row[: len(groupby)]
                    for row in Report._read_group(
                        self._ours(), groupby, ["__count"], order=",".join(groupby)
                    )
                ]
                by_orm = [
                    row[: len(groupby)]
                    for row in Report._read_group(
                        self._ours(),
                        groupby,
                        ["__count"],
                        order=",".join(groupby),
                        limit=1000,
                    )
                ]
                self.assertEqual(keys, by_orm)
                self.assertGreater(len(keys), 2)
        users = [
            row["user_id"] and row["user_id"][0]
            for row in Report.read_group(
                self._ours(), ["expected_revenue"], ["user_id"], lazy=False
            )
        ]
        self.assertEqual(users, [self.user_salesman_2.id, self.user_salesman.id, False])


@tagged("post_install", "-at_install")
class TestForecastReportAccess(ForecastCommon):
    """Read-only; a rep sees own and unassigned rows (the team's targets), the
    others see all of their companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.env["res.company"].create({"name": "Forecast Company 2"})
        team_2 = cls.env["crm.team"].create(
            {"name": "Team C2", "company_id": cls.company_2.id}
        )
        cls.lead_company_2 = cls.env["crm.lead"].create(
            {
                "name": "Deal in company 2",
                "type": "opportunity",
                "team_id": team_2.id,
                "company_id": cls.company_2.id,
                "stage_id": cls.s3.id,
                "user_id": False,
                "expected_revenue": 1000,
                "date_deadline": date(2024, 6, 1),
            }
        )
        cls.target_company_2 = cls.env["funnel.target"].create(
            {
                "team_id": team_2.id,
                "company_id": cls.company_2.id,
                "period": "month",
                "date_from": date(2024, 6, 1),
                "amount": 500,
            }
        )
        cls.leads |= cls.lead_company_2
        # without salesperson: every salesperson sees them, as in the pipeline
        cls.lead_unassigned = cls._create_lead(
            "Nobody's deal",
            stage=cls.s2,
            expected_revenue=1500,
            date_deadline=date(2024, 6, 3),
        )
        cls.lead_unassigned_won = cls._create_lead(
            "Nobody's win",
            stage=cls.s4,
            expected_revenue=2500,
            date_deadline=date(2024, 6, 4),
        )
        cls.lead_unassigned_won.action_set_won()
        (cls.lead_unassigned | cls.lead_unassigned_won).write(
            {"user_id": False, "company_id": cls.company.id}
        )
        cls.leads |= cls.lead_unassigned | cls.lead_unassigned_won

    def _visible(self):
        rows = self._report().search(self._ours())
        targets = rows.filtered(lambda row: row.row_type == "target")
        return rows.lead_id, (targets.user_id, targets.team_id)

    @users("funnel_salesman")
    def test_salesman(self):
        leads, (target_users, target_teams) = self._visible()
        self.assertEqual(
            leads,
            self.lead_commit
            | self.lead_pipeline
            | self.lead_undated
            | self.lead_past
            | self.lead_won
            | self.lead_omitted
            | self.lead_unassigned
            | self.lead_unassigned_won,
        )
        self.assertEqual(target_users, self.user_salesman)
        self.assertEqual(target_teams, self.team)
        tess_row = self._report().sudo().search([("lead_id", "=", self.lead_best.id)])
        with self.assertRaises(AccessError):
            self._report().browse(tess_row.id).read(["expected_revenue"])

    @users("funnel_salesman_2")
    def test_other_salesman(self):
        leads, (target_users, __) = self._visible()
        self.assertEqual(
            leads,
            self.lead_best
            | self.lead_won2
            | self.lead_unassigned
            | self.lead_unassigned_won,
        )
        self.assertEqual(target_users, self.user_salesman_2)
        self.assertEqual(
            self._figures(
                ["user_id"], [("date", "=", date(2024, 5, 1))], ["target:sum"]
            ),
            {(self.user_salesman_2,): (9000,)},
        )

    @users("funnel_all_leads", "funnel_manager")
    def test_all_leads_and_manager(self):
        leads, (target_users, target_teams) = self._visible()
        self.assertEqual(leads, self.leads - self.lead_lost - self.lead_company_2)
        self.assertEqual(target_users, self.user_salesman | self.user_salesman_2)
        self.assertEqual(target_teams, self.team)

    @users("funnel_manager")
    def test_multi_company(self):
        self.env.user.sudo().company_ids += self.company_2
        Report = self._report().with_context(
            allowed_company_ids=[self.company.id, self.company_2.id]
        )
        rows = Report.search(self._ours())
        self.assertIn(self.lead_company_2, rows.lead_id)
        self.assertEqual(
            Report._read_group(
                self._ours() + [("company_id", "=", self.company_2.id)],
                [],
                ["expected_revenue:sum", "target:sum"],
            ),
            [(1000, 500)],
        )
        rows = (
            self._report()
            .with_context(allowed_company_ids=[self.company.id])
            .search(self._ours())
        )
        self.assertNotIn(self.lead_company_2, rows.lead_id)
        self.assertNotIn(self.company_2, rows.company_id)

    def test_user_of_one_company(self):
        user = mail_new_test_user(
            self.env,
            login="forecast_c2",
            name="Cleo Company 2",
            email="cleo@example.com",
            company_id=self.company_2.id,
            company_ids=[Command.set(self.company_2.ids)],
            groups="sales_team.group_sale_salesman_all_leads",
        )
        rows = self._report().with_user(user).search(self._ours())
        self.assertEqual(rows.lead_id, self.lead_company_2)
        self.assertEqual(rows.company_id, self.company_2)

    def test_upgrade_rewrites_personal_rule(self):
        script = migration("18.0.1.3.0")
        rule = self.env.ref("sales_funnel_pro.funnel_forecast_report_rule_personal")
        self.assertEqual(rule.domain_force, script.PERSONAL_RULE)
        rule.domain_force = script.PERSONAL_RULE_1_2
        script.upgrade_personal_rule(self.env)
        self.assertEqual(rule.domain_force, script.PERSONAL_RULE)
        # a rule changed by the administrator stays as it is
        changed = "[('user_id', '=', user.id)]"
        rule.domain_force = changed
        script.upgrade_personal_rule(self.env)
        self.assertEqual(rule.domain_force, changed)

    @users("funnel_salesman", "funnel_manager")
    def test_read_only(self):
        row = self._report().search([("lead_id", "=", self.lead_commit.id)])
        for operation in (
            lambda: row.write({"expected_revenue": 5.0}),
            lambda: row.unlink(),
            lambda: self._report().create({"expected_revenue": 5.0}),
        ):
            with self.assertRaises(AccessError):
                operation()


@tagged("post_install", "-at_install")
class TestForecastReportQueries(ForecastCommon):
    """Opening the pivot costs the same queries with 10 or 100 opportunities."""

    PIVOT_GROUPBYS = ([], ["user_id"], ["date:month"], ["user_id", "date:month"])
    # the measures of the pivot view, and the weighted ones of its Measures menu
    PIVOT_MEASURES = [
        "expected_revenue:sum",
        "target:sum",
        "coverage:avg",
        "gap:sum",
        "weighted_stage:sum",
        "weighted_historical:sum",
    ]

    def _open_pivot(self, domain):
        """The read_group calls of the pivot view: totals, rows, columns, cells."""
        Report = self._report()
        return [
            Report.read_group(domain, self.PIVOT_MEASURES, groupby, lazy=False)
            for groupby in self.PIVOT_GROUPBYS
        ]

    @users("funnel_salesman", "funnel_manager")
    def test_pivot_query_count(self):
        team = self.env["crm.team"].sudo().create({"name": "Benchmark Team"})
        domain = [("team_id", "=", team.id)]
        created = 0
        for count in (10, 100):
            self.env["crm.lead"].sudo().create(
                [
                    {
                        "name": f"Benchmark {index}",
                        "type": "opportunity",
                        "team_id": team.id,
                        "stage_id": self.s4.id,
                        "user_id": self.user_salesman.id,
                        "expected_revenue": 100,
                        "date_deadline": date(2024, 6 + index % 3, 1),
                    }
                    for index in range(created, count)
                ]
            )
            created = count
            self.env.invalidate_all()
            # the record rules and the names of the salespeople cached first
            self._open_pivot(domain)
            # 4 grouped queries, the record rules' check, and one search per
            # grouping by salesperson to order its groups
            with self.assertQueryCount(7):
                results = self._open_pivot(domain)
            totals = results[0][0]
            self.assertEqual(totals["expected_revenue"], 100 * count)
            self.assertEqual(totals["weighted_stage"], 75 * count)

    def test_uninstall_drops_row_cost_function(self):
        # the uninstall hook drops the function, and with it what uses it;
        # PostgreSQL drops the rest with the module's columns and models
        Report = self._report()
        uninstall_hook(self.env)
        self.env.cr.execute(
            "SELECT 1 FROM pg_proc WHERE proname = %s", [ROW_COST_FUNCTION]
        )
        self.assertFalse(self.env.cr.fetchall())
        self.assertFalse(
            index_exists(self.env.cr, "crm_lead_funnel_forecast_open_index")
        )
        self.assertFalse(table_kind(self.env.cr, Report._table))

    def _explain_pivot(self, domain):
        """The plans of the grouped queries of the pivot on ``domain``, as
        PostgreSQL makes them when it may not read whole tables (else it reads
        the small tables of the test whole)."""
        queries = []
        execute = Cursor.execute

        def record(cursor, query, params=None, log_exceptions=True):
            if isinstance(query, SQL):
                query, params = query.code, query.params
            if query.startswith("SELECT") and "funnel_forecast_report" in query:
                queries.append((query, params))
            return execute(cursor, query, params, log_exceptions)

        with patch("odoo.sql_db.Cursor.execute", record):
            self._open_pivot(domain)
        plans = []
        cr = self.env.cr
        scans = ("enable_seqscan", "enable_bitmapscan")
        for scan in scans:
            cr.execute(SQL("SET LOCAL %s = off", SQL(scan)))
        try:
            for query, params in queries:
                cr.execute(SQL("EXPLAIN %s", SQL(query, *params)))
                plans.append("\n".join(row[0] for row in cr.fetchall()))
        finally:
            for scan in scans:
                cr.execute(SQL("RESET %s", SQL(scan)))
        return plans

    @users("funnel_salesman", "funnel_manager")
    def test_pivot_reads_indexes(self):
        """The pivot reads the opportunities from the indexes of crm_lead alone,
        not from the table (index-only scans): the indexes include every column
        that the view reads, and their conditions are those of its branches;
        reading the open opportunities from the table is costed as it is (see
        _lead_condition). A salesperson's rule is an index condition."""
        # opportunities of several salespeople over a year, some won, so that
        # PostgreSQL plans for a table that is not tiny
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO crm_lead (name, type, active, user_id, team_id,
                       company_id, stage_id, forecast_category, expected_revenue,
                       probability, date_deadline, date_closed)
                SELECT 'Bulk ' || n, 'opportunity', TRUE,
                       (ARRAY[%(users)s])[mod(n, 3) + 1], %(team)s, %(company)s,
                       CASE WHEN mod(n, 10) = 0 THEN %(won)s ELSE %(open)s END,
                       CASE WHEN mod(n, 10) = 0 THEN 'closed' ELSE 'pipeline' END,
                       1000, 20, DATE '2024-05-15' + mod(n, 365),
                       CASE WHEN mod(n, 10) = 0
                            THEN TIMESTAMP '2024-05-15' + mod(n, 365) * INTERVAL '1 day'
                       END
                  FROM generate_series(1, 3000) n
                """,
                users=SQL(", ").join(
                    (self.user_salesman | self.user_salesman_2 | self.user_manager).ids
                ),
                team=self.team.id,
                company=self.company.id,
                won=self.s4.id,
                open=self.s2.id,
            )
        )
        self.env.cr.execute("ANALYZE crm_lead")
        domain = [
            ("date", ">=", date(2024, 5, 1)),
            ("date", "<", date(2025, 5, 1)),
            ("forecast_category", "!=", "omitted"),
        ]
        plans = self._explain_pivot(domain)
        self.assertEqual(len(plans), len(self.PIVOT_GROUPBYS))
        for plan in plans:
            for index in ("open", "won"):
                scan = re.search(
                    rf"Index Only Scan using crm_lead_funnel_forecast_{index}_index"
                    r".*\n\s+Index Cond: \((.*)",
                    plan,
                )
                self.assertTrue(scan, plan)
                if self.env.user == self.user_salesman:
                    self.assertRegex(scan[1], r"COALESCE\(user_id, .*= ANY")


@tagged("post_install", "-at_install")
class TestForecastBoard(ForecastCommon):
    """The forecast board: open opportunities by forecast month, the undated and
    past ones in "Needs a date", sums per category and weighted per column."""

    def _board_domain(self):
        action, domain = self._action_domain(
            "sales_funnel_pro.crm_lead_action_funnel_forecast"
        )
        self.assertEqual(action["res_model"], "crm.lead")
        return expression.AND([domain, [("id", "in", self.leads.ids)]])

    def test_forecast_date(self):
        self.assertEqual(self.lead_commit.forecast_date, date(2024, 5, 20))
        self.assertFalse(self.lead_undated.forecast_date)
        self.assertFalse(self.lead_past.forecast_date, "past: needs a date")
        Lead = self.env["crm.lead"]
        ours = [("id", "in", self.leads.ids)]
        self.assertEqual(
            Lead.search(ours + [("forecast_date", "=", False)]),
            self.lead_undated | self.lead_past,
        )
        self.assertEqual(
            Lead.search(ours + [("forecast_date", ">=", date(2024, 6, 1))]),
            self.lead_pipeline
            | self.lead_omitted
            | self.lead_best
            | self.lead_won
            | self.lead_won2,
        )
        self.assertEqual(
            Lead.search(ours + [("forecast_date", "!=", date(2024, 5, 20))]),
            self.leads - self.lead_lost - self.lead_commit,
        )
        with self.assertRaises(UserError):
            Lead.search([("forecast_date", "in", [date(2024, 5, 20)])])
        # dragged to June: the last day of the month is the new closing date
        self.lead_past.forecast_date = date(2024, 6, 30)
        self.assertEqual(self.lead_past.date_deadline, date(2024, 6, 30))

    def test_board_columns(self):
        """Next 6 months by default, with the undated and past ones; the won
        ones are not on the board, the omitted one left out by default."""
        domain = self._board_domain()
        self.assertEqual(
            self.env["crm.lead"]._read_group(
                domain, ["forecast_date:month"], ["id:recordset"]
            ),
            [
                (date(2024, 5, 1), self.lead_commit),
                (date(2024, 6, 1), self.lead_pipeline),
                (date(2024, 7, 1), self.lead_best),
                (False, self.lead_undated | self.lead_past),
            ],
        )

    def test_column_sums(self):
        """Expected revenue per category, and weighted by the stage's win rate
        (omitted left out) per column."""
        columns = self.env["crm.lead"].funnel_forecast_column_sums(
            [("id", "in", self.leads.ids), ("stage_id.is_won", "=", False)],
            "forecast_date:month",
        )
        self.assertEqual(columns["currency_id"], self.company.currency_id.id)
        zero = dict.fromkeys(("commit", "best_case", "pipeline", "weighted"), 0)
        self.assertEqual(
            columns["columns"],
            {
                "May 2024": {**zero, "commit": 10000, "weighted": 7500},
                # the omitted 3,000 in neither
                "June 2024": {**zero, "pipeline": 4000, "weighted": 1000},
                "July 2024": {**zero, "best_case": 8000, "weighted": 4000},
                "False": {
                    **zero,
                    "best_case": 6000,
                    "pipeline": 2000,
                    "weighted": 3200,
                },
            },
        )

    def test_column_sums_follow_category(self):
        self.lead_pipeline.forecast_category = "commit"
        columns = self.env["crm.lead"].funnel_forecast_column_sums(
            [("id", "=", self.lead_pipeline.id)], "forecast_date:month"
        )["columns"]
        self.assertEqual(
            columns["June 2024"],
            {"commit": 4000, "best_case": 0, "pipeline": 0, "weighted": 1000},
        )

    @users("funnel_salesman_2")
    def test_column_sums_of_own_opportunities(self):
        columns = self.env["crm.lead"].funnel_forecast_column_sums(
            [("id", "in", self.leads.ids), ("stage_id.is_won", "=", False)],
            "forecast_date:month",
        )["columns"]
        self.assertEqual(set(columns), {"July 2024"})
        self.assertEqual(columns["July 2024"]["best_case"], 8000)
