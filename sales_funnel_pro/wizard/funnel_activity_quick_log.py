from contextlib import closing

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date
from odoo.tools.misc import formatLang

from ..models.funnel_activity_log import OUTCOMES


class FunnelActivityQuickLog(models.TransientModel):
    _name = "funnel.activity.quick.log"
    _description = "Log a Sales Activity"

    lead_ids = fields.Many2many(
        "crm.lead",
        string="Opportunities",
        required=True,
        # the selection as it is (reading it checks nothing of thousands of rows)
        context={"active_test": False},
        help="One activity is logged on each opportunity.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Activity Type",
        required=True,
        default=lambda self: self._default_activity_type_id(),
        domain=[("res_model", "in", [False, "crm.lead"])],
    )
    date = fields.Datetime(
        required=True,
        default=fields.Datetime.now,
        help="When the activity happened.",
    )
    duration = fields.Float(
        compute="_compute_duration",
        store=True,
        readonly=False,
        precompute=True,
        help="Time spent, in hours; the activity type's default duration unless "
        "you say otherwise.",
    )
    outcome = fields.Selection(OUTCOMES, required=True, default="neutral")
    summary = fields.Char(help="Left empty, the name of the activity type.")
    note = fields.Text()
    next_step = fields.Char()
    # Next step
    schedule_next = fields.Boolean(
        string="Schedule the Next Step",
        help="Plan an activity on each opportunity, so that the next step is not "
        "forgotten.",
    )
    next_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Next Activity",
        compute="_compute_next_activity_type_id",
        store=True,
        readonly=False,
        precompute=True,
        domain=[("res_model", "in", [False, "crm.lead"])],
    )
    next_date = fields.Date(
        string="Next Step On",
        compute="_compute_next_date",
        store=True,
        readonly=False,
        precompute=True,
    )

    @api.model
    def _default_activity_type_id(self):
        return self.env.ref(
            "sales_funnel_pro.mail_activity_type_visit", raise_if_not_found=False
        )

    @api.depends("activity_type_id")
    def _compute_duration(self):
        for wizard in self:
            wizard.duration = wizard.activity_type_id.default_duration or 1.0

    @api.depends("activity_type_id")
    def _compute_next_activity_type_id(self):
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for wizard in self:
            activity_type = wizard.activity_type_id
            wizard.next_activity_type_id = (
                activity_type.triggered_next_type_id
                or activity_type.suggested_next_type_ids[:1]
                or wizard.next_activity_type_id
                or todo
            )

    @api.depends("next_activity_type_id")
    def _compute_next_date(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            next_type = wizard.next_activity_type_id
            wizard.next_date = next_type._get_date_deadline() if next_type else today

    def action_log(self):
        """Log the activity on each opportunity (one row each, in its current
        stage) and plan the next step when asked. Bad input is refused by the
        rules of the log, with nothing written. On more opportunities than the
        background threshold, the logging is a background job."""
        self.ensure_one()
        # a salesman logs on the opportunities he may read, not on the others'
        # (of many opportunities, read the columns that the record rules read only)
        self.lead_ids.fetch(["company_id", "user_id", "team_id"])
        self.lead_ids.check_access("read")
        if self.schedule_next:
            self._check_next_step()
        params = self._job_params()
        Job = self.env["funnel.job"]
        if not Job._in_background(len(self.lead_ids)):
            self._log(self.lead_ids, params)
            return {"type": "ir.actions.act_window_close"}
        Job._check_not_running("quick_log", self.env.user)
        # the rules of the log judge the input before anything is queued
        with closing(self.env.cr.savepoint()):
            self._log(self.lead_ids[:1], dict(params, next=False))
            self.env.flush_all()
        job = Job._start(
            "quick_log",
            len(self.lead_ids),
            target=self.env.user,
            records=self.lead_ids,
            params=params,
            name=self.env._(
                "Log “%(summary)s” on %(count)s opportunities",
                summary=params["values"]["summary"],
                count=formatLang(self.env, len(self.lead_ids), digits=0),
            ),
        )
        return job._started_action()

    def _job_params(self):
        """What is logged, as JSON values (a background job keeps them)."""
        return {
            "values": {
                "activity_type_id": self.activity_type_id.id,
                "date": fields.Datetime.to_string(self.date),
                "duration": self.duration,
                "outcome": self.outcome,
                "summary": self.summary or self.activity_type_id.name,
                "note": self.note or False,
                "next_step": self.next_step or False,
                "source": "quick",
            },
            "next": self.schedule_next
            and {
                "activity_type_id": self.next_activity_type_id.id,
                "date_deadline": fields.Date.to_string(self.next_date),
                "summary": self.next_step or False,
            },
        }

    @api.model
    def _log(self, leads, params):
        """Log on ``leads`` what ``params`` say (see ``_job_params``) and plan
        the next step, one planned activity per opportunity for its salesperson
        (or for the user who logs, on an opportunity without one)."""
        values = params["values"]
        # without an opportunity, the log's own rule says what is missing
        self.env["funnel.activity.log"].create(
            [dict(values, lead_id=lead.id) for lead in leads] or [values]
        )
        if params["next"]:
            model_id = self.env["ir.model"]._get_id("crm.lead")
            self.env["mail.activity"].create(
                [
                    dict(
                        params["next"],
                        res_model_id=model_id,
                        res_id=lead.id,
                        user_id=(lead.user_id or self.env.user).id,
                    )
                    for lead in leads
                ]
            )

    def _check_next_step(self):
        if not self.next_activity_type_id or not self.next_date:
            raise UserError(
                self.env._("To schedule the next step, give its activity and date.")
            )
        if self.next_date < fields.Date.context_today(self):
            raise UserError(
                self.env._(
                    "The next step cannot be planned in the past (%(date)s).",
                    date=format_date(self.env, self.next_date),
                )
            )

    # ------------------------------------------------------------
    # Background job (funnel.job, kind quick_log)
    # ------------------------------------------------------------

    @api.model
    def _funnel_job_log(self, job, leads):
        # opportunities deleted, or no longer readable, since the job started
        readable = leads.exists()._filtered_access("read")
        if readable:
            self._log(readable, job.params)
        if len(readable) < len(leads):
            job._add_result(skipped=len(leads) - len(readable))
        return len(leads)

    @api.model
    def _funnel_job_log_done(self, job):
        skipped = (job.result or {}).get("skipped", 0)
        return self.env._(
            "Logged “%(summary)s” on %(count)s opportunities.",
            summary=job.params["values"]["summary"],
            count=formatLang(self.env, job.done - skipped, digits=0),
        )
