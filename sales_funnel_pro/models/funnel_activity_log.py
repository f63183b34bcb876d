from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .crm_lead import LOAD_HISTORY_KEY

OUTCOMES = [
    ("positive", "Positive"),
    ("neutral", "Neutral"),
    ("negative", "Negative"),
]
SOURCES = [
    ("done", "Activity done"),
    ("quick", "Logged"),
    ("meeting", "Meeting"),
    ("import", "From the chatter"),
]
# a logged activity may not be dated later than now, give or take the clock of
# the browser that sent it
FUTURE_TOLERANCE = timedelta(minutes=5)


class FunnelActivityLog(models.Model):
    _name = "funnel.activity.log"
    _description = "Logged Sales Activity"
    _order = "date desc, id desc"
    _rec_name = "summary"
    _check_company_auto = True

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        required=True,
        index=True,
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        compute="_compute_team_id",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Stage",
        compute="_compute_stage_id",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
        help="The stage of the opportunity when the activity happened.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type", string="Activity Type", required=True, index=True
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    duration = fields.Float(
        required=True,
        default=lambda self: self._default_duration(),
        help="Time spent, in hours.",
    )
    outcome = fields.Selection(OUTCOMES, required=True, default="neutral")
    summary = fields.Char()
    note = fields.Text()
    next_step = fields.Char()
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        index=True,
    )
    source = fields.Selection(SOURCES, default="quick", required=True, readonly=True)
    calendar_event_id = fields.Many2one(
        "calendar.event", string="Meeting", ondelete="set null", index="btree_not_null"
    )

    _sql_constraints = [
        (
            "calendar_event_uniq",
            "unique(calendar_event_id)",
            "A meeting is logged once.",
        ),
    ]

    @api.model
    def _default_duration(self):
        activity_type = self.env["mail.activity.type"].browse(
            self.env.context.get("default_activity_type_id")
        )
        return activity_type.default_duration or 1.0

    @api.depends("lead_id")
    def _compute_partner_id(self):
        for log in self:
            if log.lead_id.partner_id:
                log.partner_id = log.lead_id.partner_id

    @api.depends("lead_id", "user_id")
    def _compute_team_id(self):
        for log in self:
            log.team_id = log.lead_id.team_id or log.user_id.sale_team_id

    @api.depends("lead_id")
    def _compute_stage_id(self):
        for log in self:
            if not log.stage_id:
                log.stage_id = log.lead_id.stage_id

    @api.depends("lead_id")
    def _compute_company_id(self):
        for log in self:
            log.company_id = (
                log.lead_id.company_id or log.company_id or self.env.company
            )

    @api.constrains("duration")
    def _check_duration(self):
        for log in self:
            if not 0 < log.duration <= 24:
                raise ValidationError(
                    self.env._(
                        "The duration of an activity must be more than 0 and at most "
                        "24 hours (%(duration)s given).",
                        duration=log.duration,
                    )
                )

    @api.constrains("date")
    def _check_date(self):
        latest = fields.Datetime.now() + FUTURE_TOLERANCE
        for log in self:
            if log.date > latest:
                raise ValidationError(
                    self.env._(
                        "A logged activity has happened: its date cannot be in the "
                        "future. Schedule an activity instead."
                    )
                )

    @api.constrains("lead_id", "partner_id")
    def _check_lead_or_partner(self):
        for log in self:
            if not log.lead_id and not log.partner_id:
                raise ValidationError(
                    self.env._("Log the activity on an opportunity or on a customer.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_outcome(vals)
        logs = super().create(vals_list)
        # a log belongs to an opportunity the user may read
        logs.lead_id.check_access("read")
        if not self.env.context.get(LOAD_HISTORY_KEY):
            self.env["funnel.lead.check"]._sync_kind(logs.lead_id, "activity")
        return logs

    def write(self, vals):
        self._check_outcome(vals)
        leads = self.lead_id
        result = super().write(vals)
        if vals.get("lead_id"):
            self.lead_id.check_access("read")
        if {"lead_id", "activity_type_id", "stage_id"} & vals.keys():
            self.env["funnel.lead.check"]._sync_kind(leads | self.lead_id, "activity")
        return result

    def unlink(self):
        leads = self.lead_id
        result = super().unlink()
        self.env["funnel.lead.check"]._sync_kind(leads.exists(), "activity")
        return result

    @api.model
    def _check_outcome(self, vals):
        """Refuse an unknown outcome with a message, not a technical error."""
        if vals.get("outcome") and vals["outcome"] not in dict(OUTCOMES):
            raise ValidationError(
                self.env._(
                    "The outcome of an activity is Positive, Neutral or Negative, "
                    "not “%(outcome)s”.",
                    outcome=vals["outcome"],
                )
            )

    # ------------------------------------------------------------
    # Backfill
    # ------------------------------------------------------------

    @api.model
    def _backfill_from_messages(self):
        """Log the activities already marked done on opportunities, from the
        chatter, each in the stage the opportunity was in at that moment (from
        the stage history), with the default duration of its type.

        Only opportunities without any log are backfilled: it may run again.
        """
        self.env.flush_all()
        cr = self.env.cr
        # the stage history may just have been filled (at install): without
        # statistics the planner would scan it whole for each message
        cr.execute("ANALYZE funnel_stage_history")
        cr.execute(
            SQL(
                """
WITH logged AS MATERIALIZED (
    -- read once, before the insert: the rows it adds are not looked at again
    SELECT DISTINCT lead_id FROM funnel_activity_log WHERE lead_id IS NOT NULL
)
INSERT INTO funnel_activity_log (
    lead_id, partner_id, user_id, team_id, stage_id, activity_type_id, date,
    duration, outcome, summary, note, company_id, source,
    create_uid, create_date, write_uid, write_date)
SELECT l.id, l.partner_id, COALESCE(u.id, l.user_id, m.create_uid), l.team_id,
       COALESCE(h.stage_id, l.stage_id), m.mail_activity_type_id, m.date,
       COALESCE(NULLIF(t.default_duration, 0), 1), 'neutral',
       LEFT(t.name->>'en_US', 200), NULL, l.company_id, 'import',
       %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
  FROM mail_message m
  JOIN crm_lead l ON l.id = m.res_id
  JOIN mail_activity_type t ON t.id = m.mail_activity_type_id
  LEFT JOIN res_users u ON u.partner_id = m.author_id AND u.active
   AND u.id = (SELECT min(u2.id) FROM res_users u2 WHERE u2.partner_id = m.author_id)
  LEFT JOIN LATERAL (
        SELECT stage_id FROM funnel_stage_history
         WHERE lead_id = l.id AND date_in <= m.date
         ORDER BY date_in DESC, id DESC LIMIT 1
  ) h ON TRUE
 WHERE m.model = 'crm.lead'
   AND m.mail_activity_type_id IS NOT NULL
   AND l.id NOT IN (SELECT lead_id FROM logged)
 ORDER BY m.date, m.id
                """,
                uid=self.env.uid,
            )
        )
        count = cr.rowcount
        self.env.invalidate_all()
        return count

    @api.model
    def _log_done_activities(self, values_list):
        """Create the log rows of activities just marked done; a meeting already
        logged (by the meetings job) is completed instead of logged twice."""
        event_ids = [
            v["calendar_event_id"] for v in values_list if v["calendar_event_id"]
        ]
        logged = {
            log.calendar_event_id.id: log
            for log in self.search([("calendar_event_id", "in", event_ids)])
        }
        lead_ids = set(
            self.env["crm.lead"]
            .browse(list({values["lead_id"] for values in values_list}))
            .exists()
            .ids
        )
        new_values = []
        for values in values_list:
            log = logged.get(values["calendar_event_id"])
            if log:
                completion = {
                    "outcome": values["outcome"],
                    "note": values["note"] or log.note,
                    "source": "done",
                }
                if self.env.context.get("funnel_log_duration"):
                    completion["duration"] = values["duration"]
                log.write(completion)
            elif values["lead_id"] in lead_ids:
                new_values.append(values)
        return self.create(new_values)
