from collections import Counter, defaultdict
from datetime import timedelta

from babel.lists import format_list

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.misc import babel_locale_parse
from odoo.tools.sql import column_exists

from .crm_stage import LEAD_FORECAST_CATEGORIES

# blocked opportunities listed one by one in a gate error, the rest are counted
GATE_MESSAGE_MAX_LEADS = 20
# the columns of a history row given when it is opened, with their SQL types
HISTORY_COLUMNS = {
    "lead_id": "int4",
    "stage_from_id": "int4",
    "stage_id": "int4",
    "event": "varchar",
    "date_in": "timestamp",
    "user_id": "int4",
    "team_id": "int4",
    "company_id": "int4",
    "expected_revenue": "numeric",
    "probability": "numeric",
    "forecast_category": "varchar",
    "is_backward": "bool",
    "skipped_criteria": "text",
}
# context key of a caller that writes the stage history and the exit criteria
# checks of the opportunities it creates itself (the demo generator): creating
# them opens no history row and syncs no check, logging activities on them syncs
# no check
LOAD_HISTORY_KEY = "funnel_load_history"
# what a salesperson may choose instead of the stage's forecast category
FORECAST_OVERRIDES = [
    ("pipeline", "Pipeline"),
    ("best_case", "Best Case"),
    ("commit", "Commit"),
    ("omitted", "Omitted"),
]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # Qualification
    check_ids = fields.One2many(
        "funnel.lead.check", "lead_id", string="Exit Criteria Checks", copy=False
    )
    current_check_ids = fields.One2many(
        "funnel.lead.check",
        "lead_id",
        string="Current Stage Criteria",
        domain=[("is_current", "=", True)],
    )
    past_check_ids = fields.One2many(
        "funnel.lead.check",
        "lead_id",
        string="Other Stages Criteria",
        domain=[("is_current", "=", False)],
        readonly=True,
    )
    qualification_met_count = fields.Integer(
        string="Criteria Met",
        compute="_compute_qualification",
        store=True,
        aggregator=False,
    )
    qualification_required_count = fields.Integer(
        string="Required Criteria",
        compute="_compute_qualification",
        store=True,
        aggregator=False,
    )
    qualification_progress = fields.Float(
        string="Qualification",
        compute="_compute_qualification",
        store=True,
        digits=(16, 0),
        aggregator="avg",
        help="Share of the current stage's required exit criteria that are met or "
        "waived, in percent.",
    )
    gate_ready = fields.Boolean(
        compute="_compute_qualification",
        store=True,
        help="All required exit criteria of the current stage are met or waived.",
    )
    gate_policy = fields.Selection(related="stage_id.gate_policy", string="Gate")
    # Forecast
    forecast_category = fields.Selection(
        LEAD_FORECAST_CATEGORIES,
        compute="_compute_forecast_category",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
        help="Forecast category of the opportunity: the one of its stage, unless "
        "its salesperson chose another; a won opportunity is always Closed, and an "
        "omitted one is left out of the forecast. Choosing the stage's own category "
        "follows the stage again.",
    )
    forecast_category_override = fields.Selection(
        FORECAST_OVERRIDES,
        string="Chosen Forecast Category",
        copy=False,
        help="The forecast category the salesperson chose, kept across stage "
        "changes until reset; empty when the opportunity follows its stage.",
    )
    # Time in stage
    days_in_stage = fields.Integer(
        string="Days in Stage",
        compute="_compute_days_in_stage",
        help="Days since the opportunity entered its current stage.",
    )
    is_rotting = fields.Boolean(
        string="Rotting",
        compute="_compute_is_rotting",
        search="_search_is_rotting",
        help="The opportunity stays in its stage longer than the stage allows.",
    )
    # Moves
    deadline_push_count = fields.Integer(
        string="Closing Date Pushes",
        readonly=True,
        copy=False,
        help="How many times the expected closing date was moved later.",
    )
    backward_move_count = fields.Integer(
        string="Backward Moves",
        readonly=True,
        copy=False,
        help="How many times the opportunity went back to an earlier stage.",
    )
    stage_history_ids = fields.One2many(
        "funnel.stage.history", "lead_id", string="Stage History", copy=False
    )
    # Activities
    activity_log_ids = fields.One2many(
        "funnel.activity.log", "lead_id", string="Activity Log", copy=False
    )
    activity_log_count = fields.Integer(
        string="Logged Activities", compute="_compute_activity_log_stats"
    )
    activity_log_hours = fields.Float(
        string="Hours Logged", compute="_compute_activity_log_stats"
    )
    next_activity_state = fields.Selection(
        [
            ("none", "None"),
            ("planned", "Planned"),
            ("today", "Today"),
            ("overdue", "Overdue"),
        ],
        string="Next Step",
        compute="_compute_next_activity_state",
        store=True,
        index=True,
        help="Whether a next activity is planned, due today or overdue.",
    )
    last_touch_date = fields.Datetime(
        string="Last Touched",
        compute="_compute_last_touch_date",
        store=True,
        index=True,
        help="When the last activity was logged on the opportunity.",
    )
    quiet_since = fields.Datetime(
        compute="_compute_quiet_since",
        store=True,
        index=True,
        help="The later of the last logged activity and the last stage change: "
        "since when nothing happened on the opportunity.",
    )
    is_neglected = fields.Boolean(
        string="Neglected",
        compute="_compute_is_neglected",
        search="_search_is_neglected",
        help="No next step is planned and nothing happened for longer than the "
        "stage allows.",
    )
    # Forecast board
    forecast_date = fields.Date(
        string="Forecast Month",
        compute="_compute_forecast_date",
        inverse="_inverse_forecast_date",
        search="_search_forecast_date",
        help="The expected closing date as the forecast counts it: empty when the "
        "opportunity has none or one already past, as it needs a new date. Setting "
        "it sets the expected closing date.",
    )

    def _auto_init(self):
        # Installing on a large pipeline: add the new stored columns with their
        # value as a default, which PostgreSQL does without rewriting the table,
        # instead of computing them record by record.
        cr = self.env.cr
        defaults = {
            "qualification_met_count": ("int4", 0),
            "qualification_required_count": ("int4", 0),
            "qualification_progress": ("numeric", 100),
            "gate_ready": ("bool", True),
            "deadline_push_count": ("int4", 0),
            "backward_move_count": ("int4", 0),
            "next_activity_state": ("varchar", "none"),
            "last_touch_date": ("timestamp", None),
            "quiet_since": ("timestamp", None),
            # filled from the stages after install (post_init_hook) or upgrade
            # (migration to 1.2)
            "forecast_category": ("varchar", "pipeline"),
            "forecast_category_override": ("varchar", None),
        }
        for column, (column_type, value) in defaults.items():
            if not column_exists(cr, self._table, column):
                cr.execute(
                    SQL(
                        "ALTER TABLE %s ADD COLUMN %s %s DEFAULT %s",
                        SQL.identifier(self._table),
                        SQL.identifier(column),
                        SQL(column_type),
                        value,
                    )
                )
                cr.execute(
                    SQL(
                        "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
                        SQL.identifier(self._table),
                        SQL.identifier(column),
                    )
                )
        return super()._auto_init()

    def _funnel_fill_forecast_category(self):
        """Fill the forecast category of the existing opportunities from their
        stage in SQL (upgrading to 1.2), instead of computing them record by
        record."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l
                   SET forecast_category = %s
                  FROM crm_lead l2
                  LEFT JOIN crm_stage s ON s.id = l2.stage_id
                 WHERE l2.id = l.id
                   AND l.forecast_category IS DISTINCT FROM %s
                """,
                self._funnel_category_sql(),
                self._funnel_category_sql(),
            )
        )
        self.env.invalidate_all()

    def _funnel_category_sql(self):
        """The forecast category of opportunity ``l2`` in stage ``s``, in SQL (as
        ``_compute_forecast_category``)."""
        return SQL(
            "CASE WHEN s.is_won THEN 'closed' ELSE COALESCE("
            "l2.forecast_category_override, s.forecast_category, 'pipeline') END"
        )

    def _funnel_init_stored_fields(self):
        """After install: the forecast category, the next step, the last touch
        and the quiet date of the existing opportunities, in one UPDATE that
        writes each row once (PostgreSQL writes a new version of the whole row
        for every UPDATE: one per field would multiply the size of the table).
        The forecast's indexes of crm_lead are built after it rather than
        updated by it, so that they do not start twice their size.

        :return: the number of opportunities written"""
        report = self.env["funnel.forecast.report"]
        report._drop_lead_indexes()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l
                   SET forecast_category = v.category,
                       next_activity_state = v.next_state,
                       last_touch_date = v.last_touch,
                       quiet_since = GREATEST(v.last_touch, l.date_last_stage_update)
                  FROM (
                    SELECT l2.id,
                           %s AS category,
                           CASE WHEN a.deadline IS NULL THEN 'none'
                                WHEN a.deadline < CURRENT_DATE THEN 'overdue'
                                WHEN a.deadline = CURRENT_DATE THEN 'today'
                                ELSE 'planned' END AS next_state,
                           g.last AS last_touch
                      FROM crm_lead l2
                      LEFT JOIN crm_stage s ON s.id = l2.stage_id
                      LEFT JOIN (SELECT res_id, min(date_deadline) AS deadline
                                   FROM mail_activity
                                  WHERE res_model = 'crm.lead' AND active
                                  GROUP BY res_id) a ON a.res_id = l2.id
                      LEFT JOIN (SELECT lead_id, max(date) AS last
                                   FROM funnel_activity_log
                                  GROUP BY lead_id) g ON g.lead_id = l2.id
                  ) v
                 WHERE v.id = l.id
                   AND (l.forecast_category IS DISTINCT FROM v.category
                        OR l.next_activity_state IS DISTINCT FROM v.next_state
                        OR l.last_touch_date IS DISTINCT FROM v.last_touch
                        OR l.quiet_since IS DISTINCT FROM
                           GREATEST(v.last_touch, l.date_last_stage_update))
                """,
                self._funnel_category_sql(),
            )
        )
        written = self.env.cr.rowcount
        self.env.invalidate_all()
        report._create_lead_indexes()
        return written

    @api.depends(
        "stage_id.is_won", "stage_id.forecast_category", "forecast_category_override"
    )
    def _compute_forecast_category(self):
        for lead in self:
            if lead.stage_id.is_won:
                lead.forecast_category = "closed"
            else:
                lead.forecast_category = (
                    lead.forecast_category_override
                    or lead.stage_id.forecast_category
                    or "pipeline"
                )

    @api.depends("stage_id", "check_ids.state")
    def _compute_qualification(self):
        # criteria changes recompute the opportunities of their stages by hand
        # (see crm.stage._funnel_refresh_leads): the gates are cached, not fields
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        lead_ids = [lead._origin.id for lead in self if lead._origin.id]
        done = {}
        if gates and lead_ids:
            done = {
                lead.id: set(criterion_ids)
                for lead, criterion_ids in self.env["funnel.lead.check"]
                .sudo()
                ._read_group(
                    [("lead_id", "in", lead_ids), ("state", "!=", "todo")],
                    ["lead_id"],
                    ["criterion_id:array_agg"],
                )
            }
        for lead in self:
            gate = gates.get(lead.stage_id.id)
            required = {i.id for i in gate.criteria if i.required} if gate else set()
            met = len(required & done.get(lead._origin.id, set()))
            lead.qualification_required_count = len(required)
            lead.qualification_met_count = met
            lead.qualification_progress = (
                100.0 * met / len(required) if required else 100.0
            )
            lead.gate_ready = met >= len(required)

    def _compute_activity_log_stats(self):
        stats = {
            lead.id: (count, hours)
            for lead, count, hours in self.env["funnel.activity.log"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count", "duration:sum"]
            )
        }
        for lead in self:
            lead.activity_log_count, lead.activity_log_hours = stats.get(
                lead.id, (0, 0.0)
            )

    @api.depends("activity_ids.date_deadline")
    def _compute_next_activity_state(self):
        # also recomputed when activities change (mail.activity) and every night,
        # when planned steps become due or overdue
        lead_ids = [lead._origin.id for lead in self if lead._origin.id]
        next_deadline = dict(
            self.env["mail.activity"]
            .sudo()
            ._read_group(
                [("res_model", "=", "crm.lead"), ("res_id", "in", lead_ids)],
                ["res_id"],
                ["date_deadline:min"],
            )
        )
        today = fields.Date.today()
        for lead in self:
            deadline = next_deadline.get(lead._origin.id)
            if not deadline:
                lead.next_activity_state = "none"
            elif deadline < today:
                lead.next_activity_state = "overdue"
            elif deadline == today:
                lead.next_activity_state = "today"
            else:
                lead.next_activity_state = "planned"

    @api.depends("activity_log_ids.date")
    def _compute_last_touch_date(self):
        last_logs = dict(
            self.env["funnel.activity.log"]
            .sudo()
            ._read_group(
                [
                    (
                        "lead_id",
                        "in",
                        [lead._origin.id for lead in self if lead._origin.id],
                    )
                ],
                ["lead_id"],
                ["date:max"],
            )
        )
        for lead in self:
            lead.last_touch_date = last_logs.get(lead._origin, False)

    @api.depends("last_touch_date", "date_last_stage_update")
    def _compute_quiet_since(self):
        for lead in self:
            lead.quiet_since = max(
                filter(None, (lead.last_touch_date, lead.date_last_stage_update)),
                default=False,
            )

    @api.depends(
        "active",
        "next_activity_state",
        "quiet_since",
        "stage_id.is_won",
        "stage_id.next_step_days",
    )
    def _compute_is_neglected(self):
        now = fields.Datetime.now()
        for lead in self:
            limit = lead.stage_id.next_step_days
            lead.is_neglected = bool(
                lead.active
                and limit
                and not lead.stage_id.is_won
                and lead.next_activity_state == "none"
                and lead.quiet_since
                and lead.quiet_since < now - timedelta(days=limit)
            )

    def _search_is_neglected(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Neglected."))
        now = fields.Datetime.now()
        stages = (
            self.env["crm.stage"]
            .sudo()
            .search([("next_step_days", ">", 0), ("is_won", "=", False)])
        )
        neglected = []
        for stage in stages:
            limit = now - timedelta(days=stage.next_step_days)
            neglected.append([("stage_id", "=", stage.id), ("quiet_since", "<", limit)])
        neglected = expression.AND(
            [
                [("active", "=", True), ("next_activity_state", "=", "none")],
                expression.OR(neglected or [expression.FALSE_DOMAIN]),
            ]
        )
        if (operator == "=") == value:
            return neglected
        return ["!", *neglected]

    def _funnel_init_activity_fields(self):
        """After install: the next step and the last touch of the opportunities
        that have activities, in two statements (the others keep the defaults)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l
                   SET next_activity_state = CASE
                           WHEN a.deadline < CURRENT_DATE THEN 'overdue'
                           WHEN a.deadline = CURRENT_DATE THEN 'today'
                           ELSE 'planned' END
                  FROM (SELECT res_id, min(date_deadline) AS deadline
                          FROM mail_activity
                         WHERE res_model = 'crm.lead' AND active
                         GROUP BY res_id) a
                 WHERE a.res_id = l.id
                """
            )
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l SET last_touch_date = g.last
                  FROM (SELECT lead_id, max(date) AS last FROM funnel_activity_log
                         GROUP BY lead_id) g
                 WHERE g.lead_id = l.id
                """
            )
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead
                   SET quiet_since = GREATEST(last_touch_date, date_last_stage_update)
                 WHERE quiet_since IS DISTINCT FROM
                       GREATEST(last_touch_date, date_last_stage_update)
                """
            )
        )
        self.env.invalidate_all()

    def _funnel_refresh_next_activity_state(self):
        """Activities of these opportunities changed: recompute their next step."""
        self.env.add_to_compute(self._fields["next_activity_state"], self.exists())

    @api.model
    def _cron_refresh_next_activity_state(self):
        """Every night: planned next steps become due today, then overdue."""
        leads = self.with_context(active_test=False).search(
            [("next_activity_state", "in", ("planned", "today"))]
        )
        self.env.add_to_compute(self._fields["next_activity_state"], leads)
        leads.flush_recordset(["next_activity_state"])

    @api.depends("date_last_stage_update")
    def _compute_days_in_stage(self):
        now = fields.Datetime.now()
        for lead in self:
            since = lead.date_last_stage_update
            lead.days_in_stage = (now - since).days if since else 0

    @api.depends("days_in_stage", "active", "stage_id.rotting_days", "stage_id.is_won")
    def _compute_is_rotting(self):
        for lead in self:
            limit = lead.stage_id.rotting_days
            lead.is_rotting = bool(
                lead.active
                and limit
                and not lead.stage_id.is_won
                and lead.days_in_stage > limit
            )

    def _search_is_rotting(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Rotting."))
        now = fields.Datetime.now()
        stages = (
            self.env["crm.stage"]
            .sudo()
            .search([("rotting_days", ">", 0), ("is_won", "=", False)])
        )
        rotting = expression.OR(
            [
                [
                    ("stage_id", "=", stage.id),
                    (
                        "date_last_stage_update",
                        "<=",
                        now - timedelta(days=stage.rotting_days + 1),
                    ),
                ]
                for stage in stages
            ]
            or [expression.FALSE_DOMAIN]
        )
        rotting = expression.AND([[("active", "=", True)], rotting])
        if (operator == "=") == value:
            return rotting
        return ["!", *rotting]

    @api.depends("date_deadline")
    @api.depends_context("tz")
    def _compute_forecast_date(self):
        today = fields.Date.context_today(self)
        for lead in self:
            deadline = lead.date_deadline
            lead.forecast_date = deadline if deadline and deadline >= today else False

    def _inverse_forecast_date(self):
        for lead in self:
            lead.date_deadline = lead.forecast_date

    def _search_forecast_date(self, operator, value):
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise UserError(
                self.env._(
                    "The forecast month cannot be searched with “%(operator)s”.",
                    operator=operator,
                )
            )
        today = fields.Date.context_today(self)
        if value is False or value is None:
            if operator == "=":
                return [
                    "|",
                    ("date_deadline", "=", False),
                    ("date_deadline", "<", today),
                ]
            if operator == "!=":
                return [("date_deadline", ">=", today)]
            return expression.FALSE_DOMAIN
        if operator == "!=":
            return ["!", *self._search_forecast_date("=", value)]
        return ["&", ("date_deadline", operator, value), ("date_deadline", ">=", today)]

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        # the forecast month is computed in the query, so that the forecast board
        # groups the opportunities by it
        if fname != "forecast_date":
            return super()._field_to_sql(alias, fname, query, flush)
        deadline = super()._field_to_sql(alias, "date_deadline", query, flush)
        return SQL(
            "(CASE WHEN %s >= %s THEN %s END)",
            deadline,
            fields.Date.context_today(self),
            deadline,
        )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        # the forecast category chosen on creation is stored as an override of the
        # stage's; when the stage is left to its default, it is applied after
        categories = {}
        for index, vals in enumerate(vals_list):
            if "forecast_category" not in vals:
                continue
            category = vals.pop("forecast_category")
            if vals.get("stage_id"):
                vals["forecast_category_override"] = self._funnel_category_override(
                    category,
                    self.env["crm.stage"].browse(vals["stage_id"]),
                    vals.get("forecast_category_override") or False,
                )
            else:
                categories[index] = category
        leads = super().create(vals_list)
        leads.filtered("forecast_category_override")._funnel_check_forecast_rights()
        for index, category in categories.items():
            leads[index].write({"forecast_category": category})
        if self.env.context.get(LOAD_HISTORY_KEY):
            return leads
        now = fields.Datetime.now()
        history = [
            # an imported pipeline may say since when each opportunity is in its stage
            lead._funnel_history_values(
                fields.Datetime.to_datetime(vals.get("date_last_stage_update")) or now,
                event=lead._funnel_entry_event(),
            )
            for lead, vals in zip(leads, vals_list, strict=False)
            if lead.stage_id
        ]
        if history:
            leads._funnel_record_history(history, now, close=False)
            leads.filtered(
                lambda lead: lead.stage_id and lead.active
            )._funnel_sync_checks(checks={})
        return leads

    def write(self, vals):
        if not self:
            return super().write(vals)
        if {"forecast_category", "forecast_category_override"} & vals.keys():
            parts = self._funnel_split_forecast_write(vals)
            if len(parts) > 1:
                for leads, part_vals in parts:
                    leads.write(part_vals)
                return True
            vals = parts[0][1]
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        movers = self.browse()
        old_stage_ids, skipped, checks = {}, {}, None
        if "stage_id" in vals:
            target = self.env["crm.stage"].browse(vals["stage_id"])
            movers = self.filtered(lambda lead: lead.stage_id != target)
            old_stage_ids = {lead.id: lead.stage_id.id for lead in movers}
            if movers and gates:
                checks = movers._funnel_checks()
                if target:
                    skipped = movers._funnel_check_gates(target, checks)
        toggled = self.browse()
        if "active" in vals:
            toggled = self.filtered(lambda lead: lead.active != bool(vals["active"]))
        pushed = self.browse()
        if vals.get("date_deadline"):
            deadline = fields.Date.to_date(vals["date_deadline"])
            pushed = self.filtered(
                lambda lead: lead.date_deadline and lead.date_deadline < deadline
            )

        result = super().write(vals)

        now = fields.Datetime.now()
        if toggled:
            toggled._funnel_log_active_changes(now)
        if movers:
            movers._funnel_log_moves(old_stage_ids, skipped, now)
        if pushed:
            pushed._funnel_increment("deadline_push_count")
        if gates:
            touched = movers | toggled
            if (
                self.env["funnel.stage.criterion"]._funnel_gate_field_names()
                & vals.keys()
            ):
                touched = self
            if touched:
                touched._funnel_sync_checks(checks if touched == movers else None)
        return result

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_reset_forecast_category(self):
        """Follow the stage's forecast category again."""
        self.write({"forecast_category_override": False})

    def toggle_active(self):
        result = super().toggle_active()
        # crm sets the probability of lost and restored opportunities only now:
        # the rows just opened by the archive or restore must say it too
        rows = (
            self.env["funnel.stage.history"]
            .sudo()
            .search(
                [
                    ("lead_id", "in", self.ids),
                    ("is_open", "=", True),
                    ("event", "in", ("lost", "restored")),
                ]
            )
        )
        for probability, group in rows.grouped(
            lambda row: row.lead_id.probability
        ).items():
            group.write({"probability": probability})
        return result

    def action_open_gate_waiver(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Advance Anyway"),
            "res_model": "funnel.gate.waiver",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_ids": self.ids},
        }

    def action_open_activity_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pro.funnel_activity_log_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {
            "default_lead_id": self.id,
            "search_default_filter_mine": False,
        }
        return action

    def action_open_stage_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pro.funnel_stage_history_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"search_default_group_by_lead": False}
        return action

    # ------------------------------------------------------------
    # Forecast category
    # ------------------------------------------------------------

    @api.model
    def _funnel_category_override(self, category, stage, current):
        """Override to store when ``category`` is chosen for an opportunity of
        ``stage`` whose override is ``current``: none when it is the stage's own
        category (the opportunity follows its stage again).

        :raise UserError: when the category contradicts the stage (a won
            opportunity is always Closed, and only a won one is)
        """
        if stage.is_won:
            if category and category != "closed":
                raise UserError(
                    self.env._(
                        "A won opportunity is always in the Closed forecast category."
                    )
                )
            return current
        if not category or category == stage.forecast_category:
            return False
        if category == "closed":
            raise UserError(
                self.env._(
                    "Only won opportunities are in the Closed forecast category: "
                    "choose Commit, Best Case, Pipeline or Omitted."
                )
            )
        return category

    def _funnel_forecast_overrides(self, vals):
        """The override each opportunity gets from ``vals``, which may choose a
        forecast category (removed from ``vals``) or set the override itself.

        :return: dict crm.lead record -> override value (False: follow the stage)
        """
        choose = "forecast_category" in vals
        category = vals.pop("forecast_category", False)
        stage = (
            self.env["crm.stage"].browse(vals["stage_id"])
            if "stage_id" in vals
            else None
        )
        overrides = {}
        for lead in self:
            lead_stage = lead.stage_id if stage is None else stage
            current = lead.forecast_category_override
            if choose:
                override = self._funnel_category_override(category, lead_stage, current)
            else:
                override = vals["forecast_category_override"] or False
                if override and override != current and lead_stage.is_won:
                    self._funnel_category_override(override, lead_stage, current)
            overrides[lead] = override
        return overrides

    def _funnel_split_forecast_write(self, vals):
        """Turn a forecast category chosen in ``vals`` into the override of each
        opportunity, after checking the user may change them.

        :return: list of (crm.lead records, values to write on them), one item
            per distinct override
        """
        vals = dict(vals)
        overrides = self._funnel_forecast_overrides(vals)
        changed = self.filtered(
            lambda lead: overrides[lead] != lead.forecast_category_override
        )
        if not changed:
            vals.pop("forecast_category_override", None)
            return [(self, vals)]
        changed._funnel_check_forecast_rights()
        groups = defaultdict(self.browse)
        for lead, override in overrides.items():
            groups[override] |= lead
        return [
            (leads, dict(vals, forecast_category_override=override))
            for override, leads in groups.items()
        ]

    def _funnel_check_forecast_rights(self):
        """A salesperson chooses the forecast category of their own opportunities
        only; a sales manager of any.

        :raise AccessError: naming the opportunities of others
        """
        if self.env.su or self.env.user.has_group("sales_team.group_sale_manager"):
            return
        others = self.filtered(lambda lead: lead.user_id != self.env.user)
        if others:
            raise AccessError(
                self.env._(
                    "You may only change the forecast category of your own "
                    "opportunities; ask a sales manager for: %(leads)s",
                    leads=", ".join(others[:GATE_MESSAGE_MAX_LEADS].mapped("name")),
                )
            )

    # ------------------------------------------------------------
    # Gates
    # ------------------------------------------------------------

    def _funnel_checks(self):
        """All the checks of the opportunities, fetched in one query.

        :return: dict (lead id, criterion id) -> funnel.lead.check record (sudo)
        """
        checks = (
            self.env["funnel.lead.check"]
            .sudo()
            .search_fetch(
                [("lead_id", "in", self.ids)],
                ["lead_id", "criterion_id", "state", "is_current"],
            )
        )
        return {(check.lead_id.id, check.criterion_id.id): check for check in checks}

    def _funnel_required_criteria(self, target):
        """Required exit criteria to meet for moving each opportunity to ``target``:
        those of its current stage and of every stage between, under a gate.

        Moving backward, or within the same rank, never needs any criterion.

        :param target: crm.stage record the opportunities would move to
        :return: dict crm.lead record -> tuple of CriterionInfo
        """
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        if not gates:
            return {}
        rank = self.env["crm.stage"]._funnel_rank()
        target_rank = rank.get(target.id, -1)
        required = {}
        for lead in self:
            source = lead.stage_id.id
            if not source or rank.get(source, -1) >= target_rank:
                continue
            infos = tuple(
                info
                for stage_id, gate in gates.items()
                if gate.policy != "none"
                and rank[source] <= rank.get(stage_id, -1) < target_rank
                and (stage_id == source or gate.team_id in (None, lead.team_id.id))
                for info in gate.criteria
                if info.required
            )
            if infos:
                required[lead] = infos
        return required

    def _funnel_met(self, pairs, checks):
        """Evaluate criteria on the opportunities as they are now.

        A waived check always counts as met; a checklist item counts when ticked;
        field and activity criteria are evaluated live.

        :param pairs: list of (crm.lead record, CriterionInfo)
        :param checks: result of ``_funnel_checks`` for these opportunities
        :return: set of (lead id, criterion id) pairs that are met
        """
        activity_types = {
            type_id
            for __, info in pairs
            if info.kind == "activity"
            for type_id in info.activity_type_ids
        }
        done = Counter()
        if activity_types:
            # logged activities per (opportunity, type, stage they happened in)
            for lead, activity_type, stage, count in (
                self.env["funnel.activity.log"]
                .sudo()
                ._read_group(
                    [
                        ("lead_id", "in", self.ids),
                        ("activity_type_id", "in", list(activity_types)),
                    ],
                    ["lead_id", "activity_type_id", "stage_id"],
                    ["__count"],
                )
            ):
                done[lead.id, activity_type.id, None] += count
                done[lead.id, activity_type.id, stage.id] += count
        met = set()
        for lead, info in pairs:
            key = (lead.id, info.id)
            check = checks.get(key)
            if check and check.state == "waived":
                met.add(key)
            elif info.kind == "checklist":
                if check and check.state == "met":
                    met.add(key)
            elif info.kind == "field":
                if info.field_name in lead._fields and lead.sudo()[info.field_name]:
                    met.add(key)
            else:
                stage_id = info.stage_id if info.count_scope == "stage" else None
                count = sum(
                    done[lead.id, type_id, stage_id]
                    for type_id in info.activity_type_ids
                )
                if count >= info.min_count:
                    met.add(key)
        return met

    def _funnel_unmet_criteria(self, target, checks=None):
        """Required exit criteria still unmet for moving to ``target``.

        :return: dict crm.lead record -> funnel.stage.criterion recordset
        """
        required = self._funnel_required_criteria(target)
        if not required:
            return {}
        leads = self.browse([lead.id for lead in required])
        if checks is None:
            checks = leads._funnel_checks()
        pairs = [(lead, info) for lead, infos in required.items() for info in infos]
        met = leads._funnel_met(pairs, checks)
        Criterion = self.env["funnel.stage.criterion"].sudo()
        unmet = {}
        for lead, infos in required.items():
            missing = [info.id for info in infos if (lead.id, info.id) not in met]
            if missing:
                unmet[lead] = Criterion.browse(missing)
        return unmet

    def _funnel_check_gates(self, target, checks=None):
        """Apply the gates of a move to ``target``.

        :raise UserError: when a blocking gate has unmet criteria, naming each
            blocked opportunity and its unmet criteria stage by stage
        :return: dict lead id -> text of the criteria skipped under warning gates
        """
        unmet = self._funnel_unmet_criteria(target, checks)
        blocked = {
            lead: criteria
            for lead, criteria in unmet.items()
            if "block" in criteria.stage_id.mapped("gate_policy")
        }
        if blocked:
            raise UserError(self._funnel_gate_message(blocked, target))
        return {
            lead.id: lead._funnel_criteria_text(criteria)
            for lead, criteria in unmet.items()
        }

    def _funnel_criteria_text(self, criteria):
        """One line per stage: its name and its criteria, in the user's language."""
        locale = babel_locale_parse(self.env.lang or "en_US")
        return "\n".join(
            self.env._(
                "%(stage)s: %(criteria)s",
                stage=stage.name,
                criteria=format_list(stage_criteria.mapped("name"), locale=locale),
            )
            for stage, stage_criteria in criteria.grouped("stage_id").items()
        )

    def _funnel_gate_message(self, blocked, target):
        lines = []
        if len(blocked) == 1:
            lead = next(iter(blocked))
            lines.append(
                self.env._(
                    "“%(lead)s” cannot move to “%(stage)s” yet. Unmet exit criteria:",
                    lead=lead.name,
                    stage=target.name,
                )
            )
        else:
            lines.append(
                self.env._(
                    "%(count)s opportunities cannot move to “%(stage)s” yet; nothing "
                    "was moved. Unmet exit criteria:",
                    count=len(blocked),
                    stage=target.name,
                )
            )
        for lead, criteria in list(blocked.items())[:GATE_MESSAGE_MAX_LEADS]:
            if len(blocked) > 1:
                lines.append(f"\n{lead.name}")
            lines.extend(
                f"  • {line}"
                for line in lead._funnel_criteria_text(criteria).split("\n")
            )
        if len(blocked) > GATE_MESSAGE_MAX_LEADS:
            lines.append(
                self.env._(
                    "… and %(count)s more.",
                    count=len(blocked) - GATE_MESSAGE_MAX_LEADS,
                )
            )
        lines.append(
            "\n"
            + self.env._(
                "Meet them on the Qualification tab, or ask a sales manager to "
                "advance anyway."
            )
        )
        return "\n".join(lines)

    def _funnel_waive_and_move(self, target, reason):
        """Waive every unmet criterion between the current stages and ``target``
        with ``reason``, then move there. Only called by the waiver wizard, which
        checks that the user is a sales manager."""
        Check = self.env["funnel.lead.check"].sudo()
        unmet = self._funnel_unmet_criteria(target)
        now = fields.Datetime.now()
        waiver = {
            "state": "waived",
            "waived_by_id": self.env.uid,
            "waived_date": now,
            "waive_reason": reason,
        }
        if unmet:
            pairs = {(lead.id, c.id) for lead, crits in unmet.items() for c in crits}
            existing = Check.search(
                [
                    ("lead_id", "in", [lead.id for lead in unmet]),
                    (
                        "criterion_id",
                        "in",
                        list({criterion_id for __, criterion_id in pairs}),
                    ),
                ]
            ).filtered(lambda c: (c.lead_id.id, c.criterion_id.id) in pairs)
            existing.write(waiver)
            pairs -= {(c.lead_id.id, c.criterion_id.id) for c in existing}
            Criterion = self.env["funnel.stage.criterion"]
            Check.create(
                [
                    dict(
                        waiver,
                        lead_id=lead_id,
                        criterion_id=criterion_id,
                        is_current=Criterion.browse(criterion_id).stage_id
                        == self.browse(lead_id).stage_id,
                    )
                    for lead_id, criterion_id in sorted(pairs)
                ]
            )
        self.write({"stage_id": target.id})
        if not unmet:
            return
        waived_leads = self.browse([lead.id for lead in unmet])
        self.env["funnel.stage.history"].sudo().search(
            [("lead_id", "in", waived_leads.ids), ("is_open", "=", True)]
        ).write({"gate_waived": True, "waive_reason": reason})
        for lead in waived_leads:
            lead.message_post(
                body=self.env._(
                    "Advanced to “%(stage)s” by %(user)s, who waived: %(criteria)s.\n"
                    "Reason: %(reason)s",
                    stage=target.name,
                    user=self.env.user.name,
                    criteria=lead._funnel_criteria_text(unmet[lead]).replace(
                        "\n", "; "
                    ),
                    reason=reason,
                ),
                subtype_xmlid="mail.mt_note",
            )

    # ------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------

    def _funnel_sync_checks(self, checks=None):
        """Bring the checks of the opportunities in line with their stage: the
        checks of the current stage's criteria exist, field and activity checks
        say what the opportunity shows now, and only they are marked current.

        :param checks: result of ``_funnel_checks``, when the caller has it
        """
        gates = self.env["funnel.stage.criterion"]._funnel_gate_config()
        if not self or not gates:
            return
        leads = self.sudo()
        if checks is None:
            checks = leads._funnel_checks()
        pairs = [
            (lead, info)
            for lead in leads
            if lead.stage_id.id in gates
            for info in gates[lead.stage_id.id].criteria
        ]
        met = leads._funnel_met(
            [pair for pair in pairs if pair[1].kind != "checklist"], checks
        )
        now = fields.Datetime.now()
        new_rows, to_met, to_todo, current = [], [], [], set()
        for lead, info in pairs:
            key = (lead.id, info.id)
            check = checks.get(key)
            auto_met = info.kind != "checklist" and key in met
            if not check:
                new_rows.append(
                    (lead.id, info.id, "met", self.env.uid, now)
                    if auto_met
                    else (lead.id, info.id, "todo", None, None)
                )
                continue
            current.add(check.id)
            if info.kind == "checklist" or check.state == "waived":
                continue
            if auto_met and check.state == "todo":
                to_met.append(check.id)
            elif not auto_met and check.state == "met":
                to_todo.append(check.id)
        Check = self.env["funnel.lead.check"].sudo()
        Check.browse(to_met).write(
            {"state": "met", "done_by_id": self.env.uid, "done_date": now}
        )
        Check.browse(to_todo).write(
            {"state": "todo", "done_by_id": False, "done_date": False}
        )
        Check.browse(
            [c.id for c in checks.values() if c.id in current and not c.is_current]
        ).write({"is_current": True})
        Check.browse(
            [c.id for c in checks.values() if c.id not in current and c.is_current]
        ).write({"is_current": False})
        leads._funnel_insert_checks(new_rows, now)

    def _funnel_insert_checks(self, rows, now):
        """Insert new checks of the current stage in one statement, however many
        (applying a template to a large pipeline creates hundreds of thousands).

        :param rows: list of (lead id, criterion id, state, met by, met on)
        """
        if not rows:
            return
        lead_ids, criterion_ids, states, done_by_ids, done_dates = zip(
            *rows, strict=True
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO funnel_lead_check (
                    lead_id, criterion_id, state, is_current, done_by_id, done_date,
                    create_uid, create_date, write_uid, write_date)
                SELECT lead_id, criterion_id, state, TRUE, done_by_id, done_date,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(lead_ids)s::int[], %(criterion_ids)s::int[],
                              %(states)s::varchar[], %(done_by_ids)s::int[],
                              %(done_dates)s::timestamp[])
                       AS new(lead_id, criterion_id, state, done_by_id, done_date)
                """,
                uid=self.env.uid,
                now=now,
                lead_ids=list(lead_ids),
                criterion_ids=list(criterion_ids),
                states=list(states),
                done_by_ids=list(done_by_ids),
                done_dates=list(done_dates),
            )
        )
        # the ORM did not see these rows: forget what it knew of the opportunities'
        # checks and recompute their qualification
        leads = self.browse(set(lead_ids))
        leads.invalidate_recordset(["check_ids", "current_check_ids", "past_check_ids"])
        for field_name in (
            "qualification_met_count",
            "qualification_required_count",
            "qualification_progress",
            "gate_ready",
        ):
            self.env.add_to_compute(self._fields[field_name], leads)

    # ------------------------------------------------------------
    # History
    # ------------------------------------------------------------

    def _funnel_history_values(self, now, **values):
        """Values of the history row the opportunity opens ``now``."""
        self.ensure_one()
        return {
            "lead_id": self.id,
            "stage_from_id": None,
            "stage_id": self.stage_id.id,
            "event": "enter",
            "date_in": now,
            "user_id": self.user_id.id or None,
            "team_id": self.team_id.id or None,
            "company_id": self.company_id.id or None,
            "expected_revenue": self.expected_revenue,
            "probability": self.probability,
            "forecast_category": self.forecast_category,
            "is_backward": False,
            "skipped_criteria": None,
            **values,
        }

    def _funnel_entry_event(self):
        """Event of the row opened when the opportunity enters its stage: a lost
        opportunity stays lost wherever it is moved."""
        self.ensure_one()
        if not self.active:
            return "lost"
        return "won" if self.stage_id.is_won else "enter"

    def _funnel_record_history(self, values_list, now, close=True):
        """Close the current history row of the opportunities (unless ``close`` is
        False) and open the rows of ``values_list``, in one statement: stage moves
        are the hottest path of the pipeline.

        :param values_list: list of dicts from ``_funnel_history_values``
        """
        History = self.env["funnel.stage.history"]
        History.flush_model()
        uid = self.env.uid
        parts = []
        if close:
            parts.append(
                SQL(
                    """
                    WITH closed AS (
                        UPDATE funnel_stage_history
                           SET date_out = %(now)s,
                               is_open = FALSE,
                               days_in_stage = ROUND(
                                   EXTRACT(EPOCH FROM %(now)s - date_in)::numeric
                                   / 86400, 1),
                               write_date = %(now)s,
                               write_uid = %(uid)s
                         WHERE lead_id IN %(ids)s AND is_open
                    )
                    """,
                    now=now,
                    uid=uid,
                    ids=tuple(self.ids),
                )
            )
        if values_list:
            columns = SQL(", ").join(SQL.identifier(name) for name in HISTORY_COLUMNS)
            arrays = SQL(", ").join(
                SQL("%s::%s[]", [values[name] for values in values_list], SQL(kind))
                for name, kind in HISTORY_COLUMNS.items()
            )
            parts.append(
                SQL(
                    """
                    INSERT INTO funnel_stage_history (
                        %(columns)s, is_open, gate_waived, moved_by_id,
                        create_uid, create_date, write_uid, write_date)
                    SELECT %(columns)s, TRUE, FALSE, %(uid)s,
                           %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM unnest(%(arrays)s) AS new(%(columns)s)
                    """,
                    columns=columns,
                    arrays=arrays,
                    uid=uid,
                    now=now,
                )
            )
        elif close:
            parts.append(SQL("SELECT 1"))
        if not parts:
            return
        self.env.cr.execute(SQL("").join(parts))
        # the ORM did not see these rows
        History.invalidate_model(
            ["date_out", "is_open", "days_in_stage", "write_date", "write_uid"]
        )
        self.invalidate_recordset(["stage_history_ids"])

    def _funnel_log_moves(self, old_stage_ids, skipped, now):
        rank = self.env["crm.stage"]._funnel_rank()
        values_list = []
        for lead in self.filtered("stage_id"):
            old_stage_id = old_stage_ids.get(lead.id)
            values_list.append(
                lead._funnel_history_values(
                    now,
                    stage_from_id=old_stage_id or None,
                    event=lead._funnel_entry_event(),
                    is_backward=bool(old_stage_id)
                    and rank.get(lead.stage_id.id, 0) < rank.get(old_stage_id, 0),
                    skipped_criteria=skipped.get(lead.id),
                )
            )
        self._funnel_record_history(values_list, now)
        backward = [
            values["lead_id"] for values in values_list if values["is_backward"]
        ]
        self.browse(backward)._funnel_increment("backward_move_count")
        for lead in self.browse(list(skipped)):
            lead.message_post(
                body=self.env._(
                    "Moved to “%(stage)s” although these exit criteria were not "
                    "met: %(criteria)s",
                    stage=lead.stage_id.name,
                    criteria=skipped[lead.id].replace("\n", "; "),
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _funnel_log_active_changes(self, now):
        self._funnel_record_history(
            [
                lead._funnel_history_values(
                    now,
                    stage_from_id=lead.stage_id.id,
                    event="restored" if lead.active else "lost",
                )
                for lead in self.filtered("stage_id")
            ],
            now,
        )

    @api.model
    def _funnel_restage(self, stage_map):
        """Put the opportunities of the stages of ``stage_map`` (stage id -> stage
        id, keeping the order of the stages) in their new stage as if they had
        always been there: no move is recorded and their dates stay; their stage
        history follows, and their checks are brought in line with the new stage.
        Carries a pipeline over to the funnel's stages (crm's demo opportunities).

        :return: the opportunities moved
        """
        leads = self.with_context(active_test=False).search(
            [("stage_id", "in", list(stage_map))]
        )
        if not leads:
            return leads
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l SET stage_id = m.new_id
                  FROM unnest(%s::int[], %s::int[]) AS m(old_id, new_id)
                 WHERE l.stage_id = m.old_id
                """,
                list(stage_map),
                list(stage_map.values()),
            )
        )
        leads.invalidate_recordset(["stage_id"])
        self.env["funnel.stage.history"]._restage(stage_map, leads)
        for field_name in (
            "forecast_category",
            "qualification_met_count",
            "qualification_required_count",
            "qualification_progress",
            "gate_ready",
        ):
            self.env.add_to_compute(self._fields[field_name], leads)
        leads._funnel_sync_checks()
        return leads

    def _funnel_increment(self, field_name):
        if not self:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET %(field)s = COALESCE(%(field)s, 0) + 1 "
                "WHERE id IN %(ids)s",
                field=SQL.identifier(field_name),
                ids=tuple(self.ids),
            )
        )
        self.invalidate_recordset([field_name])

    # ------------------------------------------------------------
    # Forecast board
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def funnel_forecast_column_sums(self, domain, group_by):
        """Sums of the columns of the forecast board, keyed like the progress bars
        (see ``read_progress_bar``): the expected revenue in commit, best case and
        pipeline, and the expected revenue weighted by the win rate of the stage
        (omitted opportunities left out).

        :return: {"currency_id": id, "columns": {column key: {category: sum}}}
        """
        columns = {}
        groups = self.read_group(
            domain,
            ["expected_revenue:sum"],
            [group_by, "forecast_category", "stage_id"],
            lazy=False,
        )
        stage_ids = {group["stage_id"][0] for group in groups if group["stage_id"]}
        win_rates = {
            stage.id: stage.win_rate
            for stage in self.env["crm.stage"].browse(stage_ids)
        }
        for group in groups:
            value = group[group_by]
            key = str(value[0] if isinstance(value, tuple) else value)
            sums = columns.setdefault(
                key, dict.fromkeys(("commit", "best_case", "pipeline", "weighted"), 0.0)
            )
            category, amount = group["forecast_category"], group["expected_revenue"]
            if category in sums:
                sums[category] += amount
            if category != "omitted" and group["stage_id"]:
                sums["weighted"] += amount * win_rates[group["stage_id"][0]] / 100
        return {"currency_id": self.env.company.currency_id.id, "columns": columns}
