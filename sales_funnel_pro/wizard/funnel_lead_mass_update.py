from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from ..models.crm_lead import MAX_NAMED_LEADS
from ..models.crm_lead_forecast import FORECAST_OVERRIDES

CHANGES = [
    ("stage_move", "Move to Stage"),
    ("forecast_category", "Change Forecast Category"),
]


class FunnelLeadMassUpdate(models.TransientModel):
    """Move many opportunities to a stage, or change their forecast category,
    from the list's Action menu: what the list's multi-edit writes, through the
    same ``write``, and in a background job beyond the background threshold
    (the list's multi-edit would write them all in the request)."""

    _name = "funnel.lead.mass.update"
    _description = "Update Opportunities in Bulk"

    change = fields.Selection(CHANGES, required=True, default="stage_move")
    lead_ids = fields.Many2many(
        "crm.lead",
        string="Opportunities",
        required=True,
        readonly=True,
        # the selection as it is (reading it checks nothing of thousands of rows)
        context={"active_test": False},
    )
    lead_count = fields.Integer(string="Selected", compute="_compute_lead_count")
    in_background = fields.Boolean(compute="_compute_lead_count")
    stage_id = fields.Many2one("crm.stage", string="Move To")
    forecast_category = fields.Selection(FORECAST_OVERRIDES)

    @api.depends("lead_ids")
    def _compute_lead_count(self):
        Job = self.env["funnel.job"]
        for wizard in self:
            wizard.lead_count = len(wizard.lead_ids)
            wizard.in_background = Job._in_background(wizard.lead_count)

    def action_apply(self):
        """Write the change on the opportunities: at once up to the background
        threshold, with the gates and rules of ``write``; beyond, checked the
        same way first, then written by a background job."""
        self.ensure_one()
        leads = self.lead_ids
        values = self._values()
        # of many opportunities, read the columns that the record rules read only
        leads.fetch(["company_id", "user_id", "team_id"])
        leads.check_access("write")
        Job = self.env["funnel.job"]
        if not Job._in_background(len(leads)):
            leads.write(values)
            return {"type": "ir.actions.act_window_close"}
        Job._check_not_running(self.change, self.env.user)
        if self.change == "stage_move":
            # of many opportunities, read the columns the gates read only
            gate_fields = self.env["funnel.stage.criterion"]._funnel_gate_field_names()
            leads.fetch(["stage_id", "team_id", *gate_fields])
            leads._funnel_check_gates(self.stage_id)
        else:
            leads._funnel_check_category_change(self.forecast_category)
        job = Job._start(
            self.change,
            len(leads),
            target=self.env.user,
            records=leads,
            params={"values": values},
            name=self._describe(values, len(leads)),
        )
        return job._started_action()

    def _values(self):
        self.ensure_one()
        if self.change == "stage_move":
            if not self.stage_id:
                raise UserError(self.env._("Choose the stage to move them to."))
            return {"stage_id": self.stage_id.id}
        if not self.forecast_category:
            raise UserError(self.env._("Choose their forecast category."))
        return {"forecast_category": self.forecast_category}

    @api.model
    def _describe(self, values, count):
        count = formatLang(self.env, count, digits=0)
        if "stage_id" in values:
            return self.env._(
                "Move %(count)s opportunities to “%(stage)s”",
                count=count,
                stage=self.env["crm.stage"].browse(values["stage_id"]).name,
            )
        return self.env._(
            "Set the forecast category of %(count)s opportunities to %(category)s",
            count=count,
            category=dict(
                self._fields["forecast_category"]._description_selection(self.env)
            )[values["forecast_category"]],
        )

    # ------------------------------------------------------------
    # Background job (funnel.job, kinds stage_move and forecast_category)
    # ------------------------------------------------------------

    @api.model
    def _funnel_job_update(self, job, leads):
        """Write the change on a chunk of the opportunities. Those that changed
        since the job was started so that the change would be refused (a gate
        that blocks, a won opportunity, one that became another's) are left as
        they are and counted."""
        values = job.params["values"]
        existing = leads.exists()
        writable = existing._filtered_access("write")
        if "stage_id" in values:
            target = self.env["crm.stage"].browse(values["stage_id"])
            refused = self.env["crm.lead"].browse(
                [
                    lead.id
                    for lead, criteria in writable._funnel_unmet_criteria(
                        target
                    ).items()
                    if "block" in criteria.stage_id.mapped("gate_policy")
                ]
            )
        else:
            refused = writable._funnel_category_refused(values["forecast_category"])
        (writable - refused).write(values)
        skipped = (existing - writable) | refused
        named = len((job.result or {}).get("skipped_names") or [])
        job._add_result(
            skipped=len(leads) - len(existing) + len(skipped),
            skipped_names=skipped[: max(MAX_NAMED_LEADS - named, 0)].mapped("name"),
        )
        return len(leads)

    @api.model
    def _funnel_job_update_done(self, job):
        result = job.result or {}
        skipped = result.get("skipped", 0)
        lines = [
            self.env._(
                "%(change)s: done for %(count)s opportunities.",
                change=self._describe(job.params["values"], job.done),
                count=formatLang(self.env, job.done - skipped, digits=0),
            )
        ]
        if skipped:
            lines.append(
                self.env._(
                    "%(count)s were left as they are, as they could no longer be "
                    "changed (a gate, a won opportunity, access rights): "
                    "%(names)s",
                    count=formatLang(self.env, skipped, digits=0),
                    names=", ".join(result.get("skipped_names") or []),
                )
            )
        return "\n".join(lines)
