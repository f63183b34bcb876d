from odoo import api, fields, models

from .funnel_job import JobKind


class FunnelJob(models.Model):
    _inherit = "funnel.job"

    kind = fields.Selection(
        selection_add=[("life_phase", "Life phases of the installed base")],
        ondelete={"life_phase": "cascade"},
    )

    @api.model
    def _kinds(self):
        return {
            **super()._kinds(),
            "life_phase": JobKind(
                "funnel.installed.asset",
                "_funnel_job_life_phases",
                "_funnel_job_life_phases_done",
                "steps",
                True,
                1,
            ),
        }
