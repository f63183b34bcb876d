from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from .crm_lead import LOAD_HISTORY_KEY


class CrmLead(models.Model):
    """The stage history of the opportunity: every stage it enters, and when it
    is won, lost or restored, is a row of ``funnel.stage.history``, written by
    that model (``_record_entries``, ``_record_moves``,
    ``_record_active_changes``)."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    stage_history_ids = fields.One2many(
        "funnel.stage.history", "lead_id", string="Stage History", copy=False
    )
    days_in_stage = fields.Integer(
        string="Days in Stage",
        compute="_compute_days_in_stage",
        help="Days since the opportunity entered its current stage.",
    )
    is_rotting = fields.Boolean(
        string="Rotting",
        compute="_compute_is_rotting",
        search="_search_is_rotting",
        help="The opportunity stays in its stage longer than the stage allows.",
    )
    backward_move_count = fields.Integer(
        string="Backward Moves",
        readonly=True,
        copy=False,
        help="How many times the opportunity went back to an earlier stage.",
    )

    def _funnel_column_defaults(self):
        return {**super()._funnel_column_defaults(), "backward_move_count": ("int4", 0)}

    @api.depends("date_last_stage_update")
    def _compute_days_in_stage(self):
        # whole seconds, while crm stamps a move with the transaction's time:
        # an opportunity moved within the current second is 0 days in its stage
        now = fields.Datetime.now()
        for lead in self:
            since = lead.date_last_stage_update
            lead.days_in_stage = max((now - since).days, 0) if since else 0

    @api.depends("days_in_stage", "active", "stage_id.rotting_days", "stage_id.is_won")
    def _compute_is_rotting(self):
        for lead in self:
            limit = lead.stage_id.rotting_days
            lead.is_rotting = bool(
                lead.active
                and limit
                and not lead.stage_id.is_won
                and lead.days_in_stage > limit
            )

    def _search_is_rotting(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Rotting."))
        now = fields.Datetime.now()
        stages = (
            self.env["crm.stage"]
            .sudo()
            .search([("rotting_days", ">", 0), ("is_won", "=", False)])
        )
        rotting = expression.OR(
            [
                [
                    ("stage_id", "=", stage.id),
                    (
                        "date_last_stage_update",
                        "<=",
                        now - timedelta(days=stage.rotting_days + 1),
                    ),
                ]
                for stage in stages
            ]
            or [expression.FALSE_DOMAIN]
        )
        rotting = expression.AND([[("active", "=", True)], rotting])
        if (operator == "=") == value:
            return rotting
        return ["!", *rotting]

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        if self.env.context.get(LOAD_HISTORY_KEY):
            return leads
        now = fields.Datetime.now()
        # an imported pipeline may say since when each opportunity is in its stage
        self.env["funnel.stage.history"]._record_entries(
            leads,
            {
                lead.id: fields.Datetime.to_datetime(vals.get("date_last_stage_update"))
                or now
                for lead, vals in zip(leads, vals_list, strict=True)
            },
        )
        return leads

    def write(self, vals):
        movers = toggled = self.browse()
        if "stage_id" in vals:
            movers = self.filtered(lambda lead: lead.stage_id.id != vals["stage_id"])
        old_stage_ids = {lead.id: lead.stage_id.id for lead in movers}
        if "active" in vals:
            toggled = self.filtered(lambda lead: lead.active != bool(vals["active"]))
        result = super().write(vals)
        History = self.env["funnel.stage.history"]
        now = fields.Datetime.now()
        if toggled:
            History._record_active_changes(toggled, now)
        if movers:
            backward = History._record_moves(movers, old_stage_ids, now)
            self.browse(backward)._funnel_increment("backward_move_count")
        self._funnel_refresh_pass_outcome(vals, movers | toggled)
        return result

    def _funnel_refresh_pass_outcome(self, vals, refreshed):
        """The outcome the stages passed carry reads, besides the stage and the
        active flag (``refreshed``: the opportunities whose history was just
        written, with their passes), the type of the opportunity and, once it is
        archived, its probability (a zero probability: lost)."""
        if "type" in vals:
            others = self - refreshed
        elif "probability" in vals:
            others = (self - refreshed).filtered(lambda lead: not lead.active)
        else:
            return
        self.env["funnel.stage.pass"]._refresh(others)

    def toggle_active(self):
        result = super().toggle_active()
        self.env["funnel.stage.history"]._sync_open_probability(self)
        return result

    @api.model
    def _funnel_restage(self, stage_map):
        """Put the opportunities of the stages of ``stage_map`` (stage id -> stage
        id, keeping the order of the stages) in their new stage as if they had
        always been there: no move is recorded and their dates stay; their stage
        history follows, and their checks are brought in line with the new stage.
        Carries a pipeline over to the funnel's stages (crm's demo opportunities).

        :return: the opportunities moved
        """
        leads = self.with_context(active_test=False).search(
            [("stage_id", "in", list(stage_map))]
        )
        if not leads:
            return leads
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l SET stage_id = m.new_id
                  FROM unnest(%s::int[], %s::int[]) AS m(old_id, new_id)
                 WHERE l.stage_id = m.old_id
                """,
                list(stage_map),
                list(stage_map.values()),
            )
        )
        leads.invalidate_recordset(["stage_id"])
        self.env["funnel.stage.history"]._restage(stage_map, leads)
        self.env.add_to_compute(self._fields["forecast_category"], leads)
        self.env["funnel.lead.check"]._sync(leads)
        return leads

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_open_stage_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pro.funnel_stage_history_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"search_default_group_by_lead": False}
        return action
