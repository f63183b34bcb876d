"""The command line and the steps of the load run, then its report."""

import argparse
import datetime
import os
import sys
import tempfile

from bench.common import ADDON, configure_odoo, log, odoo_addons_paths

import odoo

from . import client, prepare, server, verify

GOAL_RATIO = 0.8  # accepted moves per second, of stock's
WARM_UP_SECONDS = 5  # per side, reads only, before the clock starts
ROUNDS = 2  # the sides alternate: stock, addon, stock, addon


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Run concurrent clients against Odoo on prefork workers, on "
        "stock crm and on Sales Funnel Pro, then verify the data and compare the "
        "throughput (see tools/load/__init__.py).",
    )
    for option, default, description in (
        ("--seconds", 120, "run time of each side, in seconds"),
        ("--clients", 8, "concurrent clients"),
        ("--n", 2000, "opportunities to seed"),
        ("--cards", 12, "cards of each salesperson that the clients work on"),
        ("--workers", 4, "HTTP workers of Odoo"),
        ("--cron-workers", 1, "cron workers of Odoo"),
        (
            "--port",
            8169,
            "HTTP port of Odoo, the next one is its gevent port (0: free ones)",
        ),
        ("--seed", 13, "seed of the clients' random choices"),
    ):
        parser.add_argument(
            option, type=int, default=default, help=f"{description} ({default})"
        )
    parser.add_argument(
        "--db",
        default="funnel_load",
        help="database of the addon, its name containing 'load' (funnel_load); "
        "stock crm runs on its copy <db>_stock; both are dropped and created",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="keep both databases at the end"
    )
    parser.add_argument(
        "--addons-path", help="Odoo addons path (default: Odoo's and this repository)"
    )
    parser.add_argument("--odoo-bin", help="odoo-bin (default: Odoo's)")
    parser.add_argument(
        "--server-option",
        dest="server_options",
        action="append",
        default=[],
        help="one more option of odoo-bin (repeatable)",
    )
    args = parser.parse_args(argv)
    if "load" not in args.db:
        parser.error("the database name must contain 'load'")
    if args.seconds < 5 or args.clients < 1 or args.n < 200:
        parser.error("--seconds >= 5, --clients >= 1 and --n >= 200, please")
    args.stock_db = f"{args.db}_stock"
    args.reuse_crm_db = False
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths, odoo_bin = odoo_addons_paths()
    if not args.addons_path:
        args.addons_path = ",".join([*paths, root])
    args.odoo_bin = args.odoo_bin or odoo_bin
    return args


def main(argv=None):
    args = parse_args(argv)
    configure_odoo(args)
    logfile = tempfile.NamedTemporaryFile(
        prefix="funnel_load_", suffix=".log", delete=False
    ).name
    try:
        ok = run(args, logfile)
    finally:
        if not args.keep_db:
            log(f"dropping {args.db} and {args.stock_db}")
            odoo.sql_db.close_all()
            prepare.drop_databases(args)
    if ok:
        os.unlink(logfile)
    else:
        log(f"the server's log is kept: {logfile}")
    sys.exit(0 if ok else 1)


def run(args, logfile):
    context = prepare.create_databases(args)
    plans = prepare.plan(args, context)
    prepare.open_gates(args, plans)
    kanban = prepare.kanban_requests(args, context)
    stages = context["stages"]
    odoo.sql_db.close_all()
    # what the clients write is counted from here (to the microsecond: the
    # preparation may have committed within the same second)
    since = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    sides = {"stock": args.stock_db, "addon": args.db}
    stats = {side: [] for side in sides}
    durations = dict.fromkeys(sides, 0.0)
    windows = []  # the measured rounds: (db, start, end), local time as the log
    with server.Server(args, list(sides.values()), logfile) as odoo_server:
        for side, db in sides.items():
            log(f"warming up the workers on {db}")
            client.run_side(
                odoo_server.url,
                db,
                side,
                plans,
                stages,
                kanban[side],
                WARM_UP_SECONDS,
                args.seed,
                operations=[("pipeline", 1)],
            )
        for round_index in range(ROUNDS):
            for side, db in sides.items():
                seconds = args.seconds / ROUNDS
                log(
                    f"round {round_index + 1}/{ROUNDS}: {len(plans)} clients on "
                    f"{side} ({db}) for {seconds:.0f}s"
                )
                start = datetime.datetime.now()
                side_stats, duration = client.run_side(
                    odoo_server.url,
                    db,
                    side,
                    plans,
                    stages,
                    kanban[side],
                    seconds,
                    f"{args.seed}-{round_index}",
                )
                windows.append((db, start, datetime.datetime.now()))
                stats[side].append(side_stats)
                durations[side] += duration
    log("verifying")
    odoo.sql_db.close_all()
    counts = {
        side: verify.database_counts(db, since, side == "addon")
        for side, db in sides.items()
    }
    checks = verify.verify(args.db, since)
    server_log = server.read_log(logfile, windows)
    return report(args, sides, stats, durations, counts, checks, server_log)


def merge(stats_list):
    counts, errors, statuses, timings = {}, {}, {}, {}
    for stats in stats_list:
        for key, (count, seconds) in stats.timings.items():
            entry = timings.setdefault(key, [0, 0.0])
            entry[0] += count
            entry[1] += seconds
        for key, value in stats.counts.items():
            counts[key] = counts.get(key, 0) + value
        for key, (count, message) in stats.errors.items():
            entry = errors.setdefault(key, [0, message])
            entry[0] += count
        for key, value in stats.statuses.items():
            statuses[key] = statuses.get(key, 0) + value
    return counts, errors, statuses, timings


