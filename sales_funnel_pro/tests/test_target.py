from contextlib import contextmanager
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import users

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import FunnelCommon


@freeze_time("2025-05-14 10:00:00")
class TestTarget(FunnelCommon):
    """Sales targets: one per salesperson or team and period, whole periods,
    never overlapping; managers change them, salespeople read their own and
    their teams'.

    The salesman is a member of the test team; the second salesman of none.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.team.id, "user_id": cls.user_salesman.id}
        )
        cls.other_team = cls.env["crm.team"].create({"name": "Other Team"})
        Target = cls.env["funnel.target"]
        cls.target_own = Target.create(
            {"user_id": cls.user_salesman.id, "date_from": "2025-05-01", "amount": 100}
        )
        cls.target_other = Target.create(
            {"user_id": cls.user_salesman_2.id, "date_from": "2025-05-01", "amount": 90}
        )
        cls.target_team = Target.create(
            {
                "team_id": cls.team.id,
                "period": "quarter",
                "date_from": "2025-04-01",
                "amount": 600,
            }
        )
        cls.target_other_team = Target.create(
            {
                "team_id": cls.other_team.id,
                "period": "year",
                "date_from": "2025-01-01",
                "amount": 2000,
            }
        )
        cls.targets = (
            cls.target_own | cls.target_other | cls.target_team | cls.target_other_team
        )

    def _targets(self):
        return self.env["funnel.target"].search([("id", "in", self.targets.ids)])

    # ------------------------------------------------------------
    # Periods
    # ------------------------------------------------------------

    def test_periods_are_whole(self):
        Target = self.env["funnel.target"]
        month = Target.create(
            {"user_id": self.user_salesman.id, "date_from": "2025-06-17", "amount": 1}
        )
        self.assertEqual(
            (month.date_from, month.date_to), (date(2025, 6, 1), date(2025, 6, 30))
        )
        quarter = Target.create(
            {
                "user_id": self.user_salesman.id,
                "period": "quarter",
                "date_from": "2025-08-20",
                "amount": 1,
            }
        )
        self.assertEqual(
            (quarter.date_from, quarter.date_to), (date(2025, 7, 1), date(2025, 9, 30))
        )
        year = Target.create(
            {
                "team_id": self.team.id,
                "period": "year",
                "date_from": "2026-02-28",
                "amount": 1,
            }
        )
        self.assertEqual(
            (year.date_from, year.date_to), (date(2026, 1, 1), date(2026, 12, 31))
        )
        # February of a leap year
        feb = Target.create(
            {"user_id": self.user_salesman.id, "date_from": "2028-02-10", "amount": 1}
        )
        self.assertEqual(feb.date_to, date(2028, 2, 29))
        # the default: this month
        default = Target.create({"user_id": self.user_all_leads.id, "amount": 5})
        self.assertEqual(
            (default.date_from, default.date_to), (date(2025, 5, 1), date(2025, 5, 31))
        )
        self.assertEqual(default.currency_id, self.env.company.currency_id)
        self.assertEqual(default.display_name, "Lea All Leads · May 2025")
        self.assertEqual(quarter.display_name, "Sam Salesman · Q3 2025")
        self.assertEqual(year.display_name, "Funnel Team · 2026")

    def test_period_change_realigns(self):
        target = self.target_own
        target.write({"date_from": "2025-11-19"})
        self.assertEqual(
            (target.date_from, target.date_to), (date(2025, 11, 1), date(2025, 11, 30))
        )
        target.period = "quarter"
        self.assertEqual(
            (target.date_from, target.date_to), (date(2025, 10, 1), date(2025, 12, 31))
        )
        target.period = "year"
        self.assertEqual(
            (target.date_from, target.date_to), (date(2025, 1, 1), date(2025, 12, 31))
        )

    # ------------------------------------------------------------
    # Refused targets
    # ------------------------------------------------------------

    @contextmanager
    def _refused(self, message):
        """Expect a ValidationError matching ``message``; what the refused
        operation wrote is rolled back."""
        with self.assertRaises(ValidationError) as caught:
            yield
        self.assertRegex(str(caught.exception), message)

    def _assert_refused(self, values, message):
        Target = self.env["funnel.target"]
        count = Target.search_count([])
        with self._refused(message):
            Target.create(values)
        self.assertEqual(Target.search_count([]), count, "nothing was written")

    def test_refuse_negative_amount(self):
        self._assert_refused(
            {"user_id": self.user_salesman.id, "date_from": "2025-07-01", "amount": -1},
            "cannot be negative",
        )
        with self._refused("cannot be negative"):
            self.target_own.amount = -50
        self.assertEqual(self.target_own.amount, 100)

    def test_refuse_start_after_end(self):
        self._assert_refused(
            {
                "user_id": self.user_salesman.id,
                "date_from": "2025-07-01",
                "date_to": "2025-06-30",
                "amount": 10,
            },
            "starts on .* after its end",
        )
        with self._refused("after its end"):
            self.target_own.date_to = "2025-04-30"
        self.assertEqual(self.target_own.date_to, date(2025, 5, 31))

    def test_refuse_partial_period(self):
        self._assert_refused(
            {
                "user_id": self.user_salesman.id,
                "date_from": "2025-07-01",
                "date_to": "2025-07-15",
                "amount": 10,
            },
            "covers its whole period",
        )

    def test_refuse_both_user_and_team(self):
        self._assert_refused(
            {
                "user_id": self.user_salesman.id,
                "team_id": self.team.id,
                "date_from": "2025-07-01",
                "amount": 10,
            },
            "not both",
        )
        with self._refused("not both"):
            self.target_own.team_id = self.other_team
        self.assertFalse(self.target_own.team_id)

    def test_refuse_neither_user_nor_team(self):
        self._assert_refused(
            {"date_from": "2025-07-01", "amount": 10},
            "Set the salesperson or the sales team",
        )

    def test_refuse_overlap_same_user(self):
        # a quarter over the salesman's May target
        self._assert_refused(
            {
                "user_id": self.user_salesman.id,
                "period": "quarter",
                "date_from": "2025-04-01",
                "amount": 300,
            },
            "overlaps the target “Sam Salesman · May 2025”",
        )
        # the same month twice
        self._assert_refused(
            {"user_id": self.user_salesman.id, "date_from": "2025-05-20", "amount": 1},
            "overlaps",
        )
        # moving a target onto another one
        june = self.env["funnel.target"].create(
            {"user_id": self.user_salesman.id, "date_from": "2025-06-01", "amount": 1}
        )
        with self._refused("overlaps"):
            june.date_from = "2025-05-01"
        self.assertEqual(june.date_from, date(2025, 6, 1))
        # a batch overlapping itself
        self._assert_refused(
            [
                {
                    "user_id": self.user_all_leads.id,
                    "date_from": "2025-09-01",
                    "amount": 1,
                },
                {
                    "user_id": self.user_all_leads.id,
                    "date_from": "2025-09-15",
                    "amount": 2,
                },
            ],
            "overlaps",
        )

    def test_refuse_overlap_same_team(self):
        self._assert_refused(
            {"team_id": self.team.id, "date_from": "2025-06-01", "amount": 200},
            "overlaps the target “Funnel Team · Q2 2025”",
        )
        self._assert_refused(
            {
                "team_id": self.other_team.id,
                "period": "quarter",
                "date_from": "2025-10-01",
                "amount": 200,
            },
            "Other Team has one target per period",
        )

    def test_no_overlap_between_different_owners(self):
        Target = self.env["funnel.target"]
        targets = Target.create(
            [
                # a team and a salesperson, the same month
                {"team_id": self.other_team.id, "date_from": "2026-05-01", "amount": 1},
                {
                    "user_id": self.user_salesman.id,
                    "date_from": "2026-05-01",
                    "amount": 1,
                },
                # next to each other
                {
                    "user_id": self.user_salesman.id,
                    "date_from": "2025-06-01",
                    "amount": 1,
                },
                {
                    "user_id": self.user_salesman.id,
                    "period": "quarter",
                    "date_from": "2025-07-01",
                    "amount": 1,
                },
            ]
        )
        self.assertEqual(len(targets), 4)
        # the same salesperson in another company
        company_2 = self.env["res.company"].create({"name": "Funnel Company 2"})
        self.user_salesman.company_ids = [Command.link(company_2.id)]
        other = Target.create(
            {
                "user_id": self.user_salesman.id,
                "date_from": "2025-05-01",
                "amount": 1,
                "company_id": company_2.id,
            }
        )
        self.assertEqual(other.date_from, self.target_own.date_from)

    def test_import(self):
        Target = self.env["funnel.target"]
        fields = ["user_id", "team_id", "period", "date_from", "amount"]
        result = Target.load(
            fields,
            [
                ["Sam Salesman", "", "month", "2025-07-01", "1500"],
                ["", "Funnel Team", "quarter", "2025-07-01", "6000"],
            ],
        )
        self.assertFalse(result["messages"])
        imported = Target.browse(result["ids"])
        self.assertEqual(imported.mapped("amount"), [1500, 6000])
        self.assertEqual(imported[1].date_to, date(2025, 9, 30))
        # a refused row: nothing is imported
        count = Target.search_count([])
        result = Target.load(
            fields,
            [
                ["Tess Salesman", "", "month", "2025-08-01", "10"],
                ["Sam Salesman", "", "month", "2025-08-01", "-10"],
            ],
        )
        self.assertFalse(result["ids"])
        self.assertIn("cannot be negative", result["messages"][0]["message"])
        self.assertEqual(Target.search_count([]), count)

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_salesman_reads_own_and_team(self):
        self.assertEqual(self._targets(), self.target_own | self.target_team)
        self.assertEqual(self.target_own.with_env(self.env).amount, 100)
        with self.assertRaises(AccessError):
            self.target_other.with_env(self.env).read(["amount"])
        with self.assertRaises(AccessError):
            self.target_other_team.with_env(self.env).read(["amount"])
        with self.assertRaises(AccessError):
            self.target_own.with_env(self.env).amount = 1
        with self.assertRaises(AccessError):
            self.env["funnel.target"].create(
                {
                    "user_id": self.user_salesman.id,
                    "date_from": "2025-09-01",
                    "amount": 1,
                }
            )
        with self.assertRaises(AccessError):
            self.target_own.with_env(self.env).unlink()

    @users("funnel_salesman_2")
    def test_other_salesman_reads_own_only(self):
        self.assertEqual(self._targets(), self.target_other)

    def test_team_leader_reads_team(self):
        self.other_team.user_id = self.user_salesman_2
        targets = self._targets().with_user(self.user_salesman_2)
        self.assertEqual(
            targets.search([("id", "in", self.targets.ids)]),
            self.target_other | self.target_other_team,
        )

    @users("funnel_all_leads")
    def test_all_leads_reads_all(self):
        self.assertEqual(self._targets(), self.targets)
        with self.assertRaises(AccessError):
            self.target_other.with_env(self.env).amount = 1

    @users("funnel_manager")
    def test_manager_manages(self):
        self.assertEqual(self._targets(), self.targets)
        target = self.env["funnel.target"].create(
            {
                "user_id": self.user_salesman_2.id,
                "date_from": "2025-06-01",
                "amount": 80,
            }
        )
        target.amount = 95
        self.target_other.with_env(self.env).unlink()
        self.assertEqual(target.amount, 95)
        self.assertFalse(self.target_other.exists())

    def test_multi_company(self):
        company_2 = self.env["res.company"].create({"name": "Funnel Company 2"})
        team_2 = self.env["crm.team"].create(
            {"name": "Team C2", "company_id": company_2.id}
        )
        target_c2 = self.env["funnel.target"].create(
            {
                "team_id": team_2.id,
                "date_from": "2025-05-01",
                "amount": 70,
                "company_id": company_2.id,
            }
        )
        user_mc = mail_new_test_user(
            self.env,
            login="funnel_mc",
            name="Mia Main Company",
            email="mia@example.com",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
            groups="sales_team.group_sale_manager",
        )
        Target = self.env["funnel.target"].with_user(user_mc)
        self.assertFalse(Target.search([("id", "=", target_c2.id)]))
        with self.assertRaises(AccessError):
            Target.browse(target_c2.id).read(["amount"])
        self.assertEqual(Target.search([("id", "in", self.targets.ids)]), self.targets)
        # allowed in both companies, and both active
        user_mc.company_ids = [Command.link(company_2.id)]
        both = Target.with_context(
            allowed_company_ids=[self.env.company.id, company_2.id]
        )
        self.assertEqual(both.search([("id", "=", target_c2.id)]), target_c2)
        # a target's team must be of its company
        with self.assertRaises(UserError):
            self.env["funnel.target"].create(
                {"team_id": team_2.id, "date_from": "2025-06-01", "amount": 1}
            )
