"""The pipeline change measure: the Pipeline Changes pivot as the wizard opens it
(salesperson × change kind, since last week's snapshot), over two snapshots of
the whole open pipeline, against stock's forecast pivot as CRM > Sales >
Forecast opens it, on the same database (as the other forecast measures)."""

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.osv import expression
from odoo.tools import SQL

from . import addon as addon_side
from . import stock as stock_side
from .common import ADDON, STOCK, compact_leads, maintain
from .webclient import pivot_request

PIPELINE_CHANGE_GOAL = 1.5  # change pivot against stock's forecast pivot

PIPELINE_CHANGE_PIVOT = (
    f"{ADDON}.funnel_pipeline_change_report_action",
    f"{ADDON}.funnel_pipeline_change_report_view_pivot",
)
# what changes between the two snapshots, per open opportunity (by id modulo
# 50): the expected closing date later or earlier, the amount up or down, the
# category up, won, lost, new (created after the first snapshot)
CHANGES = [
    ("date_deadline = date_deadline + 40", (0, 1)),
    ("date_deadline = date_deadline - 5", (2, 3)),
    ("expected_revenue = expected_revenue * 1.25", (4, 5)),
    ("expected_revenue = expected_revenue * 0.8", (6,)),
    ("forecast_category = 'commit'", (7,)),
    ("active = FALSE, probability = 0", (8,)),
    (
        "stage_id = %(won)s, forecast_category = 'closed', probability = 100, "
        "date_closed = now() AT TIME ZONE 'UTC'",
        (9,),
    ),
    ("create_date = now() AT TIME ZONE 'UTC'", (10,)),
]
NEW = 10  # the remainder of the new ones: not in the first snapshot


def make_changes(env, company_id, won_stage_id):
    """In the transaction of ``env``: two snapshots of the open pipeline of the
    company, one dated a week ago, then, after changing one open opportunity
    in five (see CHANGES), one now. Returns the first one's id (the snapshot
    that the pivot compares with now), its lines and the rows changed."""
    cr = env.cr
    company = env["res.company"].browse(company_id)
    # the seeded opportunities were created and written before the first
    # snapshot, a week ago
    cr.execute(
        "UPDATE crm_lead SET create_date = create_date - interval '8 days', "
        "write_date = write_date - interval '8 days', "
        "date_conversion = date_conversion - interval '8 days'"
    )
    (old,) = addon_side.take_snapshot(env, company).ids
    cr.execute(
        "UPDATE funnel_forecast_snapshot SET date = date - 7, "
        "taken_at = taken_at - interval '7 days' WHERE id = %s",
        [old],
    )
    cr.execute(
        "UPDATE funnel_forecast_snapshot_line SET date = date - 7 "
        "WHERE snapshot_id = %s",
        [old],
    )
    open_leads = env["crm.lead"]._funnel_state_sql("open", None)
    changed = 0
    for assignment, remainders in CHANGES:
        cr.execute(
            SQL(
                f"UPDATE crm_lead SET {assignment}, "
                "write_date = now() AT TIME ZONE 'UTC' "
                "WHERE %(open)s AND mod(id, 50) IN %(remainders)s",
                open=open_leads,
                remainders=remainders,
                won=won_stage_id,
            )
        )
        changed += cr.rowcount
    cr.execute(
        "DELETE FROM funnel_forecast_snapshot_line "
        "WHERE snapshot_id = %s AND mod(lead_id, 50) = %s",
        [old, NEW],
    )
    env.invalidate_all()
    addon_side.take_snapshot(env, company)
    cr.execute(
        "SELECT count(*) FROM funnel_forecast_snapshot_line WHERE snapshot_id = %s",
        [old],
    )
    return old, cr.fetchone()[0], changed


def prepare_pipeline_changes(db, context):
    """The snapshots and changes of ``make_changes`` on the addon's database,
    committed, then crm_lead compacted as stock's was (the changes rewrote
    it) and the snapshot lines analyzed; returns the first snapshot's id."""
    with Registry(db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        old, context["change_lines"], context["change_rows"] = make_changes(
            env, context["company"], context["stages"][-1]
        )
        cr.commit()
    compact_leads(db)
    maintain(db, "VACUUM ANALYZE funnel_forecast_snapshot_line")
    return old


def change_requests(stock, addon, old):
    """{side: request}: stock's forecast pivot as the manager opens it, the
    change pivot as the wizard opens it on snapshot ``old``."""
    change = pivot_request(addon.manager, *PIPELINE_CHANGE_PIVOT)
    change["domain"] = expression.AND([change["domain"], [("snapshot_id", "=", old)]])
    return {
        STOCK: pivot_request(
            stock.manager,
            *stock_side.FORECAST_PIVOT,
            skip=stock_side.FORECAST_MANAGER_SKIP,
        ),
        ADDON: change,
    }


def measure_pipeline_changes(stock, addon, context, args, old):
    """The change pivot on the addon since snapshot ``old`` (see
    prepare_pipeline_changes) against stock's forecast pivot, as the manager;
    return {name: measures}."""
    from .measures import measure_pivots  # measures reads the goals, which read us

    requests = change_requests(stock, addon, old)
    context["pipeline_change_requests"] = requests
    return measure_pivots(
        [stock, addon],
        [("pipeline_change", "manager", requests, "since last week")],
        args.repeat,
        "pipeline change pivot",
    )


def pipeline_change_rows(results, row):
    """The row of the result table; ``row(label, stock, addon, goal)``."""
    stock, addon = results["pipeline_change"]
    row(
        "pipeline change pivot, 2 snapshots, manager",
        stock.time,
        addon.time,
        PIPELINE_CHANGE_GOAL,
    )


def pipeline_change_lines(context, results, describe_pivot):
    """The notes on the pipeline change measure, under the tables."""
    lines = [
        f"pipeline changes: two snapshots of the open pipeline, the first "
        f"({context['change_lines']:,} lines) dated a week back, then "
        f"{context['change_rows']:,} open opportunities changed (closing date, "
        "amount, category, won, lost, new), then the second; crm_lead then "
        "compacted as stock's; the pivot compares the first with now, against "
        "stock's forecast pivot (manager)"
    ]
    for side, measure in zip((STOCK, ADDON), results["pipeline_change"], strict=True):
        request = context["pipeline_change_requests"][side]
        lines.append(
            f"pipeline change pivot, {side}: {describe_pivot(request, measure)}"
        )
    return lines
