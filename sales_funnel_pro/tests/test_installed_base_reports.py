from datetime import date, timedelta

from odoo import fields
from odoo.tests import freeze_time, tagged

from .installed_base_common import TODAY, InstalledBaseCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestReplacementPotential(InstalledBaseCommon):
    """Installed assets reaching their end of life (lifetime 100 months), on
    2026-06-15:

    ========== ============ ======== ==================
    install    end of life  value    counted
    ========== ============ ======== ==================
    2018-03-10 2026-07-10   10,000   3, 6, 12 months
    2018-06-05 2026-10-05    2,000   6, 12 months
    2018-11-01 2027-03-01   10,000   12 months
    2019-05-01 2027-09-01   10,000   later
    2018-04-01 2026-08-01   10,000   never (retired)
    ========== ============ ======== ==================

    Beside them, an open opportunity of 5,000 closing on 2026-07-20.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._asset(date(2018, 3, 10))
        cls._asset(date(2018, 6, 5), replacement_value=2000)
        cls._asset(date(2018, 11, 1))
        cls._asset(date(2019, 5, 1))
        cls._asset(date(2018, 4, 1)).action_retire()
        cls._create_lead(
            "Open deal", expected_revenue=5000, date_deadline=date(2026, 7, 20)
        )

    def _figures(self, months, user=None):
        Report = self.env["funnel.forecast.report"]
        if user:
            Report = Report.with_user(user)
        start = date(2026, 6, 1)
        end = start + timedelta(days=31 * months)
        end = end.replace(day=1)
        ((potential, count, revenue),) = Report._read_group(
            [("date", ">=", start), ("date", "<", end)],
            [],
            [
                "replacement_potential:sum",
                "replacement_count:sum",
                "expected_revenue:sum",
            ],
        )
        return potential, count, revenue

    def test_next_3_6_12_months(self):
        self.assertEqual(self._figures(3), (10000, 1, 5000))
        self.assertEqual(self._figures(6), (12000, 2, 5000))
        self.assertEqual(self._figures(12), (22000, 3, 5000))

    def test_excluded_from_the_funnel_totals(self):
        Report = self.env["funnel.forecast.report"]
        funnel_only = Report._read_group(
            [("row_type", "!=", "installed_base")],
            [],
            ["expected_revenue:sum", "gap:sum"],
        )
        everything = Report._read_group([], [], ["expected_revenue:sum", "gap:sum"])
        self.assertEqual(everything, funnel_only)
        rows = Report.search([("row_type", "=", "installed_base")])
        self.assertEqual(len(rows), 4)
        self.assertFalse(any(rows.mapped("expected_revenue")))

    def test_as_the_salesman_of_the_accounts(self):
        self.assertEqual(self._figures(12, self.user_salesman), (22000, 3, 5000))
        self.assertEqual(self._figures(12, self.user_salesman_2), (0, 0, 0))

    def _board(self, user=None, group_by="forecast_date:month"):
        Lead = self.env["crm.lead"]
        if user:
            Lead = Lead.with_user(user)
        return Lead.funnel_forecast_column_sums(
            [("type", "=", "opportunity")], group_by
        )

    def test_board_replacement_potential(self):
        """The forecast board shows the potential of the next 3, 6 and 12 months
        and of each month, apart from the funnel's sums."""
        replacement = self._board()["replacement"]
        self.assertEqual(
            [(h["months"], h["amount"], h["count"]) for h in replacement["horizons"]],
            [(3, 10000, 1), (6, 12000, 2), (12, 22000, 3)],
        )
        self.assertEqual(
            [h["label"] for h in replacement["horizons"]],
            ["Next 3 months", "Next 6 months", "Next 12 months"],
        )
        self.assertEqual(
            replacement["columns"],
            {
                "July 2026": {"amount": 10000, "count": 1},
                "October 2026": {"amount": 2000, "count": 1},
                "March 2027": {"amount": 10000, "count": 1},
            },
        )
        # the board by stage has no months: the horizons only
        by_stage = self._board(group_by="stage_id")["replacement"]
        self.assertEqual(by_stage["columns"], {})
        self.assertEqual(by_stage["horizons"], replacement["horizons"])
        # the salesman of the accounts sees it, another salesman nothing
        self.assertEqual(self._board(self.user_salesman)["replacement"], replacement)
        other = self._board(self.user_salesman_2)["replacement"]
        self.assertEqual([h["amount"] for h in other["horizons"]], [0, 0, 0])
        self.assertEqual(other["columns"], {})

    def test_board_totals_exclude_the_installed_base(self):
        """The funnel's sums of the board are the opportunities' alone: the
        assets' month holds none, the opportunity's month its 5,000 only."""
        columns = self._board()["columns"]
        self.assertEqual(list(columns), ["July 2026"])
        self.assertEqual(
            columns["July 2026"],
            {"commit": 0, "best_case": 0, "pipeline": 5000, "weighted": 500},
        )
        self.env["funnel.installed.asset"].search([]).action_retire()
        self.assertEqual(self._board()["columns"], columns)
        self.assertEqual(self._board()["replacement"]["columns"], {})

    def test_board_replacement_in_one_query(self):
        Lead = self.env["crm.lead"]
        Lead._funnel_replacement_potential()
        self.env.flush_all()
        with self.assertQueryCount(1):
            Lead._funnel_replacement_potential()