def report(args, sides, stats, durations, counts, checks, server_log):
    """Print the run, the verification and the throughput; True when every
    check passes."""
    failures = []
    print()
    print(
        f"Load run: {args.clients} clients, {args.workers} workers, "
        f"{args.cron_workers} cron worker(s), {args.n:,} opportunities, "
        f"{args.seconds}s per side in {ROUNDS} rounds; load average "
        + " ".join(f"{load:.1f}" for load in os.getloadavg())
    )
    throughput, attempts, rates = {}, {}, {}
    for side, db in sides.items():
        throughput[side], attempts[side], rates[side] = report_side(
            side, db, stats[side], durations[side], counts[side], server_log, failures
        )
    other = [
        line
        for db, lines in server_log["problems"].items()
        if db not in sides.values()
        for line in lines
    ]
    if other:
        print(f"\nERROR lines outside the two databases: {len(other)}")
        for line in other[:5]:
            print(f"  {line}")
        failures.append(f"{len(other)} ERROR lines in the server log")

    print(f"\nVerification of {ADDON} ({args.db}):")
    for label, rows in checks:
        status = "ok" if not rows else f"FAILED, {len(rows)} rows"
        print(f"  {label:<52} {status}")
        for row in rows[:5]:
            print(f"    {row}")
        if rows:
            failures.append(label)
    ratio = throughput["addon"] / throughput["stock"] if throughput["stock"] else 0.0
    verdict = "goal met" if ratio >= GOAL_RATIO else "below the goal"
    print(
        f"\nThroughput: {throughput['addon']:.2f} accepted moves/s with {ADDON}, "
        f"{throughput['stock']:.2f} with stock crm: {ratio:.2f}x "
        f"(goal >= {GOAL_RATIO}x, {verdict})"
    )
    attempt_ratio = attempts["addon"] / attempts["stock"] if attempts["stock"] else 0.0
    print(
        f"Move requests (accepted or refused by a gate): {attempts['addon']:.2f}/s "
        f"with {ADDON}, {attempts['stock']:.2f}/s with stock crm: {attempt_ratio:.2f}x"
    )
    request_ratio = rates["addon"] / rates["stock"] if rates["stock"] else 0.0
    print(
        f"Requests: {rates['addon']:.1f}/s with {ADDON}, {rates['stock']:.1f}/s "
        f"with stock crm: {request_ratio:.2f}x"
    )
    if failures:
        print("\nLOAD RUN FAILED:")
        for failure in failures:
            print(f"  - {failure}")
        return False
    print("\nLoad run passed: nothing lost, no server error.")
    return True


def line(label, value, digits=0):
    print(f"  {label:<44} {value:>8,.{digits}f}")


def report_side(side, db, stats_list, duration, counts, server_log, failures):
    """Print what one side did; add its failures; return its accepted moves,
    its move requests and its requests per second."""
    side_counts, errors, statuses, timings = merge(stats_list)
    print(f"\n{side} ({db}), {duration:.1f}s:")
    for key in sorted(side_counts):
        line(key, side_counts[key])
    for key, value in counts.items():
        line(key, value)
    line("HTTP 200 responses", statuses.get(200, 0))
    for key, value in sorted(statuses.items(), key=str):
        if key != 200:
            line(f"HTTP {key}", value)
            failures.append(f"{side}: {value} responses {key}")
    for (operation, name), (count, message) in sorted(errors.items()):
        print(f"  unexpected error on {operation}: {name} x{count}: {message}")
        failures.append(f"{side}: {count} unexpected {name} on {operation}")
    retried = {
        kind: count
        for (db_name, kind), count in server_log["retries"].items()
        if db_name == db
    }
    line("concurrency failures retried by Odoo", sum(retried.values()))
    if retried:
        print("    (" + ", ".join(f"{k} {v}" for k, v in sorted(retried.items())) + ")")
    gave_up = sum(
        count for (db_name, __), count in server_log["gave_up"].items() if db_name == db
    )
    if gave_up:
        line("requests that gave up after 5 tries", gave_up)
        failures.append(f"{side}: {gave_up} requests gave up retrying")
    problems = server_log["problems"].get(db, [])
    if problems:
        line("ERROR lines in the log", len(problems))
        for problem in problems[:5]:
            print(f"    {problem}")
        failures.append(f"{side}: {len(problems)} ERROR lines in the server log")
    moves = counts["stage moves (crm's tracking)"]
    if not moves:
        failures.append(f"{side}: no stage move was accepted")
    throughput = moves / duration if duration else 0.0
    rate = sum(statuses.values()) / duration if duration else 0.0
    tried = side_counts.get("move accepted", 0) + side_counts.get(
        "move refused by a gate", 0
    )
    attempts = tried / duration if duration else 0.0
    line("accepted moves per second", throughput, 2)
    line("requests per second", rate, 1)
    calls = {
        call: figures
        for (db_name, call), figures in server_log["calls"].items()
        if db_name == db and call in timings
    }
    print(
        f"  {'per call':<44} {'calls':>6} {'client ms':>9} {'queries':>8} "
        f"{'SQL ms':>7} {'other ms':>8}"
    )
    for call, (count, seconds) in sorted(timings.items()):
        served, queries, sql, other = calls.get(call, (0, 0, 0.0, 0.0))
        served = served or 1
        print(
            f"    {call:<42} {count:>6} {1000 * seconds / count:>9.0f} "
            f"{queries / served:>8.1f} {1000 * sql / served:>7.0f} "
            f"{1000 * other / served:>8.0f}"
        )
    busy = sum(sql + other for __, __, sql, other in calls.values())
    line("server seconds in requests (SQL + other)", busy, 1)
    if moves:
        line("server seconds per accepted move", busy / moves, 3)
    return throughput, attempts, rate
