"""The clients: each one a user logged in through ``/web/session/authenticate``,
sending the web client's own JSON-RPC requests (``/web/dataset/call_kw``,
``/web/dataset/call_button``) for a bounded time, on its cards:

- open the pipeline: ``web_read_group`` by stage with the kanban's aggregates,
  then ``web_search_read`` of the first page of a column with the kanban's
  card specification (a salesperson's own pipeline, the manager's whole one);
- move a card by ``web_save`` of its stage (the kanban's drag and drop): one
  stage forward mostly, sometimes one back; on the addon side a gate may refuse
  it: the manager then advances it anyway through the waiver wizard, a
  salesperson ticks the checklist of its stage;
- log an activity: the quick log wizard (on stock, a note in the chatter);
- mark a planned activity done (``action_feedback``), sometimes the same one
  as another client at once.
"""

import random
import threading
import time

import requests

# operations and their weights
OPERATIONS = [("pipeline", 30), ("move", 45), ("log", 10), ("done", 15)]
# share of the moves made backward, of refused moves waived by the manager
BACKWARD_PERCENT = 25
WAIVE_PERCENT = 60
# chance that a client marks done an activity another client may be marking too
SHARED_DONE_PERCENT = 20
KANBAN_PAGE = 40
TIMEOUT = 120  # seconds: a request slower than that counts as failed
EXPECTED_ERRORS = {"odoo.exceptions.UserError", "odoo.exceptions.MissingError"}


