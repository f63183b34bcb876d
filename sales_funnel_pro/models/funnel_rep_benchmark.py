"""The salesperson's figures against the team's, rebuilt nightly.

Per company, sales team, salesperson and window (short: the last 90 days, long:
the last 12 months, see the company's settings), one summary row (no stage) and
one row per stage the salesperson's opportunities passed. The figures follow
the glossary: next-step conversion, Wilson interval, shrunk rate, flag and
coaching impact per stage; win rates, cycle, velocity, funnel shape and the four
dimensions on the summary row. The table is rebuilt by ``_rebuild`` (see
funnel_rep_benchmark_build.py), never edited.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

WINDOWS = [("short", "Short Window"), ("long", "Long Window")]
FLAGS = [
    ("below", "Below Team"),
    ("above", "Above Team"),
    ("in_line", "In Line"),
    ("too_few", "Too Few"),
]
# the key of the advisory lock of a rebuild
LOCK_KEY = "sales_funnel_pro.funnel_rep_benchmark"
# history rows above which the manager's button rebuilds in the background
BACKGROUND_HISTORY_ROWS = 1_000_000


def _rate(string, help_text):
    return fields.Float(
        string=string, digits=(16, 1), aggregator=False, readonly=True, help=help_text
    )


def _days(string, help_text):
    return fields.Float(
        string=string, digits=(16, 1), aggregator=False, readonly=True, help=help_text
    )


def _amount(string, help_text):
    return fields.Monetary(
        string=string,
        currency_field="currency_id",
        aggregator=False,
        readonly=True,
        help=help_text,
    )


class FunnelRepBenchmark(models.Model):
    _name = "funnel.rep.benchmark"
    _description = "Rep Capability Benchmark"
    _order = "impact desc, id"
    _rec_name = "user_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", ondelete="cascade", readonly=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    stage_id = fields.Many2one(
        "crm.stage",
        ondelete="cascade",
        readonly=True,
        help="Empty on the salesperson's summary row.",
    )
    span = fields.Selection(WINDOWS, string="Window", required=True, readonly=True)
    date_from = fields.Date(string="From", readonly=True)
    date_to = fields.Date(string="To", readonly=True)
    summary_id = fields.Many2one(
        "funnel.rep.benchmark",
        string="Capability Card",
        ondelete="cascade",
        readonly=True,
        index=True,
    )
    stage_line_ids = fields.One2many(
        "funnel.rep.benchmark", "summary_id", string="Stages", readonly=True
    )
    date_refreshed = fields.Datetime(string="Refreshed On", readonly=True)

    # --- per stage: the salesperson's passes in the window ---
    stage_rank = fields.Integer(readonly=True, aggregator=False)
    entered_count = fields.Integer(string="Entered", readonly=True)
    settled_count = fields.Integer(string="Settled", readonly=True)
    advanced_count = fields.Integer(string="Advanced", readonly=True)
    lost_count = fields.Integer(string="Lost Here", readonly=True)
    open_count = fields.Integer(string="Still There", readonly=True)
    conversion_rate = _rate(
        "Conversion %", "Next-step conversion: advanced ÷ settled, in percent."
    )
    team_rate = _rate(
        "Team %",
        "The team's next-step conversion without this salesperson, in percent.",
    )
    shrunk_rate = _rate(
        "Shrunk %",
        "(advanced + shrinkage × team rate) ÷ (settled + shrinkage), in percent: "
        "the rate drawn towards the team's as far as the sample is small.",
    )
    gap_points = _rate(
        "Gap (Points)",
        "Shrunk rate − team rate, in percentage points: below 0 the salesperson "
        "converts less than the team.",
    )
    wilson_low = _rate("Low %", "Lower bound of the 95 % Wilson interval.")
    wilson_high = _rate("High %", "Upper bound of the 95 % Wilson interval.")
    flag = fields.Selection(
        FLAGS,
        readonly=True,
        help="Below: at least the minimum sample of settled passes and the upper "
        "bound of the interval under the team's rate; above: the lower bound over "
        "it; too few: fewer settled passes than the minimum sample.",
    )
    loss_rate = _rate("Loss %", "Lost here ÷ settled, in percent.")
    team_loss_rate = _rate("Team Loss %", "The team's loss rate without this rep.")
    cumulative_rate = _rate(
        "Cumulative %",
        "Cumulative conversion: opportunities that entered the first stage and "
        "passed this one ÷ those that entered the first stage, in percent.",
    )
    team_cumulative_rate = _rate("Team Cumulative %", "The team's, with everyone.")
    median_days = _days("Median Days", "Median days of the settled first stays.")
    team_median_days = _days("Team Median Days", "The team's median days.")
    team_p80_days = _days("Team P80 Days", "The team's 80th percentile of days.")
    next_stage_to_won = _rate(
        "Next Stage-to-Won %",
        "The team's stage-to-won rate of the next stage (100 for the last one).",
    )
    impact = _amount(
        "Lost Revenue per Year",
        "Coaching impact: (team rate − shrunk rate) × entries × the team's "
        "stage-to-won of the next stage × the salesperson's average won amount, "
        "brought to a year. The revenue lost at this step against the team.",
    )
    is_coach_here = fields.Boolean(
        string="Coach Here",
        readonly=True,
        help="The stage marked below the team with the largest impact.",
    )
    open_now_count = fields.Integer(
        string="Open Now", readonly=True, help="Open opportunities in the stage now."
    )
    expected_open = fields.Float(
        digits=(16, 1),
        aggregator=False,
        readonly=True,
        help="Open opportunities the stage would hold at the salesperson's entry "
        "rate with the team's conversion and days (Little's law).",
    )
    is_jam = fields.Boolean(
        string="Jam",
        readonly=True,
        help="Holds more than 1.5 × the expected open opportunities, and they are "
        "older (median) than the team's P80 days.",
    )

    # --- summary row (no stage) ---
    coach_stage_id = fields.Many2one(
        "crm.stage", string="Coach At", readonly=True, ondelete="set null"
    )
    won_count = fields.Integer(string="Won", readonly=True)
    closed_count = fields.Integer(string="Closed", readonly=True)
    win_rate = _rate("Win Rate %", "Won ÷ (won + lost) closed in the window.")
    team_win_rate = _rate("Team Win Rate %", "The team's, without this rep.")
    win_rate_value = _rate(
        "Win Rate by Value %",
        "Won amount ÷ (won + lost amount) at closing, closed in the window.",
    )
    team_win_rate_value = _rate("Team Win Rate by Value %", "Without this rep.")
    won_amount = _amount("Won Amount", "Amount won in the window.")
    previous_won_amount = _amount(
        "Previous Won Amount", "Amount won in the window before."
    )
    avg_won_amount = _amount("Average Won", "Average amount of the won ones.")
    team_avg_won_amount = _amount("Team Average Won", "Without this rep.")
    median_cycle_days = _days(
        "Sales Cycle (Days)",
        "Median days from creation (or conversion to opportunity) to won, won only.",
    )
    team_median_cycle_days = _days(
        "Team Sales Cycle (Days)", "The median of the rest of the team."
    )
    days_to_loss = _days("Days to Loss", "Median days from creation to lost.")
    team_days_to_loss = _days(
        "Team Days to Loss", "The median of the rest of the team."
    )
    open_qualified_count = fields.Integer(
        string="Open Qualified",
        readonly=True,
        help="Open opportunities past the first stage now.",
    )
    team_open_qualified = fields.Float(
        digits=(16, 1),
        aggregator=False,
        readonly=True,
        help="The average of the team's other salespeople.",
    )
    velocity = _amount(
        "Sales Velocity per Day",
        "Open qualified × win rate × average won ÷ sales cycle: money per day.",
    )
    team_velocity = _amount(
        "Team Velocity per Day",
        "The same with the inputs of the team's other salespeople (open qualified "
        "as their average).",
    )
    shape_deviation = _rate(
        "Funnel Shape Deviation %",
        "½ Σ |actual share − expected share| of the open opportunities per "
        "stage, in percent: 0 when the funnel has the expected shape.",
    )
    is_dry_top = fields.Boolean(
        string="Dry Top",
        readonly=True,
        help="The first stage holds less than half its expected share.",
    )
    is_late_heavy = fields.Boolean(
        string="Late-Heavy",
        readonly=True,
        help="The later half of the stages holds a share 20 points above the "
        "expected one.",
    )
    jam_stage_id = fields.Many2one(
        "crm.stage", string="Jam At", readonly=True, ondelete="set null"
    )
    target_amount = _amount(
        "Quarter Target", "The salesperson's target of the quarter."
    )
    entries_needed = fields.Float(
        string="Entries Needed per Month",
        digits=(16, 1),
        aggregator=False,
        readonly=True,
        help="(target − won − weighted open) ÷ (average won × the first stage's "
        "stage-to-won), over the months left in the quarter: the quarter's "
        "target, what was won in it, and the open opportunities expected to "
        "close by its end, weighted by their stage's win rate.",
    )
    skill_score = _rate("Skill", "销售技能: the win rate by count, in percent.")
    previous_skill_score = _rate("Skill (Previous)", "In the window before.")
    trend_score = _rate(
        "Trend",
        "业绩趋势: won amount ÷ (won amount + the window before's), in percent: 50 "
        "when steady, above when growing.",
    )
    previous_trend_score = _rate("Trend (Previous)", "In the window before.")
    collaboration_score = _rate(
        "Collaboration",
        "团队协同: share of the closed opportunities a colleague worked on, in "
        "percent: a colleague logged an activity on it, or found it (an "
        "opportunity handed over by after-sales care or another salesperson).",
    )
    previous_collaboration_score = _rate(
        "Collaboration (Previous)", "In the window before."
    )
    expansion_score = _rate(
        "Expansion",
        "市场拓展: share of the new opportunities that are for new customers, in "
        "percent.",
    )
    previous_expansion_score = _rate("Expansion (Previous)", "In the window before.")

    def init(self):
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS funnel_rep_benchmark_key_uniq
                    ON funnel_rep_benchmark (company_id, COALESCE(team_id, 0),
                       user_id, COALESCE(stage_id, 0), span)
                """
            )
        )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    @api.model
    def action_rebuild(self):
        """Rebuild the capability figures now (sales managers)."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales managers may rebuild the capability figures.")
            )
        Job = self.env["funnel.job"]
        Job._check_not_running("rep_benchmark")
        if self.env["funnel.stage.win.rate"]._history_rows() > BACKGROUND_HISTORY_ROWS:
            return Job._start("rep_benchmark", 1)._started_action(
                {"type": "ir.actions.client", "tag": "soft_reload"}
            )
        self.sudo()._rebuild()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self._rebuilt_message(),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _rebuilt_message(self):
        return self.env._("Capability figures rebuilt from the stage history.")

    def action_open_card(self):
        """The salesperson's capability card of this row's window."""
        self.ensure_one()
        card = self.summary_id or self
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Capability Card"),
            "res_model": self._name,
            "res_id": card.id,
            "view_mode": "form",
            "views": [
                (
                    self.env.ref("sales_funnel_pro.funnel_rep_benchmark_view_form").id,
                    "form",
                )
            ],
        }

    def action_open_opportunities(self):
        """The opportunities behind this row: those of the salesperson that
        passed the stage in the window (all of the window's on a summary row)."""
        self.ensure_one()
        domain = [
            ("user_id", "=", self.user_id.id),
            ("date_pass", ">=", self.date_from),
            ("company_id", "=", self.company_id.id),
        ]
        if self.team_id:
            domain.append(("team_id", "=", self.team_id.id))
        if self.stage_id:
            domain.append(("stage_id", "=", self.stage_id.id))
        groups = self.env["funnel.conversion.report"]._read_group(domain, ["lead_id"])
        return self._lead_action(
            self.env._("Opportunities Behind the Figures"),
            [("id", "in", [lead.id for (lead,) in groups])],
            active_test=False,
        )

    def action_open_stuck(self):
        """The salesperson's open opportunities now in the stage to coach."""
        self.ensure_one()
        stage = self.coach_stage_id or self.stage_id or self.jam_stage_id
        domain = [("user_id", "=", self.user_id.id), ("type", "=", "opportunity")]
        if stage:
            domain.append(("stage_id", "=", stage.id))
        return self._lead_action(
            self.env._("Stuck at %(stage)s", stage=stage.display_name)
            if stage
            else self.env._("Open Opportunities"),
            domain,
        )

    def _lead_action(self, name, domain, active_test=True):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "crm.lead",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": domain,
            "context": {"create": False, "active_test": active_test},
        }

    # ------------------------------------------------------------
    # Nightly rebuild, and the background job (funnel.job, kind rep_benchmark)
    # ------------------------------------------------------------

    @api.model
    def _cron_rebuild(self):
        self._rebuild()

    @api.model
    def _funnel_job_rebuild(self, job, records):
        self.sudo()._rebuild()
        return 1

    @api.model
    def _funnel_job_rebuild_done(self, job):
        return self._rebuilt_message()

    @api.model
    def _rebuild(self):
        """Rebuild the whole table, unless another rebuild is running (two cron
        workers, or the button during the cron): a transaction-level advisory
        lock lets one of them do it, the other returns False at once.

        :return: the number of rows written, or False when skipped
        """
        self.env.cr.execute(
            SQL("SELECT pg_try_advisory_xact_lock(hashtext(%s))", LOCK_KEY)
        )
        if not self.env.cr.fetchone()[0]:
            _logger.info("Rep benchmark: another rebuild is running, skipped")
            return False
        self.env.flush_all()
        # the figures read the stage history through the conversion view, whose
        # joins PostgreSQL plans from the tables' statistics: fresh ones keep the
        # plan in line with the data (a history that has just grown, or been
        # emptied and refilled, is otherwise planned as the empty table it was)
        self.env.cr.execute(SQL("ANALYZE funnel_stage_history, crm_lead"))
        self.env.cr.execute(SQL("DELETE FROM funnel_rep_benchmark"))
        self.invalidate_model()
        now = fields.Datetime.now()
        written = 0
        for company in self.env["res.company"].sudo().search([]):
            written += self._build_company(company, now)
        _logger.info("Rep benchmark: %s rows rebuilt", written)
        return written
