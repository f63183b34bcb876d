"""The databases of the load run: the bench's seed (tools/bench/seed.py) in a
crm-only database, copied to ``<db>_stock``; then the addon installed on
``<db>`` with the professional funnel applied through its template wizard; the
users' passwords; the cards each client works on, most of them with their gates
open (the moves of the others are refused); the requests of the pipeline kanban
of each side."""

import random

from bench import addon as addon_side
from bench.common import drop_database, log, run_odoo, vacuum_analyze
from bench.seed import seed, seed_activities
from bench.stock import create_crm_database
from bench.webclient import kanban_request

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import SQL

PASSWORD = "load"  # noqa: S105  (of throwaway users, on 127.0.0.1 only)
# activities already done in the chatter (the activity reports read them)
DONE_ACTIVITIES = 2000


def create_databases(args):
    """Seed ``args.db`` with crm only, copy it to the stock database, install
    the addon on ``args.db`` and apply the professional funnel there. Returns
    the seeding context (users, stages)."""
    drop_database(args.stock_db)
    create_crm_database(args)
    log(f"seeding {args.n:,} opportunities")
    registry = Registry.new(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        context = seed(env, args.n)
        seed_activities(env, context, DONE_ACTIVITIES)
        users = env["res.users"].browse([context["manager"], *context["users"]])
        # set as the password field stores it, without mailing each user
        hashed = users._crypt_context().hash(PASSWORD)
        for user in users:
            user._set_encrypted_password(user.id, hashed)
        context["logins"] = dict(zip(users.ids, users.mapped("login"), strict=True))
        cr.commit()
    Registry.delete(args.db)
    vacuum_analyze(args.db)
    log(f"copying the seeded database to {args.stock_db} (stock crm)")
    odoo.service.db.exp_duplicate_database(args.db, args.stock_db)
    log(f"installing {addon_side.ADDON} on {args.db}")
    duration = run_odoo(args, args.db, "--init", addon_side.ADDON)
    log(f"  installed in {duration:.1f}s")
    with Registry.new(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        changes = addon_side.apply_template(env)
        env.flush_all()
        log(f"  professional funnel applied ({len(changes)} changes)")
        cr.commit()
    Registry.delete(args.db)
    vacuum_analyze(args.db)
    return context


def open_gates(args, clients):
    """Let the gates pass the moves of most cards, as a team that works its
    checklists does: tick, on four cards in five, the checklist items of every
    stage ahead and log a meeting (the demo that a stage asks for); the fifth
    card is left as it is, and the gates refuse its moves forward."""
    cards = sorted({lead for plan in clients for lead in plan["leads"]})
    free = [lead for index, lead in enumerate(cards) if index % 5]
    with Registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        env.cr.execute(
            SQL(
                """
                INSERT INTO funnel_lead_check (
                    lead_id, criterion_id, state, is_current, done_by_id, done_date,
                    evidence, create_uid, create_date, write_uid, write_date)
                SELECT l.id, k.id, 'met', k.stage_id = l.stage_id, %(uid)s, now(),
                       'Load run', %(uid)s, now(), %(uid)s, now()
                  FROM crm_lead l
                 CROSS JOIN funnel_stage_criterion k
                 WHERE l.id IN %(leads)s AND k.kind = 'checklist' AND k.active
                    ON CONFLICT (lead_id, criterion_id)
                    DO UPDATE SET state = 'met', evidence = 'Load run'
                """,
                uid=SUPERUSER_ID,
                leads=tuple(free),
            )
        )
        ticked = env.cr.rowcount
        leads = env["crm.lead"].browse(free)
        meeting = env.ref("mail.mail_activity_data_meeting")
        env["funnel.activity.log"].create(
            [
                {
                    "lead_id": lead.id,
                    "user_id": lead.user_id.id,
                    "activity_type_id": meeting.id,
                    "summary": "Demo",
                }
                for lead in leads
            ]
        )
        env["funnel.lead.check"]._sync(leads)
        cr.commit()
    log(
        f"  gates open for {len(free)} of the {len(cards)} cards "
        f"({ticked} checklist items ticked)"
    )


def plan(args, context):
    """What the clients work on, the same on both sides: ``args.clients``
    clients, every fourth one the sales manager and the others salespeople two
    by two on the same cards (the manager's cards are all of theirs); for each,
    its login, its cards (open opportunities of the salesperson) and the planned
    activities on them."""
    rng = random.Random(args.seed)
    reps = context["users"]
    with Registry(args.db).cursor() as cr:
        cr.execute(
            SQL(
                """
                SELECT l.user_id, l.id FROM crm_lead l
                 WHERE l.type = 'opportunity' AND l.active AND l.stage_id IN %s
                   AND l.user_id IN %s
                 ORDER BY l.id
                """,
                tuple(context["stages"][:-1]),
                tuple(reps),
            )
        )
        by_user = {}
        for user_id, lead_id in cr.fetchall():
            by_user.setdefault(user_id, []).append(lead_id)
        cards = {
            user_id: sorted(rng.sample(ids, min(args.cards, len(ids))))
            for user_id, ids in by_user.items()
        }
        cr.execute(
            SQL(
                "SELECT id, res_id FROM mail_activity "
                "WHERE res_model = 'crm.lead' AND res_id IN %s ORDER BY id",
                tuple(lead for ids in cards.values() for lead in ids),
            )
        )
        activities = {}
        for activity_id, lead_id in cr.fetchall():
            activities.setdefault(lead_id, []).append(activity_id)
    clients, rep_index = [], 0
    for index in range(args.clients):
        if index % 4 == 3:
            user_id = context["manager"]
            leads = sorted(lead for ids in cards.values() for lead in ids)
        else:
            user_id = reps[(rep_index // 2) % len(reps)]
            rep_index += 1
            leads = cards.get(user_id, [])
        clients.append(
            {
                "index": index,
                "login": context["logins"][user_id],
                "manager": user_id == context["manager"],
                "leads": leads,
                "activities": {
                    lead: activities[lead] for lead in leads if lead in activities
                },
            }
        )
    return clients


def kanban_requests(args, context):
    """The pipeline kanban's requests (card specification, aggregates) as the
    web client builds them for the sales manager, on each side."""
    requests = {}
    for side, db in (("stock", args.stock_db), ("addon", args.db)):
        with Registry(db).cursor() as cr:
            env = api.Environment(cr, context["manager"], {"lang": "en_US"})
            requests[side] = kanban_request(env)
            cr.rollback()
    return requests


def drop_databases(args):
    for db in (args.db, args.stock_db):
        drop_database(db)
