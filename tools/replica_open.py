"""Open the addon's reports and dashboards through HTTP as the web client does,
as one user: ``python3 tools/replica_open.py URL DB LOGIN PASSWORD``. Used by
tools/replica_check.sh, against an Odoo configured with a read replica.

For each report (an action of the addon, or crm's pipeline that the addon
changes): ``/web/action/load``, ``get_views``, then for each view of the action
the requests that the view makes when it opens: ``web_search_read`` (list,
kanban), ``web_read_group`` and ``read_progress_bar`` (kanban grouped),
``read_group`` (pivot, graph), and the forecast board's column sums. All of
them are read-only requests (``@api.readonly``), which Odoo serves from the
replica.

Prints one line per report and request; exits 1 when a request fails, other
than a report that the user may not open (access refused on the action).
"""

import datetime
import json
import sys

import requests
from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval
from odoo.tools.safe_eval import time as safe_time

ADDON = "sales_funnel_pro"
REPORTS = [
    ("pipeline kanban", "crm.crm_lead_action_pipeline"),
    ("forecast board", f"{ADDON}.crm_lead_action_funnel_forecast"),
    ("forecast pivot", f"{ADDON}.funnel_forecast_report_action"),
    ("forecast accuracy", f"{ADDON}.funnel_accuracy_report_action"),
    ("accuracy trend", f"{ADDON}.funnel_accuracy_trend_action"),
    ("effort", f"{ADDON}.funnel_effort_report_action"),
    ("my week: activities", f"{ADDON}.funnel_activity_log_action_my_week"),
    ("my week: touched", f"{ADDON}.crm_lead_action_my_week_touched"),
    ("my week: no next step", f"{ADDON}.crm_lead_action_my_week_no_next_step"),
    ("neglected first", f"{ADDON}.crm_lead_action_neglected_first"),
    ("stage history", f"{ADDON}.funnel_stage_history_action"),
    ("activity log", f"{ADDON}.funnel_activity_log_action"),
    ("forecast snapshots", f"{ADDON}.funnel_forecast_snapshot_action"),
    ("historical win rates", f"{ADDON}.funnel_stage_win_rate_action"),
    ("waived criteria", f"{ADDON}.funnel_lead_check_action_waivers"),
    ("conversion by stage", f"{ADDON}.funnel_conversion_report_action"),
    ("coaching", f"{ADDON}.funnel_rep_benchmark_action_coaching"),
    ("capability cards", f"{ADDON}.funnel_rep_benchmark_action_cards"),
    ("pipeline changes", f"{ADDON}.funnel_pipeline_change_report_action"),
    ("targets", f"{ADDON}.funnel_target_action_report"),
    ("first response", f"{ADDON}.funnel_effort_report_action_first_response"),
    ("team activities", f"{ADDON}.funnel_activity_log_action_team"),
    ("hand-off", f"{ADDON}.funnel_handoff_report_action"),
    ("care coverage", f"{ADDON}.funnel_care_coverage_report_action"),
    ("installed base", f"{ADDON}.funnel_installed_asset_action_analysis"),
]
RELATIONAL = ("many2one", "reference", "many2one_reference", "one2many", "many2many")
PAGE = 40


class RpcError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name


