from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class FunnelLeadImport(models.TransientModel):
    _name = "funnel.lead.import"
    _description = "Import Opportunities Past the Gates"

    reason = fields.Text(
        required=True,
        help="Why the imported opportunities may start in their stage although "
        "the exit criteria of the stages before it are not met, e.g. the pipeline "
        "of a team that starts using the funnel. Given once for the whole file.",
    )

    def action_open_import(self):
        """Open the import of opportunities, every row of which that starts past
        the gates of its stage is waived with the reason (the default of the
        non-stored field ``funnel_waive_reason``, which the creation reads)."""
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._(
                    "Only a sales manager can import opportunities past the gates."
                )
            )
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(
                self.env._(
                    "Give the reason for starting the opportunities past the gates."
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "import",
            "name": self.env._("Import Opportunities Past the Gates"),
            "params": {
                "active_model": "crm.lead",
                # only the reason: a default type would reach the partners the
                # import creates too
                "context": {"default_funnel_waive_reason": reason},
            },
        }