class Stats:
    """What the clients of one side saw, added up under a lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.errors = {}  # unexpected: (operation, exception) -> [count, message]
        self.statuses = {}
        self.timings = {}  # call -> [count, seconds]

    def timing(self, call, seconds):
        with self.lock:
            entry = self.timings.setdefault(call, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds

    def add(self, key, count=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + count

    def status(self, code):
        with self.lock:
            self.statuses[code] = self.statuses.get(code, 0) + 1

    def error(self, operation, name, message):
        with self.lock:
            entry = self.errors.setdefault((operation, name), [0, message])
            entry[0] += 1


class RpcError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class Client:
    def __init__(self, url, db, side, plan, stages, kanban, stats, rng):
        self.url, self.db, self.side = url, db, side
        self.plan, self.stages, self.kanban = plan, stages, kanban
        self.stats, self.rng = stats, rng
        self.session = requests.Session()
        self.known = {}  # lead id -> stage id, as the client last saw it
        self.context = {"lang": "en_US", "tz": "UTC"}
        self.request_id = 0

    # ------------------------------------------------------------
    # JSON-RPC
    # ------------------------------------------------------------

    def post(self, path, params):
        self.request_id += 1
        payload = {"jsonrpc": "2.0", "method": "call", "params": params}
        payload["id"] = self.request_id
        start = time.monotonic()
        try:
            response = self.session.post(self.url + path, json=payload, timeout=TIMEOUT)
        except requests.RequestException as exc:
            self.stats.status("no response")
            raise RpcError("no response", str(exc)) from exc
        self.stats.timing(path.split("/", 4)[-1], time.monotonic() - start)
        self.stats.status(response.status_code)
        if response.status_code != 200:
            raise RpcError(f"HTTP {response.status_code}", response.text[:300])
        body = response.json()
        if "error" in body:
            data = body["error"].get("data") or {}
            raise RpcError(
                data.get("name", "error"), data.get("message", str(body["error"]))
            )
        return body["result"]

    def call(self, model, method, *args, button=False, **kwargs):
        kwargs.setdefault("context", self.context)
        path = "/web/dataset/call_button" if button else "/web/dataset/call_kw"
        return self.post(
            f"{path}/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def login(self):
        result = self.post(
            "/web/session/authenticate",
            {"db": self.db, "login": self.plan["login"], "password": "load"},
        )
        self.uid = result["uid"]

    # ------------------------------------------------------------
    # The run
    # ------------------------------------------------------------

    def run(self, deadline, operations=None):
        names, weights = zip(*(operations or OPERATIONS), strict=True)
        while time.monotonic() < deadline:
            operation = self.rng.choices(names, weights)[0]
            try:
                done = getattr(self, f"do_{operation}")()
            except RpcError as exc:
                if exc.name in EXPECTED_ERRORS:
                    self.stats.add(f"{operation} refused ({exc.name.split('.')[-1]})")
                else:
                    self.stats.error(operation, exc.name, exc.message[:300])
                continue
            except Exception as exc:  # noqa: BLE001  (counted, reported, fails)
                self.stats.error(operation, type(exc).__name__, str(exc)[:300])
                continue
            if done:
                self.stats.add(done)

    def domain(self):
        domain = [("type", "=", "opportunity")]
        if not self.plan["manager"]:
            domain.append(("user_id", "=", self.uid))
        return domain

    def do_pipeline(self):
        groups = self.call(
            "crm.lead",
            "web_read_group",
            self.domain(),
            self.kanban["aggregates"],
            ["stage_id"],
            lazy=True,
        )["groups"]
        columns = [group["stage_id"][0] for group in groups if group["stage_id"]]
        if not columns:
            return "pipeline opened"
        stage_id = self.rng.choice(columns)
        records = self.call(
            "crm.lead",
            "web_search_read",
            [*self.domain(), ("stage_id", "=", stage_id)],
            self.kanban["spec"],
            limit=KANBAN_PAGE,
        )["records"]
        for record in records:
            self.known[record["id"]] = stage_id
        return "pipeline opened"

    def target_of(self, lead_id):
        stage_id = self.known.get(lead_id, self.stages[0])
        rank = self.stages.index(stage_id) if stage_id in self.stages else 0
        backward = rank == len(self.stages) - 1 or (
            rank > 0 and self.rng.randrange(100) < BACKWARD_PERCENT
        )
        return self.stages[rank - 1 if backward else rank + 1]

    def do_move(self):
        if not self.plan["leads"]:
            return None
        lead_id = self.rng.choice(self.plan["leads"])
        target = self.target_of(lead_id)
        spec = {"stage_id": {"fields": {"display_name": {}}}}
        try:
            record = self.call(
                "crm.lead", "web_save", [lead_id], {"stage_id": target}, spec
            )[0]
        except RpcError as exc:
            if exc.name != "odoo.exceptions.UserError" or self.side == "stock":
                raise
            self.stats.add("move refused by a gate")
            return self.after_refusal(lead_id, target)
        self.known[lead_id] = record["stage_id"]["id"]
        return "move accepted"

    def after_refusal(self, lead_id, target):
        if self.rng.randrange(100) >= WAIVE_PERCENT:
            return None
        if self.plan["manager"]:
            context = {**self.context, "default_lead_ids": [lead_id]}
            wizard = self.call(
                "funnel.gate.waiver",
                "web_save",
                [],
                {"stage_id": target, "reason": "Customer confirmed by phone"},
                {"stage_id": {}},
                context=context,
            )[0]
            self.call(
                "funnel.gate.waiver",
                "action_confirm",
                [wizard["id"]],
                button=True,
                context=context,
            )
            self.known[lead_id] = target
            return "move waived by the manager"
        checks = self.call(
            "funnel.lead.check",
            "web_search_read",
            [
                ("lead_id", "=", lead_id),
                ("is_current", "=", True),
                ("kind", "=", "checklist"),
                ("state", "=", "todo"),
            ],
            {"state": {}},
        )["records"]
        if not checks:
            return None
        self.call(
            "funnel.lead.check",
            "action_mark_met",
            [record["id"] for record in checks],
            button=True,
        )
        return "checklist ticked"

    def do_log(self):
        if not self.plan["leads"]:
            return None
        lead_id = self.rng.choice(self.plan["leads"])
        if self.side == "stock":
            self.call(
                "crm.lead",
                "message_post",
                [lead_id],
                body="Called the customer",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            return "activity logged"
        wizard = self.call(
            "funnel.activity.quick.log",
            "web_save",
            [],
            {"lead_ids": [(6, 0, [lead_id])], "summary": "Called the customer"},
            {"lead_ids": {}},
        )[0]
        self.call(
            "funnel.activity.quick.log", "action_log", [wizard["id"]], button=True
        )
        return "activity logged"

    def do_done(self):
        pool = self.plan["activities"]
        if not pool:
            return None
        with self.stats.lock:
            if not pool:
                return None
            lead_id = self.rng.choice(sorted(pool))
            activity_ids = pool[lead_id]
            activity_id = activity_ids[0]
            if self.rng.randrange(100) >= SHARED_DONE_PERCENT:
                activity_ids.pop(0)
                if not activity_ids:
                    del pool[lead_id]
        self.call(
            "mail.activity",
            "action_feedback",
            [activity_id],
            feedback="Done under load",
        )
        return "activity done"


def run_side(url, db, side, plans, stages, kanban, seconds, seed, operations=None):
    """Run one client per plan on ``db`` for ``seconds``; return the stats and
    the duration (until the last client finished its last request)."""
    stats = Stats()
    shared = {}  # the planned activities, shared by the clients of a user
    clients = []
    for plan in plans:
        pool = shared.setdefault(
            plan["login"], {lead: list(ids) for lead, ids in plan["activities"].items()}
        )
        plan = dict(plan, activities=pool)
        rng = random.Random(f"{seed}-{side}-{plan['index']}-{seconds}")
        clients.append(Client(url, db, side, plan, stages, kanban, stats, rng))
    for client in clients:
        client.login()
    start = time.monotonic()
    deadline = start + seconds
    threads = [
        threading.Thread(target=client.run, args=(deadline, operations), daemon=True)
        for client in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats, time.monotonic() - start
