from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..models.crm_lead_pipeline_change import CHANGE_KINDS
from ..models.crm_stage import LEAD_FORECAST_CATEGORIES
from ..pipeline_change import period_bounds, top_level_terms

# a snapshot is "last week's" from this age on
REFERENCE_AGE_DAYS = 7
# the fields of the report that choose the snapshots: a search naming none of
# them reads the reference snapshots (see _search)
SNAPSHOT_FIELDS = ("id", "snapshot_id", "snapshot_date")
# a row's id: its snapshot's in the high 32 bits, its opportunity's in the low
LEAD_ID_MASK = 2**32 - 1
# an opportunity written this long before a snapshot may still differ from it
# (see _touched_sql)
TOUCHED_MARGIN_HOURS = 24
# rank of the forecast categories of open opportunities: up is toward commit
CATEGORY_RANKS = {"omitted": 0, "pipeline": 1, "best_case": 2, "commit": 3}
PERIOD_HELP = (
    " The period is the calendar quarter in which the snapshot was taken: compare "
    "with the snapshot of the first week of the quarter to review the quarter so "
    "far, with last week's for the week's changes."
)


class FunnelPipelineChangeReport(models.Model):
    """What changed in the pipeline between a forecast snapshot and now.

    One row per snapshot and opportunity: every opportunity of the snapshot (as
    it was then, and as it is now), and every opportunity created or converted
    from a lead after the snapshot was taken (new). Each row has one change kind,
    the first that applies in this order of precedence:

    won > lost > archived > new > moved in > moved out > pulled in > pushed out
    > category up > category down > amount up > amount down > unchanged

    - won, lost, archived (not open any more, merely archived or turned back into
      a lead): by the addon's single definitions of open, won and lost
      (``crm.lead._funnel_state_sql``); a new opportunity won or lost since is
      won or lost;
    - new: not in the snapshot, created (or converted) after it, open now;
    - moved in / out: the expected closing date entered / left the period, the
      calendar quarter of the snapshot's date (no date counts as outside);
    - pulled in / pushed out: the expected closing date is earlier / later, and
      neither entered nor left the period;
    - category up / down: toward commit / away from it (omitted < pipeline <
      best case < commit);
    - amount up / down: the expected revenue;
    - unchanged: none of these (its stage or probability may have moved within
      its category); the report's default filter leaves them out.

    So that the pivot's sums add up, each opportunity counts once per snapshot,
    with all its changes in its one row:

    - amount delta: the open expected revenue now (0 once won, lost or archived)
      − the expected revenue in the snapshot (0 when new); their sum is the
      change of the open pipeline;
    - period delta: the same, counting only the open opportunities expected to
      close in the period; their sum is the change of the period's open
      pipeline.

    The salesperson and the team are the opportunity's now. Deleted
    opportunities leave their snapshots, and are not in the report.

    Which snapshots: the report is a query (``_table_query``) of the snapshots
    that each search is about, as constants: those its domain chooses (by
    snapshot, or by row: a row's id holds its snapshot), else the one of the
    context (``funnel_change_snapshot_id``), else the latest snapshot at least a
    week old of each company (else the oldest), so that the sums never add up
    several snapshots of a company by accident. The Pipeline Changes wizard
    chooses one.

    How it stays fast on 100,000 opportunities: an opportunity changes only
    through writes, which set its write date. The opportunities written since
    the snapshot (read by an index on the write date) are compared with their
    line of the snapshot, or are new; the lines of the others are unchanged,
    a branch of constant kind that PostgreSQL leaves out without reading it
    when the search excludes unchanged (the default filter).
    """

    _name = "funnel.pipeline.change.report"
    _inherit = "funnel.report.figures"
    _description = "Pipeline Changes Analysis"
    _auto = False
    # the pivot's groups by salesperson or team: by ids, ordered afterwards
    _group_by_ids = True
    _order = "snapshot_date desc, lead_id"
    _rec_name = "lead_id"
    # what the query reads: flushed before the report is searched or grouped
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "create_date",
            "date_conversion",
            "date_deadline",
            "expected_revenue",
            "forecast_category",
            "probability",
            "stage_id",
            "team_id",
            "type",
            "user_id",
            "write_date",
        ],
        "res.company": ["currency_id"],
        "funnel.forecast.snapshot": ["company_id", "date", "taken_at"],
        "funnel.forecast.snapshot.line": [
            "date_deadline",
            "expected_revenue",
            "forecast_category",
            "lead_id",
            "snapshot_id",
            "stage_id",
        ],
    }

    snapshot_id = fields.Many2one(
        "funnel.forecast.snapshot",
        string="Snapshot",
        readonly=True,
        help="The snapshot that the opportunities of now are compared with.",
    )
    snapshot_date = fields.Date(readonly=True, help="The day the snapshot was taken.")
    period_start = fields.Date(
        string="Period",
        readonly=True,
        help="The first day of the period that moved in and moved out are about."
        + PERIOD_HELP,
    )
    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        help="The salesperson of the opportunity now.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        help="The sales team of the opportunity now.",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency = fields.Many2one("res.currency", string="Currency", readonly=True)
    change_kind = fields.Selection(
        CHANGE_KINDS,
        string="Change",
        readonly=True,
        help="What changed since the snapshot, one kind per opportunity, the first "
        "that applies: won, lost, archived (closed without being won or lost), "
        "new (created after the snapshot), moved in or out of the period (its "
        "expected closing date), pulled in or pushed out (an earlier or later "
        "expected closing date, without entering or leaving the period), "
        "category up or down (toward commit or away from it), amount up or down "
        "(expected revenue), else unchanged. The amounts of the row hold all its "
        "changes, so nothing is counted twice." + PERIOD_HELP,
    )
    old_stage_id = fields.Many2one(
        "crm.stage", string="Stage Then", readonly=True, help="Empty when new."
    )
    new_stage_id = fields.Many2one("crm.stage", string="Stage Now", readonly=True)
    old_date_deadline = fields.Date(
        string="Expected Closing Then",
        readonly=True,
        help="The expected closing date in the snapshot.",
    )
    new_date_deadline = fields.Date(
        string="Expected Closing Now",
        readonly=True,
        help="The expected closing date now.",
    )
    old_forecast_category = fields.Selection(
        LEAD_FORECAST_CATEGORIES, string="Category Then", readonly=True
    )
    new_forecast_category = fields.Selection(
        LEAD_FORECAST_CATEGORIES, string="Category Now", readonly=True
    )
    old_expected_revenue = fields.Monetary(
        string="Amount Then",
        currency_field="company_currency",
        readonly=True,
        help="The expected revenue in the snapshot; 0 when new.",
    )
    new_expected_revenue = fields.Monetary(
        string="Amount Now",
        currency_field="company_currency",
        readonly=True,
        help="The expected revenue now (of a won opportunity: what was won).",
    )
    amount_delta = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="How the opportunity changed the open pipeline: its expected revenue "
        "now if still open (0 once won, lost or archived) − its expected revenue "
        "in the snapshot (0 when new). Each opportunity counts once, so the sum "
        "is the change of the open pipeline: new and amount up add, won, lost "
        "and amount down take away.",
    )
    period_delta = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="The same, counting only the open opportunities expected to close "
        "in the period: moved in adds its amount, moved out takes it away. The "
        "sum is the change of the period's open pipeline." + PERIOD_HELP,
    )
    lead_count = fields.Integer(
        string="Opportunities",
        readonly=True,
        help="1 per opportunity (each counts once per snapshot).",
    )

    # ------------------------------------------------------------
    # Which snapshot
    # ------------------------------------------------------------

    @api.model
    def _reference_snapshots(self, companies):
        """Per company of ``companies``, its latest snapshot taken at least a
        week ago, else its oldest one; one query."""
        if not companies:
            return self.env["funnel.forecast.snapshot"]
        Snapshot = self.env["funnel.forecast.snapshot"]
        Snapshot.flush_model(["company_id", "date"])
        cutoff = fields.Date.context_today(self) - timedelta(days=REFERENCE_AGE_DAYS)
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (company_id) id
                  FROM funnel_forecast_snapshot
                 WHERE company_id IN %(companies)s
                 ORDER BY company_id, date <= %(cutoff)s DESC,
                          CASE WHEN date <= %(cutoff)s THEN date END DESC,
                          date, id
                """,
                companies=tuple(companies.ids),
                cutoff=cutoff,
            )
        )
        return Snapshot.browse(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        # the query reads the snapshots that the search is about (see
        # _table_query): those the domain chooses (by snapshot or by row), else
        # the context's, else last week's
        snapshots = self._domain_snapshots(domain)
        if snapshots is None:
            snapshots = tuple(
                self.env["funnel.forecast.snapshot"].sudo().search([]).ids
            )
        elif snapshots is False:
            snapshot_id = self.env.context.get("funnel_change_snapshot_id")
            snapshots = (
                (snapshot_id,)
                if snapshot_id
                else tuple(self._reference_snapshots(self.env.companies).ids)
            )
        row_ids = [
            row_id
            for fname, operator, value in top_level_terms(domain)
            if fname == "id" and operator in ("=", "in")
            for row_id in (value if isinstance(value, list | tuple) else [value])
            if isinstance(row_id, int)
        ]
        if row_ids:
            # the opportunities of the rows too (see _view_select), that the
            # query reads by index
            domain = [
                *domain,
                ("lead_id", "in", [row_id & LEAD_ID_MASK for row_id in row_ids]),
            ]
        report = self.with_context(funnel_change_snapshot_ids=snapshots)
        return super(FunnelPipelineChangeReport, report)._search(
            domain, offset, limit, order
        )

    @api.model
    def _domain_snapshots(self, domain):
        """The snapshots that ``domain`` restricts the rows to, as a tuple of
        ids; None when it names them in a way not read here (then every
        snapshot is read); False when it does not name them."""
        conjuncts = top_level_terms(domain)
        named = [
            term
            for term in domain
            if isinstance(term, list | tuple)
            and (term[0] in SNAPSHOT_FIELDS or term[0].startswith("snapshot_id."))
        ]
        if not named:
            return False
        snapshots = set()
        for term in named:
            fname, operator, value = term
            values = value if isinstance(value, list | tuple) else [value]
            if (
                tuple(term) not in conjuncts
                or fname not in ("id", "snapshot_id")
                or operator not in ("=", "in")
                or not all(isinstance(v, int) for v in values)
            ):
                return None
            if fname == "id":
                # a row's id holds its snapshot (see _view_select)
                values = [row_id >> 32 for row_id in values]
            snapshots.update(values)
        return tuple(sorted(snapshots))

    @property
    def _table_query(self):
        # a query not made by _search reads every snapshot
        snapshots = self.env.context.get("funnel_change_snapshot_ids")
        if snapshots is None:
            snapshots = self.env["funnel.forecast.snapshot"].sudo().search([]).ids
        return self._query(snapshots)

    def exists(self):
        # the snapshots of the rows, from their ids
        snapshots = tuple(
            sorted({row_id >> 32 for row_id in self._ids if isinstance(row_id, int)})
        )
        report = self.with_context(funnel_change_snapshot_ids=snapshots)
        return super(FunnelPipelineChangeReport, report).exists().with_env(self.env)

    # ------------------------------------------------------------
    # The query
    # ------------------------------------------------------------

    def _view_columns(self):
        """The columns of the view and their SQL type, in the order in which
        every branch gives them."""
        return [
            ("id", "bigint"),
            ("snapshot_id", "integer"),
            ("snapshot_date", "date"),
            ("period_start", "date"),
            ("lead_id", "integer"),
            ("user_id", "integer"),
            ("team_id", "integer"),
            ("company_id", "integer"),
            ("company_currency", "integer"),
            ("old_stage_id", "integer"),
            ("new_stage_id", "integer"),
            ("old_date_deadline", "date"),
            ("new_date_deadline", "date"),
            ("old_forecast_category", "varchar"),
            ("new_forecast_category", "varchar"),
            ("old_expected_revenue", "numeric"),
            ("new_expected_revenue", "numeric"),
            ("change_kind", "varchar"),
            ("amount_delta", "numeric"),
            ("period_delta", "numeric"),
            ("lead_count", "integer"),
        ]

    def _view_select(self, values):
        """The SELECT list of a branch: ``values`` maps column names to their
        SQL expression, over the snapshot ``s`` and the opportunity ``l``."""
        common = {
            # the snapshot and the opportunity (see LEAD_ID_MASK)
            "id": SQL("(s.id::bigint << 32) + l.id"),
            "snapshot_id": SQL("s.id"),
            "snapshot_date": SQL("s.date"),
            "period_start": SQL("q.period_start"),
            "lead_id": SQL("l.id"),
            "user_id": SQL("l.user_id"),
            "team_id": SQL("l.team_id"),
            "company_id": SQL("s.company_id"),
            # a subquery: a query that does not ask for it does not compute it
            "company_currency": SQL(
                "SELECT c.currency_id FROM res_company c WHERE c.id = s.company_id"
            ),
            "new_stage_id": SQL("l.stage_id"),
            "new_date_deadline": SQL("l.date_deadline"),
            "new_forecast_category": SQL("l.forecast_category"),
            "new_expected_revenue": SQL("COALESCE(l.expected_revenue, 0)"),
            "amount_delta": SQL("0"),
            "period_delta": SQL("0"),
            "lead_count": SQL("1"),
        }
        values = {**common, **values}
        return SQL(", ").join(
            SQL(
                "(%s)::%s AS %s",
                values.get(name, SQL("NULL")),
                SQL(column_type),
                SQL.identifier(name),
            )
            for name, column_type in self._view_columns()
        )

    def _period_sql(self, quarter):
        """The period of the snapshot ``s`` (its quarter) and what each
        opportunity of the snapshot (``line``) was and is in it, as the columns
        of ``p``."""
        return SQL(
            """
            %(quarter)s
            CROSS JOIN LATERAL (
                SELECT COALESCE(l.expected_revenue, 0)::numeric AS new_amount,
                       COALESCE(line.expected_revenue, 0)::numeric AS old_amount,
                       %(open)s AS is_open,
                       COALESCE(line.date_deadline >= q.period_start
                                AND line.date_deadline < q.period_end, FALSE) AS in_old,
                       COALESCE(%(open)s AND l.date_deadline >= q.period_start
                                AND l.date_deadline < q.period_end, FALSE) AS in_new
            ) p
            """,
            quarter=quarter,
            open=self.env["crm.lead"]._funnel_state_sql("open", "l"),
        )

    def _quarter_sql(self, snapshots):
        """The period of the snapshot ``s``, one of ``snapshots``: its quarter,
        from ``q.period_start`` to ``q.period_end`` (excluded), as constants."""
        # read once per transaction (a snapshot does not change), deleted ones
        # left out
        records = self.env["funnel.forecast.snapshot"].sudo().browse(snapshots)
        records.fetch(["date"])
        date_field = records._fields["date"]
        periods = [
            SQL("(%s, %s::date, %s::date)", snapshot.id, *period_bounds(snapshot.date))
            for snapshot in records
            if self.env.cache.contains(snapshot, date_field)
        ] or [SQL("(0, NULL::date, NULL::date)")]
        return SQL(
            "JOIN (VALUES %s) AS q (snapshot_id, period_start, period_end)"
            " ON q.snapshot_id = s.id",
            SQL(", ").join(periods),
        )

    def _branch_touched(self, quarter, chosen, since):
        """The opportunities written since the snapshot (or shortly before:
        see _touched_sql), with their line of the snapshot when they were in
        it, compared field by field; those not in it are new when created or
        converted after it (and open, won or lost)."""
        Lead = self.env["crm.lead"]

        def rank(category):
            return SQL(
                "CASE %s %s ELSE 0 END",
                category,
                SQL(" ").join(
                    SQL("WHEN %s THEN %s", name, value)
                    for name, value in CATEGORY_RANKS.items()
                ),
            )

        kind = SQL(
            """
            CASE
                WHEN %(won)s THEN 'won'
                WHEN %(lost)s THEN 'lost'
                WHEN NOT p.is_open THEN 'archived'
                WHEN line.id IS NULL THEN 'new'
                WHEN p.in_new AND NOT p.in_old THEN 'moved_in'
                WHEN p.in_old AND NOT p.in_new THEN 'moved_out'
                WHEN l.date_deadline < line.date_deadline THEN 'pulled_in'
                WHEN l.date_deadline > line.date_deadline THEN 'pushed_out'
                WHEN %(new_rank)s > %(old_rank)s THEN 'category_up'
                WHEN %(new_rank)s < %(old_rank)s THEN 'category_down'
                WHEN p.new_amount > p.old_amount THEN 'amount_up'
                WHEN p.new_amount < p.old_amount THEN 'amount_down'
                ELSE 'unchanged'
            END
            """,
            won=Lead._funnel_state_sql("won", "l"),
            lost=Lead._funnel_state_sql("lost", "l"),
            new_rank=rank(SQL("l.forecast_category")),
            old_rank=rank(SQL("line.forecast_category")),
        )
        select = self._view_select(
            {
                **self._old_values(),
                "change_kind": kind,
                "amount_delta": SQL(
                    "CASE WHEN p.is_open THEN p.new_amount ELSE 0 END - p.old_amount"
                ),
                "period_delta": SQL(
                    "CASE WHEN p.in_new THEN p.new_amount ELSE 0 END"
                    " - CASE WHEN p.in_old THEN p.old_amount ELSE 0 END"
                ),
            }
        )
        return SQL(
            """
            SELECT %(select)s
              FROM funnel_forecast_snapshot s
              JOIN crm_lead l ON %(since)s AND %(touched)s
              LEFT JOIN funnel_forecast_snapshot_line line
                ON line.snapshot_id = s.id AND line.lead_id = l.id
              %(period)s
             WHERE %(chosen)s
               AND (line.id IS NOT NULL
                    OR ((l.company_id = s.company_id OR l.company_id IS NULL)
                        AND (l.create_date >= s.taken_at
                             OR l.date_conversion >= s.taken_at)
                        AND (%(open)s OR %(won)s OR %(lost)s)))
            """,
            select=select,
            since=since,
            touched=self._touched_sql(),
            period=self._period_sql(quarter),
            chosen=chosen,
            open=Lead._funnel_state_sql("open", "l"),
            won=Lead._funnel_state_sql("won", "l"),
            lost=Lead._funnel_state_sql("lost", "l"),
        )

    def _branch_untouched(self, quarter, chosen):
        """The opportunities of the snapshots not written since: unchanged. A
        search for the changes leaves this branch out without reading it (its
        kind is a constant)."""
        return SQL(
            "SELECT %s FROM %s %s WHERE %s AND NOT %s",
            self._view_select(
                {**self._old_values(), "change_kind": SQL("'unchanged'")}
            ),
            self._from_lines(),
            quarter,
            chosen,
            self._touched_sql(),
        )

    def _old_values(self):
        return {
            "old_stage_id": SQL("line.stage_id"),
            "old_date_deadline": SQL("line.date_deadline"),
            "old_forecast_category": SQL("line.forecast_category"),
            "old_expected_revenue": SQL("COALESCE(line.expected_revenue, 0)"),
        }

    def _from_lines(self):
        return SQL(
            """
            funnel_forecast_snapshot_line line
            JOIN funnel_forecast_snapshot s ON s.id = line.snapshot_id
            JOIN crm_lead l ON l.id = line.lead_id
            """
        )

    def _touched_sql(self):
        """Whether the opportunity ``l`` may have changed since the snapshot
        ``s``: written since it was taken, or in the day before (a transaction
        that wrote it while the snapshot was being taken has an earlier write
        date, and the clocks of the server and the database may differ). An
        opportunity changes only through writes, which set its write date."""
        return SQL(
            "l.write_date >= s.taken_at - %s * interval '1 hour'",
            TOUCHED_MARGIN_HOURS,
        )

    def _query(self, snapshots):
        """The rows of the snapshots ``snapshots`` (ids): the opportunities
        written since each snapshot (changed or new), and those not written
        since (unchanged)."""
        if not snapshots:
            chosen = since = SQL("FALSE")
        else:
            chosen = SQL("s.id IN %s", tuple(snapshots))
            # what may have changed since the earliest of them, as a condition
            # on the opportunities alone (read by index)
            since = SQL(
                "(l.write_date >= (SELECT min(taken_at) FROM funnel_forecast_snapshot"
                " WHERE id IN %s) - %s * interval '1 hour')",
                tuple(snapshots),
                TOUCHED_MARGIN_HOURS,
            )
        quarter = self._quarter_sql(snapshots)
        return SQL(" UNION ALL ").join(
            [
                self._branch_touched(quarter, chosen, since),
                self._branch_untouched(quarter, chosen),
            ]
        )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "views": [(False, "form")],
        }
