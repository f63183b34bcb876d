from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .test_forecast_report import ForecastCommon

APRIL, MAY, JUNE = date(2024, 4, 1), date(2024, 5, 1), date(2024, 6, 1)
IN_JUNE = [("date", ">=", JUNE), ("date", "<", date(2024, 7, 1))]


@tagged("post_install", "-at_install")
class TestTargetMonth(ForecastCommon):
    """The targets month by month (funnel.target.month), which the forecast and
    the accuracy analysis read; and the team's targets in the forecast, which
    belong to the team, not to a "None" salesperson.

    The targets of ForecastCommon, plus Tess's year 2025 of 1,000 (83.33 a
    month, the last 83.37): Sam Q2 30,000 and Q3 10,000; Tess May 9,000, June
    6,000; the team June 20,000 (Sam and Tess are its members).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.target_year = cls.env["funnel.target"].create(
            cls._target(cls.user_salesman_2, None, "year", date(2025, 1, 1), 1000)
        )
        cls.targets |= cls.target_year

    def _months(self, domain=()):
        """{(target, month): (salesperson, team, amount, within a team target)}"""
        rows = self.env["funnel.target.month"].search(
            [("target_id", "in", self.targets.ids), *domain]
        )
        return {
            (row.target_id, row.month): (
                row.user_id,
                row.team_id,
                row.amount,
                row.is_covered,
            )
            for row in rows
        }

    # ------------------------------------------------------------
    # The months of the targets
    # ------------------------------------------------------------

    def test_months(self):
        """One row per target and month, with the month's even share rounded to
        the currency, the last month taking the rest; a salesperson's month is
        within a team target when the team has one for it."""
        sam_q2, sam_q3, tess_may, tess_june, team_june, tess_2025 = self.targets
        sam, tess, team = self.user_salesman, self.user_salesman_2, self.team
        months = self._months()
        self.assertEqual(len(months), 3 + 3 + 1 + 1 + 1 + 12)
        self.assertEqual(
            {key: value for key, value in months.items() if key[0] != tess_2025},
            {
                (sam_q2, APRIL): (sam, team, 10000, False),
                (sam_q2, MAY): (sam, team, 10000, False),
                (sam_q2, JUNE): (sam, team, 10000, True),
                (sam_q3, date(2024, 7, 1)): (sam, team, 3333.33, False),
                (sam_q3, date(2024, 8, 1)): (sam, team, 3333.33, False),
                (sam_q3, date(2024, 9, 1)): (sam, team, 3333.34, False),
                (tess_may, MAY): (tess, team, 9000, False),
                (tess_june, JUNE): (tess, team, 6000, True),
                (team_june, JUNE): (self.env["res.users"], team, 20000, False),
            },
        )
        year = [months[tess_2025, date(2025, month, 1)][2] for month in range(1, 13)]
        self.assertEqual(year, [83.33] * 11 + [83.37])
        self.assertAlmostEqual(sum(year), 1000)

    def test_follows_the_targets(self):
        """Changed targets and teams show at once (the view's dependencies are
        flushed before it is read)."""
        sam_q2, __, __, __, team_june, __ = self.targets
        sam_q2.amount = 36000
        team_june.date_from = MAY
        months = self._months([("target_id", "in", (sam_q2 | team_june).ids)])
        self.assertEqual(
            {key: value[2:] for key, value in months.items()},
            {
                (sam_q2, APRIL): (12000, False),
                (sam_q2, MAY): (12000, True),
                (sam_q2, JUNE): (12000, False),
                (team_june, MAY): (20000, False),
            },
        )
        # Sam moves to another team
        other_team = self.env["crm.team"].create({"name": "Other Team"})
        Member = self.env["crm.team.member"]
        Member.search([("user_id", "=", self.user_salesman.id)]).unlink()
        Member.create({"crm_team_id": other_team.id, "user_id": self.user_salesman.id})
        months = self._months([("target_id", "=", sam_q2.id)])
        self.assertEqual(
            {value[1:] for value in months.values()}, {(other_team, 12000, False)}
        )

    def test_forecast_reads_the_months(self):
        """The forecast's target rows are the months of the targets."""
        months = self.env["funnel.target.month"].search(
            [("target_id", "in", self.targets.ids)]
        )
        rows = self._report().search([("row_type", "=", "target")])
        self.assertEqual(sorted(rows.ids), sorted(month.id * 2 + 1 for month in months))
        by_id = {row.id: row for row in rows}
        for month in months:
            row = by_id[month.id * 2 + 1]
            self.assertEqual(
                (row.user_id, row.team_id, row.date, row.target, row.company_id),
                (
                    month.user_id,
                    month.team_id,
                    month.month,
                    month.amount,
                    month.company_id,
                ),
            )
            split = (month.amount, 0) if month.user_id else (0, month.amount)
            self.assertEqual((row.target_amount, row.team_target_amount), split)

    # ------------------------------------------------------------
    # Team targets in the forecast
    # ------------------------------------------------------------

    @users("funnel_manager", "funnel_salesman")
    def test_team_target_is_no_salesperson(self):
        """Grouped by salesperson, no empty salesperson carries the team's
        targets, nor does any salesperson; grouped by team, a month counts the
        team's target when there is one; the total counts each month once."""
        sam, team = self.user_salesman, self.team
        salesman = self.env.user == sam
        june = [*IN_JUNE, ("forecast_category", "!=", "omitted")]
        measures = ["target:sum", "team_target_amount:sum", "coverage:avg"]
        # June: Sam 10,000 (4,000 open), Tess 6,000 (what Sam may not see)
        expected = {(sam,): (10000, 0, 40)}
        if not salesman:
            expected[self.user_salesman_2,] = (6000, 0, False)
        self.assertEqual(self._figures(["user_id"], june, measures), expected)
        # June counts the team's 20,000, not 20,000 + 16,000 (nor + 10,000)
        self.assertEqual(
            self._figures(["team_id"], june, measures), {(team,): (20000, 20000, 20)}
        )
        self.assertEqual(self._figures([], june, measures), {(): (20000, 20000, 20)})
        # the team's rows, salesperson by salesperson: no empty salesperson
        self.assertEqual(
            set(self._figures(["team_id", "user_id"], june, measures)),
            {(team, sam)} if salesman else {(team, sam), (team, self.user_salesman_2)},
        )
        # what the pivot reads (read_group): no "None" row
        groups = self._report().read_group(
            self._ours() + june, ["target", "expected_revenue"], ["user_id"], lazy=False
        )
        self.assertNotIn(False, [group["user_id"] for group in groups])
        # Q2: April (Sam), May (Sam and Tess), June (the team's)
        quarter = [("date", ">=", APRIL), ("date", "<", date(2024, 7, 1))]
        self.assertEqual(
            self._figures([], quarter, ["target:sum"]),
            {(): (40000 if salesman else 49000,)},
        )

    def test_opportunities_of_nobody_keep_their_group(self):
        """An opportunity without salesperson still has its group, without the
        team's target."""
        lead = self._create_lead(
            "Nobody's deal",
            stage=self.s2,
            expected_revenue=1500,
            date_deadline=date(2024, 6, 3),
        )
        lead.user_id = False
        self.leads |= lead
        figures = self._figures(
            ["user_id"],
            IN_JUNE,
            ["expected_revenue:sum", "target:sum", "coverage:avg"],
        )
        self.assertEqual(figures[self.env["res.users"],], (1500, 0, False))
        self.assertEqual(
            self._figures([], IN_JUNE, ["expected_revenue:sum", "target:sum"]),
            # Sam's 4,000 and 3,000 (omitted), and this one
            {(): (8500, 20000)},
        )

    # ------------------------------------------------------------
    # Who sees what
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_salesman(self):
        """A salesperson reads the months of his targets and of his teams'."""
        sam_q2, sam_q3, __, __, team_june, __ = self.targets
        self.assertEqual(
            {target for target, __ in self._months()}, {sam_q2, sam_q3, team_june}
        )
        month = self.env["funnel.target.month"].search(
            [("target_id", "=", sam_q2.id)], limit=1
        )
        for operation in (
            lambda: month.write({"amount": 5.0}),
            lambda: month.unlink(),
            lambda: self.env["funnel.target.month"].create({"amount": 5.0}),
        ):
            with self.assertRaises(AccessError):
                operation()
        tess_month = (
            self.env["funnel.target.month"]
            .sudo()
            .search([("user_id", "=", self.user_salesman_2.id)], limit=1)
        )
        with self.assertRaises(AccessError):
            tess_month.with_env(self.env).read(["amount"])

    @users("funnel_salesman")
    def test_salesman_outside_the_team(self):
        """Out of the team, a salesperson no longer reads the team's months."""
        self.env["crm.team.member"].sudo().search(
            [("user_id", "=", self.user_salesman.id)]
        ).unlink()
        sam_q2, sam_q3, __, __, __, __ = self.targets
        self.assertEqual({target for target, __ in self._months()}, {sam_q2, sam_q3})

    @users("funnel_all_leads", "funnel_manager")
    def test_all_leads_and_manager(self):
        self.assertEqual({target for target, __ in self._months()}, set(self.targets))

    @users("funnel_all_leads")
    def test_multi_company(self):
        """The months of the targets of the companies one works in."""
        company_2 = self.env["res.company"].sudo().create({"name": "Target Co. 2"})
        self.env.user.sudo().company_ids += company_2
        target_2 = (
            self.env["funnel.target"]
            .sudo()
            .create(
                {
                    **self._target(None, self.team, "quarter", APRIL, 900),
                    "team_id": self.env["crm.team"]
                    .sudo()
                    .create({"name": "Team C2", "company_id": company_2.id})
                    .id,
                    "company_id": company_2.id,
                }
            )
        )
        Month = self.env["funnel.target.month"]
        self.assertNotIn(
            target_2,
            Month.with_context(allowed_company_ids=self.company.ids)
            .search([])
            .target_id,
        )
        months = Month.with_context(allowed_company_ids=company_2.ids).search([])
        self.assertEqual(months.target_id, target_2)
        self.assertEqual(months.mapped("amount"), [300, 300, 300])
        self.assertEqual(months.currency_id, company_2.currency_id)
