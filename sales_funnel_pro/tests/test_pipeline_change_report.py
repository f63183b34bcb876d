from datetime import date, datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, users

from .test_forecast_snapshot import ForecastSnapshotCommon

# Monday a week after the snapshot
NOW = "2024-03-11 10:00:00"
BEFORE = datetime(2024, 3, 1, 10, 0)
# opportunity (named after its kind): (owner, amount delta, period delta)
EXPECTED = {
    "won": ("sam", -10000, -10000),
    "lost": ("sam", -5000, -5000),
    "archived": ("sam", -2000, -2000),
    "new": ("sam", 3000, 3000),
    "moved_in": ("sam", 0, 4000),
    "moved_out": ("sam", 0, -6000),
    "pulled_in": ("sam", 500, 500),
    "pushed_out": ("tess", 0, 0),
    "category_up": ("sam", 0, 0),
    "category_down": ("tess", 0, 0),
    "amount_up": ("sam", 200, 0),
    "amount_down": ("tess", -1000, -1000),
    "unchanged": ("sam", 0, 0),
}
# not written since a week before the snapshot: unchanged, without comparing
UNTOUCHED = ("tess", "unchanged", 0, 0)


@freeze_time(NOW)
class TestPipelineChangeReport(ForecastSnapshotCommon):
    """One opportunity per change kind, between the snapshot S of Monday 4 March
    2024 09:00 and now, Monday 11 March (the period: the first quarter of 2024).
    Every opportunity but ``new`` was created on 1 March; s2 is in the pipeline
    category, s3 best case, s4 commit.

    ============= ===== ===== ====== ===== ========================================
    lead          owner stage amount close what happened after the snapshot
    ============= ===== ===== ====== ===== ========================================
    won           Sam   s4    10,000 20/03 won on 6 March
    lost          Sam   s3     5,000 25/03 lost
    archived      Sam   s2     2,000 28/03 archived (not lost)
    new           Sam   s2     3,000 29/03 created on 7 March
    moved_in      Sam   s2     4,000 15/04 closing moved to 30/03
    moved_out     Sam   s3     6,000 15/03 closing moved to 10/04
    pulled_in     Sam   s2     1,000 28/03 closing 18/03 and 1,500
    pushed_out    Tess  s2     2,500 12/03 closing 26/03
    category_up   Sam   s2     7,000 22/03 best case
    category_down Tess  s4     8,000 21/03 best case
    amount_up     Sam   s2     1,000 10/05 1,200 (outside the period)
    amount_down   Tess  s2     3,000 27/03 2,000
    unchanged     Sam   s2       900 19/03 probability 10 -> 30 only
    untouched     Tess  s2       500 20/03 not written since 20 February
    ============= ===== ===== ====== ===== ========================================

    The open pipeline of the period was 45,900 in the snapshot and is 29,400 now:
    the period deltas add up to -16,500. A later snapshot of 8 March is too
    recent to be last week's.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sam, tess = cls.user_salesman, cls.user_salesman_2
        cls.reps = {"sam": sam, "tess": tess}
        with freeze_time(BEFORE):
            cls.leads = {
                name: cls._deal(name, stage, user, revenue, deadline)
                for name, stage, user, revenue, deadline in (
                    ("won", cls.s4, sam, 10000, date(2024, 3, 20)),
                    ("lost", cls.s3, sam, 5000, date(2024, 3, 25)),
                    ("archived", cls.s2, sam, 2000, date(2024, 3, 28)),
                    ("moved_in", cls.s2, sam, 4000, date(2024, 4, 15)),
                    ("moved_out", cls.s3, sam, 6000, date(2024, 3, 15)),
                    ("pulled_in", cls.s2, sam, 1000, date(2024, 3, 28)),
                    ("pushed_out", cls.s2, tess, 2500, date(2024, 3, 12)),
                    ("category_up", cls.s2, sam, 7000, date(2024, 3, 22)),
                    ("category_down", cls.s4, tess, 8000, date(2024, 3, 21)),
                    ("amount_up", cls.s2, sam, 1000, date(2024, 5, 10)),
                    ("amount_down", cls.s2, tess, 3000, date(2024, 3, 27)),
                    ("unchanged", cls.s2, sam, 900, date(2024, 3, 19)),
                    ("untouched", cls.s2, tess, 500, date(2024, 3, 20)),
                )
            }
        cls._set_create_date(cls.env["crm.lead"].search([]), BEFORE)
        with freeze_time("2024-03-04 09:00:00"):
            cls.snapshot = cls._take_class()
        leads = cls.leads
        leads["untouched"].flush_recordset()
        cls.env.cr.execute(
            "UPDATE crm_lead SET write_date = %s WHERE id = %s",
            (datetime(2024, 2, 20, 10, 0), leads["untouched"].id),
        )
        with freeze_time("2024-03-06 10:00:00"):
            leads["won"].stage_id = cls.won
            leads["lost"].action_set_lost()
            leads["archived"].active = False
            leads["moved_in"].date_deadline = date(2024, 3, 30)
            leads["moved_out"].date_deadline = date(2024, 4, 10)
            leads["pulled_in"].write(
                {"date_deadline": date(2024, 3, 18), "expected_revenue": 1500}
            )
            leads["pushed_out"].date_deadline = date(2024, 3, 26)
            leads["category_up"].forecast_category = "best_case"
            leads["category_down"].forecast_category = "best_case"
            leads["amount_up"].expected_revenue = 1200
            leads["amount_down"].expected_revenue = 2000
            leads["unchanged"].probability = 30
        with freeze_time("2024-03-07 10:00:00"):
            leads["new"] = cls._deal("new", cls.s2, sam, 3000, date(2024, 3, 29))
        cls._set_create_date(leads["new"], datetime(2024, 3, 7, 10, 0))
        with freeze_time("2024-03-08 09:00:00"):
            cls.recent_snapshot = cls._take_class()

    @classmethod
    def _deal(cls, name, stage, user, revenue, deadline):
        return cls._create_lead(
            name,
            stage=stage,
            user=user,
            expected_revenue=revenue,
            probability=50,
            date_deadline=deadline,
        )

    @classmethod
    def _take_class(cls):
        return cls.env["funnel.forecast.snapshot"]._take_snapshots(cls.env.company)

    @classmethod
    def _set_create_date(cls, leads, moment):
        """The creation date as if created at ``moment`` (the database's clock
        is not frozen)."""
        leads.flush_recordset()
        cls.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id IN %s",
            (moment, tuple(leads.ids)),
        )
        leads.invalidate_recordset(["create_date"])

    def _report(self):
        return self.env["funnel.pipeline.change.report"]

    def _ours(self, snapshot=None):
        return [
            ("snapshot_id", "=", (snapshot or self.snapshot).id),
            ("lead_id", "in", [lead.id for lead in self.leads.values()]),
        ]

    def _rows(self, domain=None):
        """{lead name: (owner, kind, amount delta, period delta)}"""
        name = {user: key for key, user in self.reps.items()}
        return {
            row.lead_id.name: (
                name[row.user_id],
                row.change_kind,
                row.amount_delta,
                row.period_delta,
            )
            for row in self._report().search(domain or self._ours())
        }

    def _expected(self, reps=("sam", "tess")):
        expected = {
            kind: (owner, kind, amount, period)
            for kind, (owner, amount, period) in EXPECTED.items()
            if owner in reps
        }
        if UNTOUCHED[0] in reps:
            expected["untouched"] = UNTOUCHED
        return expected

    # ------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------

    def test_one_kind_per_opportunity(self):
        self.assertEqual(self._rows(), self._expected())
        # written a week before the snapshot and not since: not compared
        self.assertEqual(
            self.leads["untouched"].write_date, datetime(2024, 2, 20, 10, 0)
        )

    def test_old_and_new_values(self):
        rows = self._report().search(self._ours())
        row = rows.filtered(lambda r: r.lead_id == self.leads["pulled_in"])
        self.assertRecordValues(
            row,
            [
                {
                    "snapshot_date": date(2024, 3, 4),
                    "period_start": date(2024, 1, 1),
                    "old_stage_id": self.s2.id,
                    "new_stage_id": self.s2.id,
                    "old_date_deadline": date(2024, 3, 28),
                    "new_date_deadline": date(2024, 3, 18),
                    "old_expected_revenue": 1000,
                    "new_expected_revenue": 1500,
                    "old_forecast_category": "pipeline",
                    "new_forecast_category": "pipeline",
                    "company_id": self.company.id,
                    "team_id": self.team.id,
                    "lead_count": 1,
                }
            ],
        )
        won = rows.filtered(lambda r: r.lead_id == self.leads["won"])
        self.assertRecordValues(
            won,
            [
                {
                    "old_stage_id": self.s4.id,
                    "new_stage_id": self.won.id,
                    "old_forecast_category": "commit",
                    "new_forecast_category": "closed",
                    "new_expected_revenue": 10000,
                }
            ],
        )
        new = rows.filtered(lambda r: r.lead_id == self.leads["new"])
        self.assertRecordValues(
            new,
            [
                {
                    "old_stage_id": False,
                    "old_date_deadline": False,
                    "old_expected_revenue": 0,
                    "new_expected_revenue": 3000,
                }
            ],
        )

    def test_pivot_rep_by_kind(self):
        """The pivot's sums: salesperson x kind, each opportunity once; the
        totals are the change of the open pipeline and of the period's."""
        groups = self._report()._read_group(
            self._ours(),
            ["user_id", "change_kind"],
            ["amount_delta:sum", "period_delta:sum", "lead_count:sum", "__count"],
        )
        name = {user: key for key, user in self.reps.items()}
        self.assertEqual(
            {
                (name[user], kind): (amount, period, count, rows)
                for user, kind, amount, period, count, rows in groups
            },
            {
                (owner, kind): (amount, period, 1, 1)
                for kind, (owner, amount, period) in EXPECTED.items()
            }
            | {("tess", "unchanged"): (0, 0, 1, 1)},
        )
        [(amount, period, count)] = self._report()._read_group(
            self._ours(), [], ["amount_delta:sum", "period_delta:sum", "__count"]
        )
        self.assertEqual((amount, period, count), (-14300, -16500, 14))
        # the period's open pipeline: 45,900 in the snapshot, 29,400 now
        in_period = self.snapshot.line_ids.filtered(
            lambda line: line.date_deadline < date(2024, 4, 1)
        )
        self.assertEqual(sum(in_period.mapped("expected_revenue")), 45900)
        self.assertEqual(45900 + period, 29400)
        [(rep_amount,)] = self._report()._read_group(
            [*self._ours(), ("user_id", "=", self.reps["tess"].id)],
            [],
            ["amount_delta:sum"],
        )
        self.assertEqual(rep_amount, -1000)

    def test_default_filter_leaves_out_unchanged(self):
        changed = self._report().search(
            [*self._ours(), ("change_kind", "!=", "unchanged")]
        )
        self.assertEqual(len(changed), 12)
        self.assertNotIn(self.leads["unchanged"], changed.lead_id)
        self.assertNotIn(self.leads["untouched"], changed.lead_id)

    def test_new_opportunity_won_is_won(self):
        """A new opportunity won since is won; one converted from a lead after
        the snapshot is new."""
        with freeze_time("2024-03-09 10:00:00"):
            quick = self._deal("quick", self.s4, self.reps["sam"], 700, False)
            quick.stage_id = self.won
            converted = self._create_lead(
                "converted", type="lead", expected_revenue=400
            )
            converted.convert_opportunity(self.partner)
        self._set_create_date(quick, datetime(2024, 3, 9, 10, 0))
        self._set_create_date(converted, BEFORE)
        self.env.cr.execute(
            "UPDATE crm_lead SET date_conversion = %s WHERE id = %s",
            (datetime(2024, 3, 9, 10, 0), converted.id),
        )
        converted.invalidate_recordset()
        rows = self._report().search(
            [
                ("snapshot_id", "=", self.snapshot.id),
                ("lead_id", "in", [quick.id, converted.id]),
            ]
        )
        self.assertEqual(
            {row.lead_id: (row.change_kind, row.amount_delta) for row in rows},
            {quick: ("won", 0), converted: ("new", 400)},
        )

    def test_default_snapshot_is_last_weeks(self):
        """Without a snapshot in the domain, the report reads the latest
        snapshot at least a week old (or the context's)."""
        Report = self._report()
        self.assertEqual(Report._reference_snapshots(self.company), self.snapshot)
        ids = [lead.id for lead in self.leads.values()]
        rows = Report.search([("lead_id", "in", ids)])
        self.assertEqual(rows.snapshot_id, self.snapshot)
        recent = Report.with_context(
            funnel_change_snapshot_id=self.recent_snapshot.id
        ).search([("lead_id", "in", ids)])
        self.assertEqual(recent.snapshot_id, self.recent_snapshot)
        # two filters of a group (an OR) beside the snapshot: still that one
        won_or_lost = Report.search(
            [
                "|",
                ("change_kind", "=", "won"),
                ("change_kind", "=", "lost"),
                ("snapshot_id", "=", self.snapshot.id),
                ("lead_id", "in", ids),
            ]
        )
        self.assertEqual(won_or_lost.lead_id, self.leads["won"] | self.leads["lost"])
        # a snapshot under an OR: every snapshot is read, the domain filters
        either = Report.search(
            [
                "|",
                ("snapshot_id", "=", self.recent_snapshot.id),
                ("change_kind", "=", "won"),
                ("lead_id", "in", ids),
            ]
        )
        self.assertEqual(either.snapshot_id, self.snapshot | self.recent_snapshot)
        self.assertEqual(
            either.filtered(lambda r: r.snapshot_id == self.snapshot).lead_id,
            self.leads["won"],
        )
        # chosen otherwise (by date): every snapshot is read, the domain filters
        by_date = Report.search(
            [("snapshot_date", "=", date(2024, 3, 8)), ("lead_id", "in", ids)]
        )
        self.assertEqual(by_date, recent)
        both = Report.search(
            [
                ("snapshot_id", "in", (self.snapshot | self.recent_snapshot).ids),
                ("lead_id", "=", self.leads["moved_in"].id),
            ]
        )
        self.assertEqual(
            both.mapped("change_kind"), ["unchanged", "moved_in"]
        )  # newest snapshot first
        # since 8 March only the new one changed among the open ones
        self.assertEqual(
            recent.filtered(lambda r: r.change_kind != "unchanged").lead_id,
            self.env["crm.lead"],
        )

    # ------------------------------------------------------------
    # The wizard
    # ------------------------------------------------------------

    def test_wizard_default_and_open(self):
        Wizard = self.env["funnel.pipeline.change.wizard"]
        wizard = Wizard.create({})
        self.assertEqual(wizard.snapshot_id, self.snapshot)
        self.assertEqual(wizard.period, "Q1 2024")
        wizard.team_id = self.team
        action = wizard.action_open()
        self.assertEqual(action["res_model"], "funnel.pipeline.change.report")
        self.assertEqual(
            action["domain"],
            [("snapshot_id", "=", self.snapshot.id), ("team_id", "=", self.team.id)],
        )
        self.assertEqual(action["name"], "Pipeline Changes since 03/04/2024")

    def test_wizard_default_without_old_snapshot(self):
        """No snapshot a week old: the oldest one."""
        self.snapshot.sudo().unlink()
        with freeze_time("2024-03-09 09:00:00"):
            self._take_class()
        wizard = self.env["funnel.pipeline.change.wizard"].create({})
        self.assertEqual(wizard.snapshot_id, self.recent_snapshot)

    def test_wizard_without_snapshot(self):
        self.env["funnel.forecast.snapshot"].sudo().search([]).unlink()
        wizard = self.env["funnel.pipeline.change.wizard"].create({})
        self.assertFalse(wizard.snapshot_id)
        with self.assertRaisesRegex(UserError, "Choose the forecast snapshot"):
            wizard.action_open()

    # ------------------------------------------------------------
    # The forecast board
    # ------------------------------------------------------------

    def _board(self, domain):
        return self.env["crm.lead"].search(
            [
                ("type", "=", "opportunity"),
                ("stage_id.is_won", "=", False),
                ("team_id", "=", self.team.id),
                *domain,
            ]
        )

    def test_board_filter_and_marker(self):
        leads = self.leads
        changed = self._board([("funnel_change_kind", "!=", False)])
        open_changed = {
            "new",
            "moved_in",
            "moved_out",
            "pulled_in",
            "pushed_out",
            "category_up",
            "category_down",
            "amount_up",
            "amount_down",
        }
        self.assertEqual(
            changed, self.env["crm.lead"].union(*(leads[n] for n in open_changed))
        )
        self.assertEqual(
            {lead.name: lead.funnel_change_kind for lead in changed},
            {kind: kind for kind in open_changed},
        )
        self.assertEqual(
            self._board([("funnel_change_kind", "=", False)]),
            leads["unchanged"] | leads["untouched"],
        )
        self.assertFalse(leads["unchanged"].funnel_change_kind)
        self.assertEqual(
            self._board([("funnel_change_kind", "in", ["new", "moved_out"])]),
            leads["new"] | leads["moved_out"],
        )
        self.assertEqual(leads["won"].funnel_change_kind, "won")
        with self.assertRaisesRegex(UserError, "cannot be searched"):
            self._board([("funnel_change_kind", "ilike", "new")])

    def test_board_filter_of_the_view(self):
        """The board's "Since Last Week" filter is the search of the field, and
        its cards show the field as a badge."""
        views = self.env["crm.lead"].get_views(
            [
                (self.env.ref(f"sales_funnel_pro.{xmlid}").id, view_type)
                for xmlid, view_type in (
                    ("crm_lead_view_search_funnel_forecast", "search"),
                    ("crm_lead_view_kanban_funnel_forecast", "kanban"),
                )
            ]
        )["views"]
        search = views["search"]["arch"]
        self.assertIn(
            '<filter string="Since Last Week" name="filter_changed_since_last_week"',
            search,
        )
        self.assertIn("[('funnel_change_kind', '!=', False)]", search)
        self.assertIn(
            '<field name="funnel_change_kind" widget="badge"', views["kanban"]["arch"]
        )

    def test_board_marker_query_count(self):
        """The marker of many cards costs the same queries as of a few: the
        reference snapshots, then the report's rows of all the cards (the dates
        of the snapshots are read once per transaction)."""
        many = self.env["crm.lead"].create(
            [
                {
                    "name": f"Card {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s1.id,
                    "user_id": self.reps["sam"].id,
                    "expected_revenue": 100 * index,
                }
                for index in range(80)
            ]
        )
        few = self.leads["new"] | self.leads["moved_in"]
        few.mapped("funnel_change_kind")  # warm-up: the pending recomputes
        for leads in (few, many | few):
            leads.invalidate_recordset(["funnel_change_kind"])
            with self.assertQueryCount(2):
                kinds = leads.mapped("funnel_change_kind")
        # created after the snapshot (the database clock): new
        self.assertEqual(set(kinds), {"new", "moved_in"})

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_salesman_sees_own_rows(self):
        self.assertEqual(self._rows(), self._expected(reps=("sam",)))
        with self.assertRaises(AccessError):
            self._report().create({})

    @users("funnel_salesman_2")
    def test_other_salesman_sees_own_rows(self):
        self.assertEqual(self._rows(), self._expected(reps=("tess",)))

    @users("funnel_all_leads", "funnel_manager")
    def test_all_leads_and_manager_see_all(self):
        self.assertEqual(self._rows(), self._expected())

    def test_multi_company(self):
        with freeze_time("2024-03-04 09:00:00"):
            other, other_rep, lead = self._other_company_deal()
            self._set_create_date(lead, BEFORE)
            theirs = self.env["funnel.forecast.snapshot"]._take_snapshots(other)
        lead.expected_revenue = 450
        env = self.env(user=other_rep, context={"allowed_company_ids": other.ids})
        Report = env["funnel.pipeline.change.report"]
        rows = Report.search([])
        self.assertEqual(rows.snapshot_id, theirs.with_env(env))
        self.assertEqual(
            [(row.lead_id.id, row.change_kind, row.amount_delta) for row in rows],
            [(lead.id, "amount_up", 150)],
        )
        self.assertFalse(Report.search([("snapshot_id", "=", self.snapshot.id)]))
        mine = self._report().search(self._ours())[:1]
        with self.assertRaises(AccessError):
            Report.browse(mine.id).read(["change_kind"])
        # the board of the other company compares with its own snapshot
        self.assertEqual(lead.with_env(env).funnel_change_kind, "amount_up")
