"""The runner of the background jobs (``funnel.job``): the cron, its row lock
on the job, the chunk and its cursor in one savepoint, the notifications.

See ``funnel_job.py`` for what a job is and how a feature starts one.
"""

import bisect
import logging
import threading
import time

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL, plaintext2html

from .funnel_job import ACTIVE_STATES, CRON_TIME_BUDGET, CRON_XMLID, MAX_ATTEMPTS

_logger = logging.getLogger(__name__)


class FunnelJob(models.Model):
    _inherit = "funnel.job"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cron_run(self, time_budget=CRON_TIME_BUDGET):
        """Run chunks of the unfinished jobs, one job at a time, for about
        ``time_budget`` seconds, committing after each chunk (except in tests),
        then report the progress to ir.cron, which runs again while work
        remains."""
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        deadline = time.monotonic() + time_budget
        done = 0
        while True:
            job = self._acquire()
            if not job:
                break
            done += job._run_chunk()
            if auto_commit:
                # the cron's own transaction: a chunk stays done whatever follows
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if time.monotonic() >= deadline:
                break
        remaining = self._remaining()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if remaining and auto_commit:
            # wake a cron worker at once rather than after its sleep
            self.env.ref(CRON_XMLID).sudo()._trigger()
        return done

    @api.model
    def _acquire(self):
        """Lock the unfinished job whose turn it is (the one that progressed
        least recently), skipping those that another worker holds.

        :return: the job, or an empty recordset
        """
        cr = self.env.cr
        self.flush_model(["state"])
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    SQL(
                        """
                        SELECT id FROM funnel_job
                         WHERE state IN %s
                         ORDER BY write_date, id
                         LIMIT 1
                           FOR NO KEY UPDATE SKIP LOCKED
                        """,
                        ACTIVE_STATES,
                    )
                )
                row = cr.fetchone()
        except psycopg2.extensions.TransactionRollbackError:
            # another worker changed it since this transaction started
            return self.browse()
        if not row:
            return self.browse()
        job = self.sudo().browse(row[0])
        job.invalidate_recordset()
        return job

    @api.model
    def _remaining(self):
        """Units of work left in the unfinished jobs (at least one each)."""
        self.flush_model(["state", "total", "done"])
        self.env.cr.execute(
            SQL(
                "SELECT COALESCE(SUM(GREATEST(total - done, 1)), 0) FROM funnel_job "
                "WHERE state IN %s",
                ACTIVE_STATES,
            )
        )
        return self.env.cr.fetchone()[0]

    def _run_chunk(self):
        """Run the next chunk of the job, locked by the caller: the work, the
        cursor and the progress in one savepoint, so all or nothing of it is
        written. A failure is recorded; after ``MAX_ATTEMPTS`` the job fails.

        :return: the units of work done
        """
        self.ensure_one()
        job = self.sudo()
        spec = job._kinds()[job.kind]
        if job.state == "queued":
            job.write({"state": "running", "date_start": fields.Datetime.now()})
        try:
            with self.env.cr.savepoint():
                units, finished = job._step(spec)
                if finished:
                    job._finish(spec)
        except Exception as error:  # noqa: BLE001  # a chunk may fail in any way
            _logger.warning(
                "Background job %s (%s): chunk after id %s failed",
                job.id,
                job.kind,
                job.cursor,
                exc_info=True,
            )
            job._record_failure(error)
            return 0
        return units

    def _step(self, spec):
        """Run the next chunk and move the cursor.

        :return: (units of work done, whether the job is finished)
        """
        ids, last = self._next_ids()
        env = self._job_env()
        records = env[self.record_model].browse(ids) if self.record_model else None
        units = getattr(env[spec.model], spec.run)(self, records)
        if units is None:
            units = len(ids)
        values = {"done": self.done + units, "attempt_count": 0, "error": False}
        if ids:
            values["cursor"] = ids[-1]
        self.write(values)
        return units, last

    def _next_ids(self):
        """The ids of the next chunk, and whether it is the last one."""
        size = self.chunk_size or 1
        if self.record_ids:
            queue = self.record_ids
            start = bisect.bisect_right(queue, self.cursor)
            return queue[start : start + size], start + size >= len(queue)
        domain = (self.params or {}).get("domain")
        if self.record_model and domain is not None:
            ids = list(
                self.env[self.record_model]
                .sudo()
                ._search(
                    expression.AND([domain, [("id", ">", self.cursor)]]),
                    order="id",
                    limit=size,
                )
            )
            return ids, len(ids) < size
        return [], True

    def _job_env(self):
        """The environment of the work: the starter's, in the companies and the
        language of the request that started the job."""
        self.ensure_one()
        user = self.user_id
        company_ids = [
            company_id
            for company_id in (self.params or {}).get("company_ids", [])
            if company_id in user.company_ids.ids
        ] or [self.company_id.id]
        return self.env(
            user=user.id,
            su=False,
            context={
                "lang": user.lang or "en_US",
                "tz": user.tz,
                "allowed_company_ids": company_ids,
            },
        )

    def _add_result(self, **counters):
        """Add to the job's result counters (in the chunk's transaction)."""
        self.ensure_one()
        result = dict(self.result or {})
        for key, value in counters.items():
            if isinstance(value, list):
                result[key] = (result.get(key) or []) + value
            else:
                result[key] = (result.get(key) or 0) + value
        self.sudo().result = result

    def _finish(self, spec):
        env = self._job_env()
        summary = getattr(env[spec.model], spec.finish)(self) if spec.finish else ""
        self.write(
            {"state": "done", "date_done": fields.Datetime.now(), "summary": summary}
        )
        self._notify(summary, "success")
        _logger.info("Background job %s (%s) done", self.id, self.kind)

    def _record_failure(self, error):
        attempts = self.attempt_count + 1
        message = (
            error.args[0]
            if isinstance(error, UserError | AccessError) and error.args
            else f"{type(error).__name__}: {error}"
        )
        values = {"attempt_count": attempts, "error": message}
        failed = attempts >= MAX_ATTEMPTS
        if failed:
            values.update(state="failed", date_done=fields.Datetime.now())
        self.write(values)
        if failed:
            env = self._job_env()
            self.with_env(env)._notify(
                env._(
                    "Stopped after %(figures)s: %(error)s",
                    figures=self.with_env(env)._progress_text(),
                    error=message,
                ),
                "danger",
            )

    def _notify(self, message, kind):
        """Tell the starter: a note on the job that notifies them (inbox), on
        the target too when it has a chatter, and a notification in their open
        browser tabs."""
        job = self.sudo()
        body = plaintext2html(message or "") or Markup("")
        author = self.env.ref("base.partner_root")
        job.message_post(
            body=body,
            subtype_xmlid="mail.mt_note",
            partner_ids=job.user_id.partner_id.ids,
            author_id=author.id,
        )
        target = job._target()
        if target is not None and isinstance(target, self.pool["mail.thread"]):
            target.message_post(
                body=body, subtype_xmlid="mail.mt_note", author_id=author.id
            )
        job.user_id._bus_send(
            "simple_notification",
            {
                "type": kind,
                "title": job.name,
                "message": message,
                "sticky": kind == "danger",
            },
        )
