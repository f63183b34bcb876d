from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError


class FunnelOpportunityFound(models.TransientModel):
    """ "New opportunity found" (from an asset, a customer or a care log): always
    a new opportunity in the first stage for the account's salesperson, crediting
    the finder, with a "contact within N days" activity for the salesperson. It
    never reopens a lost one."""

    _name = "funnel.opportunity.found"
    _description = "New Opportunity Found"

    name = fields.Char(string="Opportunity", required=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    asset_id = fields.Many2one("funnel.installed.asset", string="Installed Asset")
    log_id = fields.Many2one("funnel.activity.log", string="Care Activity")
    source_id = fields.Many2one("utm.source", string="Source", required=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        domain=[("share", "=", False)],
        help="The account's salesperson by default.",
    )
    description = fields.Html(string="What Was Found")
    expected_revenue = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id
    )
    contact_days = fields.Integer(
        string="Contact Within (days)",
        default=3,
        help="The salesperson gets an activity to contact the customer within these "
        "days.",
    )

    @api.model
    def _open_for(self, partner=None, asset=None, log=None):
        partner = (partner or asset.partner_id).commercial_partner_id
        if asset:
            source = self.env.ref("sales_funnel_pro.utm_source_installed_base")
        else:
            source = self.env.ref("sales_funnel_pro.utm_source_after_sales_care")
        wizard = self.create(
            {
                "partner_id": partner.id,
                "asset_id": asset.id if asset else False,
                "log_id": log.id if log else False,
                "source_id": source.id,
                "user_id": ((asset and asset.sales_user_id) or partner.user_id).id
                or False,
                "name": self.env._(
                    "%(customer)s: %(what)s",
                    customer=partner.name,
                    what=asset.name if asset else self.env._("new need"),
                ),
                "expected_revenue": asset.replacement_value if asset else 0.0,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Opportunity Found"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def action_create(self):
        self.ensure_one()
        if self.contact_days < 0:
            raise UserError(
                self.env._("The days to contact the customer cannot be negative.")
            )
        user = self.user_id
        lead = (
            self.env["crm.lead"]
            .sudo()
            .create(
                {
                    "name": self.name,
                    "type": "opportunity",
                    "partner_id": self.partner_id.id,
                    "user_id": user.id or False,
                    "team_id": user.sale_team_id.id or False,
                    "source_id": self.source_id.id,
                    "referred_by_id": self.env.uid,
                    "description": self.description,
                    "expected_revenue": self.expected_revenue,
                    "asset_ids": [fields.Command.set(self.asset_id.ids)],
                    "company_id": (self.asset_id.company_id or self.env.company).id,
                }
            )
        )
        lead.activity_schedule(
            "mail.mail_activity_data_call",
            date_deadline=fields.Date.context_today(self)
            + timedelta(days=self.contact_days),
            summary=self.env._(
                "Contact the customer: found by %(finder)s", finder=self.env.user.name
            ),
            user_id=user.id or self.env.uid,
        )
        finder = self.env._(
            "New opportunity found by %(finder)s: %(lead)s",
            finder=self.env.user.name,
            lead=lead.name,
        )
        lead.message_post(body=Markup("%s") % finder)
        (self.asset_id or self.partner_id).sudo().message_post(
            body=Markup("%s") % finder
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": lead.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
