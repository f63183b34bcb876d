"""Time the "do it for everything" calls of Sales Funnel Pro, and its background
jobs, on a large pipeline.

``python3 tools/bench_jobs.py`` (database ``funnel_bench_jobs`` unless ``--db``):

1. creates the database with ``crm`` only, seeds ``--n`` opportunities (default
   100,000) over the five stages of the professional funnel (crm's New,
   Qualified and Proposition renamed Start, Needs confirmed and Solution &
   quote, a Negotiation stage added), some won, some lost, for eight
   salespeople in two teams, and installs ``sales_funnel_pro`` (all by set-based
   SQL and ``odoo-bin``; ``--reuse`` keeps the seeded database between runs);
2. measures, as the sales manager, what the buttons and the list's actions cost
   in the request: *Apply* of the professional funnel (once the old way, all in
   the request, rolled back; then as it is now, committed), *Refresh Historical
   Win Rates*, *Take Snapshot Now*, and *Log Activity*, *Move to Stage* and
   *Change Forecast Category* on ``--selection`` opportunities (default 20,000,
   the web client's limit of selected records) and on as many as the
   background threshold (still done in the request); each rolled back. What
   goes to the background is also run to its end, in the same rolled-back
   transaction, and timed;
3. runs the template's background job with Odoo's own cron machinery
   (``ir.cron._process_jobs``, as a cron worker does: rounds of up to ten runs,
   committing after each chunk), printing its progress as it goes;
4. grows the pipeline until the professional funnel means ``--checks`` checks
   (default 1,000,000, about 450,000 open opportunities), applies it again from
   scratch and runs its background job to the end the same way.

It prints each call with its time and whether it stays within the goal of 5 s
in the request, then the background jobs with their duration, throughput,
number of cron rounds and runs, longest run and the progress reported to
ir.cron. Timings are wall-clock on a machine shared with other work.
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

from bench.common import odoo_addons_paths

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tools import SQL

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDON = "sales_funnel_pro"
REQUEST_GOAL = 5.0
# one background job run to its end, as reported
JobRun = collections.namedtuple(
    "JobRun",
    "label state done total duration rounds runs longest checks last_done "
    "last_remaining",
)
# the professional funnel's stages: (name, sequence, share of opportunities,
# exit criteria), the won stage last
FUNNEL = [
    ("Start", 1, 35, 3),
    ("Needs confirmed", 2, 25, 2),
    ("Solution & quote", 3, 18, 3),
    ("Negotiation", 4, 12, 1),
    ("Won", 70, 10, 0),
]
REPS = 8


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="funnel_bench_jobs")
    parser.add_argument("--n", type=int, default=100_000, help="opportunities")
    parser.add_argument(
        "--selection", type=int, default=20_000, help="selected opportunities"
    )
    parser.add_argument(
        "--checks", type=int, default=1_000_000, help="checks of the large template"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse <db>_seeded")
    parser.add_argument("--keep-db", action="store_true", help="keep <db> at the end")
    args = parser.parse_args()
    paths, args.odoo_bin = odoo_addons_paths()
    args.addons_path = ",".join([*paths, ROOT])
    odoo.tools.config.parse_config(
        [
            "--addons-path",
            args.addons_path,
            "--log-level",
            "warn",
            "--log-handler",
            "py.warnings:ERROR",
        ]
    )
    return args


def odoo_bin(args, *options):
    with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as output:
        command = [sys.executable, args.odoo_bin, "-d", args.db]
        command += ["--addons-path", args.addons_path, "--log-level", "warn"]
        command += ["--stop-after-init", *options]
        start = time.perf_counter()
        if subprocess.run(command, stdout=output, stderr=subprocess.STDOUT).returncode:
            sys.exit(f"error: {' '.join(command)} failed, see {output.name}")
    os.unlink(output.name)
    return time.perf_counter() - start


def drop(db):
    Registry.delete(db)
    odoo.sql_db.close_db(db)
    if db in odoo.service.db.list_dbs(force=True):
        odoo.service.db.exp_drop(db)


# ----------------------------------------------------------------------------
# Seeding
# ----------------------------------------------------------------------------


def seed(env, n):
    """Users, teams, the funnel's stages and ``n`` opportunities."""
    company = env.ref("base.main_company")
    Users = env["res.users"].with_context(no_reset_password=True)

    def user(login, group):
        return Users.create(
            {
                "name": login.replace("_", " ").title(),
                "login": login,
                "email": f"{login}@example.com",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [
                    Command.set([env.ref("base.group_user").id, env.ref(group).id])
                ],
            }
        )

    manager = user("jobs_manager", "sales_team.group_sale_manager")
    reps = env["res.users"].concat(
        *(user(f"jobs_rep_{i}", "sales_team.group_sale_salesman") for i in range(REPS))
    )
    teams = [
        env["crm.team"].create(
            {"name": name, "user_id": manager.id, "member_ids": members.ids}
        )
        for name, members in (("East", reps[: REPS // 2]), ("West", reps[REPS // 2 :]))
    ]
    Stage = env["crm.stage"].with_context(lang="en_US")
    stages = []
    for index, (name, sequence, __, __) in enumerate(FUNNEL[:-1]):
        stage = env.ref(f"crm.stage_lead{index + 1}", raise_if_not_found=False)
        if stage and index < 3:
            stage.with_context(lang="en_US").write({"name": name, "sequence": sequence})
        else:
            stage = Stage.create({"name": name, "sequence": sequence})
        stages.append(stage.id)
    stages.append(Stage.search([("is_won", "=", True)], limit=1).id)
    env.flush_all()
    env.cr.execute(
        SQL(
            """
INSERT INTO res_partner (name, complete_name, type, active, is_company, lang,
                         partner_share, create_date, write_date)
SELECT 'Customer ' || g, 'Customer ' || g, 'contact', TRUE, TRUE, 'en_US', TRUE,
       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
  FROM generate_series(1, 2000) g
RETURNING id
            """
        )
    )
    partners = [row[0] for row in env.cr.fetchall()]
    bounds, total = [], 0
    for __, __, share, __ in FUNNEL:
        total += share
        bounds.append(total)
    env.cr.execute(
        SQL(
            """
INSERT INTO crm_lead (name, type, active, company_id, user_id, team_id, stage_id,
       partner_id, expected_revenue, probability, date_deadline, date_open,
       date_last_stage_update, date_closed, priority, create_uid, create_date,
       write_uid, write_date)
SELECT 'Opportunity ' || g, 'opportunity', NOT lost, %(company)s,
       (%(users)s::int[])[1 + mod(g, 8)], (%(teams)s::int[])[1 + mod(g, 8) / 4],
       (%(stages)s::int[])[k], (%(partners)s::int[])[1 + mod(g, 2000)],
       1000 + mod(g, 50000), CASE WHEN lost THEN 0 ELSE 10 * k END,
       CASE WHEN k < 5 THEN CURRENT_DATE + mod(g, 120)::int END,
       now() AT TIME ZONE 'UTC' - interval '90 days',
       now() AT TIME ZONE 'UTC' - mod(g, 60) * interval '1 day',
       CASE WHEN k = 5 OR lost THEN now() AT TIME ZONE 'UTC' END, '1',
       %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
  FROM (SELECT g, k < 5 AND mod(g * 31, 17) = 5 AS lost, k
          FROM (SELECT g,
               CASE WHEN mod(g * 7919, 100) < %(b1)s THEN 1
                    WHEN mod(g * 7919, 100) < %(b2)s THEN 2
                    WHEN mod(g * 7919, 100) < %(b3)s THEN 3
                    WHEN mod(g * 7919, 100) < %(b4)s THEN 4 ELSE 5 END AS k
          FROM generate_series(1, %(n)s) g) s1) s
            """,
            company=company.id,
            users=reps.ids,
            teams=[team.id for team in teams],
            stages=stages,
            partners=partners,
            uid=SUPERUSER_ID,
            n=n,
            b1=bounds[0],
            b2=bounds[1],
            b3=bounds[2],
            b4=bounds[3],
        )
    )
    env.invalidate_all()


# ----------------------------------------------------------------------------
# Measures
# ----------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.registry = Registry(args.db)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.manager = env["res.users"].search([("login", "=", "jobs_manager")]).id
            self.cron = env.ref(f"{ADDON}.ir_cron_funnel_job").id
            # only the jobs' cron runs while measuring
            cr.execute(SQL("UPDATE ir_cron SET active = (id = %s)", self.cron))
        self.calls, self.jobs = [], []

    def env(self, cr):
        return api.Environment(cr, self.manager, {"lang": "en_US", "tz": "UTC"})

    def call(self, label, operation, commit=False, background=None):
        """Time ``operation(env)`` as the manager's request (flush included),
        then, if ``background(env, result)`` is given, the work it left to the
        background, in the same transaction; roll back unless ``commit``."""
        with self.registry.cursor() as cr:
            env = self.env(cr)
            start = time.perf_counter()
            result = operation(env)
            env.flush_all()
            elapsed = time.perf_counter() - start
            started = env["funnel.job"].sudo().search([], limit=1, order="id desc")
            job = started if started and started.state == "queued" else None
            note = f"started “{job.name}”: {job.progress_text}" if job else "at once"
            after = None
            if background and job:
                start = time.perf_counter()
                background(env, job)
                after = time.perf_counter() - start
            if commit:
                cr.commit()
            else:
                cr.rollback()
        self.calls.append((label, elapsed, note, after))
        log(f"  {label}: {elapsed:.2f} s, {note}")
        return result

    @staticmethod
    def run_in_transaction(env, job):
        """Run ``job`` to its end, chunk by chunk, without committing."""
        Job = env["funnel.job"].sudo()
        while job.state in ("queued", "running"):
            Job._acquire()._run_chunk()

    def leads(self, env, count, stage="Start"):
        env.cr.execute(
            SQL(
                "SELECT l.id FROM crm_lead l JOIN crm_stage s ON s.id = l.stage_id "
                "WHERE l.active AND s.name->>'en_US' = %s ORDER BY l.id LIMIT %s",
                stage,
                count,
            )
        )
        return env["crm.lead"].browse([row[0] for row in env.cr.fetchall()])

    def run_cron(self, label):
        """Run the jobs with ir.cron's machinery until none is left, printing
        the progress after each round."""
        with self.registry.cursor() as cr:
            cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_progress")
            (first_progress,) = cr.fetchone()
            cr.execute(
                "SELECT id FROM funnel_job WHERE state IN ('queued', 'running') "
                "ORDER BY id DESC LIMIT 1"
            )
            (job_id,) = cr.fetchone()
        start, rounds = time.perf_counter(), 0
        ir_cron = self.registry["ir.cron"]
        while True:
            if self.job_state(job_id)[0] not in ("queued", "running"):
                break
            with self.registry.cursor() as cr:
                # as a trigger would (the jobs add them): due now
                cr.execute(
                    SQL(
                        "UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' "
                        "WHERE id = %s",
                        self.cron,
                    )
                )
            ir_cron._process_jobs(self.args.db)
            rounds += 1
            state, done, total, text = self.job_state(job_id)
            log(f"    round {rounds}, {time.perf_counter() - start:.0f} s: {text}")
        duration = time.perf_counter() - start
        with self.registry.cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT count(*), max(write_date - create_date), "
                    "(array_agg(done ORDER BY id DESC))[1], "
                    "(array_agg(remaining ORDER BY id DESC))[1] "
                    "FROM ir_cron_progress WHERE cron_id = %s AND id > %s",
                    self.cron,
                    first_progress,
                )
            )
            runs, longest, last_done, last_remaining = cr.fetchone()
            cr.execute(SQL("SELECT count(*) FROM funnel_lead_check"))
            (checks,) = cr.fetchone()
        state, done, total, text = self.job_state(job_id)
        self.jobs.append(
            JobRun(
                label,
                state,
                done,
                total,
                duration,
                rounds,
                runs,
                longest,
                checks,
                last_done,
                last_remaining,
            )
        )
        log(f"  {label}: {state} in {duration:.0f} s, {checks:,} checks in the table")

    def job_state(self, job_id):
        with self.registry.cursor() as cr:
            job = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})["funnel.job"]
            job = job.browse(job_id)
            return job.state, job.done, job.total, job.progress_text


