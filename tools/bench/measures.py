"""The operations measured: stage moves, the kanban load, activities marked
done, the activity and forecast pivots, the forecast snapshot, the historical
win rates and the backfills; each returns {name: measures}."""

import functools
import sys

from odoo.exceptions import UserError
from odoo.tools import SQL

from . import addon as addon_side
from . import stock as stock_side
from .common import ADDON, STOCK, log
from .goals import MOVE_RUNS, RATES_HISTORY
from .runs import compare, flush
from .webclient import kanban_request, load_kanban, load_pivot, pivot_request

DONE_FEEDBACK = "Customer called back, the offer goes out on Monday."


def measure_operations(stock, addon, context, args):
    """Measure every operation on both sides; return {name: (stock, addon)}."""
    sides = [stock, addon]
    target = context["stages"][1]
    results = {}

    def move(ids):
        def make(side):
            def operation():
                side.manager["crm.lead"].browse(ids).write({"stage_id": target})
                flush(side.manager)

            return operation

        return make

    log(f"  stage move ({max(args.repeat, MOVE_RUNS)} runs per side)")
    results["move"] = compare(
        sides, move([context["single"]]), max(args.repeat, MOVE_RUNS)
    )
    log(f"  batch move of {len(context['batch'])}")
    results["batch"] = compare(sides, move(context["batch"]), args.repeat)

    def blocked(side):
        def operation():
            try:
                with side.cr.savepoint():
                    side.manager["crm.lead"].browse(context["blocked"]).write(
                        {"stage_id": target}
                    )
                    flush(side.manager)
            except UserError:
                return True
            return False

        return operation

    log("  blocked move")
    results["blocked"] = compare([addon], blocked, args.repeat)
    if not all(sample.result for sample in results["blocked"][0].samples):
        sys.exit("error: the gate did not block the move it should block")

    for key, user, domain in (
        ("kanban", "manager", [("type", "=", "opportunity")]),
        (
            "kanban_rep",
            "rep",
            [("type", "=", "opportunity"), ("user_id", "=", context["rep"])],
        ),
    ):
        requests = {side.label: kanban_request(getattr(side, user)) for side in sides}
        context[f"{key}_fields"] = {
            label: len(request["spec"]) for label, request in requests.items()
        }

        def make(side, user=user, domain=domain, requests=requests):
            env = getattr(side, user)
            return functools.partial(load_kanban, env, requests[side.label], domain)

        log(f"  kanban load ({user})")
        results[key] = compare(sides, make, args.repeat)
    return results


def measure_pivots(sides, pivots, repeat, title, suffix="", note=""):
    """Open each pivot of ``pivots`` ([(key, user, {side: request}, label)])
    on ``sides``; return {key + suffix: measures}."""
    results = {}
    for key, user, requests, label in pivots:

        def make(side, user=user, requests=requests):
            env = getattr(side, user)
            return functools.partial(load_pivot, env, requests[side.label])

        log(f"  {title}, {label} ({user}){note}")
        results[f"{key}{suffix}"] = compare(sides, make, repeat)
    return results


def measure_refill(addon, args, empty, fill):
    """``fill(env)`` on the addon, what it writes emptied first by
    ``empty(cr)`` (in the transaction rolled back after each run)."""

    def setup(side):
        return functools.partial(empty, side.cr)

    def make(side):
        return functools.partial(fill, side.root)

    (result,) = compare([addon], make, args.backfill_repeat, setup=setup, warmup=0)
    return result


