from odoo import fields, models
from odoo.exceptions import AccessError, UserError

# set by the system only: a user may change the state and the evidence
AUDIT_FIELDS = {
    "lead_id",
    "is_current",
    "criterion_id",
    "done_by_id",
    "done_date",
    "waived_by_id",
    "waived_date",
    "waive_reason",
}
CHECK_STATES = [("todo", "To Do"), ("met", "Met"), ("waived", "Waived")]


class FunnelLeadCheck(models.Model):
    _name = "funnel.lead.check"
    _description = "Opportunity Exit Criterion Check"
    _order = "criterion_id, id"
    _rec_name = "criterion_id"

    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", required=True, ondelete="cascade", index=True
    )
    criterion_id = fields.Many2one(
        "funnel.stage.criterion", required=True, ondelete="cascade", index=True
    )
    stage_id = fields.Many2one(related="criterion_id.stage_id")
    kind = fields.Selection(related="criterion_id.kind")
    guidance = fields.Text(related="criterion_id.guidance")
    required = fields.Boolean(related="criterion_id.required")
    company_id = fields.Many2one(related="lead_id.company_id")
    is_current = fields.Boolean(
        string="Current Stage",
        readonly=True,
        help="The criterion belongs to the stage the opportunity is in.",
    )
    state = fields.Selection(CHECK_STATES, default="todo", required=True)
    evidence = fields.Text(help="What shows that the criterion is met.")
    done_by_id = fields.Many2one("res.users", string="Met By", readonly=True)
    done_date = fields.Datetime(string="Met On", readonly=True)
    waived_by_id = fields.Many2one("res.users", string="Waived By", readonly=True)
    waived_date = fields.Datetime(string="Waived On", readonly=True)
    waive_reason = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "lead_criterion_uniq",
            "unique(lead_id, criterion_id)",
            "An opportunity has one check per exit criterion.",
        ),
    ]

    def write(self, vals):
        if not self.env.su and AUDIT_FIELDS & vals.keys():
            raise UserError(
                self.env._(
                    "The opportunity, the criterion and who met or waived it are "
                    "recorded by the system; they cannot be changed."
                )
            )
        if "state" in vals and not self.env.su:
            self._check_manual_state(vals["state"])
            now = fields.Datetime.now()
            if vals["state"] == "met":
                vals.update(done_by_id=self.env.uid, done_date=now)
            elif vals["state"] == "todo":
                vals.update(
                    done_by_id=False,
                    done_date=False,
                    waived_by_id=False,
                    waived_date=False,
                    waive_reason=False,
                )
        if not self.env.su:
            self.lead_id.check_access("write")
        return super().write(vals)

    def _check_manual_state(self, state):
        """Refuse the state changes a user may not make by hand."""
        if state == "waived":
            raise UserError(
                self.env._(
                    "Criteria are waived through “Advance anyway”, which asks a "
                    "sales manager for a reason."
                )
            )
        automatic = self.filtered(lambda c: c.kind != "checklist")
        if automatic:
            raise UserError(
                self.env._(
                    "“%(criterion)s” is checked automatically from the opportunity; "
                    "it cannot be ticked by hand.",
                    criterion=automatic[0].criterion_id.name,
                )
            )
        waived = self.filtered(lambda c: c.state == "waived")
        if waived and not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._(
                    "Only a sales manager can undo the waiver of “%(criterion)s”.",
                    criterion=waived[0].criterion_id.name,
                )
            )

    def action_mark_met(self):
        self.write({"state": "met"})

    def action_reset(self):
        self.write({"state": "todo"})
