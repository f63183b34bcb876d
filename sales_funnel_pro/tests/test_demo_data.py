"""The demo data tells a true story.

These tests run only on a database installed *with* demo data (``make test`` runs them
in a separate phase); elsewhere they fail on purpose. They are not imported by
``tests/__init__.py``, so Odoo's own test runner never collects them on a database
without demo data.
"""

from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged

from odoo.addons.sales_funnel_pro.demo_story import tell

MODULE = "sales_funnel_pro"
FUNNEL = ["start", "needs", "solution", "negotiation"]
ACTIVITY_TYPES = {
    "call": "mail.mail_activity_data_call",
    "email": "mail.mail_activity_data_email",
    "meeting": "mail.mail_activity_data_meeting",
    "todo": "mail.mail_activity_data_todo",
    "visit": f"{MODULE}.mail_activity_type_visit",
    "demo": f"{MODULE}.mail_activity_type_demonstration",
}


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """A calibration-equipment vendor: two teams, four reps and a sales manager,
    about 150 opportunities with a year of stage history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        module = cls.env["ir.module.module"].search([("name", "=", MODULE)])
        cls.demo_installed = module.demo
        if not cls.demo_installed:
            return
        cls.now = fields.Datetime.now()
        lead_ids = (
            cls.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", "crm.lead")])
            .mapped("res_id")
        )
        cls.leads = cls.env["crm.lead"].with_context(active_test=False).browse(lead_ids)
        cls.manager = cls.env.ref(f"{MODULE}.user_helen_zhou_demo")
        cls.best_rep = cls.env.ref(f"{MODULE}.user_chen_jing_demo")
        cls.stages = {
            stage.template_key: stage
            for stage in cls.env["crm.stage"].search([("template_key", "!=", False)])
        }
        # the pipeline's column order (what "backward" means)
        cls.rank = {
            stage.id: rank for rank, stage in enumerate(cls.env["crm.stage"].search([]))
        }
        cls.won = cls.leads.filtered(lambda lead: lead.active and lead.stage_id.is_won)
        cls.lost = cls.leads.filtered(lambda lead: not lead.active)
        cls.open = cls.leads - cls.won - cls.lost
        cls.rows = cls.env["funnel.stage.history"].search(
            [("lead_id", "in", lead_ids)], order="lead_id, date_in, id"
        )
        cls.rows_of = defaultdict(list)
        for row in cls.rows:
            cls.rows_of[row.lead_id].append(row)
        cls.checks = cls.env["funnel.lead.check"].search([("lead_id", "in", lead_ids)])
        cls.logs = cls.env["funnel.activity.log"].search(
            [("lead_id", "in", lead_ids)], order="lead_id, date, id"
        )
        cls.logs_of = defaultdict(list)
        for log in cls.logs:
            cls.logs_of[log.lead_id].append(log)
        cls.types = {key: cls.env.ref(xmlid) for key, xmlid in ACTIVITY_TYPES.items()}

    def row_at(self, lead, moment):
        """The history row of the opportunity at ``moment``: the stage it was in."""
        rows = self.rows_of[lead]
        index = bisect_right([row.date_in for row in rows], moment) - 1
        if index < 0:
            return None
        row = rows[index]
        return row if not row.date_out or moment < row.date_out else None

    def setUp(self):
        super().setUp()
        self.assertTrue(
            self.demo_installed,
            f"these tests need a database installed with the demo data of {MODULE}",
        )

    # ------------------------------------------------------------
    # Who and what
    # ------------------------------------------------------------

    def test_people_and_teams(self):
        """Two teams, four reps with their own documents only, a manager who leads
        both teams; each demo user logs in with the login as password."""
        self.assertTrue(140 <= len(self.leads) <= 160, len(self.leads))
        self.assertEqual(set(self.leads.mapped("type")), {"opportunity"})
        teams = self.leads.team_id
        self.assertEqual(
            sorted(teams.mapped("name")), ["Labs & Utilities", "Process Industries"]
        )
        reps = self.leads.user_id
        self.assertEqual(len(reps), 4)
        for rep in reps:
            self.assertTrue(rep.has_group("sales_team.group_sale_salesman"))
            self.assertFalse(rep.has_group("sales_team.group_sale_salesman_all_leads"))
            mine = self.leads.filtered(lambda lead, rep=rep: lead.user_id == rep)
            self.assertEqual(len(mine.team_id), 1, "a rep sells for one team")
            self.assertIn(rep, mine.team_id.member_ids)
        self.assertTrue(self.manager.has_group("sales_team.group_sale_manager"))
        self.assertEqual(teams.user_id, self.manager)
        # demo logins: the password is the login
        for user in reps | self.manager:
            user.with_user(user)._check_credentials(
                {"type": "password", "login": user.login, "password": user.login},
                {"interactive": True},
            )

    def test_funnel_stages(self):
        """The template's five stages hold every demo opportunity; crm's stock
        stages are folded and empty, so the pipeline shows a clean funnel."""
        self.assertEqual(
            set(self.stages), {"start", "needs", "solution", "negotiation", "won"}
        )
        self.assertTrue(self.stages["won"].is_won)
        self.assertTrue(
            all(
                stage.criterion_ids
                for key, stage in self.stages.items()
                if key != "won"
            )
        )
        self.assertEqual(set(self.leads.stage_id), set(self.stages.values()))
        # the pipeline shows the five funnel stages: crm's stock stages are folded
        # and no longer hold any open opportunity or lead, crm's own demo included
        columns = self.env["crm.lead"]._read_group_stage_ids(self.env["crm.stage"], [])
        self.assertEqual(
            set(columns.filtered(lambda stage: not stage.fold)),
            set(self.stages.values()),
        )
        self.assertFalse(
            self.env["crm.lead"].search_count([("stage_id.template_key", "=", False)])
        )
        # so is their history: the history pivot shows the funnel's stages only
        stock = self.env["crm.stage"].search([("template_key", "=", False)])
        self.assertTrue(stock and all(stock.mapped("fold")))
        self.assertFalse(
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search_count([("stage_id", "in", stock.ids)])
        )
        History = self.env["funnel.stage.history"]
        self.assertFalse(
            History.search_count(
                ["|", ("stage_id", "in", stock.ids), ("stage_from_id", "in", stock.ids)]
            )
        )
        self.assertEqual(
            {stage for stage, __ in History._read_group([], ["stage_id"], ["__count"])},
            set(self.stages.values()),
        )
        # open opportunities are spread over the four funnel stages
        per_stage = Counter(lead.stage_id.template_key for lead in self.open)
        for key in FUNNEL:
            self.assertGreaterEqual(per_stage[key], 8, f"open in {key}: {per_stage}")

    # ------------------------------------------------------------
    # Stage history
    # ------------------------------------------------------------

    def test_one_open_row_per_opportunity(self):
        """Exactly one open history row per opportunity: its current stage (a
        'lost' row for lost ones), entered when the stage was last updated."""
        for lead in self.leads:
            open_rows = [row for row in self.rows_of[lead] if row.is_open]
            self.assertEqual(len(open_rows), 1, lead.name)
            row = open_rows[0]
            self.assertEqual(row.stage_id, lead.stage_id, lead.name)
            if lead.active:
                self.assertIn(row.event, ("enter", "won"), lead.name)
                self.assertEqual(row.date_in, lead.date_last_stage_update, lead.name)
            else:
                self.assertEqual(row.event, "lost", lead.name)
                entered = [r for r in self.rows_of[lead] if r.event in ("enter", "won")]
                self.assertEqual(
                    entered[-1].date_in, lead.date_last_stage_update, lead.name
                )
        # the whole database, crm's own demo opportunities and leads included
        counts = self.env["funnel.stage.history"]._read_group(
            [("is_open", "=", True)], ["lead_id"], ["__count"]
        )
        self.assertEqual({count for __, count in counts}, {1})
        staged = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("stage_id", "!=", False)])
        )
        self.assertEqual({lead for lead, __ in counts}, set(staged))

    def test_history_chain(self):
        """Rows follow each other without gap; moves, backward flags, durations
        and owners are consistent."""
        for lead in self.leads:
            rows = self.rows_of[lead]
            first = rows[0]
            self.assertEqual(first.event, "enter", lead.name)
            self.assertFalse(first.stage_from_id, lead.name)
            self.assertEqual(first.stage_id, self.stages["start"], lead.name)
            self.assertEqual(first.date_in, lead.create_date, lead.name)
            for previous, row in zip(rows, rows[1:], strict=False):
                self.assertEqual(previous.date_out, row.date_in, lead.name)
                self.assertLess(previous.date_in, row.date_in, lead.name)
                if row.event in ("enter", "won"):
                    self.assertEqual(row.stage_from_id, previous.stage_id, lead.name)
                    self.assertEqual(
                        row.is_backward,
                        self.rank[row.stage_id.id] < self.rank[row.stage_from_id.id],
                        lead.name,
                    )
                else:
                    self.assertEqual(row.stage_from_id, previous.stage_id, lead.name)
                    self.assertEqual(row.stage_id, previous.stage_id, lead.name)
                    self.assertFalse(row.is_backward, lead.name)
            for row in rows:
                self.assertEqual(row.user_id, lead.user_id)
                self.assertEqual(row.team_id, lead.team_id)
                self.assertEqual(row.forecast_category, row.stage_id.forecast_category)
                self.assertEqual(row.event == "won", row.stage_id.is_won, lead.name)
                if row.date_out:
                    seconds = (row.date_out - row.date_in).total_seconds()
                    self.assertAlmostEqual(
                        row.days_in_stage, seconds / 86400, delta=0.051
                    )
                else:
                    self.assertFalse(row.days_in_stage)

    def test_dates_are_past_and_span_a_year(self):
        """Nothing happens in the future; the history covers about a year."""
        moments = [
            *self.rows.mapped("date_in"),
            *filter(None, self.rows.mapped("date_out")),
            *filter(None, self.checks.mapped("done_date")),
            *filter(None, self.checks.mapped("waived_date")),
            *filter(None, self.leads.mapped("date_closed")),
            *self.leads.mapped("date_last_stage_update"),
            *self.leads.mapped("create_date"),
        ]
        messages = self.env["mail.message"].search(
            [("model", "=", "crm.lead"), ("res_id", "in", self.leads.ids)]
        )
        moments += messages.mapped("date")
        moments += self.logs.mapped("date")
        self.assertLessEqual(max(moments), self.now)
        # a year of history up to the day the demo data was loaded
        dates_in = self.rows.mapped("date_in")
        span = max(dates_in) - min(dates_in)
        self.assertTrue(timedelta(days=330) < span < timedelta(days=400), span)

    def test_waivers(self):
        """Each waived move has its reason and its waived checks, by a manager."""
        waived_rows = self.rows.filtered("gate_waived")
        self.assertGreaterEqual(len(waived_rows), 8)
        waived_checks = self.checks.filtered(lambda check: check.state == "waived")
        matched = self.env["funnel.lead.check"]
        for row in waived_rows:
            self.assertTrue(row.waive_reason)
            self.assertIn(row.event, ("enter", "won"))
            self.assertFalse(row.is_backward)
            self.assertTrue(row.moved_by_id.has_group("sales_team.group_sale_manager"))
            checks = waived_checks.filtered(
                lambda check, row=row: check.lead_id == row.lead_id
                and check.criterion_id.stage_id == row.stage_from_id
            )
            self.assertTrue(checks, row.lead_id.name)
            for check in checks:
                self.assertEqual(check.waive_reason, row.waive_reason)
                self.assertEqual(check.waived_by_id, row.moved_by_id)
                self.assertEqual(check.waived_date, row.date_in)
            matched |= checks
        self.assertEqual(matched, waived_checks, "every waived check has its move")

    def test_backward_moves(self):
        """Backward moves are counted on the opportunities; some won ones were
        reopened and some lost ones restored."""
        backward = self.rows.filtered("is_backward")
        self.assertGreaterEqual(len(backward), 5)
        counts = Counter(backward.lead_id)
        for lead in self.leads:
            self.assertEqual(lead.backward_move_count, counts[lead], lead.name)
        self.assertTrue(
            backward.filtered(lambda row: row.stage_from_id.is_won),
            "some won opportunities were reopened",
        )
        self.assertTrue(self.rows.filtered(lambda row: row.event == "restored"))

    # ------------------------------------------------------------
    # Opportunities
    # ------------------------------------------------------------

    def test_won_lost_open(self):
        """Won, lost and open opportunities look like crm's own: probability,
        closing date, lost reason; open ones carry revenue and closing dates."""
        self.assertTrue(25 <= len(self.won) <= 60, len(self.won))
        self.assertTrue(30 <= len(self.lost) <= 80, len(self.lost))
        self.assertGreaterEqual(len(self.open), 40)
        for lead in self.won:
            self.assertEqual(lead.probability, 100)
            self.assertEqual(lead.date_closed, self.rows_of[lead][-1].date_in)
            self.assertGreater(lead.expected_revenue, 0)
        for lead in self.lost:
            self.assertEqual(lead.probability, 0)
            self.assertTrue(lead.lost_reason_id, lead.name)
            self.assertEqual(lead.date_closed, self.rows_of[lead][-1].date_in)
        for lead in self.open:
            self.assertFalse(lead.date_closed, lead.name)
            self.assertTrue(0 < lead.probability < 100, lead.name)
            # criteria of the stages it passed: revenue estimated, closing date set
            if self.rank[lead.stage_id.id] > self.rank[self.stages["needs"].id]:
                self.assertGreater(lead.expected_revenue, 0, lead.name)
                self.assertTrue(lead.date_deadline, lead.name)
        with_revenue = self.open.filtered("expected_revenue")
        self.assertGreaterEqual(len(with_revenue), 0.8 * len(self.open))
        self.assertGreaterEqual(len(self.leads.filtered("deadline_push_count")), 20)

    def test_checks(self):
        """One check per criterion; every forward move passed its gate; evidence,
        who and when on met checks."""
        pairs = Counter((check.lead_id, check.criterion_id) for check in self.checks)
        self.assertEqual(set(pairs.values()), {1}, "one check per criterion")
        users = self.leads.user_id | self.manager
        for check in self.checks:
            lead = check.lead_id
            if check.state == "met":
                self.assertIn(check.done_by_id, users)
                self.assertTrue(
                    self.rows_of[lead][0].date_in <= check.done_date <= self.now
                )
                if check.kind == "checklist":
                    self.assertTrue(check.evidence, check.criterion_id.name)
            elif check.state == "waived":
                self.assertEqual(check.waived_by_id, self.manager)
                self.assertTrue(check.waive_reason)
            else:
                self.assertFalse(check.done_by_id or check.done_date)
        met = self.checks.filtered(lambda check: check.state != "todo")
        done = {(check.lead_id, check.criterion_id) for check in met}
        for lead in self.leads:
            # every move forward passed the gate: criteria met or waived
            for row in self.rows_of[lead]:
                if (
                    row.event in ("enter", "won")
                    and row.stage_from_id
                    and not row.is_backward
                ):
                    for criterion in row.stage_from_id.criterion_ids:
                        self.assertIn((lead, criterion), done, lead.name)
            # the checks of the current stage exist, as the addon creates them
            for criterion in lead.stage_id.criterion_ids:
                self.assertIn(criterion, lead.check_ids.criterion_id, lead.name)
        # automatic criteria (field set, meeting done) agree with the opportunity,
        # as the addon evaluates them: a met "demo" check has its done meeting
        automatic = self.checks.filtered(
            lambda check: check.kind != "checklist" and check.state != "waived"
        )
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        infos = {info.id: info for gate in gates.values() for info in gate.criteria}
        live = self.leads._funnel_met(
            [(check.lead_id, infos[check.criterion_id.id]) for check in automatic],
            self.env["funnel.lead.check"]._of_leads(self.leads),
        )
        for check in automatic:
            self.assertEqual(
                check.state == "met",
                (check.lead_id.id, check.criterion_id.id) in live,
                f"{check.lead_id.name}: {check.criterion_id.name}",
            )
        ready = self.open.filtered("gate_ready")
        self.assertTrue(ready and ready != self.open, "some open ones are gate ready")

    def test_next_steps(self):
        """Most open opportunities have a next activity, some none; some rot."""
        planned = self.open.filtered("activity_ids")
        self.assertGreaterEqual(len(planned), 25)
        self.assertGreaterEqual(len(self.open - planned), 10, "some have no next step")
        self.assertIn("overdue", planned.mapped("activity_state"))
        self.assertFalse((self.won | self.lost).activity_ids)
        rotting = self.env["crm.lead"].search(
            [("id", "in", self.open.ids), ("is_rotting", "=", True)]
        )
        self.assertTrue(5 <= len(rotting) < len(self.open), len(rotting))

    def test_best_rep(self):
        """Chen Jing wins more often and faster than the three others."""
        win_rates, cycles = {}, {}
        for rep in self.leads.user_id:
            won = self.won.filtered(lambda lead, rep=rep: lead.user_id == rep)
            lost = self.lost.filtered(lambda lead, rep=rep: lead.user_id == rep)
            self.assertTrue(won and lost, rep.name)
            win_rates[rep] = len(won) / (len(won) + len(lost))
            cycles[rep] = sum(
                (lead.date_closed - self.rows_of[lead][0].date_in).days for lead in won
            ) / len(won)
        others = set(win_rates) - {self.best_rep}
        for rep in others:
            self.assertGreater(
                win_rates[self.best_rep], win_rates[rep] + 0.15, rep.name
            )
            self.assertLess(cycles[self.best_rep], cycles[rep], rep.name)

    # ------------------------------------------------------------
    # Activity log
    # ------------------------------------------------------------

    def test_activity_log_follows_history(self):
        """A year of logged activities, each by the opportunity's rep, in the stage
        the opportunity was in at that moment (per its history), never while it
        was lost, never in the future; durations and outcomes are valid."""
        self.assertTrue(800 <= len(self.logs) <= 2000, len(self.logs))
        self.assertEqual(set(self.logs_of), set(self.leads), "every one was worked")
        dates = self.logs.mapped("date")
        self.assertLessEqual(max(dates), self.now)
        self.assertTrue(timedelta(days=300) < max(dates) - min(dates), min(dates))
        for log in self.logs:
            lead = log.lead_id
            row = self.row_at(lead, log.date)
            self.assertTrue(row, f"{lead.name}: {log.summary} before its creation")
            self.assertIn(row.event, ("enter", "restored"), f"{lead.name}: {log.date}")
            self.assertEqual(log.stage_id, row.stage_id, f"{lead.name}: {log.summary}")
            self.assertEqual(log.user_id, lead.user_id, lead.name)
            self.assertEqual(log.team_id, lead.team_id, lead.name)
            self.assertEqual(log.partner_id, lead.partner_id, lead.name)
            self.assertEqual(log.company_id, lead.company_id, lead.name)
            self.assertTrue(0 < log.duration <= 24, log.duration)
            self.assertEqual(log.duration * 4, round(log.duration * 4), "quarter hours")
            self.assertIn(log.outcome, ("positive", "neutral", "negative"))
            self.assertEqual(log.source, "done")
            self.assertTrue(log.summary, lead.name)
        self.assertEqual(set(self.logs.activity_type_id), set(self.types.values()))

    def test_activity_mix_per_stage(self):
        """Visits and calls early, demos and meetings in Solution & quote, calls and
        e-mails in Negotiation; each type takes a realistic time."""
        types = {activity_type: key for key, activity_type in self.types.items()}
        count = Counter(
            (types[log.activity_type_id], log.stage_id.template_key)
            for log in self.logs
        )

        def share(kinds, stages, of_kinds=None, of_stages=None):
            def total(kinds, stages):
                return sum(
                    n
                    for (kind, stage), n in count.items()
                    if kind in kinds and stage in stages
                )

            whole = total(of_kinds or types.values(), of_stages or FUNNEL)
            return total(kinds, stages) / whole

        early, middle = ("start", "needs"), ("solution",)
        # where each type happens
        self.assertGreaterEqual(share({"visit"}, early, {"visit"}), 0.85)
        self.assertGreaterEqual(share({"call"}, early, {"call"}), 0.6)
        self.assertGreaterEqual(share({"demo"}, middle, {"demo"}), 0.9)
        self.assertGreaterEqual(share({"meeting"}, middle, {"meeting"}), 0.6)
        self.assertGreaterEqual(
            share({"meeting"}, ("solution", "negotiation"), {"meeting"}), 0.9
        )
        # what each stage is made of
        self.assertGreaterEqual(share({"visit", "call"}, early, of_stages=early), 0.6)
        self.assertGreaterEqual(
            share({"demo", "meeting"}, middle, of_stages=middle),
            share({"demo", "meeting"}, FUNNEL) + 0.2,
        )
        self.assertGreaterEqual(
            share({"call", "email"}, ["negotiation"], of_stages=["negotiation"]), 0.6
        )
        # realistic durations: minutes for calls and e-mails, hours in the field
        hours = defaultdict(list)
        for log in self.logs:
            hours[types[log.activity_type_id]].append(log.duration)
        mean = {kind: sum(values) / len(values) for kind, values in hours.items()}
        self.assertLessEqual(max(hours["call"] + hours["email"]), 1)
        self.assertGreaterEqual(min(hours["visit"] + hours["demo"]), 1)
        self.assertGreater(mean["visit"], mean["meeting"])
        self.assertGreater(mean["demo"], mean["meeting"])
        self.assertGreater(mean["meeting"], mean["todo"])
        self.assertGreater(mean["todo"], mean["call"])

    def test_effort_and_outcomes(self):
        """The best rep spends more hours per won deal than each of the others;
        won deals show more positive outcomes than lost ones."""
        hours = {}
        for rep in self.leads.user_id:
            won = self.won.filtered(lambda lead, rep=rep: lead.user_id == rep)
            hours[rep] = sum(
                log.duration for lead in won for log in self.logs_of[lead]
            ) / len(won)
        for rep in set(hours) - {self.best_rep}:
            self.assertGreater(hours[self.best_rep], hours[rep] * 1.15, rep.name)

        # what the customer said in calls, visits, meetings and demos (e-mails and
        # to-dos are paperwork, neutral)
        conversations = {
            self.types[key] for key in ("call", "visit", "meeting", "demo")
        }

        def positive(leads):
            logs = [
                log
                for lead in leads
                for log in self.logs_of[lead]
                if log.activity_type_id in conversations
            ]
            return sum(log.outcome == "positive" for log in logs) / len(logs)

        self.assertGreater(positive(self.won), positive(self.lost) + 0.2)
        paperwork = self.logs.filtered(
            lambda log: log.activity_type_id
            in (self.types["email"] | self.types["todo"])
        )
        self.assertEqual(set(paperwork.mapped("outcome")), {"neutral"})

    def test_activity_criteria_backed_by_logs(self):
        """Every met activity criterion ("Demo or site visit held": a meeting) has
        its logged activities before it was met, and every opportunity that left
        such a stage forward had them before it left, unless the gate was waived;
        the addon's own evaluation agrees."""
        activity_checks = self.checks.filtered(lambda check: check.kind == "activity")
        self.assertTrue(activity_checks.filtered(lambda check: check.state == "met"))

        def logged(lead, criterion, before):
            return [
                log
                for log in self.logs_of[lead]
                if log.activity_type_id in criterion.activity_type_ids
                and log.date <= before
                and (
                    criterion.count_scope == "all" or log.stage_id == criterion.stage_id
                )
            ]

        for check in activity_checks.filtered(lambda check: check.state == "met"):
            criterion = check.criterion_id
            self.assertGreaterEqual(
                len(logged(check.lead_id, criterion, check.done_date)),
                criterion.min_count,
                f"{check.lead_id.name}: {criterion.name}",
            )
        state = {
            (check.lead_id, check.criterion_id): check.state for check in self.checks
        }
        passed = 0
        for row in self.rows.filtered(
            lambda row: row.event in ("enter", "won")
            and row.stage_from_id
            and not row.is_backward
        ):
            lead = row.lead_id
            for criterion in row.stage_from_id.criterion_ids.filtered(
                lambda criterion: criterion.kind == "activity"
            ):
                if state[lead, criterion] == "waived":
                    continue
                passed += 1
                self.assertGreaterEqual(
                    len(logged(lead, criterion, row.date_in)),
                    criterion.min_count,
                    f"{lead.name}: {criterion.name} before {row.stage_id.name}",
                )
        self.assertGreaterEqual(passed, 40)
        # as the addon evaluates them now
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        infos = {info.id: info for gate in gates.values() for info in gate.criteria}
        checks = activity_checks.filtered(lambda check: check.state != "waived")
        live = self.leads._funnel_met(
            [(check.lead_id, infos[check.criterion_id.id]) for check in checks],
            self.env["funnel.lead.check"]._of_leads(self.leads),
        )
        for check in checks:
            self.assertEqual(
                check.state == "met",
                (check.lead_id.id, check.criterion_id.id) in live,
                f"{check.lead_id.name}: {check.criterion_id.name}",
            )

    def test_chatter_matches_activity_log(self):
        """Each done activity in the chatter is a logged activity: same moment, type
        and person, and the other way round."""
        messages = self.env["mail.message"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "in", self.leads.ids),
                ("mail_activity_type_id", "!=", False),
            ]
        )
        done = Counter(
            (
                message.res_id,
                message.date,
                message.mail_activity_type_id,
                message.author_id.user_ids[:1],
            )
            for message in messages
        )
        logged = Counter(
            (log.lead_id.id, log.date, log.activity_type_id, log.user_id)
            for log in self.logs
        )
        self.assertEqual(done, logged)

    def test_last_touch_and_next_step(self):
        """The stored last touch is the last logged activity; the stored next step
        state agrees with the planned activities."""
        today = fields.Date.today()  # as the addon computes it
        for lead in self.leads:
            self.assertEqual(
                lead.last_touch_date,
                max(log.date for log in self.logs_of[lead]),
                lead.name,
            )
            deadlines = lead.activity_ids.mapped("date_deadline")
            if not deadlines:
                expected = "none"
            elif min(deadlines) < today:
                expected = "overdue"
            elif min(deadlines) == today:
                expected = "today"
            else:
                expected = "planned"
            self.assertEqual(lead.next_activity_state, expected, lead.name)
        states = Counter(self.open.mapped("next_activity_state"))
        self.assertTrue(
            all(states[state] for state in ("none", "planned", "overdue")), states
        )

    # ------------------------------------------------------------
    # Reports
    # ------------------------------------------------------------

    def test_stage_history_pivot(self):
        """The pivot of Stage History (days in stage by stage × salesperson) has a
        value for each stage of the funnel, for the manager and for a rep."""
        domain = [("lead_id", "in", self.leads.ids)]
        History = self.env["funnel.stage.history"]
        groups = History.with_user(self.manager).read_group(
            domain, ["days_in_stage:avg"], ["stage_id", "user_id"], lazy=False
        )
        values = {
            (group["stage_id"][0], group["user_id"][0]): group["days_in_stage"]
            for group in groups
        }
        for key, stage in self.stages.items():
            stage_values = [
                value
                for (stage_id, __), value in values.items()
                if stage_id == stage.id
            ]
            self.assertTrue(any(stage_values), key)
        for key in FUNNEL:
            for rep in self.leads.user_id:
                self.assertTrue(
                    values.get((self.stages[key].id, rep.id)), (key, rep.name)
                )
        mine = History.with_user(self.best_rep).read_group(
            domain, ["days_in_stage:avg"], ["stage_id", "user_id"], lazy=False
        )
        self.assertEqual({group["user_id"][0] for group in mine}, {self.best_rep.id})
        self.assertLessEqual(
            {self.stages[key].id for key in FUNNEL},
            {group["stage_id"][0] for group in mine if group["days_in_stage"]},
        )

    # ------------------------------------------------------------
    # Forecast snapshots and accuracy
    # ------------------------------------------------------------

    def test_forecast_snapshots(self):
        """A year of weekly snapshots of the open opportunities, each line as the
        opportunity stood that week: open then, in the stage of the moment."""
        snapshots = self.env["funnel.forecast.snapshot"].search(
            [("id", "in", self._demo_ids("funnel.forecast.snapshot"))],
            order="date",
        )
        self.assertEqual(len(snapshots), 52)
        today = fields.Date.today()  # the day the story was told
        self.assertEqual(snapshots[-1].date, today - timedelta(days=7))
        self.assertEqual(snapshots[0].date, today - timedelta(days=364))
        self.assertEqual(
            {
                (b.date - a.date).days
                for a, b in zip(snapshots, snapshots[1:], strict=False)
            },
            {7},
        )
        self.assertEqual(set(snapshots.mapped("kind")), {"scheduled", "manual"})
        lines = snapshots.line_ids
        self.assertGreater(len(lines), 800)
        for line in lines:
            moment = line.snapshot_id.taken_at
            row = self.row_at(line.lead_id, moment)
            self.assertTrue(row, line.lead_id.name)
            self.assertIn(row.event, ("enter", "restored"), line.lead_id.name)
            self.assertEqual(line.stage_id, row.stage_id, line.lead_id.name)
            self.assertEqual(line.expected_revenue, row.expected_revenue)
            self.assertEqual(line.stage_win_rate, line.stage_id.win_rate)
            self.assertEqual(line.user_id, line.lead_id.user_id)
        # the last snapshot holds every opportunity open then and still open today
        last = snapshots[-1]
        still_open = self.open.filtered(
            lambda lead: self.rows_of[lead][-1].date_in < last.taken_at
        )
        self.assertLessEqual(still_open, last.line_ids.lead_id)

    def _demo_ids(self, model):
        return (
            self.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", model)])
            .mapped("res_id")
        )

    def test_forecast_accuracy_story(self):
        """Over the last twelve months' 3-month forecasts: Chen Jing sandbags (she
        commits and weighs less than she wins), Mark Thompson is over-optimistic
        (more than he wins) and his deals slip more than anyone's."""
        sandbagger = self.best_rep
        optimist = self.env.ref(f"{MODULE}.user_mark_thompson_demo")
        Report = self.env["funnel.accuracy.report"].with_user(self.manager)
        today = fields.Date.today()  # the day the story was told
        groups = Report._read_group(
            [
                ("snapshot_id", "in", self._demo_ids("funnel.forecast.snapshot")),
                ("is_period_over", "=", True),
                ("months_ahead", "<", 3),
                ("period", ">=", today.replace(day=1) - timedelta(days=365)),
            ],
            ["user_id"],
            ["bias_commit:sum", "bias_probability:sum", "slip_rate:sum"],
        )
        figures = {
            user: (commit, weighted, slip) for user, commit, weighted, slip in groups
        }
        self.assertLess(figures[sandbagger][0], -20, figures[sandbagger])
        self.assertLess(figures[sandbagger][1], 0, figures[sandbagger])
        self.assertGreater(figures[optimist][0], 50, figures[optimist])
        self.assertGreater(figures[optimist][1], 50, figures[optimist])
        # his deals slip more than anyone's (by how much depends on the day of
        # the month the demo is installed: right after a month ends, the deals of
        # its last days that are still open count as slipped, whoever they are)
        for rep, (__, __, slip) in figures.items():
            if rep in self.leads.user_id and rep != optimist:
                self.assertGreater(figures[optimist][2], slip, rep.name)
        # a rep sees his own figures only
        mine = (
            self.env["funnel.accuracy.report"]
            .with_user(optimist)
            .search([("snapshot_id", "in", self._demo_ids("funnel.forecast.snapshot"))])
        )
        self.assertEqual(mine.user_id, optimist)

    def test_next_quarter_coverage(self):
        """The pipeline of the next quarter against the targets reads like a real
        team's: about two to four times the quota of Mark Thompson (222 %), Liu
        Yang (243 %) and Anna Keller (218 %); Chen Jing closes fast and her
        pipeline runs thin (57 %). The forecast report says so, as the manager
        reads it; and the reps date their deals by quarter, so that it reads the
        same whatever the day of the install."""
        today = fields.Date.today()  # the day the story was told
        start = today.replace(day=1) + relativedelta(months=3 - (today.month - 1) % 3)
        end = start + relativedelta(months=3, days=-1)
        Report = self.env["funnel.forecast.report"].with_user(self.manager)
        coverage = {
            user: (coverage, target)
            for user, coverage, target in Report._read_group(
                [("date", ">=", start), ("date", "<=", end)],
                ["user_id"],
                ["coverage:sum", "target:sum"],
            )
            if user in self.leads.user_id
        }
        self.assertEqual(set(coverage), set(self.leads.user_id))
        for rep, (figure, target) in coverage.items():
            self.assertTrue(target, rep.name)
            if rep == self.best_rep:
                self.assertTrue(20 < figure < 150, (rep.name, figure))
            else:
                self.assertTrue(200 <= figure <= 400, (rep.name, figure))
        # the same next quarter, seen from any day of the year
        cast = self.env["funnel.demo.generator"]._read_cast()
        quotas = {rep.key: rep.quota for rep in cast.reps}

        def next_quarter(day):
            story = tell(cast, day)
            first, last = story.calendar.quarter_days(1)
            pipeline = Counter()
            for lead in story.leads:
                if lead.is_open and lead.deadline is not None:
                    if first <= lead.deadline <= last:
                        pipeline[lead.rep.key] += lead.revenue
            return {key: pipeline[key] / (3 * quota) for key, quota in quotas.items()}

        figures = next_quarter(today)
        for day in (date(2027, 1, 1), date(2027, 3, 31), date(2027, 5, 17)):
            self.assertEqual(next_quarter(day), figures, day)
        for key, figure in figures.items():
            rep = self.env.ref(f"{MODULE}.user_{key}_demo")
            self.assertAlmostEqual(coverage[rep][0], 100 * figure, places=6)

    def test_targets(self):
        """A monthly target for each rep and a quarterly one for each team, from
        a year ago to a year ahead; each rep reads their own and their team's;
        the historical win rates are measured at install."""
        Target = self.env["funnel.target"]
        targets = Target.browse(
            self.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", "funnel.target")])
            .mapped("res_id")
        )
        reps = self.leads.user_id
        self.assertEqual(len(reps), 4)
        self.assertEqual(len(targets), 4 * 24 + 2 * 9)
        today = fields.Date.today()  # the day the story was told
        for rep in reps:
            mine = targets.filtered(lambda t, rep=rep: t.user_id == rep)
            self.assertEqual(set(mine.mapped("period")), {"month"})
            self.assertEqual(len(mine), 24)
            self.assertEqual(len(mine.filtered(lambda t: t.date_to < today)), 11)
            self.assertEqual(len(set(mine.mapped("amount"))), 1)
            visible = Target.with_user(rep).search([("id", "in", targets.ids)])
            self.assertEqual(
                visible,
                mine
                | targets.filtered(
                    lambda t, rep=rep: t.team_id and rep in t.team_id.member_ids
                ),
            )
        for team in reps.sale_team_id:
            theirs = targets.filtered(lambda t, team=team: t.team_id == team)
            self.assertEqual(set(theirs.mapped("period")), {"quarter"})
            self.assertEqual(len(theirs), 9)
            self.assertEqual(len(theirs.filtered(lambda t: t.date_to < today)), 4)
        # the best rep has the highest target
        amounts = {t.user_id: t.amount for t in targets if t.user_id}
        self.assertEqual(max(amounts, key=amounts.get), self.best_rep)
        rates = self.env["funnel.stage.win.rate"].search(
            [("stage_id", "in", [s.id for s in self.stages.values()])]
        )
        self.assertTrue(rates.filtered(lambda r: not r.team_id and r.sample_size))

    # ------------------------------------------------------------
    # Rep capability
    # ------------------------------------------------------------

    def test_capability_story(self):
        """Liu Yang converts well early but stalls at Solution & quote, where the
        coaching list says to coach him; Anna Keller's funnel has a dry top;
        Chen Jing, the best, closes faster than the rest of her team."""
        Benchmark = self.env["funnel.rep.benchmark"]
        cards = {
            card.user_id: card
            for card in Benchmark.search(
                [("stage_id", "=", False), ("span", "=", "long")]
            )
        }
        liu = cards[self.env.ref(f"{MODULE}.user_liu_yang_demo")]
        solution = self.stages["solution"]
        self.assertEqual(liu.coach_stage_id, solution)
        lines = {line.stage_id: line for line in liu.stage_line_ids}
        self.assertEqual(lines[solution].flag, "below")
        self.assertTrue(lines[solution].is_coach_here)
        for key in ("start", "needs"):
            line = lines[self.stages[key]]
            self.assertNotEqual(line.flag, "below", key)
            self.assertGreater(line.conversion_rate, line.team_rate, key)
        coaching = Benchmark.search(
            [("stage_id", "!=", False), ("span", "=", "long"), ("flag", "=", "below")],
            order="impact desc",
            limit=1,
        )
        self.assertEqual((coaching.user_id, coaching.stage_id), (liu.user_id, solution))
        anna = cards[self.env.ref(f"{MODULE}.user_anna_keller_demo")]
        self.assertTrue(anna.is_dry_top)
        self.assertFalse(liu.is_dry_top)
        best = cards[self.best_rep]
        self.assertLess(best.median_cycle_days, best.team_median_cycle_days)
        self.assertGreater(best.win_rate, best.team_win_rate)
        self.assertGreater(best.velocity, best.team_velocity)
