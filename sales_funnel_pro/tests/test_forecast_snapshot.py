from datetime import date, datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, users

from .common import FIXTURE_REASON, FunnelCommon

# a Monday morning
NOW = "2024-03-04 09:00:00"


class ForecastSnapshotCommon(FunnelCommon):
    """Stages get their forecast categories (s3 best case, s4 commit) and
    historical win rates: the team's own rate of s4 (60 %), the company's rate
    of s3 (30 %), nothing for s1 and s2 (their configured rates apply)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3.forecast_category = "best_case"
        cls.s4.forecast_category = "commit"
        # other opportunities of the database do not take part
        cls.env["crm.lead"].search([("team_id", "!=", cls.team.id)]).write(
            {"active": False}
        )
        WinRate = cls.env["funnel.stage.win.rate"].sudo()
        WinRate.create(
            [
                cls._win_rate_values(cls.s4, cls.team, 60.0),
                cls._win_rate_values(cls.s4, None, 45.0),
                cls._win_rate_values(cls.s3, None, 30.0),
            ]
        )

    @classmethod
    def _deal(cls, name, stage, user, revenue, probability, deadline):
        """An opportunity of ``user`` in ``stage``, of ``revenue`` at
        ``probability`` %, expected to close on ``deadline``."""
        return cls._create_lead(
            name,
            stage=stage,
            user=user,
            expected_revenue=revenue,
            probability=probability,
            date_deadline=deadline,
        )

    @classmethod
    def _win_rate_values(cls, stage, team, rate):
        won = round(rate / 5)
        return {
            "company_id": cls.company.id,
            "stage_id": stage.id,
            "team_id": team.id if team else False,
            "won_count": won,
            "lost_count": 20 - won,
            "sample_size": 20,
            "rate": rate,
            "win_rate": rate,
            "is_fallback": False,
        }

    def _take(self, kind="manual"):
        return self.env["funnel.forecast.snapshot"]._take_snapshots(
            self.env.company, kind=kind
        )


@freeze_time(NOW)
class TestForecastSnapshot(ForecastSnapshotCommon):
    """What a snapshot copies: every open opportunity, nothing else.

    - ``lead_quote``: Sam's, s3, 10,000 at 60 %, expected 20/03 (best case, the
      company's historical rate 30 %);
    - ``lead_terms``: Tess's, s4, 4,000 at 80 %, expected 10/04 (commit, the
      team's historical rate 60 %);
    - ``lead_start``: Sam's, s1, 2,000 at 10 %, no expected closing, overridden
      to commit (no history: the configured rate 10 %);
    - left out: a won one, a lost one, an archived one and a lead.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead_quote = cls._create_lead(
            "Quote",
            stage=cls.s3,
            expected_revenue=10000,
            probability=60,
            date_deadline=date(2024, 3, 20),
        )
        cls.lead_terms = cls._create_lead(
            "Terms",
            stage=cls.s4,
            user=cls.user_salesman_2,
            expected_revenue=4000,
            probability=80,
            date_deadline=date(2024, 4, 10),
        )
        cls.lead_start = cls._create_lead(
            "Start", expected_revenue=2000, probability=10
        )
        cls.lead_start.forecast_category_override = "commit"
        cls.lead_won = cls._create_lead(
            "Won", stage=cls.won, expected_revenue=5000, probability=100
        )
        cls.lead_lost = cls._create_lead("Lost", stage=cls.s2, expected_revenue=700)
        cls.lead_lost.action_set_lost()
        cls.lead_archived = cls._create_lead("Archived", stage=cls.s2)
        cls.lead_archived.active = False
        cls.lead_lead = cls._create_lead("A lead", type="lead", expected_revenue=900)
        cls.open_leads = cls.lead_quote | cls.lead_terms | cls.lead_start

    def _lines(self, snapshot):
        return {
            line.lead_id: (
                line.user_id,
                line.team_id,
                line.stage_id,
                line.date_deadline,
                line.expected_revenue,
                line.probability,
                line.stage_win_rate,
                line.historical_win_rate,
                line.forecast_category,
                line.weighted_probability,
                line.weighted_stage,
                line.weighted_historical,
            )
            for line in snapshot.line_ids
        }

    def test_snapshot_content(self):
        snapshot = self._take()
        self.assertRecordValues(
            snapshot,
            [
                {
                    "date": date(2024, 3, 4),
                    "taken_at": datetime(2024, 3, 4, 9, 0),
                    "company_id": self.company.id,
                    "user_id": self.env.uid,
                    "kind": "manual",
                    "line_count": 3,
                    "expected_revenue": 16000,
                    "commit_revenue": 6000,
                }
            ],
        )
        sam, tess, team = self.user_salesman, self.user_salesman_2, self.team
        self.assertEqual(
            self._lines(snapshot),
            {
                self.lead_quote: (
                    sam, team, self.s3, date(2024, 3, 20), 10000, 60, 50, 30,
                    "best_case", 6000, 5000, 3000,
                ),
                self.lead_terms: (
                    tess, team, self.s4, date(2024, 4, 10), 4000, 80, 75, 60,
                    "commit", 3200, 3000, 2400,
                ),
                self.lead_start: (
                    sam, team, self.s1, False, 2000, 10, 10, 10,
                    "commit", 200, 200, 200,
                ),
            },
        )  # fmt: skip
        self.assertEqual(set(snapshot.line_ids.mapped("date")), {date(2024, 3, 4)})
        self.assertEqual(snapshot.line_ids.company_id, self.company)

    def test_snapshot_is_frozen(self):
        """Later changes of the opportunities do not change the snapshot."""
        snapshot = self._take()
        self.lead_quote.write({"stage_id": self.s4.id, "expected_revenue": 99000})
        self.lead_terms.action_set_lost()
        self.env.invalidate_all()
        line = snapshot.line_ids.filtered(lambda line: line.lead_id == self.lead_quote)
        self.assertEqual((line.stage_id, line.expected_revenue), (self.s3, 10000))
        self.assertEqual(len(snapshot.line_ids), 3)

    def test_same_day_replaces(self):
        """Taking a snapshot again the same day replaces that day's snapshot, its
        lines taken anew; another day adds one."""
        first = self._take(kind="scheduled")
        self.lead_quote.expected_revenue = 12000
        second = self._take()
        self.assertFalse(first.exists())
        Snapshot = self.env["funnel.forecast.snapshot"]
        self.assertEqual(Snapshot.search([]), second)
        self.assertEqual(second.kind, "manual")
        self.assertEqual(second.expected_revenue, 18000)
        self.assertEqual(self.env["funnel.forecast.snapshot.line"].search_count([]), 3)
        with freeze_time("2024-03-11 09:00:00"):
            third = self._take(kind="scheduled")
        self.assertEqual(Snapshot.search([]), third | second)
        self.assertEqual(third.date, date(2024, 3, 11))

    def test_one_statement_whatever_the_size(self):
        """The lines are written by one statement: taking a snapshot costs the same
        number of queries with 3 or 53 open opportunities."""
        Snapshot = self.env["funnel.forecast.snapshot"]
        self._take()  # warm the caches: the same day's snapshot is replaced below
        self.env.invalidate_all()
        # the lock that keeps two snapshots apart, then 12 queries
        with self.assertQueryCount(13):
            snapshot = self._take()
        self.assertEqual(len(snapshot.line_ids), 3)
        self.env["crm.lead"].create(
            [
                {
                    "name": f"Bulk {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s2.id,
                    "user_id": self.user_salesman.id,
                    "expected_revenue": 100,
                    "funnel_waive_reason": FIXTURE_REASON,
                }
                for index in range(50)
            ]
        )
        self.env.invalidate_all()
        with self.assertQueryCount(13):
            snapshot = Snapshot._take_snapshots(self.env.company)
        self.assertEqual(len(snapshot.line_ids), 53)

    def test_cron(self):
        """The weekly job takes a scheduled snapshot of every company."""
        other = self.env["res.company"].create({"name": "Other Calibration Co."})
        other_lead = self.env["crm.lead"].create(
            {
                "name": "Other company's deal",
                "type": "opportunity",
                "company_id": other.id,
                "expected_revenue": 300,
            }
        )
        cron = self.env.ref("sales_funnel_pro.ir_cron_forecast_snapshot")
        self.assertEqual(cron.interval_type, "weeks")
        self.assertEqual(cron.interval_number, 1)
        cron.method_direct_trigger()
        snapshots = self.env["funnel.forecast.snapshot"].search([])
        self.assertEqual(set(snapshots.mapped("kind")), {"scheduled"})
        self.assertEqual(set(snapshots.mapped("date")), {date(2024, 3, 4)})
        self.assertIn(self.company, snapshots.company_id)
        mine = snapshots.filtered(lambda s: s.company_id == self.company)
        self.assertEqual(mine.line_ids.lead_id, self.open_leads)
        theirs = snapshots.filtered(lambda s: s.company_id == other)
        self.assertEqual(theirs.line_ids.lead_id, other_lead)
        self.assertEqual(theirs.line_ids.company_id, other)

    # ------------------------------------------------------------
    # Who may do what
    # ------------------------------------------------------------

    @users("funnel_manager")
    def test_manager_takes_and_deletes(self):
        action = self.env["funnel.forecast.snapshot"].action_take_snapshot()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("3 open opportunities", action["params"]["message"])
        snapshot = self.env["funnel.forecast.snapshot"].search([])
        self.assertEqual(snapshot.user_id, self.env.user)
        self.assertEqual(snapshot.kind, "manual")
        self.assertEqual(snapshot.line_count, 3)
        # frozen, even for a manager
        with self.assertRaisesRegex(UserError, "frozen"):
            snapshot.write({"date": date(2024, 3, 1)})
        with self.assertRaisesRegex(UserError, "frozen"):
            snapshot.line_ids[0].write({"expected_revenue": 1})
        with self.assertRaises(AccessError):
            snapshot.line_ids[0].unlink()
        with self.assertRaisesRegex(UserError, "cannot be created by hand"):
            self.env["funnel.forecast.snapshot"].create(
                {"date": date(2024, 3, 1), "company_id": self.company.id}
            )
        # but he may delete a snapshot, lines and all
        lines = snapshot.line_ids
        snapshot.unlink()
        self.assertFalse(lines.exists())

    @users("funnel_salesman")
    def test_salesman_refused(self):
        Snapshot = self.env["funnel.forecast.snapshot"]
        with self.assertRaisesRegex(AccessError, "Only sales managers"):
            Snapshot.action_take_snapshot()
        self.assertFalse(Snapshot.sudo().search([]))
        snapshot = self._take().with_env(self.env)
        line = snapshot.line_ids[0]
        with self.assertRaisesRegex(UserError, "frozen"):
            line.write({"expected_revenue": 1})
        self.assertEqual(line.sudo().expected_revenue, 10000)
        with self.assertRaisesRegex(UserError, "cannot be created by hand"):
            self.env["funnel.forecast.snapshot.line"].create(
                {"snapshot_id": snapshot.id, "lead_id": self.lead_quote.id}
            )
        with self.assertRaises(AccessError):
            snapshot.unlink()
        self.assertTrue(snapshot.exists())

    @users("funnel_salesman")
    def test_salesman_sees_own_lines(self):
        snapshot = self._take().with_env(self.env)
        self.assertEqual(snapshot.line_ids.lead_id, self.lead_quote | self.lead_start)
        # the totals count what he may read
        self.assertEqual(snapshot.line_count, 2)
        self.assertEqual(snapshot.expected_revenue, 12000)
        other_line = (
            self.env["funnel.forecast.snapshot.line"]
            .sudo()
            .search([("lead_id", "=", self.lead_terms.id)])
        )
        with self.assertRaises(AccessError):
            other_line.with_env(self.env).read(["expected_revenue"])

    @users("funnel_salesman_2")
    def test_other_salesman_sees_own_lines(self):
        snapshot = self._take().with_env(self.env)
        self.assertEqual(snapshot.line_ids.lead_id, self.lead_terms)
        self.assertEqual(snapshot.commit_revenue, 4000)

    @users("funnel_all_leads")
    def test_all_leads_sees_all_lines(self):
        snapshot = self._take().with_env(self.env)
        self.assertEqual(snapshot.line_ids.lead_id, self.open_leads)
        with self.assertRaisesRegex(AccessError, "Only sales managers"):
            self.env["funnel.forecast.snapshot"].action_take_snapshot()

    def test_multi_company(self):
        """A user of another company sees neither the snapshots nor the lines of
        this one; a manager taking a snapshot takes it for his companies."""
        other, other_manager = self._other_company_user(
            "funnel_other_manager", "sales_team.group_sale_manager"
        )
        other_lead = self.env["crm.lead"].create(
            {
                "name": "Other company's deal",
                "type": "opportunity",
                "company_id": other.id,
                "user_id": other_manager.id,
                "expected_revenue": 300,
            }
        )
        mine = self._take()
        env = self.env(user=other_manager, context={"allowed_company_ids": other.ids})
        Snapshot = env["funnel.forecast.snapshot"]
        self.assertFalse(Snapshot.search([]))
        self.assertFalse(env["funnel.forecast.snapshot.line"].search([]))
        with self.assertRaises(AccessError):
            Snapshot.browse(mine.id).read(["name"])
        Snapshot.action_take_snapshot()
        theirs = Snapshot.search([])
        self.assertEqual(theirs.company_id, other)
        self.assertEqual(theirs.line_ids.lead_id, other_lead)
        self.assertEqual(
            self.env["funnel.forecast.snapshot"].search([]), mine | theirs.sudo()
        )
