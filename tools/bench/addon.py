"""The addon side: its install on the seeded database, the professional funnel
template applied to the seeded pipeline, targets and historical win rates; the
addon's rules that the benchmark follows, imported from the addon; and, in one
place, the addon's private methods that the benchmark calls."""

import sys
import time

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.tools import SQL

from .common import ADDON, log, run_odoo

# The addon's reports measured against stock's (see stock.py): (action, pivot
# view), as Reporting > Activity Log and Reporting > Funnel Forecast open them.
ACTIVITY_PIVOT = (
    f"{ADDON}.funnel_activity_log_action",
    f"{ADDON}.funnel_activity_log_view_pivot",
)
FORECAST_PIVOT = (
    f"{ADDON}.funnel_forecast_report_action",
    f"{ADDON}.funnel_forecast_report_view_pivot",
)
# The activity log: model, field of the activity type.
ACTIVITY_REPORT = ("funnel.activity.log", "activity_type_id")


# ----------------------------------------------------------------------------
# The addon's rules, from its modules. They can be imported once a registry has
# been loaded (Odoo's addons path is set then): from the copy being measured.
# ----------------------------------------------------------------------------


def professional_funnel():
    """The stages of the professional funnel template, the won stage last:
    [(name in English, sequence, win rate)]."""
    from odoo.addons.sales_funnel_pro.wizard.funnel_template_wizard import (
        PROFESSIONAL_FUNNEL,
    )

    return [
        (name._translate("en_US"), sequence, win_rate)
        for __, name, sequence, win_rate, *__ in PROFESSIONAL_FUNNEL
    ]


def first_gate_fields():
    """The fields that the field criteria of the template's first stage
    require: the opportunities that the measures move out of it have them set
    (and their checklist ticked, see prepare_addon)."""
    from odoo.addons.sales_funnel_pro.wizard.funnel_template_wizard import (
        PROFESSIONAL_FUNNEL,
    )

    criteria = PROFESSIONAL_FUNNEL[0][-1]
    return [target for __, __, __, kind, target in criteria if kind == "field"]


def win_rate_window_months():
    """The window of the historical win rates, in months: the stays closed
    within it count."""
    from odoo.addons.sales_funnel_pro.models.funnel_stage_win_rate import (
        WINDOW_MONTHS,
    )

    return WINDOW_MONTHS


# ----------------------------------------------------------------------------
# The addon's private methods that the benchmark calls: only here, so that a
# renamed method is adapted in one place.
# ----------------------------------------------------------------------------


def count_open(env):
    """The open opportunities (those that a forecast snapshot freezes), as the
    addon defines them."""
    env.cr.execute(
        SQL(
            "SELECT count(*) FROM crm_lead l WHERE %s",
            env["crm.lead"]._funnel_state_sql("open", "l"),
        )
    )
    return env.cr.fetchone()[0]


def apply_template(env):
    """Apply the professional funnel template; return the list of changes."""
    return env["funnel.template.wizard"]._apply_template()


def unmet_criteria(leads, stage):
    """What keeps ``leads`` from moving to ``stage`` (empty: the gate passes)."""
    return leads._funnel_unmet_criteria(stage)


def take_snapshot(env, company):
    """A manual forecast snapshot of ``company``; return the snapshots."""
    return env["funnel.forecast.snapshot"]._take_snapshots(company, kind="manual")


def refresh_win_rates(env):
    """Compute the historical win rates again (funnel.stage.win.rate)."""
    env["funnel.stage.win.rate"]._refresh()


def rebuild_rep_benchmark(env):
    """The nightly rebuild of the rep capability figures; the rows written."""
    return env["funnel.rep.benchmark"]._rebuild()


def backfill_history(env):
    """The stage history from the stage tracking of the chatter; return the
    number of rows written."""
    return env["funnel.stage.history"]._backfill_from_tracking()


def empty_history(cr):
    """Undo what backfill_history writes, in the transaction: the history and
    the backward moves counted on the opportunities."""
    cr.execute("TRUNCATE funnel_stage_history")
    cr.execute(
        "UPDATE crm_lead SET backward_move_count = 0 WHERE backward_move_count <> 0"
    )


def backfill_activity_log(env):
    """The activity log from the done activities of the chatter; return the
    number of rows written."""
    return env["funnel.activity.log"]._backfill_from_messages()


def empty_activity_log(cr):
    """Undo what backfill_activity_log writes, in the transaction (with the
    "new opportunity found" wizards' rows that point at logged activities)."""
    cr.execute("TRUNCATE funnel_activity_log CASCADE")


# ----------------------------------------------------------------------------
# Install and preparation of the addon's database
# ----------------------------------------------------------------------------


def install(args):
    """Install the addon on the seeded database (odoo-bin -i, with its
    post-init backfills); return the duration of the process."""
    return run_odoo(args, args.db, "--init", ADDON)


def prepare_addon(registry, context):
    """Apply the professional funnel template (timed) and tick the checklist
    criteria of the opportunities that the measured moves use."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
        start = time.perf_counter()
        changes = apply_template(env)
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
        if unmet_criteria(movers, target):
            sys.exit("error: the measured opportunities do not pass their gate")
        blocked = env["crm.lead"].browse(context["blocked"])
        if not unmet_criteria(blocked, target):
            sys.exit("error: the blocked opportunity would pass its gate")
        cr.execute("SELECT count(*) FROM funnel_lead_check")
        context["checks"] = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM funnel_stage_history")
        context["history_rows"] = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM funnel_activity_log")
        context["log_rows"] = cr.fetchone()[0]
        cr.commit()
    return applied


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
        refresh_win_rates(env)
        env.flush_all()
        context["targets"] = len(values)
        context["open"] = count_open(env)
        cr.commit()