def measure(bench, args):
    log("the professional funnel, the old way: all in the request (rolled back)")
    bench.call(
        "Apply Professional Funnel, before: checks in the request",
        lambda env: env["funnel.template.wizard"]._apply_template(),
    )
    log("the professional funnel as it is now (committed)")
    bench.call(
        "Apply Professional Funnel",
        lambda env: env["funnel.template.wizard"].create({}).action_apply(),
        commit=True,
    )
    bench.run_cron(f"template at {args.n:,} opportunities")
    with bench.registry.cursor() as cr:
        # the moved opportunities pass their gate: their checklist is ticked
        cr.execute(
            "UPDATE funnel_lead_check c SET state = 'met' "
            "FROM funnel_stage_criterion k WHERE k.id = c.criterion_id "
            "AND k.kind = 'checklist' AND c.state = 'todo'"
        )
        cr.execute("ANALYZE")

    log("the buttons and the list's actions (rolled back)")
    bench.call(
        "Refresh Historical Win Rates",
        lambda env: env["funnel.stage.win.rate"].action_refresh(),
        background=bench.run_in_transaction,
    )
    bench.call(
        "Take Snapshot Now",
        lambda env: env["funnel.forecast.snapshot"].action_take_snapshot(),
        background=bench.run_in_transaction,
    )
    visit = "sales_funnel_pro.mail_activity_type_visit"
    # the addon's modules are loaded with the registry by now
    from odoo.addons.sales_funnel_pro.models.funnel_job import (  # noqa: PLC0415
        BACKGROUND_THRESHOLD,
    )

    for count in (args.selection, BACKGROUND_THRESHOLD):

        def quick_log(env, count=count):
            wizard = env["funnel.activity.quick.log"].create(
                {
                    "lead_ids": bench.leads(env, count).ids,
                    "activity_type_id": env.ref(visit).id,
                    "summary": "Trade fair visit",
                }
            )
            return wizard.action_log()

        def update(env, count=count, **values):
            wizard = env["funnel.lead.mass.update"].create(
                {"lead_ids": bench.leads(env, count).ids, **values}
            )
            return wizard.action_apply()

        def stage(env, update=update):
            target = env["crm.stage"].search([("name", "=", "Needs confirmed")])
            return update(env, change="stage_move", stage_id=target.id)

        def category(env, update=update):
            return update(env, change="forecast_category", forecast_category="commit")

        bench.call(
            f"Log Activity on {count:,}", quick_log, background=bench.run_in_transaction
        )
        bench.call(
            f"Move to Stage, {count:,}", stage, background=bench.run_in_transaction
        )
        bench.call(
            f"Change Forecast Category, {count:,}",
            category,
            background=bench.run_in_transaction,
        )


