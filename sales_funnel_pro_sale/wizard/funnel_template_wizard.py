from odoo import models


class FunnelTemplateWizard(models.TransientModel):
    _inherit = "funnel.template.wizard"

    def _apply_template_criterion(self, stage, key, name, guidance, kind, target):
        # "Quotation sent" is met by a real quotation of the opportunity
        if key == "quotation":
            kind = "quotation"
        return super()._apply_template_criterion(
            stage, key, name, guidance, kind, target
        )