def check_done(side, ids):
    """Mark the activities done once, outside of the measures: each one must
    post its message (and, with the addon, be logged once); rolled back."""
    env = side.manager
    env.cr.execute("SELECT coalesce(max(id), 0) FROM mail_message")
    last_message = env.cr.fetchone()[0]
    logged = None
    if side.label == ADDON:
        env.cr.execute("SELECT coalesce(max(id), 0) FROM funnel_activity_log")
        last_log = env.cr.fetchone()[0]
    env["mail.activity"].browse(ids).action_feedback(feedback=DONE_FEEDBACK)
    flush(env)
    env.cr.execute(
        SQL(
            "SELECT count(*) FROM mail_message WHERE id > %s "
            "AND mail_activity_type_id IS NOT NULL",
            last_message,
        )
    )
    posted = env.cr.fetchone()[0]
    if side.label == ADDON:
        env.cr.execute(
            SQL(
                "SELECT count(*) FROM funnel_activity_log "
                "WHERE id > %s AND source = 'done'",
                last_log,
            )
        )
        logged = env.cr.fetchone()[0]
    side.cr.rollback()
    if posted != len(ids) or logged not in (None, len(ids)):
        sys.exit(
            f"error: {len(ids)} activities marked done on {side.label}: "
            f"{posted} messages posted, {logged} rows logged"
        )


def activity_pivots(stock, addon):
    """The activity pivots measured: [(key, user, {side: request}, label)]."""
    as_opened = {
        STOCK: pivot_request(stock.manager, *stock_side.ACTIVITY_PIVOT),
        ADDON: pivot_request(addon.manager, *addon_side.ACTIVITY_PIVOT),
    }
    same = {
        label: {
            "model": model,
            "rows": ["user_id"],
            "cols": [activity_type],
            "measures": ["__count"],
            "domain": [],
            "context": {},
        }
        for label, (model, activity_type) in (
            (STOCK, stock_side.ACTIVITY_REPORT),
            (ADDON, addon_side.ACTIVITY_REPORT),
        )
    }
    return [
        ("pivot", "manager", as_opened, "as opened"),
        ("pivot_same", "manager", same, "user x type"),
        ("pivot_same_rep", "rep", same, "user x type"),
    ]


def measure_activities(stock, addon, context, args):
    """Mark the planned activities done, then open the activity pivots, on
    both sides; return {name: (stock, addon)}."""
    sides = [stock, addon]
    results = {}
    ids = context["done"]
    for side in sides:
        check_done(side, ids)

    def done(side):
        def operation():
            side.manager["mail.activity"].browse(ids).action_feedback(
                feedback=DONE_FEEDBACK
            )
            flush(side.manager)

        return operation

    log(f"  {len(ids):,} activities marked done")
    results["done"] = compare(sides, done, args.repeat)

    pivots = activity_pivots(stock, addon)
    context["pivot_requests"] = {key: requests for key, __, requests, __ in pivots}
    results.update(measure_pivots(sides, pivots, args.repeat, "activity pivot"))
    return results


def measure_log_backfill(addon, args):
    """The backfill of the activity log from the done activities of the
    chatter, the log emptied first."""
    return measure_refill(
        addon, args, addon_side.empty_activity_log, addon_side.backfill_activity_log
    )


def forecast_pivots(stock, addon):
    """The forecast pivots measured: [(key, user, {side: request}, label)]:
    stock's Forecast (CRM > Sales > Forecast, its pivot) against the addon's
    Funnel Forecast analysis, as each action opens them; as the manager on the
    whole pipeline (stock's "My Pipeline" default filter left out), and as a
    salesperson (with it)."""
    stock_action, addon_action = stock_side.FORECAST_PIVOT, addon_side.FORECAST_PIVOT
    manager = {
        STOCK: pivot_request(
            stock.manager, *stock_action, skip=stock_side.FORECAST_MANAGER_SKIP
        ),
        ADDON: pivot_request(addon.manager, *addon_action),
    }
    rep = {
        STOCK: pivot_request(stock.rep, *stock_action),
        ADDON: pivot_request(addon.rep, *addon_action),
    }
    return [
        ("forecast", "manager", manager, "as opened"),
        ("forecast_rep", "rep", rep, "as opened"),
    ]