def grow(bench, checks):
    """Remove the funnel's criteria and checks, and copy open opportunities of
    its stages until applying it again means ``checks`` checks."""
    with bench.registry.cursor() as cr:
        cr.execute("DELETE FROM funnel_lead_check")
        cr.execute("DELETE FROM funnel_stage_criterion")
        cr.execute("UPDATE crm_stage SET template_key = NULL")
        per_stage = {name: criteria for name, __, __, criteria in FUNNEL}
        cr.execute(
            "SELECT s.name->>'en_US', count(*) FROM crm_lead l "
            "JOIN crm_stage s ON s.id = l.stage_id WHERE l.active GROUP BY 1"
        )
        counts = dict(cr.fetchall())
        per_lead = sum(per_stage.get(n, 0) * c for n, c in counts.items()) / sum(
            counts.values()
        )
        missing = int((checks - per_lead * sum(counts.values())) / per_lead) + 1
        cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'crm_lead' AND column_name <> 'id'"
        )
        columns = SQL(", ").join(SQL.identifier(row[0]) for row in cr.fetchall())
        cr.execute("SELECT max(id) FROM crm_lead")
        (last,) = cr.fetchone()
        while missing > 0:
            cr.execute(
                SQL(
                    "INSERT INTO crm_lead (%s) SELECT %s FROM crm_lead "
                    "WHERE active AND id <= %s ORDER BY id LIMIT %s",
                    columns,
                    columns,
                    last,
                    missing,
                )
            )
            missing -= cr.rowcount
        cr.execute("ANALYZE crm_lead")
    bench.registry.clear_cache()


