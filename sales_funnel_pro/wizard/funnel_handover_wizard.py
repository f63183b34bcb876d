from collections import Counter

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError


class FunnelHandoverWizard(models.TransientModel):
    """Hand a won opportunity over to customer care: the delivered equipment
    becomes installed assets of the customer (one per confirmed line), a care
    owner looks after them, and their early-life plan starts.

    Running it again creates nothing twice: a line matching an asset the
    opportunity already sold (same category, name and serial number; each asset
    matching one line) is left out, and a plan already launched is not launched
    again.
    """

    _name = "funnel.handover.wizard"
    _description = "Hand Over to Customer Care"

    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", required=True, readonly=True
    )
    partner_id = fields.Many2one(related="lead_id.partner_id", string="Customer")
    care_user_id = fields.Many2one(
        "res.users",
        string="Care Owner",
        required=True,
        domain=[("share", "=", False)],
        help="Who looks after the customer from now on: by default its care owner, "
        "else the first member of the category's care team.",
    )
    launch_plan = fields.Boolean(
        string="Launch the Early-Life Plan",
        default=True,
        help="Schedule the category's early-life activities (technical exchange, "
        "customer care, regular callbacks) on the new assets.",
    )
    line_ids = fields.One2many(
        "funnel.handover.wizard.line", "wizard_id", string="Delivered Equipment"
    )

    @api.model
    def _open_for(self, lead):
        if not lead.stage_id.is_won or not lead.active:
            raise UserError(
                self.env._("Only a won opportunity is handed over to customer care.")
            )
        if not lead.partner_id:
            raise UserError(
                self.env._(
                    "Set the customer of the opportunity before handing it over."
                )
            )
        wizard = self.create(self._default_values(lead))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Hand Over to Customer Care"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    @api.model
    def _default_values(self, lead):
        """The care owner and the proposed lines (a bridge may propose more,
        e.g. from the confirmed order: ``_proposed_lines``)."""
        lines = self._proposed_lines(lead)
        categories = self.env["funnel.asset.category"].browse(
            [line["category_id"] for line in lines if line.get("category_id")]
        )
        customer = lead.partner_id.commercial_partner_id
        care_user = (
            customer.funnel_care_user_id
            or categories.care_team_id[:1].member_ids[:1]
            or categories.care_team_id[:1].user_id
            or lead.user_id
            or self.env.user
        )
        return {
            "lead_id": lead.id,
            "care_user_id": care_user.id,
            "line_ids": [fields.Command.create(line) for line in lines],
        }

    @api.model
    def _proposed_lines(self, lead):
        category = self.env["funnel.asset.category"].search(
            [("company_id", "in", [lead.company_id.id, False])], limit=1
        )
        return [
            {
                "name": lead.name,
                "category_id": category.id,
                "confirmed": True,
            }
        ]

    def action_hand_over(self):
        self.ensure_one()
        lead = self.lead_id
        lines = self.line_ids.filtered("confirmed")
        if not lines.category_id and lines:
            raise UserError(self.env._("Give each delivered asset its category."))
        customer = lead.partner_id.commercial_partner_id
        Asset = self.env["funnel.installed.asset"]
        existing = Asset.with_context(active_test=False).search(
            [("origin_lead_id", "=", lead.id)]
        )
        # each asset already sold by the opportunity stands for one line
        known = Counter(
            (a.category_id.id, a.name, a.serial_no or False) for a in existing
        )
        values = []
        for line in lines:
            key = (line.category_id.id, line.name, line.serial_no or False)
            if known[key]:
                known[key] -= 1
                continue
            values.append(
                {
                    "name": line.name,
                    "partner_id": customer.id,
                    "contact_id": line.contact_id.id or False,
                    "category_id": line.category_id.id,
                    "brand": line.brand,
                    "model_name": line.model_name,
                    "serial_no": line.serial_no,
                    "install_date": line.install_date,
                    "warranty_end_date": line.warranty_end_date,
                    "care_user_id": self.care_user_id.id,
                    "sales_user_id": lead.user_id.id or False,
                    "origin_lead_id": lead.id,
                    "company_id": (lead.company_id or self.env.company).id,
                }
            )
        assets = Asset.create(values)
        if self.launch_plan:
            to_plan = assets.filtered(
                lambda a: a.life_phase == "early"
                and a.category_id.plan_early_id
                and not a.plan_early_done
            )
            to_plan._launch_plan("early")
        if customer.funnel_care_user_id != self.care_user_id:
            customer.sudo().funnel_care_user_id = self.care_user_id
        first = not lead.handoff_date
        if first:
            lead.sudo().handoff_date = fields.Datetime.now()
        if assets or first:
            body = self._handover_message(assets)
            lead.message_post(body=body)
            customer.sudo().message_post(body=body)
        return {"type": "ir.actions.act_window_close"}

    def _handover_message(self, assets):
        items = Markup().join(
            Markup("<li>%s</li>") % asset.display_name for asset in assets
        )
        text = self.env._(
            "Handed over to customer care: %(user)s looks after %(count)s new assets.",
            user=self.care_user_id.name,
            count=len(assets),
        )
        return (
            Markup("%s<ul>%s</ul>") % (text, items) if assets else Markup("%s") % text
        )


class FunnelHandoverWizardLine(models.TransientModel):
    _name = "funnel.handover.wizard.line"
    _description = "Hand Over to Customer Care: Delivered Equipment"

    wizard_id = fields.Many2one(
        "funnel.handover.wizard", required=True, ondelete="cascade"
    )
    confirmed = fields.Boolean(
        string="Install", default=True, help="Install this line as an asset."
    )
    name = fields.Char(string="Asset", required=True)
    category_id = fields.Many2one("funnel.asset.category", string="Category")
    brand = fields.Char()
    model_name = fields.Char(string="Model")
    serial_no = fields.Char(string="Serial Number")
    contact_id = fields.Many2one("res.partner", string="Equipment User")
    install_date = fields.Date(required=True, default=fields.Date.context_today)
    warranty_end_date = fields.Date(string="Warranty End")