def measure_forecast(stock, addon, context, args):
    """The forecast pivots on both sides; a snapshot of the open pipeline and
    the refresh of the historical win rates over RATES_HISTORY history rows on
    the addon; return {name: measures}."""
    pivots = forecast_pivots(stock, addon)
    context["forecast_requests"] = {key: requests for key, __, requests, __ in pivots}
    results = measure_pivots([stock, addon], pivots, args.repeat, "forecast pivot")

    def snapshot(side):
        def operation():
            env = side.manager
            company = env["res.company"].browse(context["company"])
            snapshots = addon_side.take_snapshot(env, company)
            env.flush_all()
            return sum(snapshots.mapped("line_count"))

        return operation

    log(f"  forecast snapshot of {context['open']:,} open opportunities")
    (results["snapshot"],) = compare([addon], snapshot, args.backfill_repeat)
    frozen = results["snapshot"].samples[0].result
    if frozen != context["open"]:
        sys.exit(f"error: the snapshot froze {frozen:,} of {context['open']:,}")

    def inflate(side):
        def setup():
            context["rates_history"] = inflate_history(side.cr, RATES_HISTORY)

        return setup

    def refresh(side):
        def operation():
            addon_side.refresh_win_rates(side.root)
            side.cr.execute(
                "SELECT stage_id, team_id, won_count, lost_count "
                "FROM funnel_stage_win_rate ORDER BY 1, 2"
            )
            return side.cr.fetchall()

        return operation

    log("  historical win rates over the history as it is")
    (plain,) = compare([addon], refresh, 1, warmup=0)
    if not plain.samples[0].result:
        sys.exit(
            "error: no historical win rate: no seeded stay closed within the "
            f"last {addon_side.win_rate_window_months()} months"
        )
    log(f"  historical win rates over {RATES_HISTORY:,} history rows")
    (results["rates"],) = compare(
        [addon], refresh, args.backfill_repeat, setup=inflate, warmup=0
    )
    if results["rates"].samples[0].result != plain.samples[0].result:
        sys.exit("error: repeated stays changed the historical win rates")
    return results


def inflate_history(cr, rows):
    """Bring the stage history to ``rows`` rows, in the transaction: copies of
    its closed stays (the same opportunities entering the same stages again,
    which changes no historical win rate); return the number of rows."""
    cr.execute(
        "SELECT count(*), count(*) FILTER (WHERE event = 'enter' "
        "AND date_out IS NOT NULL) FROM funnel_stage_history"
    )
    count, closed = cr.fetchone()
    if count < rows:
        cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'funnel_stage_history' AND column_name <> 'id' "
            "ORDER BY ordinal_position"
        )
        columns = SQL(", ").join(SQL.identifier(name) for (name,) in cr.fetchall())
        cr.execute(
            SQL(
                "INSERT INTO funnel_stage_history (%(columns)s) "
                "SELECT %(columns)s FROM funnel_stage_history h, "
                "generate_series(1, %(copies)s) "
                "WHERE h.event = 'enter' AND h.date_out IS NOT NULL "
                "LIMIT %(missing)s",
                columns=columns,
                copies=(rows - count) // max(1, closed) + 1,
                missing=rows - count,
            )
        )
        cr.execute("ANALYZE funnel_stage_history")
        cr.execute("SELECT count(*) FROM funnel_stage_history")
        count = cr.fetchone()[0]
    return count


def measure_forecast_compacted(stock, addon, args):
    """The forecast pivots again, once crm_lead is compacted on both sides:
    the same rows, without the row versions and index entries that the
    install and the template left in the addon's table and indexes (stock's
    table was written once, by the seeding)."""
    return measure_pivots(
        [stock, addon],
        forecast_pivots(stock, addon),
        args.repeat,
        "forecast pivot",
        suffix="_compacted",
        note=", crm_lead compacted",
    )


def measure_backfill(addon, args):
    """The backfill of the stage history from the stage tracking of every
    opportunity, the history emptied first."""
    return measure_refill(
        addon, args, addon_side.empty_history, addon_side.backfill_history
    )
