"""Benchmark Sales Funnel Pro against stock CRM on the same data.

``make bench N=100000`` runs ``python3 tools/bench.py --n 100000``;
``python3 tools/bench.py --n 2000 --activities 20000`` is a quick check.

What it does (database ``funnel_bench`` unless ``--db``):

1. creates the database with ``crm`` only, without demo data (``odoo-bin -i crm``);
2. seeds it with set-based SQL: two sales teams, eight salespeople, a sales manager,
   customers, and N opportunities spread over the five stages of the professional
   funnel (the stock stages New, Qualified and Proposition are renamed Start,
   Needs confirmed and Solution & quote, and a Negotiation stage is added, so that
   stock and addon show the same columns), some won, some lost, with their chatter:
   a creation message and one stage-tracking message per past move (a few per
   opportunity, some backward, dated in the past), followers and next activities;
   then the activities: 1,000 more planned activities (the ones marked done by
   the measure, on open opportunities that had none, assigned to their
   salesperson) and ``--activities`` activities already done, as the chatter
   holds them (``mail_message`` rows of subtype Activities with their activity
   type, on random opportunities, written by their salesperson, dated over the
   past year): what stock ``crm.activity.report`` reads;
3. copies the seeded database to ``<db>_stock``, which stays stock ``crm``;
4. installs ``sales_funnel_pro`` on the seeded database (``odoo-bin -i``, timed: it
   includes the backfills by the post-init hook: the stage history from the
   tracking, and one activity log row per done activity of the chatter), applies
   the professional funnel template (timed) and ticks the checklist criteria of
   the opportunities that the moves use, so that their gate is checked and passes;
   sets targets (monthly per salesperson, quarterly per team, for the next
   twelve months) and computes the historical win rates once;
5. measures in-process, as the sales manager, the same operations on the same
   opportunities in both databases, the stock run and the addon run alternating
   (ABBA...), so that the load of a shared machine weighs on both alike; then a
   move that the gate blocks, ``_backfill_from_tracking`` on the seeded chatter
   (history emptied first, in the transaction rolled back afterwards) and
   ``_backfill_from_messages`` likewise (activity log emptied first).

Operations (medians over ``--repeat`` runs, after one warm-up run; every run is
rolled back, so each run starts from the same data; times include the flush and
the pre-commit hooks such as mail tracking, not the commit itself):

- stage move: ``write({'stage_id': next})`` on one opportunity (Start -> Needs
  confirmed);
- batch move: the same write on 1,000 opportunities at once (``--batch``);
- blocked move: the same write on one opportunity whose checklist is not ticked,
  refused by the gate (addon only);
- kanban load: what the web client asks for when it opens the pipeline kanban:
  ``web_read_group`` grouped by stage with the aggregates of the view's fields, the
  first page (40 cards) of every open column via ``web_search_read`` with the field
  specification of the real kanban arch (from ``get_views``, as the user sees it),
  and ``read_progress_bar``; once as the manager on the whole pipeline, once as a
  salesperson on "My Pipeline";
- activities done: ``action_feedback(feedback=...)`` on the 1,000 planned
  activities in one call, as the Mark Done of the activity views does (stock posts
  one chatter message each; the addon also logs each one);
- activity pivot: the ``read_group`` calls (``lazy=False``) that the web client's
  pivot makes when it opens, one per pair of leading row and column groupings,
  over the done activities: stock ``crm.activity.report`` as CRM > Reporting >
  Activities opens it (rows, columns and default filter "Trailing 12 months" of
  its action, measure count), the addon's ``funnel.activity.log`` as Reporting >
  Activity Log opens its pivot (the view's rows, columns and measure); then the
  same pivot on both, salesperson x activity type, count, no filter, once as the
  manager and once as a salesperson (whose record rules restrict the rows);
- forecast pivot: the same kind of ``read_group`` calls, stock's Forecast
  (CRM > Sales > Forecast: ``crm.lead`` by expected closing month and stage,
  prorated revenue, default filter "Upcoming Closings") against the addon's
  ``funnel.forecast.report`` as Reporting > Funnel Forecast opens its pivot
  (salesperson x month, expected and weighted revenue, won, target, coverage and
  gap, default filters "Next 12 Months" and "Exclude Omitted"); once as the
  manager (stock's default "My Pipeline" filter left out) and once as a
  salesperson (with it); after all other measures, once more with crm_lead
  compacted on both sides (VACUUM FULL, then VACUUM ANALYZE), for information:
  the addon's install and template leave a row version and index entries per
  opportunity that stock's freshly seeded table does not have;
- forecast snapshot: ``funnel.forecast.snapshot._take_snapshots()`` of the
  company, freezing every open opportunity (addon only);
- historical win rates: ``funnel.stage.win.rate._refresh()`` after the stage
  history has been brought to 1,000,000 rows in the transaction (its closed
  stays repeated: the rates must come out the same);
- backfills: ``funnel.stage.history._backfill_from_tracking()`` over all
  opportunities, ``funnel.activity.log._backfill_from_messages()`` over the
  done activities of the chatter.

Goals: stage move and kanban load within 1.3x of stock; backfill of 100,000
opportunities under 60 s; activity pivot within 1.5x of stock (with
``--activities`` 1,000,000); forecast pivot within 1.5x of stock; snapshot of
100,000 open opportunities under 10 s (scaled linearly from the open ones of the
run); historical win rates over 1,000,000 history rows under 10 s. The script
exits 0 once the table is printed, whether the goals are met or not. A second
table splits each median into the CPU time of this process (the Python side of
the server), the wall time of its SQL queries and their number. Timings are
wall-clock: run it on a quiet machine, and read the load average printed with the
tables.
"""

import argparse
import datetime
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing

import psycopg2
import pytz
from dateutil.relativedelta import relativedelta
from lxml import etree

import odoo
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDON = "sales_funnel_pro"
STOCK = "crm"

MOVE_GOAL = 1.3
KANBAN_GOAL = 1.3
BACKFILL_GOAL_S = 60.0
BACKFILL_GOAL_N = 100_000
PIVOT_GOAL = 1.5
FORECAST_GOAL = 1.5  # forecast pivot against stock's forecast pivot
SNAPSHOT_GOAL_S = 10.0
SNAPSHOT_GOAL_N = 100_000  # open opportunities frozen by one snapshot
RATES_GOAL_S = 10.0
RATES_HISTORY = 1_000_000  # history rows that the historical win rates read
PIVOT_GOAL_N = 1_000_000  # done activities the pivot goal is set for
DONE_BATCH = 1000  # planned activities marked done in one call
DONE_FEEDBACK = "Customer called back, the offer goes out on Monday."
# Done activities of the chatter: (activity type, share in percent).
ACTIVITY_MIX = [
    ("mail.mail_activity_data_call", 40),
    ("mail.mail_activity_data_email", 30),
    ("mail.mail_activity_data_meeting", 20),
    ("mail.mail_activity_data_todo", 10),
]

# The five stages: (name, sequence, probability); the last one is the won stage.
FUNNEL = [
    ("Start", 10, 10.0),
    ("Needs confirmed", 20, 25.0),
    ("Solution & quote", 30, 50.0),
    ("Negotiation", 40, 75.0),
    ("Won", 70, 100.0),
]
REPS_PER_TEAM = 4
KANBAN_PAGE = 40  # cards per column, as the kanban view loads them
MAX_OPEN_COLUMNS = 10  # columns the web client fills on load
# Field dependencies of the widgets used by the pipeline kanban (web client code).
WIDGET_DEPENDENCIES = {
    "kanban_activity": [
        ("activity_exception_decoration", "selection"),
        ("activity_exception_icon", "char"),
        ("activity_state", "selection"),
        ("activity_summary", "char"),
        ("activity_type_icon", "char"),
        ("activity_type_id", "many2one"),
    ],
}

_started = time.perf_counter()


