from odoo import api, models

# units of a line proposed one by one as assets, at most
MAX_UNITS = 20


class FunnelHandoverWizard(models.TransientModel):
    _inherit = "funnel.handover.wizard"

    @api.model
    def _proposed_lines(self, lead):
        """The units of the confirmed orders' products mapped to an asset
        category, one line each; else the core's proposal."""
        lines = []
        for order in lead.order_ids.filtered(lambda o: o.state == "sale"):
            for line in order.order_line:
                category = line.product_id.product_tmpl_id.funnel_asset_category_id
                if not category:
                    continue
                units = max(int(line.product_uom_qty), 1)
                for __ in range(min(units, MAX_UNITS)):
                    lines.append(
                        {
                            "name": line.product_id.display_name,
                            "category_id": category.id,
                            "model_name": line.product_id.default_code or False,
                            "confirmed": True,
                        }
                    )
        return lines or super()._proposed_lines(lead)
