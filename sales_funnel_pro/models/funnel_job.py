"""Background jobs: work too long for a request, run in chunks by one cron.

How a feature uses them (the whole API):

1. decide: ``self.env["funnel.job"]._in_background(count)`` says whether
   ``count`` records are too many for the request (more than
   ``BACKGROUND_THRESHOLD``); below it, the work is done at once, as before;
2. start: ``job = self.env["funnel.job"]._start(kind, total, target=...,
   records=... or domain=..., model=..., params=...)`` queues it (refused while
   a job of the same kind and target is queued or running: ``_check_not_running``
   says so before any work) and wakes the cron; the button returns
   ``job._started_action()``;
3. declare the kind: add it to the ``kind`` selection (``selection_add``) and to
   ``_kinds()`` (an override calling super): the model holding its two methods,
   ``run(job, records)`` for one chunk (returns the units of work done, by
   default the number of records; may count things with ``job._add_result``)
   and ``finish(job)`` (returns the summary told to the user), the unit of its
   progress, whether only sales managers start it, and its chunk size.

The cron (``_cron_run``, in ``funnel_job_run.py``) locks one job row at a time
(``FOR NO KEY UPDATE SKIP LOCKED``), runs its next chunk as the user who started
it, moves the job's cursor in the same savepoint, and commits: a chunk is done
once or not at all, so a job interrupted by a restart resumes after its last
committed chunk, and two cron workers never run the same chunk. Progress is
reported to ir.cron with ``_notify_progress``, which runs the cron again while
work remains.
"""

import logging
from collections import namedtuple

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_datetime
from odoo.tools.misc import formatLang
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)
_logger = logging.getLogger(__name__)

# more records than this, and the work goes to the background
BACKGROUND_THRESHOLD = 1000
# seconds of chunks per run of the cron: ir.cron runs it up to 10 times in a
# round, and a round must stay within the cron worker's limits (limit_time_cpu,
# limit_time_real_cron)
CRON_TIME_BUDGET = 3.0
# a chunk that fails this many times in a row fails its job
MAX_ATTEMPTS = 3
CRON_XMLID = "sales_funnel_pro.ir_cron_funnel_job"
JOB_ACTION_XMLID = "sales_funnel_pro.funnel_job_action"
MANAGER_GROUP = "sales_team.group_sale_manager"

JOB_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
ACTIVE_STATES = ("queued", "running")
UNITS = {
    "opportunities": _lt("opportunities"),
    "steps": _lt("steps"),
}

# model: where the methods are; run, finish: their names; unit: a key of UNITS;
# manager_only: only sales managers start it; chunk_size: records per chunk
JobKind = namedtuple(
    "JobKind",
    "model run finish unit manager_only chunk_size",
    defaults=("opportunities", False, 500),
)