def log(message):
    """Progress on stderr; the table goes to stdout."""
    elapsed = time.perf_counter() - _started
    sys.stderr.write(f"[{elapsed:7.1f}s] {message}\n")
    sys.stderr.flush()


# ----------------------------------------------------------------------------
# Databases and processes
# ----------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(
        description="Seed N opportunities and time stock crm against Sales Funnel "
        "Pro on the same data (see the module docstring for what is measured).",
    )
    parser.add_argument(
        "--n", type=int, default=100_000, help="opportunities to seed (100000)"
    )
    parser.add_argument(
        "--activities",
        type=int,
        default=1_000_000,
        help="activities already done, in the chatter of the opportunities, that "
        "the activity reports read (1000000)",
    )
    parser.add_argument(
        "--repeat", type=int, default=7, help="measured runs per operation (7)"
    )
    parser.add_argument(
        "--batch", type=int, default=1000, help="opportunities in the batch move (1000)"
    )
    parser.add_argument(
        "--backfill-repeat",
        type=int,
        default=3,
        help="measured runs of the backfill (3)",
    )
    parser.add_argument(
        "--db",
        default="funnel_bench",
        help="database of the addon, its name starting with funnel_bench "
        "(funnel_bench); stock crm is measured on its copy <db>_stock",
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
    odoo_root = os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__)))
    if not args.addons_path:
        paths = [
            path
            for path in (
                os.path.join(odoo_root, "odoo", "addons"),
                os.path.join(odoo_root, "addons"),
            )
            if os.path.isdir(os.path.join(path, "crm"))
        ]
        args.addons_path = ",".join(paths)  # + the addon's copy: snapshot_addon()
        args.snapshot = True
    else:
        args.snapshot = False
    if not args.odoo_bin:
        args.odoo_bin = os.path.join(odoo_root, "odoo-bin")
    return args


def snapshot_addon(args):
    """Copy the addon as it is now and benchmark that copy, so that edits made
    to the working tree while the benchmark runs do not mix two versions."""
    folder = tempfile.mkdtemp(prefix="funnel_bench_addons_")
    shutil.copytree(
        os.path.join(ROOT, ADDON),
        os.path.join(folder, ADDON),
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    args.addons_path = f"{args.addons_path},{folder}"
    return folder


def addon_revision():
    """The git revision of the working tree, ``-dirty`` when the addon's folder
    has local changes (changes elsewhere, to this script say, do not count)."""

    def git(*arguments):
        return subprocess.run(
            ["git", "-C", ROOT, *arguments],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        revision = git("describe", "--always")
        changed = git("status", "--porcelain", "--", ADDON)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{revision}-dirty" if changed else revision


def configure_odoo(args):
    odoo.tools.config.parse_config(
        ["--addons-path", args.addons_path, "--log-level", "warn"]
    )


def run_odoo(args, db, *options):
    """Run odoo-bin on ``db`` until its modules are loaded; return its duration."""
    with tempfile.NamedTemporaryFile(
        "w+", prefix="funnel_bench_", suffix=".log", delete=False
    ) as output:
        command = [
            sys.executable,
            args.odoo_bin,
            "--database",
            db,
            "--addons-path",
            args.addons_path,
            "--log-level",
            "warn",
            "--stop-after-init",
            *options,
        ]
        start = time.perf_counter()
        result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT)
        duration = time.perf_counter() - start
    if result.returncode:
        with open(output.name) as lines:
            sys.stderr.write(lines.read()[-5000:])
        sys.exit(f"error: {' '.join(command)} failed, see {output.name}")
    with open(output.name) as lines:
        errors = [line for line in lines if " ERROR " in line or " CRITICAL " in line]
    if errors:
        sys.stderr.write("".join(errors[-20:]))
        sys.exit(f"error: odoo-bin logged errors, see {output.name}")
    os.unlink(output.name)
    return duration


def database_exists(db):
    return db in odoo.service.db.list_dbs(force=True)


def drop_database(db):
    Registry.delete(db)
    odoo.sql_db.close_db(db)
    if database_exists(db):
        odoo.service.db.exp_drop(db)


def create_crm_database(args):
    """Create ``args.db`` with crm installed and no demo data."""
    drop_database(args.db)
    template = f"{args.db}_crm"
    if args.reuse_crm_db and database_exists(template):
        log(f"copying {template} to {args.db}")
        odoo.service.db.exp_duplicate_database(template, args.db)
        return
    log(f"creating {args.db} with crm (no demo data)")
    run_odoo(args, args.db, "--init", "crm", "--without-demo", "all")
    if args.reuse_crm_db:
        odoo.sql_db.close_db(args.db)
        odoo.service.db.exp_duplicate_database(args.db, template)
        Registry.delete(template)


def maintain(db, *statements):
    """Run ``statements`` (VACUUM ...) outside of any transaction."""
    odoo.sql_db.close_db(db)
    __, info = odoo.sql_db.connection_info_for(db)
    with closing(psycopg2.connect(**info)) as connection:
        connection.autocommit = True
        with connection.cursor() as cr:
            for statement in statements:
                cr.execute(statement)


def vacuum_analyze(db):
    """VACUUM ANALYZE, as autovacuum would eventually."""
    maintain(db, "VACUUM ANALYZE")


def compact_leads(db):
    """Rewrite crm_lead and its indexes compactly (VACUUM FULL), then VACUUM
    ANALYZE it (VACUUM FULL leaves the visibility map empty)."""
    maintain(db, "VACUUM FULL crm_lead", "VACUUM ANALYZE crm_lead")


# ----------------------------------------------------------------------------
# Seeding
# ----------------------------------------------------------------------------


def seed(env, n):
    """Create the users, teams, stages, customers and ``n`` opportunities with
    their chatter; return the seeding context used by the measures."""
    cr = env.cr
    company = env.ref("base.main_company")
    Users = env["res.users"].with_context(
        no_reset_password=True, mail_create_nolog=True
    )
    manager = Users.create(
        {
            "name": "Bench Manager",
            "login": "bench_manager",
            "email": "bench.manager@example.com",
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "groups_id": [
                Command.set(
                    [
                        env.ref("base.group_user").id,
                        env.ref("sales_team.group_sale_manager").id,
                    ]
                )
            ],
        }
    )
    reps = Users.create(
        [
            {
                "name": f"Bench Rep {index}",
                "login": f"bench_rep_{index}",
                "email": f"bench.rep{index}@example.com",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            env.ref("base.group_user").id,
                            env.ref("sales_team.group_sale_salesman").id,
                        ]
                    )
                ],
            }
            for index in range(1, 2 * REPS_PER_TEAM + 1)
        ]
    )
    teams = env["crm.team"].create(
        [
            {
                "name": name,
                "user_id": manager.id,
                "member_ids": [Command.set(members.ids)],
            }
            for name, members in (
                ("Bench East", reps[:REPS_PER_TEAM]),
                ("Bench West", reps[REPS_PER_TEAM:]),
            )
        ]
    )
    rep_teams = [teams[0].id] * REPS_PER_TEAM + [teams[1].id] * REPS_PER_TEAM

    Stage = env["crm.stage"].with_context(lang="en_US")
    stock = [
        env.ref(f"crm.stage_lead{index}", raise_if_not_found=False)
        for index in (1, 2, 3)
    ]
    stages = []
    for index, (name, sequence, __) in enumerate(FUNNEL[:-1]):
        stage = stock[index] if index < len(stock) and stock[index] else Stage
        if stage:
            stage.with_context(lang="en_US").write({"name": name, "sequence": sequence})
        else:
            stage = Stage.create({"name": name, "sequence": sequence})
        stages.append(stage)
    won = Stage.search([("is_won", "=", True), ("team_id", "=", False)], limit=1)
    if not won:
        won = Stage.create({"name": "Won", "sequence": 70, "is_won": True})
    stages.append(won)
    tags = env["crm.tag"].create(
        [
            {"name": name}
            for name in ("Electrical", "Temperature", "Pressure", "Service")
        ]
    )
    env.flush_all()

    partner_count = max(20, min(5000, n // 20))
    cr.execute(
        SQL(
            """
INSERT INTO res_partner (name, complete_name, email, type, active, is_company,
                         lang, partner_share, color, create_uid, create_date,
                         write_uid, write_date)
SELECT 'Bench Customer ' || g, 'Bench Customer ' || g,
       'buyer' || g || '@customer.example.com', 'contact', TRUE, TRUE,
       'en_US', TRUE, 0, %(uid)s, now() AT TIME ZONE 'UTC',
       %(uid)s, now() AT TIME ZONE 'UTC'
  FROM generate_series(1, %(count)s) g
RETURNING id
            """,
            uid=SUPERUSER_ID,
            count=partner_count,
        )
    )
    partner_ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        SQL(
            "UPDATE res_partner SET commercial_partner_id = id WHERE id IN %s",
            tuple(partner_ids),
        )
    )

    fields = {
        name: env["ir.model.fields"]._get("crm.lead", name).id
        for name in ("stage_id", "active")
    }
    params = {
        "n": n,
        "company": company.id,
        "users": reps.ids,
        "user_partners": reps.partner_id.ids,
        "teams": rep_teams,
        "partners": partner_ids,
        "stages": [stage.id for stage in stages],
        "probabilities": [probability for __, __, probability in FUNNEL],
        "tags": tags.ids,
        "stage_field": fields["stage_id"],
        "active_field": fields["active"],
        "subtype_create": env.ref("crm.mt_lead_create").id,
        "subtype_stage": env.ref("crm.mt_lead_stage").id,
        "subtype_won": env.ref("crm.mt_lead_won").id,
        "subtype_lost": env.ref("crm.mt_lead_lost").id,
        "follower_subtypes": env["mail.message.subtype"]._default_subtypes("crm.lead")[
            0
        ],
        "lead_model": env["ir.model"]._get_id("crm.lead"),
        "activity_type": env.ref("mail.mail_activity_data_call").id,
    }
    for statement in SEED_SQL:
        used = {
            key: value for key, value in params.items() if f"%({key})s" in statement
        }
        cr.execute(SQL(statement, **used))
    env.invalidate_all()
    return {
        "manager": manager.id,
        "rep": reps[0].id,
        "users": reps.ids,
        "teams": sorted(set(rep_teams)),
        "stages": params["stages"],
        "company": company.id,
    }


# Each statement is formatted with the parameters whose name it mentions.
SEED_SQL = [
    # one row per opportunity: k = index of its current stage (4 = won)
    """
CREATE TEMP TABLE bench_seed AS
SELECT g, nextval('crm_lead_id_seq')::integer AS lead_id, k,
       k < 4 AND mod(g * 31, 17) = 5 AS lost,
       k >= 2 AND mod(g, 10) = 3 AS backward,
       (%(users)s::integer[])[1 + mod(g, 8)] AS user_id,
       (%(user_partners)s::integer[])[1 + mod(g, 8)] AS author_id,
       (%(teams)s::integer[])[1 + mod(g, 8)] AS team_id,
       CASE WHEN mod(g, 10) <> 9 THEN (%(partners)s::integer[])[
           1 + mod(g * 7, array_length(%(partners)s::integer[], 1))] END AS partner_id,
       now() AT TIME ZONE 'UTC' - mod(g * 13, 60) * interval '1 day'
           - (1 + mod(g, 23)) * interval '1 hour' AS d_last,
       (2 + mod(g, 13)) * interval '1 day' AS gap,
       1000 + mod(g * 37, 50000) AS revenue
  FROM (SELECT g, CASE WHEN mod(g * 7919, 100) < 35 THEN 0
                       WHEN mod(g * 7919, 100) < 60 THEN 1
                       WHEN mod(g * 7919, 100) < 78 THEN 2
                       WHEN mod(g * 7919, 100) < 90 THEN 3
                       ELSE 4 END AS k
          FROM generate_series(1, %(n)s::bigint) g) s
    """,
    """
INSERT INTO crm_lead (
    id, name, type, active, company_id, user_id, team_id, stage_id, partner_id,
    priority, color, expected_revenue, prorated_revenue, recurring_revenue,
    recurring_revenue_monthly, recurring_revenue_monthly_prorated,
    recurring_revenue_prorated, probability, automated_probability, date_deadline,
    date_open, date_last_stage_update, date_closed, create_uid, create_date,
    write_uid, write_date)
SELECT s.lead_id, 'Bench opportunity ' || s.g, 'opportunity', NOT s.lost,
       %(company)s, s.user_id, s.team_id, (%(stages)s::integer[])[s.k + 1],
       s.partner_id, mod(s.g, 4)::varchar, 0, s.revenue,
       s.revenue * p.probability / 100, 0, 0, 0, 0, p.probability, p.probability,
       CASE WHEN s.k < 4 AND NOT s.lost
            THEN (now() AT TIME ZONE 'UTC')::date + 7 + mod(s.g, 120)::integer END,
       s.d_last - s.k * s.gap, s.d_last,
       CASE WHEN s.k = 4 THEN s.d_last
            WHEN s.lost THEN s.d_last + interval '30 minutes' END,
       s.user_id, s.d_last - s.k * s.gap, s.user_id,
       s.d_last + interval '30 minutes'
  FROM bench_seed s,
       LATERAL (SELECT CASE WHEN s.lost THEN 0.0
                            ELSE (%(probabilities)s::float[])[s.k + 1]
                        END AS probability) p
    """,
    # the chatter: creation, stage moves (and a back-and-forth), lost
    """
CREATE TEMP TABLE bench_event AS
SELECT nextval('mail_message_id_seq')::integer AS message_id, e.*
  FROM (
    SELECT s.lead_id, s.g, s.user_id, s.author_id, s.d_last - s.k * s.gap AS at,
           'create' AS kind, NULL::integer AS old_value, NULL::integer AS new_value
      FROM bench_seed s
    UNION ALL
    SELECT s.lead_id, s.g, s.user_id, s.author_id, s.d_last - (s.k - j) * s.gap,
           'stage', (%(stages)s::integer[])[j], (%(stages)s::integer[])[j + 1]
      FROM bench_seed s, generate_series(1, s.k) j
    UNION ALL
    SELECT s.lead_id, s.g, s.user_id, s.author_id,
           s.d_last - (s.k - 1) * s.gap + b.step * s.gap / 3, 'stage',
           (%(stages)s::integer[])[3 - b.step], (%(stages)s::integer[])[b.step + 1]
      FROM bench_seed s, (VALUES (1), (2)) b(step)
     WHERE s.backward
    UNION ALL
    SELECT s.lead_id, s.g, s.user_id, s.author_id, s.d_last + interval '30 minutes',
           'active', 1, 0
      FROM bench_seed s
     WHERE s.lost
  ) e
 ORDER BY e.at
    """,
    """
INSERT INTO mail_message (
    id, model, res_id, record_name, message_type, subtype_id, author_id, body,
    message_id, is_internal, date, create_uid, create_date, write_uid, write_date)
SELECT e.message_id, 'crm.lead', e.lead_id, 'Bench opportunity ' || e.g,
       'notification',
       CASE WHEN e.kind = 'create' THEN %(subtype_create)s
            WHEN e.kind = 'active' THEN %(subtype_lost)s
            WHEN e.new_value = (%(stages)s::integer[])[5] THEN %(subtype_won)s
            ELSE %(subtype_stage)s END,
       e.author_id,
       CASE WHEN e.kind = 'create' THEN '<p>Opportunity created</p>' ELSE '' END,
       '<bench.' || e.message_id || '@funnel.example.com>', FALSE, e.at,
       e.user_id, e.at, e.user_id, e.at
  FROM bench_event e
    """,
    """
INSERT INTO mail_tracking_value (
    mail_message_id, field_id, old_value_integer, new_value_integer,
    old_value_char, new_value_char, create_uid, create_date, write_uid, write_date)
SELECT e.message_id,
       CASE WHEN e.kind = 'stage' THEN %(stage_field)s ELSE %(active_field)s END,
       e.old_value, e.new_value, so.name->>'en_US', sn.name->>'en_US',
       e.user_id, e.at, e.user_id, e.at
  FROM bench_event e
  LEFT JOIN crm_stage so ON e.kind = 'stage' AND so.id = e.old_value
  LEFT JOIN crm_stage sn ON e.kind = 'stage' AND sn.id = e.new_value
 WHERE e.kind <> 'create'
    """,
    # the salesperson follows the opportunity (default subtypes)
    """
INSERT INTO mail_followers (res_model, res_id, partner_id)
SELECT 'crm.lead', s.lead_id, s.author_id FROM bench_seed s
    """,
    """
INSERT INTO mail_followers_mail_message_subtype_rel (
    mail_followers_id, mail_message_subtype_id)
SELECT f.id, st.id
  FROM mail_followers f
  JOIN bench_seed s ON s.lead_id = f.res_id
 CROSS JOIN unnest(%(follower_subtypes)s::integer[]) st(id)
 WHERE f.res_model = 'crm.lead'
    """,
    # a next activity on one open opportunity in three (some overdue)
    """
INSERT INTO mail_activity (
    res_model_id, res_model, res_id, res_name, activity_type_id, user_id,
    summary, date_deadline, automated, active, create_uid, create_date,
    write_uid, write_date)
SELECT %(lead_model)s, 'crm.lead', s.lead_id, 'Bench opportunity ' || s.g,
       %(activity_type)s, s.user_id, 'Follow-up call',
       (now() AT TIME ZONE 'UTC')::date + mod(s.g, 21)::integer - 7, FALSE, TRUE,
       s.user_id, s.d_last, s.user_id, s.d_last
  FROM bench_seed s
 WHERE mod(s.g, 3) = 0 AND s.k < 4 AND NOT s.lost
    """,
    """
INSERT INTO crm_tag_rel (lead_id, tag_id)
SELECT s.lead_id, (%(tags)s::integer[])[1 + mod(s.g, 4)]
  FROM bench_seed s
 WHERE mod(s.g, 4) = 0
    """,
    "DROP TABLE bench_event",
    "DROP TABLE bench_seed",
]


def seed_activities(env, context, count):
    """Seed the planned activities that the measure marks done, and ``count``
    activities already done, as the chatter keeps them: one message each,
    of subtype Activities with the activity type (what ``_action_done`` posts),
    on a random opportunity, written by its salesperson, dated over the past
    year. Random but repeatable (``setseed``)."""
    cr = env.cr
    types = [env.ref(xmlid).id for xmlid, __ in ACTIVITY_MIX]
    bounds, share = [], 0
    for __, percent in ACTIVITY_MIX:
        bounds.append(share / 100)
        share += percent
    params = {
        "count": count,
        "done_batch": DONE_BATCH,
        "won": context["stages"][-1],
        "types": types,
        "bounds": bounds,
        "lead_model": env["ir.model"]._get_id("crm.lead"),
        "subtype": env.ref("mail.mt_activities").id,
        "company": context["company"],
        "pattern": "Bench opportunity %",
    }
    for statement in ACTIVITY_SQL:
        used = {
            key: value for key, value in params.items() if f"%({key})s" in statement
        }
        cr.execute(SQL(statement, **used))
        if statement.lstrip().startswith("INSERT INTO mail_activity"):
            context["done"] = sorted(row[0] for row in cr.fetchall())
    cr.execute(
        "SELECT count(*) FROM mail_message "
        "WHERE model = 'crm.lead' AND mail_activity_type_id IS NOT NULL"
    )
    context["activities"] = cr.fetchone()[0]
    env.invalidate_all()


ACTIVITY_SQL = [
    # planned activities to mark done, on open opportunities that have none, the
    # most recent first (the moves take the oldest), assigned to their salesperson
    """
INSERT INTO mail_activity (
    res_model_id, res_model, res_id, res_name, activity_type_id, user_id,
    summary, date_deadline, automated, active, create_uid, create_date,
    write_uid, write_date)
SELECT %(lead_model)s, 'crm.lead', l.id, l.name,
       (%(types)s::integer[])[1 + mod(l.id, array_length(%(types)s::integer[], 1))],
       l.user_id, 'Check the offer', (now() AT TIME ZONE 'UTC')::date
           + mod(l.id, 15)::integer - 5, FALSE, TRUE, l.user_id,
       now() AT TIME ZONE 'UTC' - interval '7 days', l.user_id,
       now() AT TIME ZONE 'UTC' - interval '7 days'
  FROM crm_lead l
 WHERE l.type = 'opportunity' AND l.active AND l.stage_id <> %(won)s
   AND l.name LIKE %(pattern)s
   AND NOT EXISTS (SELECT 1 FROM mail_activity a
                    WHERE a.res_model = 'crm.lead' AND a.res_id = l.id)
 ORDER BY l.id DESC
 LIMIT %(done_batch)s
RETURNING id
    """,
    "SELECT setseed(0.5)",
    """
CREATE TEMP TABLE bench_lead AS
SELECT row_number() OVER (ORDER BY l.id)::integer AS rn, l.id, l.name,
       l.user_id, p.id AS author_id,
       '"' || p.name || '" <' || p.email || '>' AS email_from
  FROM crm_lead l
  JOIN res_users u ON u.id = l.user_id
  JOIN res_partner p ON p.id = u.partner_id
 WHERE l.type = 'opportunity' AND l.name LIKE %(pattern)s
    """,
    # the body is what mail.message_activity_done renders
    """
INSERT INTO mail_message (
    model, res_id, record_name, record_company_id, message_type, subtype_id,
    mail_activity_type_id, author_id, email_from, body, message_id, is_internal,
    date, create_uid, create_date, write_uid, write_date)
SELECT 'crm.lead', l.id, l.name, %(company)s, 'notification', %(subtype)s, t.id,
       l.author_id, l.email_from,
       '<div><p><span class="fa ' || t.icon || ' fa-fw"></span><span>'
           || (t.name->>'en_US') || '</span> done<span>: </span>'
           || '<span>Follow-up</span></p></div>',
       '<bench.activity.' || a.g || '@funnel.example.com>', FALSE, a.at,
       l.user_id, a.at, l.user_id, a.at
  FROM (SELECT g,
               1 + floor(random() * (SELECT count(*) FROM bench_lead))::integer
                   AS rn,
               width_bucket(random(), %(bounds)s::float8[]) AS kind,
               now() AT TIME ZONE 'UTC' - random() * interval '365 days' AS at
          FROM generate_series(1, %(count)s) g) a
  JOIN bench_lead l ON l.rn = a.rn
  JOIN mail_activity_type t ON t.id = (%(types)s::integer[])[a.kind]
 ORDER BY a.at
    """,
    "DROP TABLE bench_lead",
]


def pick_opportunities(env, context, batch):
    """The opportunities that both phases move: open ones in Start with a
    customer (the single move, the blocked move, then the batch)."""
    env.cr.execute(
        SQL(
            """
SELECT id FROM crm_lead
 WHERE stage_id = %(stage)s AND active AND type = 'opportunity'
   AND partner_id IS NOT NULL AND name LIKE %(pattern)s
 ORDER BY id
 LIMIT %(limit)s
            """,
            stage=context["stages"][0],
            pattern="Bench opportunity %",
            limit=batch + 2,
        )
    )
    ids = [row[0] for row in env.cr.fetchall()]
    context.update(single=ids[0], blocked=ids[1], batch=ids[2:])


# ----------------------------------------------------------------------------
# Measures
# ----------------------------------------------------------------------------


class Sample:
    """One run of an operation: wall time, CPU time of this process (the Python
    side of the server), number and wall time of the SQL queries."""

    def __init__(self, wall, cpu, queries, sql, result):
        self.wall, self.cpu, self.queries, self.sql = wall, cpu, queries, sql
        self.result = result


class Measure:
    """Medians of the samples of one operation on one database."""

    def __init__(self, samples):
        self.samples = samples
        self.time = statistics.median(s.wall for s in samples)
        self.cpu = statistics.median(s.cpu for s in samples)
        self.queries = statistics.median(s.queries for s in samples)
        self.sql = statistics.median(s.sql for s in samples)

    def part(self, name):
        """Median of a part of a composite operation (the kanban load)."""
        return statistics.median(s.result[name] for s in self.samples)


class Side:
    """One database being measured, with the users' environments."""

    def __init__(self, label, registry, context):
        self.label = label
        self.cr = registry.cursor()
        user_context = {
            "lang": "en_US",
            "tz": "UTC",
            "allowed_company_ids": [context["company"]],
        }
        self.manager = api.Environment(self.cr, context["manager"], user_context)
        self.rep = api.Environment(self.cr, context["rep"], user_context)
        self.root = api.Environment(self.cr, SUPERUSER_ID, {})

    def table_size(self, table):
        """Size on disk of a table, in MB (without its indexes)."""
        self.cr.execute(SQL("SELECT pg_relation_size(%s)", table))
        return self.cr.fetchone()[0] / 2**20

    def close(self):
        self.cr.rollback()
        self.cr.close()


def run_once(side, operation, setup=None):
    """Run ``operation`` once on ``side`` and roll its transaction back."""
    if setup:
        setup()
    thread = threading.current_thread()
    thread.query_count, thread.query_time = 0, 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    result = operation()
    sample = Sample(
        time.perf_counter() - wall,
        time.process_time() - cpu,
        thread.query_count,
        thread.query_time,
        result,
    )
    del thread.query_count, thread.query_time
    side.cr.rollback()
    return sample


def compare(sides, make_operation, repeat, setup=None, warmup=1):
    """Measure the same operation on each side, runs interleaved (ABBA...) so
    that the load of the machine weighs the same on every side.

    :param make_operation: side -> callable running the operation once
    :return: list of Measure, one per side
    """
    operations = [make_operation(side) for side in sides]
    samples = [[] for __ in sides]
    for run in range(warmup + repeat):
        order = list(range(len(sides)))
        if run % 2:
            order.reverse()
        for index in order:
            sample = run_once(
                sides[index], operations[index], setup and setup(sides[index])
            )
            if run >= warmup:
                samples[index].append(sample)
    return [Measure(side_samples) for side_samples in samples]


def flush(env):
    """What the end of a request does before COMMIT: flush, pre-commit hooks
    (mail tracking), and the flush of what they wrote."""
    env.cr.flush()
    env.flush_all()


def kanban_request(env, view_xmlid="crm.crm_case_kanban_view_leads"):
    """The pipeline kanban's requests as the web client builds them from the
    view that ``env.user`` gets: aggregates, card specification, progress bar."""
    Lead = env["crm.lead"]
    view = env.ref(view_xmlid)
    result = Lead.get_views([(view.id, "kanban")], {})
    arch = etree.fromstring(result["views"]["kanban"]["arch"])
    fields = dict(result["models"]["crm.lead"]["fields"])
    active = {}  # field name -> {"invisible": bool, "related": [names] or None}

    def add(name, invisible=False, related=None, field_type=None):
        if name not in fields:
            fields[name] = {"type": field_type or "char", "name": name}
        entry = active.setdefault(name, {"invisible": True, "related": None})
        entry["invisible"] = entry["invisible"] and invisible
        if related:
            entry["related"] = related

    for node in arch.iter("field"):
        name = node.get("name")
        field_type = fields[name]["type"]
        widget = node.get("widget")
        if not widget and field_type == "many2many":
            widget = "many2many_tags"  # kanban shows many2many as tags
        # options are a JavaScript object literal: true and false may appear
        options = safe_eval(
            node.get("options") or "{}", {"true": True, "false": False, "null": None}
        )
        related = None
        if widget == "many2many_tags":
            related = ["display_name"] + (
                [options["color_field"]] if options.get("color_field") else []
            )
        add(name, invisible=node.get("invisible") in ("1", "True"), related=related)
        for dependency, dependency_type in WIDGET_DEPENDENCIES.get(widget, []):
            add(dependency, field_type=dependency_type)
    if arch.get("highlight_color"):
        add(arch.get("highlight_color"), field_type="integer")
    progressbar = arch.find(".//progressbar")
    progress = None
    if progressbar is not None:
        for attribute in ("sum_field", "recurring_revenue_sum_field"):
            if progressbar.get(attribute):
                add(progressbar.get(attribute))
        progress = {
            "field": progressbar.get("field"),
            "colors": json.loads(progressbar.get("colors")),
            "help": progressbar.get("help"),
        }

    return {
        "spec": fields_spec(active, fields),
        "aggregates": [
            f"{name}:{fields[name]['aggregator']}"
            for name in active
            if fields[name].get("aggregator") and name != "stage_id"
        ],
        "progress": progress,
    }


def fields_spec(active, fields):
    """The ``specification`` of web_search_read, as the web client's
    getFieldsSpec builds it from the view's active fields."""
    spec = {}
    for name, entry in active.items():
        field_type = fields[name]["type"]
        if field_type in ("many2one", "reference"):
            spec[name] = {"fields": {} if entry["invisible"] else {"display_name": {}}}
        elif field_type in ("one2many", "many2many"):
            related = entry["related"]
            spec[name] = (
                {"fields": {related_name: {} for related_name in related}}
                if related and not entry["invisible"]
                else {}
            )
        else:
            spec[name] = {}
    for name in active:
        definition = fields[name].get("definition_record")
        if fields[name]["type"] == "properties" and definition in spec:
            spec[definition].setdefault("fields", {})["display_name"] = {}
    return spec


def load_kanban(env, request, domain):
    """Open the grouped kanban: groups, then the first page of each open
    column, then the progress bars; return the durations of the parts."""
    context = {**env.context, "default_type": "opportunity"}
    Lead = env["crm.lead"].with_context(context)
    start = time.perf_counter()
    groups = Lead.web_read_group(
        domain, request["aggregates"], ["stage_id"], limit=None, orderby="", lazy=True
    )["groups"]
    after_groups = time.perf_counter()
    opened = 0
    for group in groups:
        if group.get("__fold") or not group.get("stage_id_count"):
            continue
        opened += 1
        if opened > MAX_OPEN_COLUMNS:
            break
        stage_id = group["stage_id"][0] if group["stage_id"] else False
        Lead.with_context(bin_size=True, default_stage_id=stage_id).web_search_read(
            group["__domain"], request["spec"], offset=0, limit=KANBAN_PAGE, order=""
        )
    after_cards = time.perf_counter()
    if request["progress"]:
        Lead.read_progress_bar(domain, "stage_id", request["progress"])
    end = time.perf_counter()
    return {
        "groups": after_groups - start,
        "cards": after_cards - after_groups,
        "progress": end - after_cards,
        "columns": opened,
    }


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

    log("  stage move")
    results["move"] = compare(sides, move([context["single"]]), args.repeat)
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


def trailing_12_months(env):
    """The domain of the "Trailing 12 months" filter of stock's activity
    analysis, as the web client evaluates it in the user's time zone."""
    tz = pytz.timezone(env.context.get("tz") or env.user.tz or "UTC")
    today = fields.Date.context_today(env.user)

    def to_utc(day, at):
        local = tz.localize(datetime.datetime.combine(day, at))
        return local.astimezone(pytz.utc).strftime("%Y-%m-%d %H:%M:%S")

    return [
        ("date", ">=", to_utc(today - datetime.timedelta(days=365), datetime.time())),
        ("date", "<=", to_utc(today, datetime.time(23, 59, 59))),
    ]


def upcoming_closings(env):
    """The domain of stock's "Upcoming Closings" forecast filter, as its search
    model builds it: no expected closing date, or one from the first day of the
    current month on."""
    start = fields.Date.context_today(env.user).replace(day=1)
    return ["|", ("date_deadline", "=", False), ("date_deadline", ">=", start)]


# Default filters of the actions (search_default_<name>) that the pivot
# requests include: name -> domain, built as the web client evaluates it (None:
# a filter of the search view, evaluated from its arch; see search_filter).
SEARCH_DEFAULTS = {
    "completion_date": trailing_12_months,
    "forecast": upcoming_closings,
}
# Default group-bys of the actions, the same as the rows of their pivot view.
SEARCH_GROUPBYS = {"date_deadline"}


def search_filter(env, action, name):
    """The domain of filter ``name`` of the action's search view, evaluated as
    the web client does (``context_today``, ``relativedelta``, ``uid``)."""
    model = env[action.res_model]
    view_id = action.search_view_id.id or False
    arch = model.get_views([(view_id, "search")], {})["views"]["search"]["arch"]
    today = fields.Date.context_today(env.user)
    for node in etree.fromstring(arch).iter("filter"):
        if node.get("name") == name and node.get("domain"):
            return safe_eval(
                node.get("domain"),
                {
                    "uid": env.uid,
                    "context_today": lambda: today,
                    "relativedelta": relativedelta,
                    "datetime": safe_datetime,
                },
            )
    sys.exit(f"error: filter {name} of {action.res_model} unknown")


def pivot_request(env, action_xmlid, view_xmlid, skip=()):
    """What the web client's pivot asks for when ``action_xmlid`` opens it:
    rows and columns from the action's ``pivot_*_groupby`` context, else from
    the view's arch as ``env.user`` gets it; the view's measures, else the
    count; the action's domain and default filters (but those of ``skip``);
    the action's context."""
    action = env.ref(action_xmlid).sudo()  # as /web/action/load reads it
    action_context = safe_eval(action.context or "{}", {"active_id": False})
    model = env[action.res_model]
    view = env.ref(view_xmlid)
    result = model.get_views([(view.id, "pivot")], {})
    arch = etree.fromstring(result["views"]["pivot"]["arch"])
    fields_info = model.fields_get(attributes=["type", "aggregator"])
    arch_fields = {"row": [], "col": [], "measure": []}
    for node in arch.iter("field"):
        name = node.get("name")
        if node.get("interval"):
            name = f"{name}:{node.get('interval')}"
        if node.get("type") in arch_fields:
            arch_fields[node.get("type")].append(name)

    def normalize(groupby):
        name, __, interval = groupby.partition(":")
        if fields_info[name]["type"] in ("date", "datetime"):
            return f"{name}:{interval or 'month'}"
        return name

    def measure_spec(name):
        if name == "__count":
            return name
        if fields_info[name]["type"] == "many2one":
            return f"{name}:count_distinct"
        return f"{name}:{fields_info[name]['aggregator']}"

    domain = safe_eval(action.domain or "[]", {"uid": env.uid})
    for key, value in action_context.items():
        if key.startswith("search_default_") and value:
            name = key[len("search_default_") :]
            if name in skip or name in SEARCH_GROUPBYS:
                continue
            if name in SEARCH_DEFAULTS:
                default = SEARCH_DEFAULTS[name](env)
            else:
                default = search_filter(env, action, name)
            domain = expression.AND([domain, default])
    measures = action_context.get("pivot_measures") or arch_fields["measure"]
    return {
        "model": model._name,
        "rows": [
            normalize(g)
            for g in action_context.get("pivot_row_groupby") or arch_fields["row"]
        ],
        "cols": [
            normalize(g)
            for g in action_context.get("pivot_column_groupby") or arch_fields["col"]
        ],
        "measures": [measure_spec(name) for name in measures or ["__count"]],
        "domain": domain,
        "context": action_context,
    }


def sections(groupbys):
    """The leading parts of a list of groupings: [], [a], [a, b] ..."""
    return [groupbys[:index] for index in range(len(groupbys) + 1)]


def load_pivot(env, request):
    """Open the pivot as the web client does: one ``read_group`` (not lazy)
    per pair of leading row and column groupings, the overall total first;
    return the number of rows aggregated, of calls and of finest cells."""
    Model = env[request["model"]].with_context(**request["context"])
    divisors = [
        list(dict.fromkeys(rows + cols))
        for rows in sections(request["rows"])
        for cols in sections(request["cols"])
    ]
    count = cells = 0
    for groupby in divisors:
        groups = Model.read_group(
            request["domain"], request["measures"], groupby, lazy=False
        )
        if not groupby:
            count = groups[0]["__count"] if groups else 0
        cells = max(cells, len(groups))
    return {"count": count, "calls": len(divisors), "cells": cells}


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
        STOCK: pivot_request(
            stock.manager,
            "crm.crm_activity_report_action",
            "crm.crm_activity_report_view_pivot",
        ),
        ADDON: pivot_request(
            addon.manager,
            f"{ADDON}.funnel_activity_log_action",
            f"{ADDON}.funnel_activity_log_view_pivot",
        ),
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
        for label, model, activity_type in (
            (STOCK, "crm.activity.report", "mail_activity_type_id"),
            (ADDON, "funnel.activity.log", "activity_type_id"),
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
    for key, user, requests, label in pivots:

        def make(side, user=user, requests=requests):
            env = getattr(side, user)
            return functools.partial(load_pivot, env, requests[side.label])

        log(f"  activity pivot, {label} ({user})")
        results[key] = compare(sides, make, args.repeat)
    return results


def measure_log_backfill(addon, args):
    """``_backfill_from_messages`` on the done activities of the chatter, the
    activity log emptied first (in the transaction rolled back after each run)."""

    def setup(side):
        def empty():
            side.cr.execute("TRUNCATE funnel_activity_log")

        return empty

    def make(side):
        return side.root["funnel.activity.log"]._backfill_from_messages

    (result,) = compare([addon], make, args.backfill_repeat, setup=setup, warmup=0)
    return result


def prepare_forecast(registry, context):
    """Targets for the seeded salespeople (monthly) and teams (quarterly) over
    the next twelve months, sized on their open pipeline; the historical win
    rates computed once. Committed: both sides of the forecast pivot read the
    same opportunities, the addon's also reads these."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        cr.execute(
            SQL(
                "SELECT user_id, team_id, sum(expected_revenue) FROM crm_lead "
                "WHERE type = 'opportunity' AND active AND user_id IN %s "
                "GROUP BY user_id, team_id",
                tuple(context["users"]),
            )
        )
        pipeline = cr.fetchall()
        month = fields.Date.context_today(env.user).replace(day=1)
        quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
        per_user, per_team = {}, {}
        for user_id, team_id, amount in pipeline:
            per_user[user_id] = per_user.get(user_id, 0) + amount
            per_team[team_id] = per_team.get(team_id, 0) + amount
        # the open pipeline closes over four months: a target of a third of it
        # a month leaves a gap to show
        values = [
            {
                "user_id": user_id,
                "period": "month",
                "date_from": month + relativedelta(months=index),
                "amount": round(amount / 3, -3),
            }
            for user_id, amount in per_user.items()
            for index in range(12)
        ] + [
            {
                "team_id": team_id,
                "period": "quarter",
                "date_from": quarter + relativedelta(months=3 * index),
                "amount": round(amount, -3),
            }
            for team_id, amount in per_team.items()
            if team_id
            for index in range(4)
        ]
        env["funnel.target"].create(values)
        env["funnel.stage.win.rate"]._refresh()
        env.flush_all()
        context["targets"] = len(values)
        cr.execute(
            "SELECT count(*) FROM crm_lead l JOIN crm_stage s ON s.id = l.stage_id "
            "WHERE l.type = 'opportunity' AND l.active "
            "AND NOT COALESCE(s.is_won, FALSE)"
        )
        context["open"] = cr.fetchone()[0]
        cr.commit()


def forecast_pivots(stock, addon):
    """The forecast pivots measured: [(key, user, {side: request}, label)]:
    stock's Forecast (CRM > Sales > Forecast, its pivot) against the addon's
    Funnel Forecast analysis, as each action opens them; as the manager on the
    whole pipeline (stock's "My Pipeline" default filter left out), and as a
    salesperson (with it)."""
    stock_action = ("crm.crm_lead_action_forecast", "crm.crm_lead_view_pivot_forecast")
    addon_action = (
        f"{ADDON}.funnel_forecast_report_action",
        f"{ADDON}.funnel_forecast_report_view_pivot",
    )
    manager = {
        STOCK: pivot_request(stock.manager, *stock_action, skip={"assigned_to_me"}),
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
    results = {}
    pivots = forecast_pivots(stock, addon)
    context["forecast_requests"] = {key: requests for key, __, requests, __ in pivots}
    for key, user, requests, label in pivots:

        def make(side, user=user, requests=requests):
            env = getattr(side, user)
            return functools.partial(load_pivot, env, requests[side.label])

        log(f"  forecast pivot, {label} ({user})")
        results[key] = compare([stock, addon], make, args.repeat)

    def snapshot(side):
        def operation():
            env = side.manager
            company = env["res.company"].browse(context["company"])
            snapshots = env["funnel.forecast.snapshot"]._take_snapshots(
                company, kind="manual"
            )
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
            Rate = side.root["funnel.stage.win.rate"]
            Rate._refresh()
            side.cr.execute(
                "SELECT stage_id, team_id, won_count, lost_count "
                "FROM funnel_stage_win_rate ORDER BY 1, 2"
            )
            return side.cr.fetchall()

        return operation

    log("  historical win rates over the history as it is")
    (plain,) = compare([addon], refresh, 1, warmup=0)
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
    results = {}
    for key, user, requests, label in forecast_pivots(stock, addon):

        def make(side, user=user, requests=requests):
            env = getattr(side, user)
            return functools.partial(load_pivot, env, requests[side.label])

        log(f"  forecast pivot, {label} ({user}), crm_lead compacted")
        results[f"{key}_compacted"] = compare([stock, addon], make, args.repeat)
    return results


def prepare_addon(registry, context):
    """Apply the professional funnel template (timed) and tick the checklist
    criteria of the opportunities that the measured moves use."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        start = time.perf_counter()
        changes = env["funnel.template.wizard"]._apply_template()
        env.flush_all()
        applied = time.perf_counter() - start
        log(f"  template applied in {applied:.1f}s ({len(changes)} changes)")
        movers = env["crm.lead"].browse([context["single"], *context["batch"]])
        checks = env["funnel.lead.check"].search(
            [
                ("lead_id", "in", movers.ids),
                ("is_current", "=", True),
                ("criterion_id.kind", "=", "checklist"),
            ]
        )
        checks.write({"state": "met", "evidence": "Benchmark"})
        env.flush_all()
        target = env["crm.stage"].browse(context["stages"][1])
        if movers._funnel_unmet_criteria(target):
            sys.exit("error: the measured opportunities do not pass their gate")
        blocked = env["crm.lead"].browse(context["blocked"])
        if not blocked._funnel_unmet_criteria(target):
            sys.exit("error: the blocked opportunity would pass its gate")
        cr.execute("SELECT count(*) FROM funnel_lead_check")
        context["checks"] = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM funnel_stage_history")
        context["history_rows"] = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM funnel_activity_log")
        context["log_rows"] = cr.fetchone()[0]
        cr.commit()
    return applied


def measure_backfill(addon, args):
    """``_backfill_from_tracking`` on every opportunity, the history emptied
    first (in the transaction that is rolled back after each run)."""

    def setup(side):
        def empty():
            side.cr.execute("TRUNCATE funnel_stage_history")
            side.cr.execute(
                "UPDATE crm_lead SET backward_move_count = 0 "
                "WHERE backward_move_count <> 0"
            )

        return empty

    def make(side):
        return side.root["funnel.stage.history"]._backfill_from_tracking

    (result,) = compare([addon], make, args.backfill_repeat, setup=setup, warmup=0)
    return result


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------


def format_ms(seconds):
    if seconds is None:
        return "—"
    milliseconds = seconds * 1000
    return f"{milliseconds:,.0f}" if milliseconds >= 100 else f"{milliseconds:,.1f}"


def format_table(headers, rows, align):
    widths = [
        max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))
    ]

    def line(values):
        return "  ".join(
            f"{value:{a}{w}}" for value, a, w in zip(values, align, widths, strict=True)
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *map(line, rows)]


def describe_pivot(request, measure):
    """One line on what a pivot load asks for and reads."""
    result = measure.samples[0].result
    return (
        f"{request['model']}, rows {' > '.join(request['rows'])}, columns "
        f"{' > '.join(request['cols'])}, {', '.join(request['measures'])}"
        + (", default filter" if request["domain"] else "")
        + f": {result['calls']} read_group, {result['count']:,} rows, "
        f"{result['cells']:,} cells"
    )


def activity_lines(args, context, results, log_backfill):
    """The notes on the activity measures, under the tables."""
    mix = ", ".join(
        f"{xmlid.split('_')[-1]} {percent}%" for xmlid, percent in ACTIVITY_MIX
    )
    lines = [
        f"activity log backfill: {log_backfill.samples[0].result:,} rows from "
        f"{context['activities']:,} done activities in the chatter ({mix}; "
        f"{context['activities'] / args.n:.0f} per opportunity, over the past "
        f"year), median of {args.backfill_repeat} runs {log_backfill.time:.2f} s",
        f"activities done: {len(context['done']):,} planned activities marked "
        "done with feedback by the manager, action_feedback in one call",
        "activity pivots: crm.activity.report leaves out the activities of "
        "archived (lost) opportunities, the activity log keeps them",
    ]
    for key, label, __ in PIVOTS:
        for side, measure in zip((STOCK, ADDON), results[key], strict=True):
            request = context["pivot_requests"][key][side]
            lines.append(f"{label}, {side}: {describe_pivot(request, measure)}")
    for key, label, __ in FORECASTS:
        for side, measure in zip((STOCK, ADDON), results[key], strict=True):
            request = context["forecast_requests"][key][side]
            lines.append(f"{label}, {side}: {describe_pivot(request, measure)}")
    lines += [
        f"forecast: {context['targets']} targets (monthly per salesperson, "
        "quarterly per team, next twelve months); snapshot: one INSERT ... SELECT "
        f"of {context['open']:,} open opportunities, median of "
        f"{args.backfill_repeat} runs",
        f"historical win rates: the history brought to {context['rates_history']:,} "
        "rows by repeating closed stays (same result as without them, checked), "
        f"median of {args.backfill_repeat} runs",
    ]
    return lines


FORECASTS = [
    ("forecast", "forecast pivot as opened, manager", "forecast, manager"),
    ("forecast_rep", "forecast pivot as opened, salesperson", "forecast, salesperson"),
]

PIVOTS = [
    ("pivot", "activity pivot as opened, manager", "pivot as opened"),
    ("pivot_same", "activity pivot user x type, manager", "pivot, manager"),
    ("pivot_same_rep", "activity pivot user x type, salesperson", "pivot, salesperson"),
]


def report(args, context, results, backfills, install, applied, loads):
    backfill, log_backfill = backfills
    batch = len(context["batch"])
    rows = []

    def row(label, stock, addon, goal=None, at=None):
        """``at``: the size the goal is set for, when the run has another one
        (the verdict is then only indicative)."""
        ratio = addon / stock if stock and addon else None
        verdict = ""
        if goal is not None and ratio is not None:
            verdict = "pass" if ratio <= goal else "FAIL"
            if at:
                verdict = f"({verdict})"
        rows.append(
            (
                label,
                format_ms(stock),
                format_ms(addon),
                f"{ratio:.2f}x" if ratio else "—",
                (f"<= {goal:.1f}x" + (f" at {at}" if at else "")) if goal else "",
                verdict,
            )
        )

    stock, addon = results["move"]
    row("stage move (1 opportunity)", stock.time, addon.time, MOVE_GOAL)
    stock, addon = results["batch"]
    row(f"batch move ({batch:,} opportunities)", stock.time, addon.time)
    row("blocked move (gate refuses)", None, results["blocked"][0].time)
    for key, label in (
        ("kanban", "kanban load, manager, whole pipeline"),
        ("kanban_rep", "kanban load, salesperson, My Pipeline"),
    ):
        stock, addon = results[key]
        row(label, stock.time, addon.time, KANBAN_GOAL)
        columns = addon.samples[0].result["columns"]
        for part, part_label in (
            ("groups", "web_read_group"),
            ("cards", f"web_search_read x{columns} columns"),
            ("progress", "read_progress_bar"),
        ):
            row(f"  {part_label}", stock.part(part), addon.part(part))
    stock, addon = results["done"]
    row(f"activities done ({len(context['done']):,}, one call)", stock.time, addon.time)
    pivot_at = None if args.activities == PIVOT_GOAL_N else f"{PIVOT_GOAL_N:,}"
    for key, label, __ in PIVOTS:
        stock, addon = results[key]
        row(label, stock.time, addon.time, PIVOT_GOAL, pivot_at)

    for key, label, __ in FORECASTS:
        stock, addon = results[key]
        row(label, stock.time, addon.time, FORECAST_GOAL)
        stock, addon = results[f"{key}_compacted"]
        row("  the same, crm_lead compacted", stock.time, addon.time)
    snapshot = results["snapshot"]
    scaled = snapshot.time * SNAPSHOT_GOAL_N / context["open"]
    verdict = "pass" if scaled < SNAPSHOT_GOAL_S else "FAIL"
    rows.append(
        (
            f"forecast snapshot ({context['open']:,} open)",
            "—",
            format_ms(snapshot.time),
            "—",
            f"< {SNAPSHOT_GOAL_S:.0f} s at {SNAPSHOT_GOAL_N // 1000}k",
            verdict if context["open"] == SNAPSHOT_GOAL_N else f"({verdict}, scaled)",
        )
    )
    rates = results["rates"]
    rows.append(
        (
            f"historical win rates ({context['rates_history']:,} rows)",
            "—",
            format_ms(rates.time),
            "—",
            f"< {RATES_GOAL_S:.0f} s",
            "pass" if rates.time < RATES_GOAL_S else "FAIL",
        )
    )

    scaled = backfill.time * BACKFILL_GOAL_N / args.n
    backfill_verdict = "pass" if scaled < BACKFILL_GOAL_S else "FAIL"
    if args.n != BACKFILL_GOAL_N:
        backfill_verdict = f"({backfill_verdict}, scaled)"
    rows.append(
        (
            f"backfill ({args.n:,} opportunities)",
            "—",
            format_ms(backfill.time),
            "—",
            f"< {BACKFILL_GOAL_S:.0f} s"
            + (f" at {BACKFILL_GOAL_N // 1000}k" if args.n != BACKFILL_GOAL_N else ""),
            backfill_verdict,
        )
    )
    rows.append(
        (
            f"activity log backfill ({context['activities']:,} done)",
            "—",
            format_ms(log_backfill.time),
            "—",
            "",
            "",
        )
    )

    detail = []
    for key, label in (
        ("move", "stage move"),
        ("batch", "batch move"),
        ("blocked", "blocked move"),
        ("kanban", "kanban, manager"),
        ("kanban_rep", "kanban, salesperson"),
        ("done", "activities done"),
        *((key, short) for key, __, short in PIVOTS),
        *((key, short) for key, __, short in FORECASTS),
        *((f"{key}_compacted", f"{short}, compacted") for key, __, short in FORECASTS),
        ("snapshot", "forecast snapshot"),
        ("rates", "historical win rates"),
    ):
        measures = results[key]
        if isinstance(measures, Measure):  # measured on the addon only
            measures = [measures]
        stock, addon = measures if len(measures) == 2 else (None, measures[0])
        detail.append(
            (
                label,
                format_ms(stock and stock.cpu),
                format_ms(addon.cpu),
                format_ms(stock and stock.sql),
                format_ms(addon.sql),
                f"{stock.queries:.0f}" if stock else "—",
                f"{addon.queries:.0f}",
            )
        )
    for label, measure in (
        ("backfill", backfill),
        ("activity log backfill", log_backfill),
    ):
        detail.append(
            (
                label,
                "—",
                format_ms(measure.cpu),
                "—",
                format_ms(measure.sql),
                "—",
                f"{measure.queries:.0f}",
            )
        )

    out = [
        "",
        f"Sales Funnel Pro benchmark: {args.n:,} opportunities; stock crm on "
        f"{args.db}_stock, the addon on {args.db} (same data); median of "
        f"{args.repeat} runs after a warm-up, stock and addon runs interleaved; "
        f"times in ms; {ADDON} at {args.revision}"
        + (" (copied at start)" if args.snapshot else ""),
        "",
        *format_table(
            ("operation", "stock ms", "addon ms", "ratio", "goal", "result"),
            rows,
            ["<", ">", ">", ">", "<", "<"],
        ),
        "",
        "Where the time goes (medians): CPU time of the server process (Python), "
        "wall time of its SQL queries, number of queries",
        "",
        *format_table(
            (
                "operation",
                "cpu stock",
                "cpu addon",
                "sql stock",
                "sql addon",
                "queries stock",
                "queries addon",
            ),
            detail,
            ["<", ">", ">", ">", ">", ">", ">"],
        ),
        "",
        f"backfill: {backfill.samples[0].result:,} history rows, median of "
        f"{args.backfill_repeat} runs {backfill.time:.2f} s"
        + (
            f" (scaled linearly to {BACKFILL_GOAL_N:,}: {scaled:.1f} s)"
            if args.n != BACKFILL_GOAL_N
            else ""
        ),
        f"addon install: odoo-bin -i {ADDON}, process start to stop, including the "
        f"backfills by its post-init hook ({context['history_rows']:,} history "
        f"rows, {context['log_rows']:,} activity log rows): {install:.1f} s",
        *activity_lines(args, context, results, log_backfill),
        f"professional funnel template applied on the seeded pipeline (creates "
        f"and evaluates {context['checks']:,} checks): {applied:.1f} s",
        f"kanban card fields: stock {context['kanban_fields'][STOCK]}, addon "
        f"{context['kanban_fields'][ADDON]}",
        f"crm_lead table after VACUUM: stock {context['lead_table'][STOCK]:.0f} MB, "
        f"addon {context['lead_table'][ADDON]:.0f} MB (scans of the pipeline read "
        "the difference)",
        "crm_lead compacted: VACUUM FULL then VACUUM ANALYZE of crm_lead on both "
        "sides after all other measures, then the forecast pivots again: "
        f"stock {context['lead_table_compacted'][STOCK]:.0f} MB, addon "
        f"{context['lead_table_compacted'][ADDON]:.0f} MB; for information, the "
        "goal is judged as installed",
        f"machine: {os.cpu_count()} cores, load average (1 min) "
        + " -> ".join(f"{load:.2f}" for load in loads)
        + " at start -> before measures -> at end; shared with other work.",
    ]
    print("\n".join(out))


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------


def main():
    args = parse_args()
    if not args.db.startswith("funnel_bench"):
        sys.exit("error: the benchmark database name must start with funnel_bench")
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
    install = run_odoo(args, args.db, "--init", ADDON)
    log(f"  installed in {install:.1f}s")
    log("applying the professional funnel template")
    applied = prepare_addon(Registry.new(args.db), context)
    log("setting targets and historical win rates")
    prepare_forecast(Registry.new(args.db), context)
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
    loads.append(os.getloadavg()[0])

    report(args, context, results, (backfill, log_backfill), install, applied, loads)
    if args.keep_db:
        log(f"kept {args.db} and {stock_db}")
    else:
        log(f"dropping {args.db} and {stock_db}")
        drop_database(args.db)
        drop_database(stock_db)


if __name__ == "__main__":
    main()
