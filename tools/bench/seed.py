"""The seed, in set-based SQL: users, teams, the funnel's stages, customers, the
opportunities with their chatter (creation, stage moves, lost), followers and
next activities; then the activities planned and done; then the opportunities
that the measures move."""

import sys

from odoo import SUPERUSER_ID, Command
from odoo.tools import SQL

from . import addon as addon_side

DONE_BATCH = 1000  # planned activities marked done in one call
# Done activities of the chatter: (activity type, share in percent).
ACTIVITY_MIX = [
    ("mail.mail_activity_data_call", 40),
    ("mail.mail_activity_data_email", 30),
    ("mail.mail_activity_data_meeting", 20),
    ("mail.mail_activity_data_todo", 10),
]

REPS_PER_TEAM = 4


def user_values(env, company, name, login, mailbox, group):
    """The values of a user of ``company``, internal and in ``group``."""
    return {
        "name": name,
        "login": login,
        "email": f"{mailbox}@example.com",
        "company_id": company.id,
        "company_ids": [Command.set(company.ids)],
        "groups_id": [Command.set([env.ref("base.group_user").id, env.ref(group).id])],
    }


def seed(env, n):
    """Create the users, teams, stages, customers and ``n`` opportunities with
    their chatter; return the seeding context used by the measures."""
    cr = env.cr
    company = env.ref("base.main_company")
    Users = env["res.users"].with_context(
        no_reset_password=True, mail_create_nolog=True
    )
    manager = Users.create(
        user_values(
            env,
            company,
            "Bench Manager",
            "bench_manager",
            "bench.manager",
            "sales_team.group_sale_manager",
        )
    )
    reps = Users.create(
        [
            user_values(
                env,
                company,
                f"Bench Rep {index}",
                f"bench_rep_{index}",
                f"bench.rep{index}",
                "sales_team.group_sale_salesman",
            )
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

    # the professional funnel's stages: crm's first three renamed, the others
    # added; the shares of opportunities per stage below are set for five
    funnel = addon_side.professional_funnel()
    if len(funnel) != 5:
        sys.exit(f"error: the seed is set for 5 stages, the template has {len(funnel)}")
    *open_stages, (won_name, won_sequence, __) = funnel
    Stage = env["crm.stage"].with_context(lang="en_US")
    stock = [
        env.ref(f"crm.stage_lead{index}", raise_if_not_found=False)
        for index in (1, 2, 3)
    ]
    stages = []
    for index, (name, sequence, __) in enumerate(open_stages):
        stage = stock[index] if index < len(stock) and stock[index] else Stage
        if stage:
            stage.with_context(lang="en_US").write({"name": name, "sequence": sequence})
        else:
            stage = Stage.create({"name": name, "sequence": sequence})
        stages.append(stage)
    won = Stage.search([("is_won", "=", True), ("team_id", "=", False)], limit=1)
    if not won:
        won = Stage.create({"name": won_name, "sequence": won_sequence, "is_won": True})
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
        "probabilities": [probability for __, __, probability in funnel],
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
    """The opportunities that both phases move: open ones in Start with the
    fields that its gate requires (a customer), the single move, the blocked
    move, then the batch."""
    gate = [
        SQL("%s IS NOT NULL", SQL.identifier(name))
        for name in addon_side.first_gate_fields()
    ]
    env.cr.execute(
        SQL(
            """
SELECT id FROM crm_lead
 WHERE stage_id = %(stage)s AND active AND type = 'opportunity'
   AND %(gate)s AND name LIKE %(pattern)s
 ORDER BY id
 LIMIT %(limit)s
            """,
            stage=context["stages"][0],
            gate=SQL(" AND ").join(gate or [SQL("TRUE")]),
            pattern="Bench opportunity %",
            limit=batch + 2,
        )
    )
    ids = [row[0] for row in env.cr.fetchall()]
    context.update(single=ids[0], blocked=ids[1], batch=ids[2:])
