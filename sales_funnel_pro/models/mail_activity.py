from odoo import api, fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    @api.model_create_multi
    def create(self, vals_list):
        activities = super().create(vals_list)
        activities._funnel_leads()._funnel_refresh_next_activity_state()
        return activities

    def write(self, vals):
        leads = self._funnel_leads()
        result = super().write(vals)
        if {"date_deadline", "res_id", "res_model", "active"} & vals.keys():
            (leads | self._funnel_leads())._funnel_refresh_next_activity_state()
        return result

    def unlink(self):
        leads = self._funnel_leads()
        result = super().unlink()
        leads._funnel_refresh_next_activity_state()
        return result

    def _funnel_leads(self):
        return self.env["crm.lead"].browse(
            list({a.res_id for a in self if a.res_model == "crm.lead" and a.res_id})
        )

    def _action_done(self, feedback=False, attachment_ids=None):
        """Log every activity done on an opportunity: one row each, in the stage
        of the opportunity at that moment, whatever the path (mark done, with or
        without feedback, done and schedule next).

        Duration and outcome come from the context keys ``funnel_log_duration``
        and ``funnel_log_outcome`` when the user gave them in the done dialog,
        otherwise the type's default duration and a neutral outcome.
        """
        context = self.env.context
        now = fields.Datetime.now()
        values_list = [
            {
                "lead_id": activity.res_id,
                "user_id": activity.user_id.id or self.env.uid,
                "activity_type_id": activity.activity_type_id.id,
                "date": now,
                "duration": context["funnel_log_duration"]
                if "funnel_log_duration" in context
                else (
                    activity.calendar_event_id._funnel_meeting_duration()
                    if activity.calendar_event_id
                    else activity.activity_type_id.default_duration
                )
                or 1.0,
                "outcome": context.get("funnel_log_outcome") or "neutral",
                "summary": activity.summary or activity.activity_type_id.name,
                "note": feedback or False,
                "source": "done",
                "calendar_event_id": activity.calendar_event_id.id or False,
            }
            for activity in self
            if activity.res_model == "crm.lead"
            and activity.res_id
            and activity.activity_type_id
        ]
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if values_list:
            self.env["funnel.activity.log"].sudo()._log_done_activities(values_list)
        return result
