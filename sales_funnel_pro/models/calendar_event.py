from odoo import api, fields, models
from odoo.tools import SQL

from .funnel_lock import try_lock

# an all-day meeting counts as a working day per calendar day it covers
ALLDAY_HOURS_PER_DAY = 8.0
# the most one log row may hold (see funnel.activity.log._check_duration)
MAX_LOG_HOURS = 24.0
# a change of these fields changes what the log of a meeting says
LOGGED_FIELDS = {
    "name",
    "start",
    "stop",
    "duration",
    "allday",
    "start_date",
    "stop_date",
    "opportunity_id",
    "user_id",
    "active",
}


class CalendarEvent(models.Model):
    """Meetings held with a customer are sales work: once a meeting linked to an
    opportunity has ended, a scheduled job logs it, once, with its real duration
    (``_funnel_log_ended_meetings``); the log then follows the meeting.

    - Editing a logged meeting that has ended updates its log (date, duration,
      opportunity, organizer, stage at the meeting's start, summary).
    - A meeting that is no longer a held sales meeting (moved into the future
      again, detached from its opportunity, archived or deleted) loses the log
      the job wrote; the job logs it again once it has ended. A log written by
      the rep, who marked the meeting's activity done (source "done"), is kept
      as it is: the rep said the meeting took place.
    - All-day meetings count 8 hours per day, and no log holds more than 24
      hours; a meeting without duration counts the default duration of the
      Meeting activity type.
    """

    _inherit = "calendar.event"

    funnel_activity_log_ids = fields.One2many(
        "funnel.activity.log",
        "calendar_event_id",
        string="Activity Log",
        groups="sales_team.group_sale_salesman",
    )

    def write(self, vals):
        result = super().write(vals)
        if LOGGED_FIELDS & vals.keys():
            self._funnel_sync_logs()
        return result

    def unlink(self):
        self._funnel_meeting_logs().filtered(
            lambda log: log.source == "meeting"
        ).unlink()
        return super().unlink()

    # ------------------------------------------------------------
    # Activity log
    # ------------------------------------------------------------

    @api.model
    def _funnel_log_ended_meetings(self):
        """Scheduled job: log the meetings linked to an opportunity that have
        ended and are not logged yet, in one search and one create; skipped
        while another worker runs it.

        :return: the funnel.activity.log records created
        """
        if not try_lock(self.env, "calendar.event.funnel_log"):
            return self.env["funnel.activity.log"].sudo()
        events = self.sudo().search(
            [
                ("opportunity_id", "!=", False),
                ("stop", "<=", fields.Datetime.now()),
                ("funnel_activity_log_ids", "=", False),
            ],
            order="start, id",
        )
        Log = self.env["funnel.activity.log"].sudo()
        if not events:
            return Log
        stages = events._funnel_stages_at_start()
        default_type = self._funnel_meeting_type()
        return Log.create(
            [
                {
                    **event._funnel_log_values(stages),
                    # a meeting planned from an activity is logged with its type
                    "activity_type_id": (
                        event.activity_ids[:1].activity_type_id or default_type
                    ).id,
                    "outcome": "neutral",
                    "source": "meeting",
                    "calendar_event_id": event.id,
                }
                for event in events
            ]
        )

    def _funnel_meeting_logs(self):
        if not self.ids:
            return self.env["funnel.activity.log"].sudo()
        return (
            self.env["funnel.activity.log"]
            .sudo()
            .search([("calendar_event_id", "in", self.ids)])
        )

    def _funnel_sync_logs(self):
        """The meetings changed: bring their logs in line with them."""
        logs = self._funnel_meeting_logs()
        if not logs:
            return
        now = fields.Datetime.now()
        events = logs.calendar_event_id.with_context(active_test=False).sudo()
        held = events.filtered(
            lambda event: event.active and event.opportunity_id and event.stop <= now
        )
        stages = held._funnel_stages_at_start()
        gone = logs.browse()
        for log in logs:
            event = log.calendar_event_id
            if event not in held:
                if log.source == "meeting":
                    gone |= log
                continue
            values = event._funnel_log_values(stages)
            current = log._convert_to_write({name: log[name] for name in values})
            changes = {
                name: value for name, value in values.items() if current[name] != value
            }
            if changes:
                log.write(changes)
        gone.unlink()

    def _funnel_log_values(self, stages):
        """What the log of the meeting says of it.

        :param stages: result of ``_funnel_stages_at_start``
        """
        self.ensure_one()
        lead = self.opportunity_id
        return {
            "lead_id": lead.id,
            "user_id": (self.user_id or lead.user_id or self.env.user).id,
            "stage_id": stages.get(self.id) or lead.stage_id.id,
            "date": self.start,
            "duration": self._funnel_meeting_duration(),
            "summary": self.name,
        }

    def _funnel_meeting_duration(self):
        """Hours to log for the meeting: its duration, 8 hours per day when it
        lasts all day, at most 24 hours; the default duration of the meeting
        type when it has none."""
        self.ensure_one()
        if self.allday:
            days = (self.stop.date() - self.start.date()).days + 1
            hours = ALLDAY_HOURS_PER_DAY * max(days, 1)
        else:
            hours = self.duration
        if hours <= 0:
            hours = self._funnel_meeting_type().default_duration or 1.0
        return min(hours, MAX_LOG_HOURS)

    @api.model
    def _funnel_meeting_type(self):
        return self.env.ref(
            "mail.mail_activity_data_meeting", raise_if_not_found=False
        ) or self.env["mail.activity.type"].search(
            [("category", "=", "meeting")], limit=1
        )

    def _funnel_stages_at_start(self):
        """The stage each meeting's opportunity was in when the meeting started,
        from the stage history, in one query.

        :return: dict event id -> crm.stage id (missing when the opportunity had
            no history yet then)
        """
        if not self:
            return {}
        self.flush_recordset(["start", "opportunity_id"])
        self.env["funnel.stage.history"].flush_model(["lead_id", "stage_id", "date_in"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT e.id, h.stage_id
                  FROM calendar_event e
                  JOIN LATERAL (
                        SELECT stage_id FROM funnel_stage_history
                         WHERE lead_id = e.opportunity_id AND date_in <= e.start
                         ORDER BY date_in DESC, id DESC LIMIT 1
                  ) h ON TRUE
                 WHERE e.id IN %s
                """,
                tuple(self.ids),
            )
        )
        return dict(rows)