class FunnelJob(models.Model):
    _name = "funnel.job"
    _inherit = ["mail.thread"]
    _description = "Background Job"
    _order = "id desc"

    name = fields.Char(required=True, readonly=True)
    kind = fields.Selection(
        [
            ("template", "Professional funnel"),
            ("stage_refresh", "Stage changes applied to opportunities"),
            ("win_rate", "Historical win rates"),
            ("snapshot", "Forecast snapshot"),
            ("quick_log", "Mass activity log"),
            ("stage_move", "Mass stage change"),
            ("forecast_category", "Mass forecast category change"),
            ("rep_benchmark", "Rep capability figures"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    state = fields.Selection(JOB_STATES, default="queued", required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Started By",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.user,
        help="The work runs with this user's access rights; the user is notified "
        "when it is finished.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )
    res_model = fields.Char(string="Target Model", readonly=True)
    res_id = fields.Many2oneReference(
        string="Target ID", model_field="res_model", readonly=True
    )
    target_name = fields.Char(string="About", compute="_compute_target_name")
    # the work: records of record_model, queued (record_ids) or scanned by id
    # (params["domain"]), cursor being the last id done
    record_model = fields.Char(readonly=True)
    record_ids = fields.Json(readonly=True)
    params = fields.Json(readonly=True)
    result = fields.Json(readonly=True)
    cursor = fields.Integer(readonly=True, help="Last record id processed.")
    chunk_size = fields.Integer(readonly=True)
    # progress
    total = fields.Integer(readonly=True)
    done = fields.Integer(readonly=True)
    unit = fields.Char(compute="_compute_progress")
    progress = fields.Float(
        string="Done (%)", compute="_compute_progress", digits=(16, 0)
    )
    progress_text = fields.Char(string="Progress", compute="_compute_progress")
    attempt_count = fields.Integer(
        string="Failed Attempts",
        readonly=True,
        help="Failures in a row of the current chunk.",
    )
    date_start = fields.Datetime(string="Started On", readonly=True)
    date_done = fields.Datetime(string="Finished On", readonly=True)
    summary = fields.Text(readonly=True)
    error = fields.Text(readonly=True)

    def init(self):
        # the guard behind "already running": one active job per kind and target
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS funnel_job_active_uniq
                    ON funnel_job (kind, COALESCE(res_model, ''), COALESCE(res_id, 0))
                 WHERE state IN %s
                """,
                ACTIVE_STATES,
            )
        )

    def _compute_target_name(self):
        for job in self:
            target = job.sudo()._target()
            job.target_name = target.display_name if target else False

    @api.depends("state", "total", "done", "kind")
    def _compute_progress(self):
        kinds = self._kinds()
        for job in self:
            unit = UNITS[kinds[job.kind].unit] if job.kind in kinds else UNITS["steps"]
            job.unit = self.env._(unit)
            job.progress = min(100.0 * job.done / job.total, 100.0) if job.total else 0
            job.progress_text = job._progress_text()

    def _progress_text(self):
        self.ensure_one()
        figures = self.env._(
            "%(done)s of %(total)s %(unit)s",
            done=formatLang(self.env, self.done, digits=0),
            total=formatLang(self.env, self.total, digits=0),
            unit=self.unit,
        )
        if self.state == "queued":
            return self.env._("Queued: %(figures)s", figures=figures)
        if self.state == "running":
            return self.env._(
                "Running… %(figures)s (%(percent)s %%)",
                figures=figures,
                percent=round(self.progress),
            )
        if self.state == "done":
            return self.env._("Done: %(figures)s", figures=figures)
        if self.state == "failed":
            return self.env._("Failed after %(figures)s", figures=figures)
        return self.env._("Cancelled after %(figures)s", figures=figures)

    def _target(self):
        """The record the job is about, if any (a stage, a company, a user)."""
        self.ensure_one()
        if not self.res_model or self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists() or None

    # ------------------------------------------------------------
    # Kinds
    # ------------------------------------------------------------

    @api.model
    def _kinds(self):
        """{kind: JobKind}: where the work of each kind of job is done."""
        # applying the template and refreshing a stage both bring the checks
        # of the stages' opportunities in line
        sync_checks = JobKind(
            "crm.stage",
            "_funnel_job_sync_checks",
            "_funnel_job_checks_done",
            "opportunities",
            True,
            1000,
        )
        return {
            "template": sync_checks,
            "stage_refresh": sync_checks,
            "win_rate": JobKind(
                "funnel.stage.win.rate",
                "_funnel_job_refresh",
                "_funnel_job_refresh_done",
                "steps",
                True,
                1,
            ),
            "snapshot": JobKind(
                "funnel.forecast.snapshot",
                "_funnel_job_take",
                "_funnel_job_take_done",
                "steps",
                True,
                1,
            ),
            "quick_log": JobKind(
                "funnel.activity.quick.log", "_funnel_job_log", "_funnel_job_log_done"
            ),
            "stage_move": JobKind(
                "funnel.lead.mass.update",
                "_funnel_job_update",
                "_funnel_job_update_done",
            ),
            "forecast_category": JobKind(
                "funnel.lead.mass.update",
                "_funnel_job_update",
                "_funnel_job_update_done",
            ),
            "rep_benchmark": JobKind(
                "funnel.rep.benchmark",
                "_funnel_job_rebuild",
                "_funnel_job_rebuild_done",
                "steps",
                True,
                1,
            ),
        }

    # ------------------------------------------------------------
    # Starting
    # ------------------------------------------------------------

    @api.model
    def _kind_label(self, kind):
        return dict(self._fields["kind"]._description_selection(self.env))[kind]

    @api.model
    def _in_background(self, count):
        """Whether work on ``count`` records goes to the background."""
        return count > BACKGROUND_THRESHOLD

    @api.model
    def _running(self, kind, target=None):
        """The queued or running job of ``kind`` about ``target``, if any."""
        about = (
            [("res_model", "=", target._name), ("res_id", "=", target.id)]
            if target
            else [("res_model", "=", False)]
        )
        return self.sudo().search(
            [("kind", "=", kind), ("state", "in", ACTIVE_STATES), *about], limit=1
        )

    @api.model
    def _check_not_running(self, kind, target=None):
        """:raise UserError: a job of ``kind`` about ``target`` is not finished"""
        job = self._running(kind, target)
        if job:
            raise UserError(job._busy_message())

    @api.model
    def _start(
        self,
        kind,
        total,
        *,
        target=None,
        records=None,
        domain=None,
        model=None,
        params=None,
        name=None,
    ):
        """Queue a job and wake the cron.

        :param kind: a key of ``_kinds()``
        :param total: the units of work, for the progress (done of total)
        :param target: the record the job is about (a stage, a company, the
            user); one job of a kind per target runs at a time
        :param records: the records to work on: their ids are queued, and
            ``run`` gets them chunk by chunk, in the order of their ids
        :param domain: instead of records, a domain on ``model`` that is
            scanned chunk by chunk (as superuser, in the order of the ids): the
            records that match when their chunk comes
        :param params: JSON values for ``run`` and ``finish`` (``job.params``)
        :param name: what the user reads (default: the kind)
        :raise AccessError: a manager-only kind started by someone else
        :raise UserError: a job of the same kind and target is not finished
        :return: the job
        """
        spec = self._kinds()[kind]
        if (
            spec.manager_only
            and not self.env.su
            and not self.env.user.has_group(MANAGER_GROUP)
        ):
            raise AccessError(
                self.env._(
                    "Only sales managers may start “%(job)s”.",
                    job=name or self._kind_label(kind),
                )
            )
        self._check_not_running(kind, target)
        values = {
            "name": name or self._kind_label(kind),
            "kind": kind,
            "user_id": self.env.uid,
            "company_id": self.env.company.id,
            "res_model": target._name if target else False,
            "res_id": target.id if target else False,
            "params": dict(params or {}, company_ids=self.env.companies.ids),
            "chunk_size": spec.chunk_size,
            "total": total,
        }
        if records is not None:
            values.update(record_model=records._name, record_ids=sorted(records.ids))
        elif domain is not None:
            values.update(record_model=model)
            values["params"]["domain"] = domain
        try:
            with self.env.cr.savepoint():
                job = (
                    self.sudo()
                    .with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
                    .create(values)
                )
        except psycopg2.errors.UniqueViolation:
            # started by someone else at the same moment
            self._check_not_running(kind, target)
            raise
        job.message_subscribe(partner_ids=self.env.user.partner_id.ids)
        self.env.ref(CRON_XMLID).sudo()._trigger()
        _logger.info("Background job %s (%s) queued: %s", job.id, kind, total)
        return job

    def _busy_message(self):
        self.ensure_one()
        values = {
            "job": self.name,
            "percent": round(self.progress),
            "figures": self.env._(
                "%(done)s of %(total)s %(unit)s",
                done=formatLang(self.env, self.done, digits=0),
                total=formatLang(self.env, self.total, digits=0),
                unit=self.unit,
            ),
            "user": self.user_id.name,
            "date": format_datetime(self.env, self.create_date),
        }
        if self.state == "queued":
            return self.env._(
                "“%(job)s” is already queued, %(percent)s %% done (%(figures)s), "
                "started by %(user)s on %(date)s. It cannot be started again before "
                "it is finished; %(user)s will be notified.",
                **values,
            )
        return self.env._(
            "“%(job)s” is already running, %(percent)s %% done (%(figures)s), "
            "started by %(user)s on %(date)s. It cannot be started again before it "
            "is finished; %(user)s will be notified.",
            **values,
        )

    def _started_action(self, next_action=None):
        """What a button returns once it started the job: a notification saying
        what was started and how big it is, with a link to follow it."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Started in the background"),
                "message": self.env._(
                    "%(job)s (%(total)s %(unit)s). You will be notified when it is "
                    "finished. %%s",
                    job=self.name,
                    total=formatLang(self.env, self.total, digits=0),
                    unit=self.unit,
                ),
                "links": [
                    {
                        "label": self.env._("Follow its progress"),
                        "url": f"/odoo/action-{JOB_ACTION_XMLID}/{self.id}",
                    }
                ],
                "sticky": False,
                "next": next_action or {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_cancel(self):
        """Stop unfinished jobs after their current chunk (sales managers)."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only sales managers may cancel a job."))
        active = self.sudo().filtered(lambda job: job.state in ACTIVE_STATES)
        active.write({"state": "cancelled", "date_done": fields.Datetime.now()})
        for job in active:
            job._notify(
                self.env._("Cancelled by %(user)s.", user=self.env.user.name),
                "warning",
            )
