"""The requests that the web client sends when it opens the pipeline kanban
and a pivot, built as it builds them from the views that the user gets."""

import json
import sys
import time

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import fields
from odoo.osv import expression
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

from .stock import SEARCH_DEFAULTS, SEARCH_GROUPBYS

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
