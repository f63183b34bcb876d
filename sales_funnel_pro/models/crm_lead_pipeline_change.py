from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import create_index

# what changed for an opportunity between a forecast snapshot and now, one kind
# per opportunity, in the order of precedence (see funnel.pipeline.change.report)
CHANGE_KINDS = [
    ("won", "Won"),
    ("lost", "Lost"),
    ("archived", "Archived"),
    ("new", "New"),
    ("moved_in", "Moved In"),
    ("moved_out", "Moved Out"),
    ("pulled_in", "Pulled In"),
    ("pushed_out", "Pushed Out"),
    ("category_up", "Category Up"),
    ("category_down", "Category Down"),
    ("amount_up", "Amount Up"),
    ("amount_down", "Amount Down"),
    ("unchanged", "Unchanged"),
]
SEARCH_OPERATORS = ("=", "!=", "in", "not in")
# the indexes of crm_lead that the pipeline change report reads: what was
# written since a snapshot (changed or new), what was converted since (new)
CHANGE_INDEXES = {
    "crm_lead_funnel_write_date_index": ("write_date", ""),
    "crm_lead_funnel_date_conversion_index": (
        "date_conversion",
        "date_conversion IS NOT NULL",
    ),
}


class CrmLead(models.Model):
    """What changed for the opportunity since last week: the change kind of the
    pipeline change report against the reference snapshot of its company (the
    latest snapshot at least a week old, else the oldest), shown on the forecast
    board and searched by its "Since Last Week" filter."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    funnel_change_kind = fields.Selection(
        [kind for kind in CHANGE_KINDS if kind[0] != "unchanged"],
        string="Change Since Last Week",
        compute="_compute_funnel_change_kind",
        search="_search_funnel_change_kind",
        help="What changed since the latest forecast snapshot at least a week old "
        "(the oldest snapshot when none is that old), as the Pipeline Changes "
        "report tells it: new, moved into or out of the snapshot's quarter, "
        "pulled in, pushed out, category up or down, amount up or down, won, "
        "lost or archived. Empty when nothing changed, or without snapshot.",
    )

    def _funnel_change_domain(self, companies):
        """The report's rows that tell a change since the reference snapshots of
        ``companies``."""
        Report = self.env["funnel.pipeline.change.report"]
        return [
            ("snapshot_id", "in", Report._reference_snapshots(companies).ids),
            ("change_kind", "!=", "unchanged"),
        ]

    def _compute_funnel_change_kind(self):
        # one read of the report for all the records (the reference snapshots:
        # one query more)
        leads = self.filtered("id")
        kinds = {}
        if leads:
            rows = (
                self.env["funnel.pipeline.change.report"]
                .sudo()
                .search_fetch(
                    [
                        *self._funnel_change_domain(self.env.companies),
                        ("lead_id", "in", leads.ids),
                    ],
                    ["lead_id", "change_kind"],
                    order="id",
                )
            )
            kinds = {row.lead_id.id: row.change_kind for row in rows}
        for lead in self:
            lead.funnel_change_kind = kinds.get(lead.id, False)

    def _search_funnel_change_kind(self, operator, value):
        if operator not in SEARCH_OPERATORS:
            raise UserError(
                self.env._(
                    "“Change Since Last Week” cannot be searched with “%(operator)s”.",
                    operator=operator,
                )
            )
        values = value if isinstance(value, list | tuple) else [value]
        negative = operator in ("!=", "not in")
        kinds = [kind for kind in values if kind]
        # "= False": no change, i.e. not among the changed ones
        if not kinds:
            negative = not negative
        domain = self._funnel_change_domain(self.env.companies)
        if kinds:
            domain.append(("change_kind", "in", kinds))
        Report = self.env["funnel.pipeline.change.report"].sudo()
        query = Report._search(domain)
        leads = query.subselect(f'"{Report._table}"."lead_id"')
        return [("id", "not in" if negative else "in", leads)]

    # ------------------------------------------------------------
    # Indexes
    # ------------------------------------------------------------

    def init(self):
        result = super().init()
        for name, (column, where) in CHANGE_INDEXES.items():
            create_index(self.env.cr, name, self._table, [column], where=where)
        return result

    @api.model
    def _funnel_drop_change_indexes(self):
        for name in CHANGE_INDEXES:
            self.env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
