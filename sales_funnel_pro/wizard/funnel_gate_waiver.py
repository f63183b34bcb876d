from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class FunnelGateWaiver(models.TransientModel):
    _name = "funnel.gate.waiver"
    _description = "Advance Opportunities Past Their Gates"

    lead_ids = fields.Many2many(
        "crm.lead", string="Opportunities", required=True, readonly=True
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Move To",
        required=True,
        default=lambda self: self._default_stage_id(),
    )
    reason = fields.Text(required=True, help="Why the opportunity may advance anyway.")
    unmet_summary = fields.Text(
        string="Unmet Criteria", compute="_compute_unmet_summary"
    )

    @api.model
    def _default_stage_id(self):
        """The stage after the furthest current stage of the opportunities."""
        leads = self.env["crm.lead"].browse(self.env.context.get("default_lead_ids"))
        if not leads.stage_id:
            return False
        rank = self.env["crm.stage"]._funnel_rank()
        highest = max(rank[stage.id] for stage in leads.stage_id)
        stages = self.env["crm.stage"].search(
            [("team_id", "in", [False, *leads.team_id.ids])]
        )
        return next((stage for stage in stages if rank[stage.id] > highest), False)

    @api.depends("lead_ids", "stage_id")
    def _compute_unmet_summary(self):
        for wizard in self:
            if not wizard.stage_id:
                wizard.unmet_summary = False
                continue
            unmet = wizard.lead_ids._funnel_unmet_criteria(wizard.stage_id)
            wizard.unmet_summary = "\n\n".join(
                f"{lead.name}\n{lead._funnel_criteria_text(criteria)}"
                for lead, criteria in unmet.items()
            ) or self.env._("Nothing to waive: all exit criteria are met.")

    def action_confirm(self):
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only a sales manager can advance an opportunity anyway.")
            )
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason for advancing anyway."))
        rank = self.env["crm.stage"]._funnel_rank()
        behind = self.lead_ids.filtered(
            lambda lead: not lead.stage_id
            or rank[lead.stage_id.id] >= rank[self.stage_id.id]
        )
        if behind:
            raise UserError(
                self.env._(
                    "“%(stage)s” is not later than the current stage of: "
                    "%(leads)s. Move back with a simple drag instead.",
                    stage=self.stage_id.name,
                    leads=", ".join(behind.mapped("name")),
                )
            )
        self.lead_ids._funnel_waive_and_move(self.stage_id, reason)
        return {"type": "ir.actions.act_window_close"}