def report(bench, args):
    print()
    print(f"Sales Funnel Pro, calls of issue 14 at {args.n:,} opportunities (s)")
    width = max(len(label) for label, *__ in bench.calls)
    for label, elapsed, note, after in bench.calls:
        goal = (
            "" if "before" in label else ("pass" if elapsed <= REQUEST_GOAL else "FAIL")
        )
        background = f"; background work {after:.1f} s" if after is not None else ""
        print(f"  {label:<{width}}  {elapsed:7.2f}  {goal:4}  {note}{background}")
    print(f"  (goal: at most {REQUEST_GOAL:.0f} s in the request)")
    print()
    print("Background template jobs, run by ir.cron._process_jobs")
    for job in bench.jobs:
        seconds = job.longest.total_seconds() if job.longest else 0.0
        print(
            f"  {job.label}: {job.state}, {job.done:,} of {job.total:,} "
            f"opportunities in {job.duration:.0f} s "
            f"({job.checks / job.duration:,.0f} checks/s), {job.rounds} cron "
            f"rounds, {job.runs} runs of _cron_run (longest {seconds:.1f} s), "
            f"last progress reported done={job.last_done} "
            f"remaining={job.last_remaining}; {job.checks:,} checks in the table"
        )
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")


def main():
    args = parse_args()
    seeded = f"{args.db}_seeded"
    drop(args.db)
    if args.reuse and seeded in odoo.service.db.list_dbs(force=True):
        log(f"copying {seeded}")
        odoo.service.db.exp_duplicate_database(seeded, args.db)
    else:
        log(f"creating {args.db} with crm, seeding {args.n:,} opportunities")
        odoo_bin(args, "-i", "crm", "--without-demo", "all")
        with Registry.new(args.db).cursor() as cr:
            seed(api.Environment(cr, SUPERUSER_ID, {}), args.n)
        Registry.delete(args.db)
        log(f"installing {ADDON}")
        log(f"  installed in {odoo_bin(args, '-i', ADDON):.0f} s")
        if args.reuse:
            odoo.sql_db.close_db(args.db)
            odoo.service.db.exp_duplicate_database(args.db, seeded)
    bench = Bench(args)
    measure(bench, args)
    log(f"growing the pipeline to {args.checks:,} checks of the funnel")
    grow(bench, args.checks)
    bench.call(
        f"Apply Professional Funnel, {args.checks:,} checks",
        lambda env: env["funnel.template.wizard"].create({}).action_apply(),
        commit=True,
    )
    bench.run_cron(f"template at {args.checks:,} checks")
    report(bench, args)
    if not args.keep_db:
        drop(args.db)


if __name__ == "__main__":
    main()
