from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.sql import index_exists

from .crm_lead import MAX_NAMED_LEADS
from .crm_stage import LEAD_FORECAST_CATEGORIES

# what a salesperson may choose instead of the stage's forecast category
FORECAST_OVERRIDES = [
    ("pipeline", "Pipeline"),
    ("best_case", "Best Case"),
    ("commit", "Commit"),
    ("omitted", "Omitted"),
]
# owner of the opportunities without salesperson in the forecast's indexes
NO_OWNER = -1
# see CrmLead._funnel_forecast_condition
ROW_COST_FUNCTION = "funnel_forecast_row_cost"


class CrmLead(models.Model):
    """The forecast of the opportunity: its forecast category (the stage's, unless
    its salesperson chose another), the closing date pushes, the forecast board,
    and the indexes that the forecast report reads."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    forecast_category = fields.Selection(
        LEAD_FORECAST_CATEGORIES,
        compute="_compute_forecast_category",
        inverse="_inverse_forecast_category",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
        help="Forecast category of the opportunity: the one of its stage, unless "
        "its salesperson chose another; a won opportunity is always Closed, and an "
        "omitted one is left out of the forecast. Choosing the stage's own category "
        "follows the stage again.",
    )
    forecast_category_override = fields.Selection(
        FORECAST_OVERRIDES,
        string="Chosen Forecast Category",
        copy=False,
        help="The forecast category the salesperson chose, kept across stage "
        "changes until reset; empty when the opportunity follows its stage.",
    )
    deadline_push_count = fields.Integer(
        string="Closing Date Pushes",
        readonly=True,
        copy=False,
        help="How many times the expected closing date was moved later.",
    )
    forecast_date = fields.Date(
        string="Forecast Month",
        compute="_compute_forecast_date",
        inverse="_inverse_forecast_date",
        search="_search_forecast_date",
        help="The expected closing date as the forecast counts it: empty when the "
        "opportunity has none or one already past, as it needs a new date. Setting "
        "it sets the expected closing date.",
    )

    def _funnel_column_defaults(self):
        return {
            **super()._funnel_column_defaults(),
            "deadline_push_count": ("int4", 0),
            # filled from the stages after install (hooks.py) or upgrade (1.2);
            # empty until then, so that the versions of the rows that the fill
            # replaces stay out of the forecast's open index (see
            # _funnel_forecast_condition)
            "forecast_category": ("varchar", None),
            "forecast_category_override": ("varchar", None),
        }

    # ------------------------------------------------------------
    # Forecast category
    # ------------------------------------------------------------

    @api.depends(
        "stage_id.is_won", "stage_id.forecast_category", "forecast_category_override"
    )
    def _compute_forecast_category(self):
        for lead in self:
            if lead.stage_id.is_won:
                lead.forecast_category = "closed"
            else:
                lead.forecast_category = (
                    lead.forecast_category_override
                    or lead.stage_id.forecast_category
                    or "pipeline"
                )

    def _inverse_forecast_category(self):
        # A chosen category is kept as an override of the stage's. The override is
        # written into the values of the write (or create) being done, as that
        # write writes its own fields, so that choosing a category does not write
        # the opportunities a second time; its constraint is checked here.
        field = self._fields["forecast_category_override"]
        leads_by_override = defaultdict(self.browse)
        for lead in self:
            override = lead._funnel_category_override(lead.forecast_category)
            if override != lead.forecast_category_override:
                leads_by_override[override] |= lead
        changed = self.browse()
        for override, leads in leads_by_override.items():
            field.write(leads, override)
            changed |= leads
        if changed:
            changed.modified([field.name])
            changed._check_forecast_category_override()

    def _funnel_category_override(self, category):
        """The override the opportunity keeps when ``category`` is chosen for it:
        none when it is its stage's own category (it follows its stage again).

        :raise UserError: when the category contradicts the stage (a won
            opportunity is always Closed, and only a won one is)
        """
        self.ensure_one()
        stage = self.stage_id
        if stage.is_won:
            if category and category != "closed":
                raise UserError(
                    self.env._(
                        "A won opportunity is always in the Closed forecast category."
                    )
                )
            return self.forecast_category_override
        if not category or category == stage.forecast_category:
            return False
        if category == "closed":
            raise UserError(
                self.env._(
                    "Only won opportunities are in the Closed forecast category: "
                    "choose Commit, Best Case, Pipeline or Omitted."
                )
            )
        return category

    @api.model
    def _funnel_category_sql(self, lead="l", stage="s"):
        """The forecast category of opportunity ``lead`` in its stage ``stage``
        (table aliases), in SQL, as ``_compute_forecast_category`` gives it."""
        return SQL(
            "CASE WHEN %s THEN 'closed' ELSE COALESCE(%s, %s, 'pipeline') END",
            SQL.identifier(stage, "is_won"),
            SQL.identifier(lead, "forecast_category_override"),
            SQL.identifier(stage, "forecast_category"),
        )

    @api.constrains("forecast_category_override")
    def _check_forecast_category_override(self):
        """A category chosen for a won opportunity is refused (it is Closed; one
        chosen before it was won is kept for when it reopens); a salesperson
        chooses the category of their own opportunities only, a sales manager
        of any.

        :raise AccessError: naming the opportunities of others
        """
        chosen = self.filtered("forecast_category_override")
        if chosen.filtered("stage_id.is_won"):
            raise UserError(
                self.env._(
                    "A won opportunity is always in the Closed forecast category."
                )
            )
        self._funnel_check_category_owner()

    def _funnel_category_others(self):
        """The opportunities whose forecast category the user may not choose:
        a salesperson chooses it for their own opportunities only."""
        if self.env.su or self.env.user.has_group("sales_team.group_sale_manager"):
            return self.browse()
        return self.filtered(lambda lead: lead.user_id != self.env.user)

    def _funnel_check_category_owner(self):
        """:raise AccessError: naming the opportunities of others"""
        others = self._funnel_category_others()
        if others:
            raise AccessError(
                self.env._(
                    "You may only change the forecast category of your own "
                    "opportunities; ask a sales manager for: %(leads)s",
                    leads=", ".join(others[:MAX_NAMED_LEADS].mapped("name")),
                )
            )

    def _funnel_check_category_change(self, category):
        """Refuse, writing nothing, what choosing ``category`` for these
        opportunities would refuse (see ``_funnel_category_override`` and
        ``_check_forecast_category_override``)."""
        # of many opportunities, read these columns only
        self.fetch(["stage_id", "user_id"])
        self._funnel_check_category_owner()
        for lead in self:
            lead._funnel_category_override(category)

    def _funnel_category_refused(self, category):
        """The opportunities for which choosing ``category`` would be refused."""
        self.fetch(["stage_id", "user_id"])
        refused = self._funnel_category_others()
        for lead in self - refused:
            try:
                lead._funnel_category_override(category)
            except UserError:
                refused |= lead
        return refused

    # ------------------------------------------------------------
    # Forecast board
    # ------------------------------------------------------------

    @api.depends("date_deadline")
    @api.depends_context("tz")
    def _compute_forecast_date(self):
        today = fields.Date.context_today(self)
        for lead in self:
            deadline = lead.date_deadline
            lead.forecast_date = deadline if deadline and deadline >= today else False

    def _inverse_forecast_date(self):
        for lead in self:
            lead.date_deadline = lead.forecast_date

    def _search_forecast_date(self, operator, value):
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise UserError(
                self.env._(
                    "The forecast month cannot be searched with “%(operator)s”.",
                    operator=operator,
                )
            )
        today = fields.Date.context_today(self)
        if value is False or value is None:
            if operator == "=":
                return [
                    "|",
                    ("date_deadline", "=", False),
                    ("date_deadline", "<", today),
                ]
            if operator == "!=":
                return [("date_deadline", ">=", today)]
            return [(0, "=", 1)]
        if operator == "!=":
            return ["!", *self._search_forecast_date("=", value)]
        return ["&", ("date_deadline", operator, value), ("date_deadline", ">=", today)]

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        # the forecast month is computed in the query, so that the forecast board
        # groups the opportunities by it
        if fname != "forecast_date":
            return super()._field_to_sql(alias, fname, query, flush)
        deadline = super()._field_to_sql(alias, "date_deadline", query, flush)
        return SQL(
            "(CASE WHEN %s >= %s THEN %s END)",
            deadline,
            fields.Date.context_today(self),
            deadline,
        )

    @api.model
    @api.readonly
    def funnel_forecast_column_sums(self, domain, group_by):
        """Sums of the columns of the forecast board, keyed like the progress bars
        (see ``read_progress_bar``): the expected revenue in commit, best case and
        pipeline, and the expected revenue weighted by the win rate of the stage
        (omitted opportunities left out).

        :return: {"currency_id": id, "columns": {column key: {category: sum}}}
        """
        columns = {}
        groups = self.read_group(
            domain,
            ["expected_revenue:sum"],
            [group_by, "forecast_category", "stage_id"],
            lazy=False,
        )
        stage_ids = {group["stage_id"][0] for group in groups if group["stage_id"]}
        win_rates = {
            stage.id: stage.win_rate
            for stage in self.env["crm.stage"].browse(stage_ids)
        }
        for group in groups:
            value = group[group_by]
            key = str(value[0] if isinstance(value, tuple) else value)
            sums = columns.setdefault(
                key, dict.fromkeys(("commit", "best_case", "pipeline", "weighted"), 0.0)
            )
            category, amount = group["forecast_category"], group["expected_revenue"]
            if category in sums:
                sums[category] += amount
            if category != "omitted" and group["stage_id"]:
                sums["weighted"] += amount * win_rates[group["stage_id"][0]] / 100
        return {"currency_id": self.env.company.currency_id.id, "columns": columns}

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def write(self, vals):
        pushed = self.browse()
        if vals.get("date_deadline"):
            deadline = fields.Date.to_date(vals["date_deadline"])
            pushed = self.filtered(
                lambda lead: lead.date_deadline and lead.date_deadline < deadline
            )
        result = super().write(vals)
        pushed._funnel_increment("deadline_push_count")
        return result

    def action_reset_forecast_category(self):
        """Follow the stage's forecast category again."""
        self.write({"forecast_category_override": False})

    # ------------------------------------------------------------
    # Indexes of the forecast
    # ------------------------------------------------------------

    @api.model
    def _funnel_forecast_condition(self, kind, alias="l"):
        """The opportunities of the forecast's ``kind`` rows ("open" or "won"),
        in SQL on crm_lead as ``alias`` (None: bare columns, for the predicates
        of the indexes): the states of ``_funnel_state_sql``.

        The open ones also pass ``funnel_forecast_row_cost``, true for any
        category, at the price that reading the category from the table has:
        PostgreSQL does not count the cost of reaching the last columns of a row
        (the module's, such as the category), and would read the table rather
        than the index that implies this condition. The function is strict: an
        opportunity without category (only while the install fills them) is
        not in the open index, which the install then builds from the rows it
        has just written alone.
        """
        condition = self._funnel_state_sql(kind, alias)
        if kind != "open":
            return condition
        category = (
            SQL.identifier(alias, "forecast_category")
            if alias
            else SQL.identifier("forecast_category")
        )
        return SQL(
            "(%s AND %s(%s) IS NOT NULL)",
            condition,
            SQL.identifier(ROW_COST_FUNCTION),
            category,
        )

    @api.model
    def _funnel_forecast_indexes(self):
        """The indexes of crm_lead that the forecast's branches of opportunities
        are read from, without reading the table (index-only scans): one per
        branch, restricted to its opportunities, keyed by owner (the
        salesperson's record rule) and date (the period filters), and including
        every other column that the branch reads. ``{name: (kind, keys,
        included)}``; a changed definition needs a new name (see
        ``_funnel_create_forecast_indexes``)."""
        owner = SQL("(COALESCE(user_id, %s))", NO_OWNER)
        common = [
            "id",
            "partner_id",
            "user_id",
            "team_id",
            "stage_id",
            "company_id",
            "forecast_category",
            "expected_revenue",
        ]
        return {
            "crm_lead_funnel_forecast_open_index": (
                "open",
                [owner, SQL("date_deadline")],
                [*common, "probability"],
            ),
            "crm_lead_funnel_forecast_won_index": (
                "won",
                [owner, SQL("(date_closed::date)")],
                [*common, "date_closed"],
            ),
        }

    @api.model
    def _funnel_create_forecast_indexes(self):
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                CREATE OR REPLACE FUNCTION %s(category varchar) RETURNS boolean
                LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000
                AS $$ BEGIN RETURN TRUE; END $$
                """,
                SQL.identifier(ROW_COST_FUNCTION),
            )
        )
        for name, (kind, keys, included) in self._funnel_forecast_indexes().items():
            if index_exists(cr, name):
                continue
            cr.execute(
                SQL(
                    "CREATE INDEX %s ON crm_lead (%s) INCLUDE (%s) WHERE %s",
                    SQL.identifier(name),
                    SQL(", ").join(keys),
                    SQL(", ").join(SQL.identifier(column) for column in included),
                    self._funnel_forecast_condition(kind, alias=None),
                )
            )

    @api.model
    def _funnel_drop_forecast_indexes(self, function=False):
        """Drop the forecast's indexes (and, uninstalling, the function of their
        condition, with whatever still uses it)."""
        for name in self._funnel_forecast_indexes():
            self.env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
        if function:
            self.env.cr.execute(
                SQL(
                    "DROP FUNCTION IF EXISTS %s(varchar) CASCADE",
                    SQL.identifier(ROW_COST_FUNCTION),
                )
            )

    def init(self):
        result = super().init()
        self._funnel_create_forecast_indexes()
        return result
