from odoo import api, fields, models
from odoo.exceptions import ValidationError

LATE_ACTIONS = [
    ("none", "Nothing"),
    ("activity", "Activity for the care owner"),
    ("lead", "Lead for inside sales"),
    ("opportunity", "Opportunity for the account's salesperson"),
]


class FunnelAssetCategory(models.Model):
    """A kind of equipment: how long it lives, where its life phases start, what
    each phase's playbook is, and what its late phase opens."""

    _name = "funnel.asset.category"
    _description = "Installed Asset Category"
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Empty: the category serves every company."
    )
    lifetime_months = fields.Integer(
        string="Lifetime (months)",
        required=True,
        default=60,
        help="The useful life of an asset of this category, from its installation; "
        "the default lifetime of its assets.",
    )
    early_until_pct = fields.Integer(
        string="Early Life Until (%)",
        required=True,
        default=33,
        help="An asset is in its early life while its age is below this share of its "
        "lifetime (guidance).",
    )
    late_from_pct = fields.Integer(
        string="Late Life From (%)",
        required=True,
        default=67,
        help="An asset is in its late life from this share of its lifetime until its "
        "end of life (introduce new products); between the two limits it is in mid "
        "life (usage and workload).",
    )
    plan_early_id = fields.Many2one(
        "mail.activity.plan",
        string="Early Life Plan",
        domain=[("res_model", "=", "funnel.installed.asset")],
        help="Launched once on each asset when it enters its early life.",
    )
    plan_mid_id = fields.Many2one(
        "mail.activity.plan",
        string="Mid Life Plan",
        domain=[("res_model", "=", "funnel.installed.asset")],
        help="Launched once on each asset when it enters its mid life.",
    )
    plan_late_id = fields.Many2one(
        "mail.activity.plan",
        string="Late Life Plan",
        domain=[("res_model", "=", "funnel.installed.asset")],
        help="Launched once on each asset when it enters its late life.",
    )
    late_action = fields.Selection(
        LATE_ACTIONS,
        string="On Late Life",
        required=True,
        default="none",
        help="What an asset entering its late life opens, once: an activity for its "
        "care owner, a lead for the inside sales team, or an opportunity for the "
        "account's salesperson closing at the end of life with the replacement value.",
    )
    late_team_id = fields.Many2one(
        "crm.team",
        string="Inside Sales Team",
        check_company=True,
        help="The team of the leads opened by the late life.",
    )
    late_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Late Life Activity",
        help="The activity scheduled for the care owner by the late life (default: "
        "a to-do).",
    )
    replacement_value = fields.Monetary(
        currency_field="currency_id",
        help="The default value of replacing an asset of this category: the expected "
        "revenue of its replacement opportunity and its replacement potential.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        help="The currency of the company, or of the current company.",
    )
    care_team_id = fields.Many2one(
        "crm.team",
        string="Care Team",
        check_company=True,
        help="The team whose members are the care owners proposed at hand-over.",
    )
    asset_count = fields.Integer(string="Assets", compute="_compute_asset_count")

    @api.depends("company_id")
    def _compute_currency_id(self):
        for category in self:
            category.currency_id = (
                category.company_id.currency_id or self.env.company.currency_id
            )

    def _compute_asset_count(self):
        counts = dict(
            self.env["funnel.installed.asset"]._read_group(
                [("category_id", "in", self.ids)], ["category_id"], ["__count"]
            )
        )
        for category in self:
            category.asset_count = counts.get(category, 0)

    @api.constrains("lifetime_months", "early_until_pct", "late_from_pct")
    def _check_limits(self):
        for category in self:
            if category.lifetime_months <= 0:
                raise ValidationError(
                    self.env._(
                        "The lifetime of the category “%(name)s” must be more than 0 "
                        "months.",
                        name=category.name,
                    )
                )
            if not 0 < category.early_until_pct < category.late_from_pct < 100:
                raise ValidationError(
                    self.env._(
                        "The life phase limits of the category “%(name)s” must be "
                        "0 < early < late < 100 %%.",
                        name=category.name,
                    )
                )

    def action_view_assets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pro.funnel_installed_asset_action"
        )
        action["domain"] = [("category_id", "=", self.id)]
        action["context"] = {"default_category_id": self.id}
        return action
