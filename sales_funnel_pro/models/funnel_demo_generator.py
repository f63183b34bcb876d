import logging
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup

from odoo import Command, api, fields, models

from ..demo_story import tell
from ..demo_story.cast import HABITS, MANAGER, Cast, Customer, Rep
from ..demo_story.catalog import ACTIVITY_TYPES, LOST_REASONS, TAGS, TEAMS
from ..demo_story.facts import Message
from ..demo_story.funnel import CATEGORY, DAY, WIN_RATE
from ..demo_story.installed_base import CATEGORIES
from .crm_lead import LOAD_HISTORY_KEY
from .funnel_demo_installed_base import InstalledBaseWriter

_logger = logging.getLogger(__name__)

MODULE = "sales_funnel_pro"


class FunnelDemoGenerator(models.AbstractModel):
    """Writes the year of selling of the demo data, at install.

    The story (``demo_story``) is played in Python from the people and customers
    of the demo's XML core; each table is then written through its own model, in
    batches (see ``DemoWriter``): opportunities, their stage history and exit
    criteria checks (the context key ``funnel_load_history`` tells ``crm.lead``
    and ``funnel.activity.log`` that the history and the checks come with them),
    logged activities, chatter, next activities, targets, forecast snapshots.
    The stored fields that depend on them (qualification, next step, last touch,
    forecast category) are recomputed by the ORM in one batch per field when the
    records are flushed; then the historical win rates are measured.

    A later story adds its module to ``demo_story`` and a writer method to
    ``DemoWriter``, called from ``DemoWriter.write_story``.
    """

    _name = "funnel.demo.generator"
    _description = "Sales Funnel Demo Data Generator"

    @api.model
    def _generate(self):
        if self.env.ref(f"{MODULE}.crm_lead_001_demo", raise_if_not_found=False):
            return
        today = fields.Date.today()
        story = tell(self._read_cast(), today)
        env = self.with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_notrack=True,
            **{LOAD_HISTORY_KEY: True},
        ).env
        DemoWriter(env, today).write_story(story)
        self.env.flush_all()
        self.env["funnel.stage.win.rate"]._refresh()
        self.env["funnel.rep.benchmark"]._rebuild()
        _logger.info(
            "Demo story: %s opportunities, %s forecast snapshots",
            len(story.leads),
            len(story.snapshots),
        )

    @api.model
    def _read_cast(self):
        """The reps (with their habits), the manager and the customers of the
        demo's XML core; a customer's key is the id of its contact."""
        teams = {_xmlid(self.env, f"crm_team_{key}_demo"): key for key in TEAMS}
        reps = []
        for key, habits in HABITS.items():
            user = _xmlid(self.env, f"user_{key}_demo")
            team = teams[user.crm_team_ids[:1]]
            reps.append(Rep(key=key, name=user.name, team=team, **habits))
        manager = _xmlid(self.env, f"user_{MANAGER}_demo")
        # the customers, in the order of the XML core; their tag names their team
        customers = []
        for key in TEAMS:
            tag = _xmlid(self.env, f"res_partner_category_{key}_demo")
            for company in self.env["res.partner"].search(
                [("is_company", "=", True), ("category_id", "=", tag.id)]
            ):
                contact = company.child_ids[:1]
                customer = Customer(
                    key=contact.id,
                    name=company.name,
                    country=(company.country_id.code or "").lower(),
                    team=key,
                    contact=contact.name,
                    function=contact.function or "",
                )
                customers.append((company.id, customer))
        customers = [customer for __, customer in sorted(customers)]
        return Cast(reps=reps, manager=(MANAGER, manager.name), customers=customers)


def _xmlid(env, name):
    return env.ref(name if "." in name else f"{MODULE}.{name}")


