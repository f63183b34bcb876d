from odoo import api, fields, models
from odoo.models import parse_read_group_spec
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from .funnel_report_figures import Count, Percentile, Plus, Ratio, Wilson, percent_field

# the counts a group's figures are computed from
COUNTS = (
    "entered_count",
    "advanced_count",
    "lost_count",
    "settled_count",
    "open_count",
    "won_count",
    "closed_count",
)


# settled: advanced or lost here
SETTLED = Plus("advanced_count", "lost_count")


def _count(string, help_text):
    return fields.Integer(string=string, readonly=True, help=help_text)


class FunnelConversionReport(models.Model):
    """Conversion per stage: one row per opportunity and stage it passed, the
    first time.

    An opportunity passes a stage the first time it enters it, or when it jumps
    from an earlier stage to a later one (an implied pass, ``skipped``). A return
    after a backward move is not a pass; an opportunity created in a later stage
    did not pass the earlier ones. The pass counts for the salesperson and team of
    the history row that made it.

    Its outcome is the opportunity's as of today: advanced (it later reached a
    later stage, or was won), lost without getting past the stage, or still open.
    The figures of a group (next-step conversion, loss rate, stage-to-won, median
    and P80 days, Wilson bounds) are computed from its totals.
    """

    _name = "funnel.conversion.report"
    _inherit = "funnel.report.figures"
    _group_by_ids = True
    _description = "Stage Conversion Analysis"
    _auto = False
    _order = "date_pass desc, id desc"
    _rec_name = "stage_id"
    _depends = {
        "crm.lead": [
            "active",
            "create_date",
            "date_closed",
            "forecast_category",
            "partner_id",
            "source_id",
            "type",
        ],
        "funnel.stage.pass": [
            "amount",
            "company_id",
            "date_pass",
            "days_first_stay",
            "entry_stage_id",
            "got_past",
            "is_skipped",
            "lead_id",
            "outcome",
            "stage_id",
            "stage_rank",
            "team_id",
            "user_id",
        ],
    }
    # The counts of a group come from two sums and the number of its passes (a
    # pass advanced, was lost here, or is still there): the grouped queries of
    # the pivot add up as few columns as they can.
    _figures = {
        "entered_count": Count(),
        "settled_count": SETTLED,
        "open_count": Plus(Count(), minus=("advanced_count", "lost_count")),
        "conversion_rate": Ratio("advanced_count", SETTLED, digits=1),
        "loss_rate": Ratio("lost_count", SETTLED, digits=1),
        "stage_to_won_rate": Ratio("won_count", "closed_count", digits=1),
        "median_days": Percentile("days_first_stay", 0.5),
        "p80_days": Percentile("days_first_stay", 0.8),
        "wilson_low": Wilson("advanced_count", SETTLED, -1),
        "wilson_high": Wilson("advanced_count", SETTLED, 1),
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    stage_rank = fields.Integer(
        readonly=True,
        aggregator=False,
        help="Position of the stage in the pipeline when it was passed.",
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency = fields.Many2one("res.currency", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    date_pass = fields.Datetime(
        string="Passed On",
        readonly=True,
        help="When the opportunity first entered the stage, or jumped past it.",
    )
    is_skipped = fields.Boolean(
        string="Skipped",
        readonly=True,
        help="Passed by a jump from an earlier stage to a later one (the gates "
        "checked the stage's criteria); the opportunity spent no time in it.",
    )
    is_new_customer = fields.Boolean(
        string="New Customer",
        readonly=True,
        help="The customer (its company) had no opportunity won before this one "
        "was created.",
    )
    days_first_stay = fields.Float(
        string="Days in First Stay",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Days between entering the stage the first time and leaving it; "
        "empty while the opportunity is still there and for a skipped stage.",
    )
    amount = fields.Monetary(
        string="Amount at Pass",
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue of the opportunity when it passed the stage.",
    )
    entered_count = _count("Entered", "Opportunities that passed the stage.")
    advanced_count = _count(
        "Advanced", "Passes after which the opportunity reached a later stage or won."
    )
    lost_count = _count(
        "Lost Here",
        "Passes after which the opportunity was lost before getting past the stage.",
    )
    settled_count = _count(
        "Settled", "Passes whose outcome is known: advanced or lost here."
    )
    open_count = _count(
        "Still There",
        "Passes of opportunities still open (or archived) that have "
        "not got past the stage.",
    )
    won_count = _count("Reached Won", "Passes of opportunities won since.")
    closed_count = _count(
        "Closed",
        "Passes of opportunities won or lost since (the base of stage-to-won).",
    )
    conversion_rate = percent_field(
        "Next-Step Conversion %",
        "Advanced ÷ settled, in percent, among the first passes of the stage. "
        "Opportunities still there are left out (shown beside it). Computed from "
        "the totals of each group.",
    )
    loss_rate = percent_field(
        "Loss Rate %", "Lost here ÷ settled, in percent, computed from the totals."
    )
    stage_to_won_rate = percent_field(
        "Stage-to-Won %",
        "Won ÷ (won + lost), in percent, among the closed opportunities that "
        "passed the stage.",
    )
    cumulative_rate = percent_field(
        "Cumulative Conversion %",
        "Of the opportunities that entered the funnel in its first stage, the "
        "share that passed this stage, in percent: its passes by those "
        "opportunities ÷ the passes of the first stage, in the same group without "
        "the stage (same salesperson, team, period ...). Empty where the group "
        "is not split by stage.",
    )
    entry_stage_id = fields.Many2one(
        "crm.stage",
        string="Entered In",
        readonly=True,
        help="The stage the opportunity entered the funnel in (where it was "
        "created or converted).",
    )
    median_days = fields.Float(
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Median of the days of the settled first stays in the stage.",
    )
    p80_days = fields.Float(
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="80th percentile of the days of the settled first stays: four stays "
        "out of five were shorter.",
    )
    wilson_low = percent_field(
        "Conversion Low %",
        "Lower bound of the 95 % (Wilson) interval of the next-step conversion: "
        "with few settled passes the interval is wide.",
    )
    wilson_high = percent_field(
        "Conversion High %",
        "Upper bound of the 95 % (Wilson) interval of the next-step conversion.",
    )

    # ------------------------------------------------------------
    # Grouping
    # ------------------------------------------------------------

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), *args, **kwargs):
        # The view has about two rows per opportunity, and PostgreSQL would spend
        # longer compiling its grouped queries (JIT, chosen for their estimated
        # cost) than running them: it is left out. The groups by many2one are
        # grouped by ids (_group_by_ids).
        self.env.cr.execute(SQL("SET LOCAL jit = off"))
        positions = [
            index
            for index, spec in enumerate(aggregates)
            if parse_read_group_spec(spec)[0] == "cumulative_rate"
        ]
        if not positions:
            return super()._read_group(domain, groupby, aggregates, *args, **kwargs)
        # the cumulative conversion is a ratio of two groups: computed apart
        aggregates = [
            "__count" if index in positions else spec
            for index, spec in enumerate(aggregates)
        ]
        rows = super()._read_group(domain, groupby, aggregates, *args, **kwargs)
        rates = self._cumulative_rates(domain, list(groupby))
        size = len(groupby)
        result = []
        for row in rows:
            row = list(row)
            for index in positions:
                row[size + index] = rates.get(tuple(row[:size]))
            result.append(tuple(row))
        return result

    @api.model
    def _cumulative_rates(self, domain, groupby):
        """The cumulative conversion of the groups of ``groupby`` (split by
        stage): {group values: rate in percent}. In each group, the passes by
        opportunities that entered their funnel in its first stage ÷ the passes
        of the first stage in the same group without the stage."""
        if "stage_id" not in groupby:
            return {}
        first = self.env["crm.stage"]._funnel_first_stages()
        shared = first.pop(None, None)

        def at_first_stage(fname):
            terms = [
                [("team_id", "=", team_id), (fname, "=", stage_id)]
                for team_id, stage_id in first.items()
                if stage_id
            ]
            if shared:
                terms.append([("team_id", "not in", list(first)), (fname, "=", shared)])
            return expression.OR(terms) if terms else expression.FALSE_DOMAIN

        base = [spec for spec in groupby if spec != "stage_id"]
        read_group = super()._read_group
        entrants = dict(
            (tuple(row[:-1]), row[-1])
            for row in read_group(
                expression.AND([domain, at_first_stage("stage_id")]), base, ["__count"]
            )
        )
        rates = {}
        for row in read_group(
            expression.AND([domain, at_first_stage("entry_stage_id")]),
            groupby,
            ["__count"],
        ):
            key = tuple(row[:-1])
            total = entrants.get(
                tuple(
                    value
                    for value, spec in zip(key, groupby, strict=True)
                    if spec != "stage_id"
                )
            )
            if total:
                rates[key] = round(100.0 * row[-1] / total, 1)
        return rates

    # ------------------------------------------------------------
    # The view
    # ------------------------------------------------------------

    def _query(self):
        Lead = self.env["crm.lead"]
        # The passes are stored (funnel.stage.pass) with the outcome of their
        # opportunity: the pivot reads that one narrow table. The joins add what
        # some groupings and filters ask for (source, new customer, currency);
        # PostgreSQL leaves them out of the queries that do not. The view has no
        # WITH clause, so that PostgreSQL merges it into the pivot's queries and
        # computes only the columns they read; its counts add up the booleans
        # that PostgreSQL keeps on the passes (advanced, lost_here: init of
        # funnel.stage.pass).
        return SQL(
            """
SELECT p.id, p.lead_id, p.stage_id, p.stage_rank, p.user_id, p.team_id,
       p.company_id, rc.currency_id AS company_currency, l.source_id,
       p.date_pass, p.is_skipped, p.days_first_stay, p.amount, p.entry_stage_id,
       COALESCE(fw.date_won >= l.create_date, TRUE) AS is_new_customer,
       1 AS entered_count,
       p.advanced::int AS advanced_count,
       p.lost_here::int AS lost_count,
       (p.advanced OR p.lost_here)::int AS settled_count,
       (NOT p.advanced AND NOT p.lost_here)::int AS open_count,
       (p.outcome = 'won')::int AS won_count,
       (p.outcome IN ('won', 'lost'))::int AS closed_count,
       CASE WHEN p.advanced THEN 100.0 WHEN p.lost_here THEN 0.0 END
           AS conversion_rate,
       CASE WHEN p.advanced THEN 0.0 WHEN p.lost_here THEN 100.0 END
           AS loss_rate,
       CASE WHEN p.outcome = 'won' THEN 100.0 WHEN p.outcome = 'lost' THEN 0.0 END
           AS stage_to_won_rate,
       p.days_first_stay AS median_days,
       p.days_first_stay AS p80_days,
       NULL::float AS cumulative_rate,
       NULL::float AS wilson_low,
       NULL::float AS wilson_high
  FROM funnel_stage_pass p
  LEFT JOIN res_company rc ON rc.id = p.company_id
  LEFT JOIN crm_lead l ON l.id = p.lead_id
  LEFT JOIN res_partner lp ON lp.id = l.partner_id
  -- the first won opportunity of each customer (its company)
  LEFT JOIN (
      SELECT cp.commercial_partner_id, min(w.date_closed) AS date_won
        FROM crm_lead w
        JOIN res_partner cp ON cp.id = w.partner_id
       WHERE %(won)s
       GROUP BY cp.commercial_partner_id
  ) fw ON fw.commercial_partner_id = lp.commercial_partner_id
            """,
            won=Lead._funnel_state_sql("won", "w"),
        )

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )
