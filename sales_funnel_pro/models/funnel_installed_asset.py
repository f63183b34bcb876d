from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

LIFE_PHASES = [
    ("early", "Early Life"),
    ("mid", "Mid Life"),
    ("late", "Late Life"),
    ("end_of_life", "End of Life"),
    ("retired", "Retired"),
]
# the phases with a plan of their own on the category (plan_<phase>_id) and a
# flag on the asset saying it was launched (plan_<phase>_done)
PLAN_PHASES = ("early", "mid", "late")
CONDITIONS = [
    ("good", "Good"),
    ("attention", "Needs Attention"),
    ("poor", "Poor"),
]
WORKLOAD_FITS = [
    ("under", "Under-used"),
    ("fits", "Fits"),
    ("over", "Over-used"),
]


def life_phase(today, install_date, end_of_life_date, early_pct, late_pct, retired):
    """The life phase of an asset on ``today``: age ÷ lifetime below the early
    limit is early, below the late limit mid, below 100 % late, then end of
    life. The same rule in SQL is ``FunnelInstalledAsset._life_phase_sql``."""
    if retired:
        return "retired"
    if not install_date or not end_of_life_date:
        return "early"
    if today >= end_of_life_date:
        return "end_of_life"
    age = (today - install_date).days * 100
    lifetime = (end_of_life_date - install_date).days
    if age >= late_pct * lifetime:
        return "late"
    if age >= early_pct * lifetime:
        return "mid"
    return "early"


class FunnelInstalledAsset(models.Model):
    """A piece of equipment installed at a customer, ours or a competitor's: its
    age gives its life phase, each phase its care playbook, and its late life a
    replacement opportunity."""

    _name = "funnel.installed.asset"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Installed Asset"
    _order = "install_date desc, id desc"
    _check_company_auto = True

    # ------------------------------------------------------------
    # Identity
    # ------------------------------------------------------------
    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        help="The customer who owns the equipment.",
    )
    contact_id = fields.Many2one(
        "res.partner",
        string="Equipment User",
        check_company=True,
        help="The contact of the customer who uses the equipment.",
    )
    category_id = fields.Many2one(
        "funnel.asset.category",
        string="Category",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    brand = fields.Char(help="The maker of the equipment, ours or a competitor.")
    is_competitor = fields.Boolean(
        string="Competitor Product",
        help="Made by a competitor: its end of life is a conquest opportunity.",
    )
    model_name = fields.Char(string="Model")
    serial_no = fields.Char(
        string="Serial Number",
        index="btree_not_null",
        help="Unique per company and brand.",
    )
    country_id = fields.Many2one(
        related="partner_id.country_id", store=True, string="Country"
    )
    state_id = fields.Many2one(
        related="partner_id.state_id", store=True, string="Region"
    )

    # ------------------------------------------------------------
    # Life
    # ------------------------------------------------------------
    install_date = fields.Date(required=True, tracking=True)
    warranty_end_date = fields.Date(string="Warranty End")
    lifetime_months = fields.Integer(
        string="Lifetime (months)",
        compute="_compute_lifetime_months",
        store=True,
        readonly=False,
        precompute=True,
        help="The useful life from the installation; the category's by default.",
    )
    end_of_life_date = fields.Date(
        string="End of Life",
        compute="_compute_end_of_life_date",
        store=True,
        index=True,
        help="Installation date + lifetime.",
    )
    age_months = fields.Integer(
        string="Age (months)",
        compute="_compute_age_months",
        help="Months since installation.",
    )
    retired_date = fields.Date(
        string="Retired On", copy=False, help="Taken out of service on this date."
    )
    life_phase = fields.Selection(
        LIFE_PHASES,
        compute="_compute_life_phase",
        store=True,
        index=True,
        tracking=True,
        help="Age ÷ lifetime below the category's early limit: early life; below its "
        "late limit: mid life; below 100 %: late life; then end of life. Brought up "
        "to date every night.",
    )
    condition = fields.Selection(CONDITIONS, default="good", tracking=True)
    workload_fit = fields.Selection(
        WORKLOAD_FITS, help="Does the equipment fit the customer's workload?"
    )
    replacement_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_replacement_value",
        store=True,
        readonly=False,
        precompute=True,
        help="What replacing it is worth; the category's by default.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    # ------------------------------------------------------------
    # People and links
    # ------------------------------------------------------------
    care_user_id = fields.Many2one(
        "res.users",
        string="Care Owner",
        index=True,
        tracking=True,
        domain=[("share", "=", False)],
        help="Who looks after the customer's equipment after the sale.",
    )
    sales_user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        compute="_compute_sales_user_id",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
        domain=[("share", "=", False)],
        help="The account's salesperson (the customer's by default).",
    )
    origin_lead_id = fields.Many2one(
        "crm.lead",
        string="Sold By",
        index="btree_not_null",
        check_company=True,
        help="The won opportunity that sold it.",
    )
    lead_ids = fields.Many2many(
        "crm.lead",
        "funnel_installed_asset_crm_lead_rel",
        "asset_id",
        "lead_id",
        string="Opportunities",
        help="The opportunities this asset opened (replacement, upgrade).",
    )
    lead_count = fields.Integer(
        string="Opportunities Count", compute="_compute_lead_count"
    )
    last_care_date = fields.Datetime(
        readonly=True, copy=False, help="The latest care activity logged on it."
    )
    # launched once: the plan of each phase, and the late life's action
    plan_early_done = fields.Boolean(copy=False, readonly=True)
    plan_mid_done = fields.Boolean(copy=False, readonly=True)
    plan_late_done = fields.Boolean(copy=False, readonly=True)
    late_action_done = fields.Boolean(copy=False, readonly=True)

    @api.depends("category_id")
    def _compute_lifetime_months(self):
        for asset in self:
            if not asset.lifetime_months:
                asset.lifetime_months = asset.category_id.lifetime_months or 60

    @api.depends("install_date", "lifetime_months")
    def _compute_end_of_life_date(self):
        for asset in self:
            asset.end_of_life_date = asset.install_date and (
                asset.install_date + relativedelta(months=asset.lifetime_months or 0)
            )

    @api.depends("install_date")
    def _compute_age_months(self):
        today = fields.Date.context_today(self)
        for asset in self:
            if asset.install_date:
                delta = relativedelta(today, asset.install_date)
                asset.age_months = delta.years * 12 + delta.months
            else:
                asset.age_months = 0

    @api.depends(
        "install_date",
        "end_of_life_date",
        "retired_date",
        "category_id.early_until_pct",
        "category_id.late_from_pct",
    )
    def _compute_life_phase(self):
        today = fields.Date.context_today(self)
        for asset in self:
            asset.life_phase = life_phase(
                today,
                asset.install_date,
                asset.end_of_life_date,
                asset.category_id.early_until_pct,
                asset.category_id.late_from_pct,
                asset.retired_date,
            )

    @api.depends("category_id")
    def _compute_replacement_value(self):
        for asset in self:
            if not asset.replacement_value:
                asset.replacement_value = asset.category_id.replacement_value

    @api.depends("partner_id")
    def _compute_sales_user_id(self):
        for asset in self:
            if not asset.sales_user_id:
                asset.sales_user_id = asset.partner_id.commercial_partner_id.user_id

    def _compute_lead_count(self):
        counts = dict(
            self.env["crm.lead"]._read_group(
                [("asset_ids", "in", self.ids)], ["asset_ids"], ["__count"]
            )
        )
        for asset in self:
            asset.lead_count = counts.get(asset, 0)

    # ------------------------------------------------------------
    # Constraints: what the import refuses
    # ------------------------------------------------------------

    @api.constrains("install_date")
    def _check_install_date(self):
        today = fields.Date.context_today(self)
        for asset in self:
            if asset.install_date > today:
                raise ValidationError(
                    self.env._(
                        "The asset “%(name)s” cannot be installed in the future "
                        "(%(date)s).",
                        name=asset.name,
                        date=asset.install_date,
                    )
                )

    @api.constrains("lifetime_months")
    def _check_lifetime(self):
        for asset in self:
            if asset.lifetime_months <= 0:
                raise ValidationError(
                    self.env._(
                        "The lifetime of the asset “%(name)s” must be more than 0 "
                        "months (%(months)s given).",
                        name=asset.name,
                        months=asset.lifetime_months,
                    )
                )

    @api.constrains("install_date", "warranty_end_date")
    def _check_warranty(self):
        for asset in self:
            if asset.warranty_end_date and asset.warranty_end_date < asset.install_date:
                raise ValidationError(
                    self.env._(
                        "The warranty of the asset “%(name)s” cannot end (%(end)s) "
                        "before its installation (%(install)s).",
                        name=asset.name,
                        end=asset.warranty_end_date,
                        install=asset.install_date,
                    )
                )

    @api.constrains("serial_no", "brand", "company_id")
    def _check_serial_no(self):
        assets = self.filtered("serial_no")
        if not assets:
            return
        groups = self.with_context(active_test=False)._read_group(
            [("serial_no", "in", assets.mapped("serial_no"))],
            ["company_id", "serial_no", "brand"],
            ["id:array_agg"],
        )
        for company, serial_no, brand, ids in groups:
            if len(ids) > 1 and set(ids) & set(assets.ids):
                raise ValidationError(
                    self.env._(
                        "The serial number %(serial)s of the brand “%(brand)s” is "
                        "already used in %(company)s.",
                        serial=serial_no,
                        brand=brand or self.env._("no brand"),
                        company=company.name,
                    )
                )

    # ------------------------------------------------------------
    # Import
    # ------------------------------------------------------------

    @api.model
    def get_import_templates(self):
        return [
            {
                "label": self.env._("Import Template for the Installed Base"),
                "template": "/sales_funnel_pro/static/xls/funnel_installed_asset.xlsx",
            }
        ]

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_retire(self):
        self.write({"retired_date": fields.Date.context_today(self)})

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action.update(
            domain=[("asset_ids", "in", self.ids)],
            context={"active_test": False, "create": False},
        )
        return action

    def action_find_opportunity(self):
        self.ensure_one()
        return self.env["funnel.opportunity.found"]._open_for(asset=self)

    def action_log_care(self):
        self.ensure_one()
        return self.env["funnel.activity.log"]._care_log_action(
            self.partner_id, asset=self
        )
