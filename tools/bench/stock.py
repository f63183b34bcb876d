"""The stock side: the crm-only database that the seed goes into (its copy
stays stock crm), and stock's views that the measures open, with the default
filters that the web client evaluates for them."""

import datetime

import pytz

import odoo
from odoo import fields
from odoo.modules.registry import Registry

from .common import database_exists, drop_database, log, run_odoo

# Stock's reports measured against the addon's: (action, pivot view), as CRM >
# Reporting > Activities and CRM > Sales > Forecast open them.
ACTIVITY_PIVOT = (
    "crm.crm_activity_report_action",
    "crm.crm_activity_report_view_pivot",
)
FORECAST_PIVOT = ("crm.crm_lead_action_forecast", "crm.crm_lead_view_pivot_forecast")
# The Forecast's default filter "My Pipeline", left out for the manager, who is
# measured on the whole pipeline.
FORECAST_MANAGER_SKIP = {"assigned_to_me"}
# The activity report: model, field of the activity type.
ACTIVITY_REPORT = ("crm.activity.report", "mail_activity_type_id")


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