class Session:
    def __init__(self, url, db, login, password):
        self.url = url
        self.http = requests.Session()
        self.context = {"lang": "en_US", "tz": "UTC"}
        result = self.post(
            "/web/session/authenticate",
            {"db": db, "login": login, "password": password},
        )
        self.uid = result["uid"]
        self.company_id = result["user_companies"]["current_company"]
        self.context["allowed_company_ids"] = [self.company_id]

    def post(self, path, params):
        payload = {"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}
        response = self.http.post(self.url + path, json=payload, timeout=300)
        if response.status_code != 200:
            raise RpcError(f"HTTP {response.status_code}", response.text[:300])
        body = response.json()
        if "error" in body:
            data = body["error"].get("data") or {}
            raise RpcError(data.get("name", "error"), data.get("message", ""))
        return body["result"]

    def call(self, model, method, *args, **kwargs):
        kwargs.setdefault("context", self.context)
        return self.post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def evaluate(self, text, default):
        """An action's domain or context, as the web client evaluates it."""
        if not isinstance(text, str):
            return text or default
        return safe_eval(
            text,
            {
                "uid": self.uid,
                "context_today": datetime.date.today,
                "datetime": safe_datetime,
                "relativedelta": relativedelta,
                "time": safe_time,
                "allowed_company_ids": [self.company_id],
                "current_company_id": self.company_id,
                "active_id": False,
                "active_ids": [],
            },
        )


def spec_of(arch, fields):
    """The web_search_read specification of the fields of a list or kanban."""
    spec = {}
    for node in arch.iter("field"):
        name = node.get("name")
        field = fields.get(name)
        if (
            not field
            or field["type"] == "properties"
            or node.getparent().tag == "field"
        ):
            continue
        spec[name] = (
            {"fields": {"display_name": {}}} if field["type"] in RELATIONAL else {}
        )
    return spec


def measures_of(arch, fields, names=None):
    """The read_group aggregates of the measures ``names`` (default: those of
    the view)."""
    if names is None:
        names = [
            node.get("name")
            for node in arch.iter("field")
            if node.get("type") == "measure"
        ]
    measures = ["__count"]
    for name in names:
        if fields.get(name, {}).get("aggregator"):
            measures.append(f"{name}:{fields[name]['aggregator']}")
    return measures


def groupbys_of(arch, kind):
    return [
        node.get("name") + (f":{node.get('interval')}" if node.get("interval") else "")
        for node in arch.iter("field")
        if node.get("type") == kind
    ]


def open_view(session, model, view_type, arch, fields, domain, context, form=None):
    """The requests of one view when it opens: [(request, result size)]; a list
    or kanban opens its first record in ``form`` (the action's form arch)."""
    done = []
    if view_type in ("list", "kanban"):
        records = []
        spec = spec_of(arch, fields)
        group_by = context.get("group_by") or arch.get("default_group_by")
        if isinstance(group_by, list):
            group_by = group_by[0] if group_by else None
        if view_type == "kanban" and group_by:
            groups = session.call(
                model, "web_read_group", domain, ["__count"], [group_by], lazy=True
            )["groups"]
            done.append(("web_read_group", len(groups)))
            progressbar = arch.find(".//progressbar")
            if progressbar is not None:
                bar = {
                    "field": progressbar.get("field"),
                    "colors": json.loads(progressbar.get("colors")),
                }
                if progressbar.get("sum_field"):
                    bar["sum_field"] = progressbar.get("sum_field")
                session.call(model, "read_progress_bar", domain, group_by, bar)
                done.append(("read_progress_bar", 1))
            if model == "crm.lead" and "funnel_forecast" in (
                arch.get("js_class") or ""
            ):
                session.call(model, "funnel_forecast_column_sums", domain, group_by)
                done.append(("funnel_forecast_column_sums", 1))
            for group in groups[:3]:
                records = session.call(
                    model,
                    "web_search_read",
                    group.get("__domain", domain),
                    spec,
                    limit=PAGE,
                )["records"]
                done.append(("web_search_read (column)", len(records)))
        else:
            records = session.call(model, "web_search_read", domain, spec, limit=PAGE)[
                "records"
            ]
            done.append(("web_search_read", len(records)))
        if records and form is not None:
            # the first record opened in the action's form (a capability card)
            read = session.call(
                model, "web_read", [records[0]["id"]], spec_of(form, fields)
            )
            done.append(("form web_read", len(read)))
    elif view_type in ("pivot", "graph"):
        # the action's context chooses the groupings and measures, as in the
        # web client; else the view's
        rows = groupbys_of(arch, "row")
        cols = groupbys_of(arch, "col")
        if view_type == "pivot":
            rows = context.get("pivot_row_groupby") or rows
            cols = context.get("pivot_column_groupby") or cols
            measures = measures_of(arch, fields, context.get("pivot_measures"))
        else:
            # a graph's grouping fields may have no type
            rows = context.get("graph_groupbys") or rows or groupbys_of(arch, None)
            measure = context.get("graph_measure")
            measures = measures_of(arch, fields, [measure] if measure else None)
        for groupby in ([rows[0]] if rows else [], rows[:1] + cols[:1]):
            groups = session.call(
                model, "read_group", domain, measures, groupby, lazy=False
            )
            done.append((f"read_group {groupby}", len(groups)))
    return done


def open_report(session, xmlid):
    action = session.post("/web/action/load", {"action_id": xmlid})
    model = action["res_model"]
    context = session.evaluate(action.get("context"), {})
    domain = session.evaluate(action.get("domain"), [])
    views = [[view_id or False, view_type] for view_id, view_type in action["views"]]
    result = session.call(model, "get_views", views, {"action_id": action["id"]})
    fields = result["models"][model]["fields"]
    done = []
    form = result["views"].get("form")
    form = etree.fromstring(form["arch"]) if form else None
    for view_type, view in result["views"].items():
        if view_type in ("form", "search"):
            continue
        arch = etree.fromstring(view["arch"])
        for request, size in open_view(
            session, model, view_type, arch, fields, domain, context, form
        ):
            done.append((view_type, request, size))
    return done


def main():
    url, db, login, password = sys.argv[1:5]
    session = Session(url, db, login, password)
    failed = 0
    for label, xmlid in REPORTS:
        try:
            done = open_report(session, xmlid)
        except RpcError as exc:
            if exc.name == "odoo.exceptions.AccessError":
                print(
                    f"  {login:<8} {label:<24} not open to this user (access refused)"
                )
                continue
            print(f"  {login:<8} {label:<24} FAILED: {exc}")
            failed += 1
            continue
        summary = ", ".join(f"{view} {request}: {size}" for view, request, size in done)
        print(f"  {login:<8} {label:<24} ok ({summary})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
