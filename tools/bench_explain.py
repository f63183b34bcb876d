"""Plans of the SQL behind the activity and forecast measures of ``tools/bench``.

Run it on the databases that ``python3 tools/bench --keep-db`` kept (same
``--db``)::

    python3 tools/bench_explain.py --db funnel_bench
        [--what pivot|forecast|conversion|changes|backfill]
        [--try "CREATE INDEX ... ON funnel_activity_log ..."]

- ``pivot``: opens the activity pivots of the benchmark once on each side (as
  opened; salesperson x activity type, count, as the manager and as a
  salesperson), and prints every grouped query that the ORM sends with its plan
  from ``EXPLAIN (ANALYZE, BUFFERS)``;
- ``forecast``: the same for the forecast pivots (stock's Forecast against
  the addon's Funnel Forecast analysis, as the manager and as a salesperson);
- ``conversion``: the same for the conversion pivot as opened against stock's
  Pipeline Analysis pivot as opened, as the manager;
- ``changes``: the pipeline change pivot (since the older of the two snapshots
  that the benchmark takes; taken in the transaction when the database has
  none) against stock's forecast pivot, as the manager;
- ``backfill``: runs ``funnel.activity.log._backfill_from_messages`` on an
  emptied log, its INSERT under ``EXPLAIN (ANALYZE, BUFFERS)``, and prints the
  plan and where the time goes: the SELECT, the insert itself (table and index
  entries) and each foreign-key trigger;
- ``--try``: SQL run first on the addon's database, in the same transaction, to
  see what a change (an index, a setting) would do.

Everything runs in transactions that are rolled back: the databases are left as
they were.
"""

import argparse
import os
import re
import sys

import odoo
from odoo.modules.registry import Registry
from odoo.tools import SQL

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# the package tools/bench, from this folder
from bench import addon as addon_side  # noqa: E402
from bench.capability import conversion_pivots  # noqa: E402
from bench.common import (  # noqa: E402
    ADDON,
    ROOT,
    STOCK,
    configure_odoo,
    is_bench_database,
)
from bench.measures import activity_pivots, forecast_pivots  # noqa: E402
from bench.pipeline_change import change_requests, make_changes  # noqa: E402
from bench.runs import Side  # noqa: E402
from bench.webclient import load_pivot  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description="EXPLAIN ANALYZE the activity and forecast pivots and the "
        "activity log backfill on the databases kept by tools/bench --keep-db.",
    )
    parser.add_argument(
        "--db", default="funnel_bench", help="the addon's database (funnel_bench)"
    )
    parser.add_argument(
        "--what",
        choices=["pivot", "forecast", "conversion", "changes", "backfill", "all"],
        default="all",
        help="what to explain (all)",
    )
    parser.add_argument(
        "--try",
        dest="statements",
        action="append",
        default=[],
        help="SQL run first on the addon's database (repeatable)",
    )
    parser.add_argument("--addons-path", help="Odoo addons path (as tools/bench)")
    args = parser.parse_args()
    if not is_bench_database(args.db):
        parser.error("the database name must start with funnel_bench or bench_")
    if not args.addons_path:
        args.addons_path = ",".join(
            [os.path.join(os.path.dirname(odoo.__file__), "addons"), ROOT]
        )
    return args


class Explaining:
    """Within it, the queries of ``cr`` that ``match`` are run under
    ``EXPLAIN (ANALYZE, BUFFERS)`` and their plans kept; reads are then run
    again for the ORM, writes are not (EXPLAIN ANALYZE has done them)."""

    def __init__(self, cr, match):
        self.cr, self.match, self.plans = cr, match, []

    def __enter__(self):
        execute = self.cr.execute

        def explaining(query, params=None, log_exceptions=True):
            if isinstance(query, SQL):
                query, params = query.code, query.params
            if not self.match(query):
                return execute(query, params, log_exceptions)
            execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}", params)
            plan = [row[0] for row in self.cr.fetchall()]
            text = self.cr.mogrify(query, params or None).decode()
            self.plans.append((text, plan))
            if query.lstrip().upper().startswith(("SELECT", "WITH")):
                return execute(query, params, log_exceptions)
            return None

        self.cr.execute = explaining
        return self

    def __exit__(self, *exc):
        del self.cr.execute


def execution_ms(plan):
    match = re.search(r"Execution Time: ([\d.]+) ms", "\n".join(plan))
    return float(match.group(1)) if match else 0.0


def print_plan(title, text, plan):
    print(f"\n-- {title}: {execution_ms(plan):,.1f} ms")
    print(text.strip())
    print("\n".join(plan))


def bench_context(cr):
    """The users and company of the seeded databases."""
    cr.execute(
        "SELECT login, id FROM res_users "
        "WHERE login IN ('bench_manager', 'bench_rep_1')"
    )
    users = dict(cr.fetchall())
    cr.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
    return {
        "manager": users["bench_manager"],
        "rep": users["bench_rep_1"],
        "company": cr.fetchone()[0],
    }