class DemoWriter:
    """Writes a story, each table through its model's ``create``, in batches."""

    def __init__(self, env, today):
        self.env = env
        self.midnight = datetime.combine(today, time())
        self.stages = {
            stage.template_key: stage.id
            for stage in env["crm.stage"].search([("template_key", "!=", False)])
        }
        self.criteria = {
            (criterion.stage_id.template_key, criterion.template_key): criterion.id
            for criterion in env["funnel.stage.criterion"].search(
                [("template_key", "!=", False)]
            )
        }
        self.users = {
            key: _xmlid(env, f"user_{key}_demo") for key in [*HABITS, MANAGER]
        }
        self.teams = {key: _xmlid(env, f"crm_team_{key}_demo").id for key in TEAMS}
        self.tags = {key: _xmlid(env, xmlid).id for key, xmlid in TAGS.items()}
        self.lost_reasons = {
            key: _xmlid(env, xmlid).id for key, xmlid in LOST_REASONS.items()
        }
        self.activity_types = {
            kind: _xmlid(env, xmlid).with_context(lang="en_US")
            for kind, xmlid in ACTIVITY_TYPES.items()
        }
        self.company = _xmlid(env, "base.main_company")

    def write_story(self, story):
        leads = self.write_leads(story.leads)
        pairs = list(zip(story.leads, leads, strict=True))
        self.write_history(pairs)
        self.write_checks(pairs)
        self.write_activity_logs(pairs)
        self.write_messages(pairs)
        self.write_next_activities(pairs)
        self.write_targets(story.targets)
        self.write_snapshots(story.snapshots, pairs)
        if story.calls:
            self.write_calls(story.calls, story.calendar)
        if story.installed_base:
            InstalledBaseWriter(self).write_installed_base(
                story.installed_base, pairs, CATEGORIES
            )

    # the story's minutes and days are relative to today
    def moment(self, minutes):
        return self.midnight + timedelta(minutes=minutes)

    def day(self, days):
        return self.midnight.date() + timedelta(days=days)

    def name_records(self, records, names):
        self.env["ir.model.data"]._update_xmlids(
            [
                {"xml_id": f"{MODULE}.{name}", "record": record, "noupdate": True}
                for record, name in zip(records, names, strict=True)
            ]
        )

    def write_leads(self, story_leads):
        """The opportunities, as they stand today.

        :return: crm.lead records, in the order of ``story_leads``
        """
        vals_list = []
        for lead in story_leads:
            rep = lead.rep
            vals = {
                "name": lead.name,
                "type": "opportunity",
                "partner_id": lead.customer.key,
                "user_id": self.users[rep.key].id,
                "team_id": self.teams[rep.team],
                "stage_id": self.stages[lead.stage],
                "tag_ids": [Command.set([self.tags[tag] for tag in lead.tags])],
                "priority": lead.priority,
                "expected_revenue": lead.revenue,
                "probability": lead.probability,
                "create_date": self.moment(lead.created),
                "date_open": self.moment(lead.created),
                "date_last_stage_update": self.moment(lead.date_last_stage_update),
                "description": Markup("<p>%s (%s): %s.</p>")
                % (lead.contact, lead.function, lead.offer.spec),
            }
            if lead.deadline is not None:
                vals["date_deadline"] = self.day(lead.deadline)
            if lead.pushes:
                vals["deadline_push_count"] = lead.pushes
            if lead.backward_moves:
                vals["backward_move_count"] = lead.backward_moves
            if lead.date_closed is not None:
                vals["date_closed"] = self.moment(lead.date_closed)
            if lead.is_lost:
                vals["active"] = False
                vals["lost_reason_id"] = self.lost_reasons[lead.lost_reason]
            if lead.category:
                vals["forecast_category_override"] = lead.category
            vals_list.append(vals)
        leads = self.env["crm.lead"].create(vals_list)
        self.name_records(leads, [lead.xmlid for lead in story_leads])
        return leads

    def write_history(self, pairs):
        vals_list = []
        for lead, record in pairs:
            for row in lead.rows:
                vals = {
                    "lead_id": record.id,
                    "event": row.event,
                    "stage_from_id": row.stage_from and self.stages[row.stage_from],
                    "stage_id": self.stages[row.stage],
                    "date_in": self.moment(row.date_in),
                    "user_id": self.users[lead.rep.key].id,
                    "team_id": self.teams[lead.rep.team],
                    "moved_by_id": self.users[row.moved_by].id,
                    "company_id": self.company.id,
                    "expected_revenue": row.revenue,
                    "probability": row.probability,
                    "forecast_category": CATEGORY[row.stage],
                    "is_backward": row.backward,
                    "gate_waived": bool(row.waive_reason),
                    "waive_reason": row.waive_reason,
                }
                if row.date_out is not None:
                    days = Decimal(row.date_out - row.date_in) / DAY
                    vals.update(
                        date_out=self.moment(row.date_out),
                        days_in_stage=float(
                            days.quantize(Decimal("0.1"), ROUND_HALF_UP)
                        ),
                        is_open=False,
                    )
                vals_list.append(vals)
        History = self.env["funnel.stage.history"]
        History.create(vals_list)
        History._fill_pass_columns()

    def write_checks(self, pairs):
        """Exit criteria checks: met (with evidence), waived (with a reason) or
        still to do; those of the current stage are current."""
        vals_list = []
        for lead, record in pairs:
            for check in lead.checks.values():
                vals = {
                    "lead_id": record.id,
                    "criterion_id": self.criteria[check.stage, check.criterion],
                    "state": check.state,
                    "is_current": check.stage == lead.stage,
                }
                if check.state == "met":
                    vals.update(
                        evidence=check.evidence or False,
                        done_by_id=self.users[check.by].id,
                        done_date=self.moment(check.date),
                    )
                elif check.state == "waived":
                    vals.update(
                        waived_by_id=self.users[check.by].id,
                        waived_date=self.moment(check.date),
                        waive_reason=check.waive_reason,
                    )
                vals_list.append(vals)
        self.env["funnel.lead.check"].create(vals_list)

    def write_activity_logs(self, pairs):
        """The visits, calls, e-mails, meetings and demos done, each in the stage
        of its moment."""
        vals_list = []
        for lead, record in pairs:
            for activity in lead.activities:
                vals_list.append(
                    {
                        "lead_id": record.id,
                        "user_id": self.users[lead.rep.key].id,
                        "stage_id": self.stages[activity.stage],
                        "activity_type_id": self.activity_types[activity.kind].id,
                        "date": self.moment(activity.date),
                        "duration": activity.duration,
                        "outcome": activity.outcome,
                        "summary": activity.summary,
                        "note": activity.feedback or False,
                        "next_step": activity.next_step or False,
                        "source": "done",
                    }
                )
        self.env["funnel.activity.log"].create(vals_list)

    def write_messages(self, pairs):
        """The chatter: a done activity for each logged one, and the notes."""
        note = self.env.ref("mail.mt_note").id
        done = self.env.ref("mail.mt_activities").id
        # the reply-to that mail.message would ask of each record one message at
        # a time: asked once per author for all of them
        records = self.env["crm.lead"].browse([record.id for __, record in pairs])
        reply_to = {}

        def reply_to_of(author, record):
            if author not in reply_to:
                reply_to[author] = records.sudo()._notify_get_reply_to(
                    default=self.env["res.partner"].browse(author).email_formatted
                )
            return reply_to[author][record.id]

        vals_list = []
        for lead, record in pairs:
            entries = [(message.date, message) for message in lead.messages]
            entries += [(activity.date, activity) for activity in lead.activities]
            for moment, entry in sorted(entries, key=lambda pair: pair[0]):
                vals = {
                    "model": "crm.lead",
                    "res_id": record.id,
                    "date": self.moment(moment),
                }
                if isinstance(entry, Message):
                    vals.update(
                        author_id=self.users[entry.author].partner_id.id,
                        message_type="comment",
                        subtype_id=note,
                        body=Markup("<p>%s. %s</p>") % (entry.summary, entry.feedback),
                    )
                else:
                    activity_type = self.activity_types[entry.kind]
                    body = Markup("<p>%s done: %s</p>") % (
                        activity_type.name,
                        entry.summary,
                    )
                    if entry.feedback:
                        body += Markup("<p>Feedback: %s</p>") % entry.feedback
                    vals.update(
                        author_id=self.users[lead.rep.key].partner_id.id,
                        message_type="notification",
                        subtype_id=done,
                        mail_activity_type_id=activity_type.id,
                        body=body,
                    )
                vals["reply_to"] = reply_to_of(vals["author_id"], record)
                vals_list.append(vals)
        self.env["mail.message"].create(vals_list)

    def write_next_activities(self, pairs):
        """The next activity planned on open opportunities."""
        model = self.env["ir.model"]._get_id("crm.lead")
        vals_list = [
            {
                "res_model_id": model,
                "res_id": record.id,
                "activity_type_id": self.activity_types[lead.next_step[0]].id,
                "summary": lead.next_step[1],
                "date_deadline": self.day(lead.next_step[2]),
                "user_id": self.users[lead.rep.key].id,
            }
            for lead, record in pairs
            if lead.next_step
        ]
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(
            vals_list
        )

    def write_targets(self, targets):
        records = self.env["funnel.target"].create(
            [
                {
                    "user_id": target.rep and self.users[target.rep].id,
                    "team_id": target.team and self.teams[target.team],
                    "period": target.period,
                    "date_from": target.date_from,
                    "amount": target.amount,
                    "company_id": self.company.id,
                }
                for target in targets
            ]
        )
        self.name_records(records, [target.xmlid for target in targets])

    def write_snapshots(self, snapshots, pairs):
        """The weekly forecast snapshots; the quarterly reviews were taken by the
        manager, the others by the scheduled job."""
        record_of = {lead.number: record for lead, record in pairs}
        Snapshot = self.env["funnel.forecast.snapshot"].sudo()
        records = Snapshot.create(
            [
                {
                    "date": self.day(snapshot.day),
                    "taken_at": self.moment(snapshot.moment),
                    "company_id": self.company.id,
                    "user_id": self.users[MANAGER].id
                    if snapshot.week % 13 == 0
                    else self.env.ref("base.user_root").id,
                    "kind": "manual" if snapshot.week % 13 == 0 else "scheduled",
                }
                for snapshot in snapshots
            ]
        )
        self.name_records(records, [snapshot.xmlid for snapshot in snapshots])
        self.env["funnel.forecast.snapshot.line"].sudo().create(
            [
                {
                    "snapshot_id": record.id,
                    "date": record.date,
                    "lead_id": record_of[line.lead.number].id,
                    "user_id": self.users[line.lead.rep.key].id,
                    "team_id": self.teams[line.lead.rep.team],
                    "stage_id": self.stages[line.stage],
                    "date_deadline": line.deadline is not None
                    and self.day(line.deadline),
                    "expected_revenue": line.revenue,
                    "probability": line.probability,
                    "stage_win_rate": WIN_RATE[line.stage],
                    "historical_win_rate": line.historical,
                    "forecast_category": line.category,
                }
                for snapshot, record in zip(snapshots, records, strict=True)
                for line in snapshot.lines
            ]
        )

    def write_calls(self, calls, calendar):
        """The reps' weekly forecast calls, then the manager's adjustments, with
        the system's figures of their moment (see demo_story.calls)."""
        Submission = self.env["funnel.forecast.submission"].sudo()

        def values(call):
            user = self.users[call.rep.key]
            figures = call.figures
            return {
                "user_id": user.id,
                "team_id": self.teams[call.rep.team],
                "company_id": self.company.id,
                "submitted_by_id": user.id,
                "date": self.moment(call.moment),
                "period_type": "month",
                "period_start": calendar.month_start(call.month),
                "commit_amount": call.commit,
                "best_case_amount": call.best_case,
                "note": call.note,
                "system_won": figures["won"],
                "system_commit": figures["commit"],
                "system_best_case": figures["best_case"],
                "system_pipeline": figures["pipeline"],
                "system_weighted_probability": figures["probability"],
                "system_weighted_stage": figures["stage"],
                "system_weighted_historical": figures["history"],
            }

        records = Submission._load_calls([values(call) for call in calls])
        adjusted = [
            (call, record)
            for call, record in zip(calls, records, strict=True)
            if call.adjustment
        ]
        manager = self.users[MANAGER].id
        Submission._load_calls(
            [
                {
                    **values(call),
                    "submission_id": record.id,
                    "submitted_by_id": manager,
                    "date": self.moment(call.adjustment[0]),
                    "commit_amount": call.adjustment[1],
                    "best_case_amount": call.adjustment[2],
                    "note": call.adjustment[3],
                }
                for call, record in adjusted
            ]
        )
