"""The rep capability measures: the conversion pivot as CRM > Reporting > Rep
Capability > Conversion by Stage opens it, against stock's Pipeline Analysis
pivot as CRM > Reporting > Pipeline opens it, on the same database; and the
rebuild of the rep benchmark (the nightly cron and the manager's button)."""

from lxml import etree

from odoo.tools.safe_eval import safe_eval

from . import addon as addon_side
from .common import ADDON, STOCK, log
from .runs import compare
from .webclient import pivot_request

CONVERSION_GOAL = 1.5  # conversion pivot against stock's Pipeline Analysis pivot
REBUILD_GOAL_S = 30.0

STOCK_PIPELINE_PIVOT = (
    "crm.crm_opportunity_report_action",
    "crm.crm_opportunity_report_view_pivot",
)
CONVERSION_PIVOT = (
    f"{ADDON}.funnel_conversion_report_action",
    f"{ADDON}.funnel_conversion_report_view_pivot",
)


def absent_defaults(env, action_xmlid):
    """The default filters of the action that its search view, as ``env.user``
    gets it, does not have (Pipeline Analysis asks for "current", which no view
    defines, and for "filter_opportunity", shown to the users of leads only):
    the web client ignores them."""
    action = env.ref(action_xmlid).sudo()
    model = env[action.res_model]
    view_id = action.search_view_id.id or False
    arch = model.get_views([(view_id, "search")], {})["views"]["search"]["arch"]
    names = {node.get("name") for node in etree.fromstring(arch).iter("filter")}
    action_context = safe_eval(action.context or "{}", {"active_id": False})
    return {
        key[len("search_default_") :]
        for key, value in action_context.items()
        if key.startswith("search_default_") and value
    } - names


def conversion_pivots(stock, addon):
    """The conversion pivot measured: [(key, user, {side: request}, label)]:
    as CRM > Reporting > Rep Capability opens it, against stock's Pipeline
    Analysis as opened, both as the manager."""
    requests = {
        STOCK: pivot_request(
            stock.manager,
            *STOCK_PIPELINE_PIVOT,
            skip=absent_defaults(stock.manager, STOCK_PIPELINE_PIVOT[0]),
        ),
        ADDON: pivot_request(addon.manager, *CONVERSION_PIVOT),
    }
    return [("conversion", "manager", requests, "as opened")]


def measure_capability(stock, addon, context, args):
    """The conversion pivot against stock's Pipeline Analysis, as the manager;
    the rebuild of the rep benchmark on the addon; return {name: measures}."""
    from .measures import measure_pivots  # measures reads the goals, which read us

    pivots = conversion_pivots(stock, addon)
    context["conversion_requests"] = pivots[0][2]
    results = measure_pivots([stock, addon], pivots, args.repeat, "conversion pivot")

    def rebuild(side):
        def operation():
            return addon_side.rebuild_rep_benchmark(side.root)

        return operation

    log("  rep benchmark rebuild")
    (results["rep_benchmark"],) = compare([addon], rebuild, args.backfill_repeat)
    if not results["rep_benchmark"].samples[0].result:
        raise SystemExit("error: the rep benchmark rebuild wrote no row")
    return results


def capability_rows(results, row):
    """The rows of the result table; ``row(label, stock, addon, goal)`` adds
    one with a ratio; returns the rows to add without one."""
    stock, addon = results["conversion"]
    row("conversion pivot as opened, manager", stock.time, addon.time, CONVERSION_GOAL)
    rebuild = results["rep_benchmark"]
    return [
        (
            f"rep benchmark rebuild ({rebuild.samples[0].result:,} rows)",
            "—",
            f"{rebuild.time * 1000:,.0f}",
            "—",
            f"< {REBUILD_GOAL_S:.0f} s",
            "pass" if rebuild.time < REBUILD_GOAL_S else "FAIL",
        )
    ]


def capability_lines(context, results, describe_pivot):
    """The notes on the capability measures, under the tables."""
    lines = []
    for side, measure in zip((STOCK, ADDON), results["conversion"], strict=True):
        request = context["conversion_requests"][side]
        lines.append(f"conversion pivot, {side}: {describe_pivot(request, measure)}")
    lines.append(
        "rep benchmark rebuild: every company, both windows, the previous windows "
        "of the four dimensions, as the nightly cron runs it"
    )
    return lines
