from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

from .funnel_lock import try_lock


class CrmLead(models.Model):
    """The work done on the opportunity: its activity log (``funnel.activity.log``,
    written by that model), whether a next step is planned, when it was last
    touched, and whether it is neglected."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

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

    def _funnel_column_defaults(self):
        return {
            **super()._funnel_column_defaults(),
            "next_activity_state": ("varchar", "none"),
            "last_touch_date": ("timestamp", None),
            "quiet_since": ("timestamp", None),
        }

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

    def _funnel_refresh_next_activity_state(self):
        """Activities of these opportunities changed: recompute their next step."""
        self.env.add_to_compute(self._fields["next_activity_state"], self.exists())

    @api.model
    def _cron_refresh_next_activity_state(self):
        """Every night: planned next steps become due today, then overdue;
        skipped while another worker runs it."""
        if not try_lock(self.env, "crm.lead.next_activity_state"):
            return
        leads = self.with_context(active_test=False).search(
            [("next_activity_state", "in", ("planned", "today"))]
        )
        self.env.add_to_compute(self._fields["next_activity_state"], leads)
        leads.flush_recordset(["next_activity_state"])

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

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