@tagged("post_install", "-at_install")
class TestCoverageAndLatency(InstalledBaseCommon):
    """Real time (the views read now()): customers with active assets A
    (care yesterday), B (care 100 days ago), C (no care); D has only a retired
    asset. Coverage over 90 days: 1 of 3."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.a, cls.b, cls.c, cls.d = (
            Partner.create(
                {
                    "name": name,
                    "is_company": True,
                    "funnel_care_user_id": cls.user_care.id,
                }
            )
            for name in ("A Lab", "B Lab", "C Lab", "D Lab")
        )
        for partner in (cls.a, cls.b, cls.c, cls.d):
            cls._asset(date(2024, 1, 1), partner=partner)
        cls.d.funnel_asset_ids.action_retire()
        cls.now = fields.Datetime.now()
        cls.care_type = cls.env.ref("sales_funnel_pro.mail_activity_type_customer_care")
        for partner, days in ((cls.a, 1), (cls.b, 100)):
            cls._care(partner, cls.now - timedelta(days=days))

    @classmethod
    def _care(cls, partner, when):
        return cls.env["funnel.activity.log"].create(
            {
                "partner_id": partner.id,
                "activity_type_id": cls.care_type.id,
                "user_id": cls.user_care.id,
                "date": when,
                "source": "care",
            }
        )

    def test_care_coverage(self):
        Report = self.env["funnel.care.coverage.report"]
        ((customers, covered, coverage),) = Report._read_group(
            [], [], ["customer_count:sum", "covered_count:sum", "coverage:sum"]
        )
        self.assertEqual((customers, covered, round(coverage, 1)), (3, 1, 33.3))
        by_owner = Report._read_group(
            [], ["care_user_id", "life_phase"], ["coverage:sum"]
        )
        self.assertEqual(
            [(u, p, round(c, 1)) for u, p, c in by_owner],
            [(self.user_care, "mid", 33.3)],
        )
        self.env["ir.config_parameter"].set_param(
            "sales_funnel_pro.care_coverage_days", "120"
        )
        self.assertEqual(Report._read_group([], [], ["covered_count:sum"]), [(2,)])
        # the care owner sees his customers; another salesman none
        self.assertEqual(Report.with_user(self.user_care).search_count([]), 3)
        self.assertEqual(Report.with_user(self.user_salesman_2).search_count([]), 0)

    def test_handoff_and_found_latency(self):
        won = self._create_lead("Won", stage=self.won, partner_id=self.c.id)
        won.write(
            {"date_closed": self.now - timedelta(days=5), "handoff_date": self.now}
        )
        self._care(self.c, self.now - timedelta(days=3))
        found = self._create_lead(
            "Found",
            partner_id=self.c.id,
            referred_by_id=self.user_care.id,
            source_id=self.source_care.id,
        )
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id = %s",
            (self.now - timedelta(days=4), found.id),
        )
        found.invalidate_recordset(["create_date"])
        self.env["funnel.activity.log"].create(
            {
                "lead_id": found.id,
                "activity_type_id": self.call_type.id,
                "user_id": self.user_salesman.id,
                "date": self.now - timedelta(days=1),
            }
        )
        self.env.flush_all()
        Report = self.env["funnel.handoff.report"]
        row = Report.search([("lead_id", "=", won.id)])
        self.assertAlmostEqual(row.handoff_latency_days, 2.0, places=3)
        self.assertFalse(row.found_latency_days)
        row = Report.search([("lead_id", "=", found.id)])
        self.assertAlmostEqual(row.found_latency_days, 3.0, places=3)
        self.assertEqual((row.origin, row.referred_by_id), ("care", self.user_care))
        # the finder sees the opportunity he found in the report
        self.assertEqual(Report.with_user(self.user_care).search([]).lead_id, found)

    def test_conversion_and_win_rate_by_origin(self):
        def lead(name, source=None, state="open"):
            record = self._create_lead(
                name,
                stage=self.won if state == "won" else None,
                source_id=source.id if source else False,
            )
            if state == "lost":
                record.action_set_lost()
            return record

        lead("N1", state="won")
        lead("N2", state="won")
        lead("N3", state="lost")
        lead("N4")
        lead("C1", self.source_care, "won")
        lead("C2", self.source_care)
        lead("B1", self.source_base, "lost")
        rows = self.env["funnel.handoff.report"]._read_group(
            [("team_id", "=", self.team.id)],
            ["origin"],
            ["opportunity_count:sum", "conversion:sum", "win_rate:sum"],
        )
        self.assertEqual(
            {
                origin: (count, conversion, win_rate)
                for origin, count, conversion, win_rate in rows
            },
            {
                "new": (4, 50.0, 66.7),
                "care": (2, 50.0, 100.0),
                "installed_base": (1, 0.0, 0.0),
            },
        )
