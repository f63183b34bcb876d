from odoo.tests import freeze_time, tagged

from .capability_common import NOW, CapabilityCommon


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestConversionReport(CapabilityCommon):
    """One row per opportunity and stage passed the first time, and the figures
    of a group from its totals, on a small history:

    ===== ====== ================================================= ==========
    lead  rep    path (days ago)                                   outcome
    ===== ====== ================================================= ==========
    L1    Sam    s1 20 → s3 18 (skips s2) → s2 15 (back) → s3 14  won 10
    L2    Sam    created in s2 19                                  lost 16
    L3    Sam    s1 17                                             open
    L4    Tess   s1 20 → s2 19 → s1 18 (back)                      lost 12
    ===== ====== ================================================= ==========
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sam, tess = cls.user_salesman, cls.user_salesman_2
        cls.l1 = cls._deal(
            sam,
            [(cls.s1, 20), (cls.s3, 18), (cls.s2, 15), (cls.s3, 14)],
            ("won", 10),
            name="L1",
        )
        cls.l2 = cls._deal(sam, [(cls.s2, 19)], ("lost", 16), name="L2")
        cls.l3 = cls._deal(sam, [(cls.s1, 17)], name="L3")
        cls.l4 = cls._deal(
            tess, [(cls.s1, 20), (cls.s2, 19), (cls.s1, 18)], ("lost", 12), name="L4"
        )

    def _rows(self, lead):
        rows = self.env["funnel.conversion.report"].search(
            [("lead_id", "=", lead.id)], order="stage_rank"
        )
        return [
            (
                row.stage_id,
                row.is_skipped,
                row.days_first_stay,
                row.advanced_count,
                row.lost_count,
                row.open_count,
            )
            for row in rows
        ]

    def test_first_passes_and_implied_passes(self):
        # s2 is passed once (skipped), the return to it is no pass; jumping
        # from s3 to won passes s4
        self.assertEqual(
            self._rows(self.l1),
            [
                (self.s1, False, 2.0, 1, 0, 0),
                (self.s2, True, 0.0, 1, 0, 0),
                (self.s3, False, 3.0, 1, 0, 0),
                (self.s4, True, 0.0, 1, 0, 0),
            ],
        )

    def test_created_in_a_later_stage(self):
        self.assertEqual(self._rows(self.l2), [(self.s2, False, 3.0, 0, 1, 0)])

    def test_lost_after_going_back(self):
        # L4 reached s2, so it advanced from s1; lost without getting past s2
        self.assertEqual(
            self._rows(self.l4),
            [(self.s1, False, 1.0, 1, 0, 0), (self.s2, False, 1.0, 0, 1, 0)],
        )
        self.assertEqual(self._rows(self.l3), [(self.s1, False, 0.0, 0, 0, 1)])

    def test_back_then_past(self):
        """A first stay that ended by going back still advanced when the
        opportunity got past the stage later."""
        lead = self._deal(
            self.user_salesman,
            [(self.s1, 30), (self.s2, 28), (self.s1, 26), (self.s2, 24), (self.s3, 22)],
        )
        self.assertEqual(
            self._rows(lead),
            [
                (self.s1, False, 2.0, 1, 0, 0),
                (self.s2, False, 2.0, 1, 0, 0),
                (self.s3, False, 0.0, 0, 0, 1),
            ],
        )

    def test_team_figures_by_stage(self):
        figures = self._report()
        s1, s2 = figures[self.s1], figures[self.s2]
        self.assertEqual(
            (s1["entered_count"], s1["advanced_count"], s1["settled_count"]), (3, 2, 2)
        )
        self.assertEqual(s1["open_count"], 1)
        self.assertEqual(s1["conversion_rate"], 100.0)
        self.assertEqual(s1["stage_to_won_rate"], 50.0)  # L1 won, L4 lost
        # settled first stays of s1: 2 (L1) and 1 (L4) days
        self.assertEqual((s1["median_days"], s1["p80_days"]), (1.5, 1.8))
        self.assertEqual(
            (s2["entered_count"], s2["advanced_count"], s2["lost_count"]), (3, 1, 2)
        )
        self.assertEqual((s2["conversion_rate"], s2["loss_rate"]), (33.3, 66.7))
        # Wilson interval of 1 of 3
        self.assertEqual((s2["wilson_low"], s2["wilson_high"]), (6.1, 79.2))

    def test_rep_figures_by_stage(self):
        figures = self._report(groupby=("user_id", "stage_id"))
        sam_s2 = figures[self.user_salesman, self.s2]
        self.assertEqual(
            (sam_s2["entered_count"], sam_s2["conversion_rate"]), (2, 50.0)
        )
        self.assertEqual(sam_s2["median_days"], 3.0)  # the skipped pass has no stay
        tess_s2 = figures[self.user_salesman_2, self.s2]
        self.assertEqual(
            (tess_s2["conversion_rate"], tess_s2["loss_rate"]), (0.0, 100.0)
        )

    def _cumulative(self, groupby):
        Report = self.env["funnel.conversion.report"]
        return {
            tuple(row[:-1]) if len(groupby) > 1 else row[0]: row[-1]
            for row in Report._read_group(
                [("team_id", "=", self.team.id)], groupby, ["cumulative_rate:avg"]
            )
        }

    def test_cumulative_conversion(self):
        """Of the opportunities that entered in s1 (L1, L3, L4; L2 was created
        in s2), the share that passed each stage."""
        self.assertEqual(
            self._cumulative(["stage_id"]),
            {self.s1: 100.0, self.s2: 66.7, self.s3: 33.3, self.s4: 33.3},
        )
        sam, tess = self.user_salesman, self.user_salesman_2
        by_rep = self._cumulative(["user_id", "stage_id"])
        # Sam: L1 and L3 entered in s1, L1 passed s2 (skipped); L2 does not count
        self.assertEqual(by_rep[sam, self.s1], 100.0)
        self.assertEqual(by_rep[sam, self.s2], 50.0)
        self.assertEqual(by_rep[tess, self.s2], 100.0)
        # not split by stage: no cumulative conversion
        self.assertEqual(self._cumulative(["user_id"]), {sam: None, tess: None})
        # the entry stage of every pass: the stage its opportunity started in
        rows = self.env["funnel.conversion.report"].search(
            [("lead_id", "in", (self.l1 | self.l2).ids)]
        )
        self.assertEqual(
            {(row.lead_id, row.entry_stage_id) for row in rows},
            {(self.l1, self.s1), (self.l2, self.s2)},
        )

    def test_new_customer(self):
        partner = self.env["res.partner"].create({"name": "Returning Customer"})
        (self.l1 | self.l3).partner_id = partner
        rows = self.env["funnel.conversion.report"].search(
            [("lead_id", "in", (self.l1 | self.l3).ids), ("stage_id", "=", self.s1.id)]
        )
        # L1 was won 10 days ago; L3 was created 17 days ago, before that
        self.assertEqual(rows.mapped("is_new_customer"), [True, True])
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id = %s", [NOW, self.l3.id]
        )
        rows.invalidate_recordset()
        self.assertEqual(
            {row.lead_id: row.is_new_customer for row in rows},
            {self.l1: True, self.l3: False},
        )

    def test_pivot_as_opened_query_count(self):
        """The pivot as opened (salesperson × stage, five measures) is the same
        few queries per level, whatever the number of opportunities: JIT off,
        the grouped query, the order of the salespeople and of the stages."""
        Report = self.env["funnel.conversion.report"].with_user(self.user_manager)
        aggregates = [
            "entered_count:sum",
            "conversion_rate:avg",
            "loss_rate:avg",
            "open_count:sum",
            "median_days:avg",
        ]
        order = "user_id,stage_id"
        Report._read_group([], ["user_id", "stage_id"], aggregates, order=order)
        with self.assertQueryCount(4):
            Report._read_group([], ["user_id", "stage_id"], aggregates, order=order)

    def test_groups_in_natural_order(self):
        """Grouped on the ids, the groups still come in the order of their
        records (the salespeople by name, the stages by sequence), empty last,
        as the web client's pivot asks for them."""
        Report = self.env["funnel.conversion.report"].with_user(self.user_manager)
        groupby = ["user_id", "stage_id", "is_skipped"]
        # the order the pivot asks for: its groups; grouped by ids
        natural = Report._read_group(
            [], groupby, ["entered_count:sum"], order=",".join(groupby)
        )
        # the same order spelled otherwise: the ORM's own, joining the names
        by_name = Report._read_group(
            [],
            groupby,
            ["entered_count:sum"],
            order="user_id asc, stage_id asc, is_skipped asc",
        )
        self.assertEqual(natural, by_name)
        self.assertGreater(len(natural), 3)
        users = [row[0] for row in natural]
        self.assertEqual(
            [user.name for user in dict.fromkeys(users)],
            sorted({user.name for user in users}),
        )
        # an explicit order other than the groups' is the database's
        descending = Report._read_group(
            [], ["stage_id"], ["entered_count:sum"], order="stage_id desc"
        )
        self.assertEqual(
            [row[0] for row in descending],
            sorted((row[0] for row in descending), key=lambda s: s.sequence)[::-1],
        )

    def test_salesman_sees_own_passes(self):
        figures = self._report(groupby=("user_id",), user=self.user_salesman)
        self.assertEqual(list(figures), [self.user_salesman])
        figures = self._report(groupby=("user_id",), user=self.user_all_leads)
        self.assertEqual(set(figures), {self.user_salesman, self.user_salesman_2})
