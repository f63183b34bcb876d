from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import users

from .common import FunnelCommon

NOW = datetime(2025, 6, 30, 12, 0)


@freeze_time(NOW)
class TestWinRate(FunnelCommon):
    """Historical win rates on a small known history, on 2025-06-30.

    Opportunities closed within the last 12 months, by the stages they passed
    (the won ones end in the won stage):

    ======== ===================== ===== ====================================
    team     path                  count outcome
    ======== ===================== ===== ====================================
    A        s1 s2 s3 won           12   won (one of them 360 days ago)
    A        s1 won                  3   won
    A        s1                      3   lost in s1
    A        s1 s2                   2   lost in s2
    B        s1 s2 won               1   won
    B        s1                      3   lost in s1
    (none)   s1 s2                   1   lost in s2
    ======== ===================== ===== ====================================

    So s1: A 15/20 = 75 % (its own, 20 is enough), B 1/4 = 25 % (falls back
    on the company's), company 16/25 = 64 %; s2: A 12/14, B 1/1, company
    13/16 = 81.25 %; s3: A 12/12, company 12/12.

    Left out: a won and a lost opportunity of team A closed 370 days ago, an
    open one in s2, one lost then restored, and one of company 2 (its own rows).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_a = cls.team
        cls.team_b = cls.env["crm.team"].create({"name": "Team B"})
        cls.company_2 = cls.env["res.company"].create({"name": "Funnel Company 2"})
        cls.team_c2 = cls.env["crm.team"].create(
            {"name": "Team C2", "company_id": cls.company_2.id}
        )
        cls.History = cls.env["funnel.stage.history"]
        s1, s2, s3, won = cls.s1, cls.s2, cls.s3, cls.won
        plan = [
            *[(cls.team_a, (s1, s2, s3, won), "won", 10 + i) for i in range(11)],
            (cls.team_a, (s1, s2, s3, won), "won", 360),
            *[(cls.team_a, (s1, won), "won", 20) for __ in range(3)],
            *[(cls.team_a, (s1,), "lost", 30) for __ in range(3)],
            *[(cls.team_a, (s1, s2), "lost", 40) for __ in range(2)],
            (cls.team_b, (s1, s2, won), "won", 50),
            *[(cls.team_b, (s1,), "lost", 60) for __ in range(3)],
            (None, (s1, s2), "lost", 70),
            # left out
            (cls.team_a, (s1, s2, s3, won), "won", 370),
            (cls.team_a, (s1,), "lost", 370),
            (cls.team_a, (s1, s2), "open", 5),
            (cls.team_a, (s1,), "restored", 5),
            (cls.team_c2, (s1, won), "won", 15),
        ]
        cls.leads = cls.env["crm.lead"].create(
            [
                {
                    "name": f"Deal {index}",
                    "type": "opportunity",
                    "stage_id": s1.id,
                    "team_id": team.id if team else False,
                    "company_id": (team.company_id or cls.env.company).id
                    if team
                    else cls.env.company.id,
                    "user_id": False,
                }
                for index, (team, *__) in enumerate(plan)
            ]
        )
        cls.History.search([("lead_id", "in", cls.leads.ids)]).unlink()
        rows = []
        for lead, (team, path, outcome, days_ago) in zip(cls.leads, plan, strict=True):
            rows.extend(cls._rows(lead, team, path, outcome, days_ago))
        cls.History.create(rows)

    @classmethod
    def _rows(cls, lead, team, path, outcome, days_ago):
        """History rows of ``lead`` through the stages of ``path``, ending with
        ``outcome`` ``days_ago`` days before now (a stage a day)."""
        closing = NOW - timedelta(days=days_ago)
        start = closing - timedelta(days=len(path) + 2)
        common = {
            "lead_id": lead.id,
            "team_id": team.id if team else False,
            "company_id": lead.company_id.id,
        }
        rows = []
        for index, stage in enumerate(path):
            is_last = index == len(path) - 1
            event = "enter"
            if is_last and outcome == "won":
                event = "won"
            rows.append(
                dict(
                    common,
                    stage_id=stage.id,
                    event=event,
                    date_in=start + timedelta(days=index),
                    is_open=is_last and outcome in ("won", "open"),
                )
            )
        last = path[-1]
        if outcome in ("lost", "restored"):
            rows.append(
                dict(
                    common,
                    stage_id=last.id,
                    event="lost",
                    date_in=closing,
                    is_open=outcome == "lost",
                )
            )
        if outcome == "restored":
            rows.append(
                dict(
                    common,
                    stage_id=last.id,
                    event="restored",
                    date_in=closing + timedelta(days=1),
                    is_open=True,
                )
            )
        if outcome == "won":
            rows[-1]["date_in"] = closing
        return rows

    def _rates(self, company=None):
        """{(stage, team): (won, lost, sample, rate, win_rate, is_fallback)} of our
        stages, for ``company`` (default the main one)."""
        rows = self.env["funnel.stage.win.rate"].search(
            [
                (
                    "stage_id",
                    "in",
                    (self.s1 | self.s2 | self.s3 | self.s4 | self.won).ids,
                ),
                ("company_id", "=", (company or self.env.company).id),
            ]
        )
        return {
            (row.stage_id, row.team_id): (
                row.won_count,
                row.lost_count,
                row.sample_size,
                round(row.rate, 2),
                round(row.win_rate, 2),
                row.is_fallback,
            )
            for row in rows
        }

    def test_rates(self):
        self.env["funnel.stage.win.rate"]._refresh()
        no_team = self.env["crm.team"]
        a, b = self.team_a, self.team_b
        self.assertEqual(
            self._rates(),
            {
                (self.s1, no_team): (16, 9, 25, 64.0, 64.0, False),
                (self.s1, a): (15, 5, 20, 75.0, 75.0, False),
                (self.s1, b): (1, 3, 4, 25.0, 64.0, True),
                (self.s2, no_team): (13, 3, 16, 81.25, 81.25, False),
                (self.s2, a): (12, 2, 14, 85.71, 81.25, True),
                (self.s2, b): (1, 0, 1, 100.0, 81.25, True),
                (self.s3, no_team): (12, 0, 12, 100.0, 100.0, False),
                (self.s3, a): (12, 0, 12, 100.0, 100.0, True),
                (self.won, no_team): (16, 0, 16, 100.0, 100.0, False),
                (self.won, a): (15, 0, 15, 100.0, 100.0, True),
                (self.won, b): (1, 0, 1, 100.0, 100.0, True),
            },
        )
        # company 2 has its own rows
        self.assertEqual(
            self._rates(self.company_2),
            {
                (self.s1, no_team): (1, 0, 1, 100.0, 100.0, False),
                (self.s1, self.team_c2): (1, 0, 1, 100.0, 100.0, True),
                (self.won, no_team): (1, 0, 1, 100.0, 100.0, False),
                (self.won, self.team_c2): (1, 0, 1, 100.0, 100.0, True),
            },
        )
        row = self.env["funnel.stage.win.rate"].search(
            [("stage_id", "=", self.s1.id), ("team_id", "=", False)], limit=1
        )
        self.assertEqual(row.date_refreshed, NOW)

    def test_trailing_window(self):
        # 5 days later, the win of 360 days ago is out of the window
        with freeze_time(NOW + timedelta(days=6)):
            self.env["funnel.stage.win.rate"]._refresh()
        rates = self._rates()
        self.assertEqual(rates[self.s1, self.team_a][:3], (14, 5, 19))
        # team A now closed fewer than 20 that passed s1: the company's rate
        self.assertEqual(
            rates[self.s1, self.team_a][3:], (73.68, round(100 * 15 / 24, 2), True)
        )
        self.assertEqual(rates[self.s1, self.env["crm.team"]][:3], (15, 9, 24))

    def test_refresh_replaces(self):
        Rate = self.env["funnel.stage.win.rate"]
        Rate._refresh()
        before = Rate.search([]).ids
        # the open opportunity of team A is lost today
        lead = self.leads[-3]
        self.History.search([("lead_id", "=", lead.id), ("is_open", "=", True)]).write(
            {"is_open": False}
        )
        self.History.create(
            {
                "lead_id": lead.id,
                "stage_id": self.s2.id,
                "event": "lost",
                "date_in": NOW,
                "team_id": self.team_a.id,
                "company_id": self.env.company.id,
            }
        )
        Rate._refresh()
        self.assertFalse(set(before) & set(Rate.search([]).ids))
        rates = self._rates()
        self.assertEqual(rates[self.s1, self.team_a][:4], (15, 6, 21, 71.43))
        self.assertEqual(rates[self.s2, self.team_a][:3], (12, 3, 15))

    def test_refresh_query_count(self):
        Rate = self.env["funnel.stage.win.rate"]
        self.env.flush_all()
        # the lock that keeps two refreshes apart, then one statement
        with self.assertQueryCount(2):
            Rate._refresh()
        # ten times more history: still one statement
        more = self.env["crm.lead"].create(
            [
                {"name": f"More {i}", "type": "opportunity", "stage_id": self.s1.id}
                for i in range(100)
            ]
        )
        self.History.create(
            [
                row
                for i, lead in enumerate(more)
                for row in self._rows(lead, self.team_b, (self.s1, self.s2), "lost", i)
            ]
        )
        self.env.flush_all()
        with self.assertQueryCount(2):
            Rate._refresh()
        self.assertEqual(self._rates()[self.s1, self.team_b][:3], (1, 103, 104))

    def test_stage_historical_win_rate(self):
        self.env["funnel.stage.win.rate"]._refresh()
        stages = self.s1 | self.s2 | self.s3 | self.s4 | self.won
        stages.invalidate_recordset()
        with self.assertQueryCount(1):
            figures = [
                (s.historical_win_rate, s.historical_sample_size) for s in stages
            ]
        # shown with one decimal, as the configured win rate
        self.assertEqual(
            figures, [(64.0, 25), (81.3, 16), (100.0, 12), (0.0, 0), (100.0, 16)]
        )
        # in company 2: its own figures
        stages = stages.with_company(self.company_2)
        self.assertEqual(stages.mapped("historical_sample_size"), [1, 0, 0, 0, 1])

    @users("funnel_manager")
    def test_manager_refreshes(self):
        Rate = self.env["funnel.stage.win.rate"]
        action = self.s1.with_env(self.env).action_refresh_historical_win_rates()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(self.s1.with_env(self.env).historical_sample_size, 25)
        self.assertEqual(
            Rate.search([("stage_id", "=", self.s1.id)]).mapped("sample_size"),
            [25, 20, 4],
        )

    @users("funnel_salesman")
    def test_salesman_cannot_refresh(self):
        Rate = self.env["funnel.stage.win.rate"]
        with self.assertRaisesRegex(AccessError, "Only sales managers"):
            self.s1.with_env(self.env).action_refresh_historical_win_rates()
        with self.assertRaisesRegex(AccessError, "Only sales managers"):
            Rate.action_refresh()
        # the rates are read-only statistics
        self.env["funnel.stage.win.rate"].sudo()._refresh()
        row = Rate.search([("stage_id", "=", self.s1.id), ("team_id", "=", False)])
        self.assertEqual(row.win_rate, 64.0)
        with self.assertRaises(AccessError):
            row.win_rate = 90
        with self.assertRaises(AccessError):
            row.unlink()

    def test_cron(self):
        cron = self.env.ref("sales_funnel_pro.ir_cron_funnel_stage_win_rate")
        cron.method_direct_trigger()
        self.assertEqual(self.s1.historical_sample_size, 25)