def try_statements(side, statements):
    for statement in statements:
        print(f"-- tried on {side.label}: {statement}")
        side.cr.execute(statement)


def explain_pivots(stock, addon, statements, pivots=activity_pivots, setup=None):
    for key, user, requests, label in pivots(stock, addon):
        for side in (stock, addon):
            try_statements(side, statements if side is addon else [])
            if setup and side is addon:
                setup(side)
            env = getattr(side, user)
            with Explaining(side.cr, lambda query: "GROUP BY" in query) as explained:
                load_pivot(env, requests[side.label])
            side.cr.rollback()
            total = sum(execution_ms(plan) for __, plan in explained.plans)
            print(
                f"\n==== pivot {label} ({key}), {user}, {side.label}: "
                f"{len(explained.plans)} grouped queries, {total:,.0f} ms executing"
            )
            for index, (text, plan) in enumerate(explained.plans, 1):
                print_plan(f"query {index}", text, plan)


def older_snapshot(addon):
    """The older of the benchmark's two snapshots, None without them."""
    addon.cr.execute(
        "SELECT id FROM funnel_forecast_snapshot ORDER BY date, id LIMIT 2"
    )
    ids = [row[0] for row in addon.cr.fetchall()]
    return ids[0] if len(ids) == 2 else None


def explain_changes(stock, addon, statements):
    """The pipeline change pivot since the older snapshot, against stock's
    forecast pivot; the snapshots taken in the transaction when there are
    none (before each run of the addon's pivot: the runs are rolled back)."""
    old = older_snapshot(addon)
    requests = change_requests(stock, addon, old or 0)
    setup = None
    if old is None:
        addon.cr.execute("SELECT id FROM crm_stage WHERE is_won ORDER BY id LIMIT 1")
        won = addon.cr.fetchone()[0]

        def setup(side):
            taken, __, __ = make_changes(side.root, side.manager.company.id, won)
            requests[ADDON] = change_requests(stock, side, taken)[ADDON]

    def pivots(stock, addon):
        return [("pipeline_change", "manager", requests, "since last week")]

    explain_pivots(stock, addon, statements, pivots, setup)


def explain_backfill(addon, statements):
    try_statements(addon, statements)
    addon_side.empty_activity_log(addon.cr)
    with Explaining(
        addon.cr, lambda query: "INSERT INTO funnel_activity_log" in query
    ) as explained:
        addon_side.backfill_activity_log(addon.root)
    addon.cr.rollback()
    for text, plan in explained.plans:
        print("\n==== activity log backfill (_backfill_from_messages), emptied log")
        print_plan("INSERT", text, plan)
        triggers = [
            (name, float(ms), int(calls))
            for name, ms, calls in re.findall(
                r"Trigger for constraint (\S+): time=([\d.]+) calls=(\d+)",
                "\n".join(plan),
            )
        ]
        # the Insert node, then its input: the SELECT
        nodes = [line for line in plan if "actual time=" in line][:2]
        insert, select = (
            re.search(r"actual time=[\d.]+\.\.([\d.]+)", node) for node in nodes
        )
        total = execution_ms(plan)
        trigger_ms = sum(ms for __, ms, __ in triggers)
        print("\nwhere the time goes (EXPLAIN ANALYZE timing adds to each part):")
        if insert and select:
            insert_ms, select_ms = float(insert.group(1)), float(select.group(1))
            print(f"  SELECT (joins, LATERAL, subqueries)  {select_ms:12,.0f} ms")
            print(
                f"  insert: table and index entries      "
                f"{insert_ms - select_ms:12,.0f} ms"
            )
        label = f"foreign-key triggers, {len(triggers)} per row"
        print(f"  {label:37}{trigger_ms:12,.0f} ms")
        for name, ms, calls in triggers:
            print(f"    {name:55} {ms:10,.0f} ms  {calls:,} calls")
        print(f"  total                                {total:12,.0f} ms")


def main():
    args = parse_args()
    configure_odoo(args)
    stock_registry = Registry(f"{args.db}_stock")
    with stock_registry.cursor() as cr:
        context = bench_context(cr)
    stock = Side(STOCK, stock_registry, context)
    addon = Side(ADDON, Registry(args.db), context)
    try:
        if args.what in ("pivot", "all"):
            explain_pivots(stock, addon, args.statements)
        if args.what in ("forecast", "all"):
            explain_pivots(stock, addon, args.statements, forecast_pivots)
        if args.what in ("conversion", "all"):
            explain_pivots(stock, addon, args.statements, conversion_pivots)
        if args.what in ("changes", "all"):
            explain_changes(stock, addon, args.statements)
        if args.what in ("backfill", "all"):
            explain_backfill(addon, args.statements)
    finally:
        stock.close()
        addon.close()


if __name__ == "__main__":
    main()
