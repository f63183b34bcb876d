from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"  # pylint: disable=consider-merging-classes-inherited

    def _action_done(self, feedback=False, attachment_ids=None):
        """Log the activities done on a customer or an installed asset as care
        work (see ``funnel.activity.log``, ``is_care``)."""
        now = fields.Datetime.now()
        care = [
            activity
            for activity in self
            if activity.res_model in ("res.partner", "funnel.installed.asset")
            and activity.res_id
            and activity.activity_type_id
        ]
        assets = (
            self.env["funnel.installed.asset"]
            .sudo()
            .browse([a.res_id for a in care if a.res_model == "funnel.installed.asset"])
        )
        partner_of = {asset.id: asset.partner_id.id for asset in assets}
        context = self.env.context
        values_list = [
            {
                "partner_id": activity.res_id
                if activity.res_model == "res.partner"
                else partner_of.get(activity.res_id),
                "asset_id": activity.res_id
                if activity.res_model == "funnel.installed.asset"
                else False,
                "user_id": activity.user_id.id or self.env.uid,
                "activity_type_id": activity.activity_type_id.id,
                "date": now,
                "duration": context.get("funnel_log_duration")
                or activity.activity_type_id.default_duration
                or 1.0,
                "outcome": context.get("funnel_log_outcome") or "neutral",
                "summary": activity.summary or activity.activity_type_id.name,
                "note": feedback or False,
                "source": "care",
            }
            for activity in care
        ]
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        values_list = [v for v in values_list if v["partner_id"]]
        if values_list:
            self.env["funnel.activity.log"].sudo().create(values_list)
        return result
