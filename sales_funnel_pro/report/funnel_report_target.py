from odoo import api, fields, models
from odoo.models import parse_read_group_spec
from odoo.osv import expression

# the rows of a report that hold a team's target
TEAM_TARGET_ROWS = [("row_type", "=", "target"), ("user_id", "=", False)]
# what the target of a group is (see funnel_report_figures.GroupTarget)
TARGET_HELP = (
    "For a group with team targets (a team, or the whole company), each month "
    "counts its team target when the team has one, else the sum of the targets of "
    "the team's salespeople. Grouped by salesperson, each salesperson's targets: a "
    "team's target is no salesperson's."
)


class FunnelReportTarget(models.AbstractModel):
    """A report with target rows (``row_type`` "target"), read from the targets
    month by month (funnel.target.month): a salesperson's, or a team's (without
    salesperson). Their amounts are summed apart, so that a group counts each
    month once (see funnel_report_figures.GroupTarget).

    A team's target is no salesperson's: grouped by salesperson, the rows of the
    team targets are left out (no "None" salesperson carrying them); a team, or
    the whole company, counts them.
    """

    _name = "funnel.report.target"
    _inherit = "funnel.report.figures"
    _description = "Report Against Targets"

    company_currency = fields.Many2one("res.currency", string="Currency", readonly=True)
    target_amount = fields.Monetary(
        string="Salesperson Targets",
        currency_field="company_currency",
        readonly=True,
        help="Targets of the salespeople, spread evenly over the months of their "
        "period.",
    )
    team_target_amount = fields.Monetary(
        string="Team Targets",
        currency_field="company_currency",
        readonly=True,
        help="Targets of the sales teams, spread evenly over the months of their "
        "period. They are on rows without salesperson, which a grouping by "
        "salesperson leaves out: a team's target is no salesperson's.",
    )
    covered_target_amount = fields.Monetary(
        string="Salesperson Targets Within a Team Target",
        currency_field="company_currency",
        aggregator=None,
        readonly=True,
        help="Targets of salespeople for a month in which their team has a target.",
    )

    @api.model
    def _read_group(self, domain, groupby=(), *args, **kwargs):
        if any(parse_read_group_spec(spec)[0] == "user_id" for spec in groupby):
            domain = expression.AND(
                [domain, ["!", *expression.normalize_domain(TEAM_TARGET_ROWS)]]
            )
        return super()._read_group(domain, groupby, *args, **kwargs)
