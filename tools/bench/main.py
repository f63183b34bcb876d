"""The command line and the steps of the benchmark, in their order."""

import argparse
import os
import shutil

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

from . import addon as addon_side
from .capability import measure_capability
from .common import (
    ADDON,
    STOCK,
    addon_revision,
    compact_leads,
    configure_odoo,
    drop_database,
    is_bench_database,
    log,
    odoo_addons_paths,
    snapshot_addon,
    vacuum_analyze,
)
from .goals import report
from .measures import (
    measure_activities,
    measure_backfill,
    measure_forecast,
    measure_forecast_compacted,
    measure_log_backfill,
    measure_operations,
)
from .pipeline_change import measure_pipeline_changes, prepare_pipeline_changes
from .runs import Side
from .seed import pick_opportunities, seed, seed_activities
from .stock import create_crm_database


def parse_args():
    parser = argparse.ArgumentParser(
        description="Seed N opportunities and time stock crm against Sales Funnel "
        "Pro on the same data (see tools/bench/__init__.py for what is measured).",
    )
    for option, default, description in (
        ("--n", 100_000, "opportunities to seed"),
        (
            "--activities",
            1_000_000,
            "activities already done, in the chatter of the opportunities, that "
            "the activity reports read",
        ),
        ("--repeat", 7, "measured runs per operation"),
        ("--batch", 1000, "opportunities in the batch move"),
        ("--backfill-repeat", 3, "measured runs of the backfill"),
    ):
        parser.add_argument(
            option, type=int, default=default, help=f"{description} ({default})"
        )
    parser.add_argument(
        "--db",
        default="funnel_bench",
        help="database of the addon, its name starting with funnel_bench or "
        "bench_, or ending with _bench (funnel_bench); stock crm is measured on "
        "its copy <db>_stock",
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="keep <db> and <db>_stock at the end (dropped by default)",
    )
    parser.add_argument(
        "--reuse-crm-db",
        action="store_true",
        help="keep a crm-only copy <db>_crm between runs and start from it, "
        "instead of installing crm each time",
    )
    parser.add_argument(
        "--addons-path",
        help="Odoo addons path (default: Odoo's own addons and a copy of this "
        "repository's addon made at start)",
    )
    parser.add_argument(
        "--odoo-bin", help="odoo-bin to install modules with (default: Odoo's)"
    )
    args = parser.parse_args()
    if args.n < 100:
        parser.error("--n must be at least 100")
    if args.activities < 100:
        parser.error("--activities must be at least 100")
    if args.repeat < 1 or args.backfill_repeat < 1:
        parser.error("--repeat and --backfill-repeat must be at least 1")
    if not is_bench_database(args.db):
        parser.error(
            "the database name must start with funnel_bench or bench_, or end "
            "with _bench"
        )
    paths, odoo_bin = odoo_addons_paths()
    if not args.addons_path:
        args.addons_path = ",".join(paths)  # + the addon's copy: snapshot_addon()
        args.snapshot = True
    else:
        args.snapshot = False
    if not args.odoo_bin:
        args.odoo_bin = odoo_bin
    return args


def main():
    args = parse_args()
    args.revision = addon_revision()
    snapshot = snapshot_addon(args) if args.snapshot else None
    try:
        run(args)
    finally:
        if snapshot:
            shutil.rmtree(snapshot, ignore_errors=True)


def run(args):
    configure_odoo(args)
    loads = [os.getloadavg()[0]]
    stock_db = f"{args.db}_stock"
    drop_database(stock_db)
    create_crm_database(args)

    log(f"seeding {args.n:,} opportunities")
    registry = Registry.new(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        context = seed(env, args.n)
        pick_opportunities(env, context, args.batch)
        log(f"seeding {args.activities:,} done activities in the chatter")
        seed_activities(env, context, args.activities)
        cr.commit()
    vacuum_analyze(args.db)
    Registry.delete(args.db)
    log(f"copying the seeded database to {stock_db} (stock crm)")
    odoo.service.db.exp_duplicate_database(args.db, stock_db)

    log(f"installing {ADDON} on {args.db}")
    install = addon_side.install(args)
    log(f"  installed in {install:.1f}s")
    log("applying the professional funnel template")
    applied = addon_side.prepare_addon(Registry.new(args.db), context)
    log("setting targets and historical win rates")
    addon_side.prepare_forecast(Registry.new(args.db), context)
    vacuum_analyze(args.db)

    log("measuring stock crm and the addon, interleaved")
    loads.append(os.getloadavg()[0])
    stock = Side(STOCK, Registry(stock_db), context)
    addon = Side(ADDON, Registry(args.db), context)
    try:
        results = measure_operations(stock, addon, context, args)
        log("measuring the activities")
        results.update(measure_activities(stock, addon, context, args))
        log("measuring the forecast")
        results.update(measure_forecast(stock, addon, context, args))
        log("measuring the rep capability")
        results.update(measure_capability(stock, addon, context, args))
        log("measuring the backfill")
        backfill = measure_backfill(addon, args)
        log("measuring the backfill of the activity log")
        log_backfill = measure_log_backfill(addon, args)
        context["lead_table"] = {
            side.label: side.table_size("crm_lead") for side in (stock, addon)
        }
    finally:
        stock.close()
        addon.close()
    log("measuring the forecast again, crm_lead compacted on both sides")
    for db in (stock_db, args.db):
        compact_leads(db)
    stock = Side(STOCK, Registry(stock_db), context)
    addon = Side(ADDON, Registry(args.db), context)
    try:
        results.update(measure_forecast_compacted(stock, addon, args))
        context["lead_table_compacted"] = {
            side.label: side.table_size("crm_lead") for side in (stock, addon)
        }
    finally:
        stock.close()
        addon.close()
    log("measuring the pipeline changes (changes the addon's opportunities)")
    old = prepare_pipeline_changes(args.db, context)
    stock = Side(STOCK, Registry(stock_db), context)
    addon = Side(ADDON, Registry(args.db), context)
    try:
        results.update(measure_pipeline_changes(stock, addon, context, args, old))
    finally:
        stock.close()
        addon.close()
    loads.append(os.getloadavg()[0])

    report(args, context, results, (backfill, log_backfill), install, applied, loads)
    if args.keep_db:
        log(f"kept {args.db} and {stock_db}")
    else:
        log(f"dropping {args.db} and {stock_db}")
        drop_database(args.db)
        drop_database(stock_db)
