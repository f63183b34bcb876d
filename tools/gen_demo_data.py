#!/usr/bin/env python3
"""Generate the demo data of Sales Funnel Pro: a calibration-equipment vendor.

The vendor sells electrical, temperature and pressure calibrators, calibration software
and accredited calibration services through two sales teams and four reps. About 150
opportunities are simulated over the last twelve months, stage by stage, with a seeded
random generator, so that every run writes the same files:

- each opportunity moves through the professional funnel (Start, Needs confirmed,
  Solution & quote, Negotiation, Won) and is won, lost or still open today;
- exit criteria are met on the way (with evidence, by the rep, at a date inside the
  stay), sometimes waived by the sales manager with a reason;
- a few go back a stage, a few lost ones are restored, a few won ones are reopened;
- expected closing dates slip and are pushed;
- each rep has a monthly sales target and each team a quarterly one, from a year ago
  to a year ahead, set a little above what the rep won over the year;
- visits, calls, e-mails, meetings and demos are done on the way: each is a row
  of the activity log (type, stage of the moment, duration, outcome, next step) and
  a message in the chatter; visits and calls come early, demos and meetings in
  Solution & quote, calls and e-mails in Negotiation; most open opportunities have
  a next activity planned.

One rep, Chen Jing, wins more and faster than the others, and spends her hours on the
deals she wins, so that the reports have a story to tell. The activities are drawn
from a random generator of their own: they do not change the history. All dates are
written relative to the day the data is loaded.

Usage::

    python3 tools/gen_demo_data.py          # write sales_funnel_pro/demo/*.xml
    python3 tools/gen_demo_data.py --check  # fail when the files are not up to date
"""

import argparse
import random
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

SEED = 8  # one seed among a few tried: a spread that reads well in the reports
LEAD_COUNT = 150
HISTORY_DAYS = 360
DEMO_DIR = Path(__file__).resolve().parent.parent / "sales_funnel_pro" / "demo"

DAY = 1440  # simulated time is in minutes, relative to today 00:00 (UTC)
WORK_START, WORK_END = 60, 630  # 01:00-10:30 UTC: office hours in China
LAST_REVIEW = -DAY + 600  # yesterday 10:00 UTC: the last look at closing dates
SNAPSHOT_WEEKS = 52  # weekly forecast snapshots, the last one a week ago
SNAPSHOT_MINUTE = 30  # taken at 00:30 UTC, before office hours
HISTORY_WINDOW = 365  # days of closed opportunities behind a historical win rate
MIN_TEAM_SAMPLE = 20  # below that, a team uses the company's historical rate

# ---------------------------------------------------------------------------------
# The funnel (as created by the professional funnel template)
# ---------------------------------------------------------------------------------

FUNNEL = ["start", "needs", "solution", "negotiation"]
STAGE_NAMES = {
    "start": "Start",
    "needs": "Needs confirmed",
    "solution": "Solution & quote",
    "negotiation": "Negotiation",
    "won": "Won",
}
WIN_RATE = {"start": 10, "needs": 25, "solution": 50, "negotiation": 75, "won": 100}
CATEGORY = {
    "start": "pipeline",
    "needs": "pipeline",
    "solution": "best_case",
    "negotiation": "commit",
    "won": "closed",
}
# exit criteria of each stage: key -> kind
CRITERIA = {
    "start": {
        "budget": "checklist",
        "decision_maker": "checklist",
        "customer": "field",
    },
    "needs": {"needs_documented": "checklist", "revenue": "field"},
    "solution": {"demo": "activity", "quotation": "checklist", "closing_date": "field"},
    "negotiation": {"terms": "checklist"},
}
# the activity kinds that the "demo" criterion counts
DEMO_KINDS = ("demo", "visit", "meeting")
CRITERION_NAMES = {
    "budget": "Budget identified",
    "decision_maker": "Decision maker identified",
    "customer": "Customer set",
    "needs_documented": "Needs documented",
    "revenue": "Expected revenue estimated",
    "demo": "Demo or site visit held",
    "quotation": "Quotation sent",
    "closing_date": "Expected closing date set",
    "terms": "Terms agreed",
}
# median days in each stage, before the rep's pace and the deal size
STAGE_DAYS = {"start": 9, "needs": 11, "solution": 15, "negotiation": 18}

# ---------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------


@dataclass
class Rep:
    key: str
    name: str
    login: str
    team: str
    function: str
    # chance to advance from each funnel stage (the rest is lost or goes back)
    advance: tuple
    pace: float  # multiplies the stage durations
    stall: float  # chance that a stay drags on (rotting)
    planning: float  # chance that an open opportunity has a next activity planned
    optimism: float  # share of the remaining cycle the rep expects at qualification
    weight: float  # share of the opportunities
    effort: float  # multiplies the chance of each optional activity
    thorough: float  # multiplies the length of visits, meetings and demos
    focus: float  # multiplies the effort on stays that end lost or back
    # how the rep forecasts (the weekly snapshots): points added to the stage's win
    # rate as the rep's probability, and a style: "sandbag" (later closing dates,
    # commit deals held back as best case) or "optimist" (early closing dates,
    # pushed week after week, best case deals called commit)
    lean: int = 0
    style: str = ""


REPS = [
    Rep(
        key="chen_jing",
        name="Chen Jing",
        login="chen.jing",
        team="process",
        function="Senior Account Manager",
        advance=(0.88, 0.85, 0.8, 0.86),
        pace=0.65,
        stall=0.05,
        planning=0.92,
        optimism=0.9,
        weight=0.27,
        effort=1.5,
        thorough=1.35,
        focus=0.4,
        lean=-15,
        style="sandbag",
    ),
    Rep(
        key="mark_thompson",
        name="Mark Thompson",
        login="mark.thompson",
        team="process",
        function="Account Manager",
        advance=(0.78, 0.72, 0.62, 0.74),
        pace=1.15,
        stall=0.2,
        planning=0.6,
        optimism=0.6,
        weight=0.25,
        effort=0.9,
        thorough=1.0,
        focus=1.0,
        lean=15,
        style="optimist",
    ),
    Rep(
        key="liu_yang",
        name="Liu Yang",
        login="liu.yang",
        team="labs",
        function="Account Manager",
        advance=(0.8, 0.76, 0.68, 0.78),
        pace=1.0,
        stall=0.12,
        planning=0.75,
        optimism=0.7,
        weight=0.25,
        effort=1.0,
        thorough=1.0,
        focus=1.0,
    ),
    Rep(
        key="anna_keller",
        name="Anna Keller",
        login="anna.keller",
        team="labs",
        function="Account Manager",
        advance=(0.78, 0.72, 0.64, 0.74),
        pace=1.1,
        stall=0.16,
        planning=0.65,
        optimism=0.65,
        weight=0.23,
        effort=1.0,
        thorough=1.05,
        focus=0.95,
    ),
]
MANAGER = ("helen_zhou", "Helen Zhou", "helen.zhou", "Head of Sales")
TEAMS = {
    "process": ("Process Industries", "Petrochemicals, power, pharma and food plants"),
    "labs": ("Labs & Utilities", "Calibration labs, metrology, water, gas and grid"),
}

# ---------------------------------------------------------------------------------
# Customers: plants for the process team, labs and utilities for the other one
# ---------------------------------------------------------------------------------


class Customer(NamedTuple):
    key: str
    name: str
    city: str
    country: str  # XML id in base: base.<country>
    industry: str  # NACE section: base.res_partner_industry_<industry>
    team: str
    contact: str
    function: str


# fmt: off
CUSTOMERS = [
    # process industries
    Customer("yangtze_petrochem", "Yangtze Delta Petrochemical Co.", "Ningbo", "cn",
             "C", "process", "Wang Lei", "Instrument & Control Manager"),
    Customer("donghai_lng", "Donghai LNG Terminal", "Zhoushan", "cn", "D", "process",
             "Zhao Min", "Maintenance Superintendent"),
    Customer("huabei_power", "Huabei Thermal Power Plant No. 2", "Tianjin", "cn", "D",
             "process", "Sun Hao", "C&I Engineer"),
    Customer("jinling_pharma", "Jinling Pharmaceutical Manufacturing", "Nanjing", "cn",
             "C", "process", "Xu Ting", "Validation Manager"),
    Customer("pearl_refining", "Pearl River Refining Co.", "Guangzhou", "cn", "C",
             "process", "Huang Jun", "Head of the Instrument Workshop"),
    Customer("qilu_chemicals", "Qilu Fine Chemicals", "Zibo", "cn", "C", "process",
             "Ma Qiang", "Maintenance Manager"),
    Customer("bohai_steel", "Bohai Steel Group", "Tangshan", "cn", "C", "process",
             "Guo Feng", "Energy Metering Supervisor"),
    Customer("sichuan_gas", "Sichuan Basin Gas Processing", "Chengdu", "cn", "B",
             "process", "Deng Yu", "Metering Engineer"),
    Customer("hangzhou_bio", "Hangzhou Bay Biologics", "Hangzhou", "cn", "C", "process",
             "Lin Yan", "QA Validation Lead"),
    Customer("jilin_fertilizer", "Northeast Fertilizer Works", "Jilin", "cn", "C",
             "process", "Liang Bo", "Instrument Engineer"),
    Customer("yichang_paper", "Three Gorges Paper Mill", "Yichang", "cn", "C",
             "process", "Tang Hui", "Plant Engineering Manager"),
    Customer("shenzhen_foods", "Shenzhen Bright Foods", "Shenzhen", "cn", "C",
             "process", "Zheng Li", "Utilities Manager"),
    Customer("shandong_petro", "Shandong Coastal Petrochemical", "Qingdao", "cn", "C",
             "process", "Yu Xiaodong", "Chief Instrument Engineer"),
    Customer("ordos_coal_chem", "Ordos Coal Chemical Co.", "Ordos", "cn", "C",
             "process", "Bai Gang", "Maintenance Planner"),
    Customer("hubei_hydro", "Hubei Hydropower Station", "Yichang", "cn", "D", "process",
             "Peng Wei", "Protection & Control Engineer"),
    Customer("rhine_chemicals", "Rhine Valley Chemicals GmbH", "Mannheim", "de", "C",
             "process", "Jonas Weber", "Head of Instrumentation"),
    Customer("gulf_refining", "Gulf Coast Refining LLC", "Houston", "us", "C",
             "process", "Robert Hayes", "I&E Supervisor"),
    Customer("kinabalu_palm", "Kinabalu Palm Oil Refinery", "Sandakan", "my", "C",
             "process", "Ahmad Rahman", "Plant Engineer"),
    Customer("mekong_power", "Mekong Power Generation", "Ho Chi Minh City", "vn", "D",
             "process", "Nguyen Van Minh", "Maintenance Manager"),
    # labs and utilities
    Customer("shanghai_cal", "Shanghai Precision Calibration Center", "Shanghai", "cn",
             "M", "labs", "Zhou Yi", "Technical Manager"),
    Customer("guangdong_metrology", "Guangdong Metrology Services", "Guangzhou", "cn",
             "M", "labs", "Feng Qian", "Head of the Temperature Lab"),
    Customer("pearl_water", "Pearl River Water Group", "Foshan", "cn", "E", "labs",
             "Lu Wen", "Metering & Instrumentation Manager"),
    Customer("capital_gas", "Capital Gas Distribution Co.", "Beijing", "cn", "D",
             "labs", "Cao Yang", "Meter Lab Supervisor"),
    Customer("northern_grid", "Northern Grid Electrical Test Lab", "Shenyang", "cn",
             "D", "labs", "Han Xue", "Lab Director"),
    Customer("xian_university", "Xi'an University of Technology, Thermal Lab", "Xi'an",
             "cn", "P", "labs", "Qin Lu", "Professor"),
    Customer("suzhou_aero", "Suzhou Aero Components Test Lab", "Suzhou", "cn", "M",
             "labs", "Kong Wei", "Quality Engineer"),
    Customer("chongqing_water", "Chongqing Water Supply Group", "Chongqing", "cn", "E",
             "labs", "Jiang Tao", "Head of Metering"),
    Customer("wuhan_qc", "Wuhan Pharma QC Laboratory", "Wuhan", "cn", "M", "labs",
             "Yuan Fang", "QC Manager"),
    Customer("xiamen_cal", "Xiamen Port Calibration Services", "Xiamen", "cn", "M",
             "labs", "Fu Lin", "Operations Manager"),
    Customer("nordic_metrology", "Nordic Metrology AB", "Borås", "se", "M", "labs",
             "Erik Lindqvist", "Pressure Lab Manager"),
    Customer("alpine_cal", "Alpine Calibration Laboratory", "Graz", "at", "M", "labs",
             "Katrin Huber", "Quality Manager"),
    Customer("sg_utilities", "Lion City Utilities Test Centre", "Singapore", "sg", "E",
             "labs", "Tan Wei Ming", "Senior Engineer"),
    Customer("kyushu_power", "Kyushu Power Testing Laboratory", "Fukuoka", "jp", "D",
             "labs", "Takashi Yamamoto", "Section Manager"),
    Customer("gulf_metrology", "Gulf Metrology & Calibration LLC", "Dubai", "ae", "M",
             "labs", "Omar Haddad", "General Manager"),
    Customer("hk_water_lab", "Harbour Water Quality Laboratory", "Hong Kong", "hk", "E",
             "labs", "Kelvin Chan", "Laboratory Manager"),
]
# fmt: on

# ---------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------


class Offer(NamedTuple):
    key: str
    name: str  # with {qty} when the quantity shows
    short: str
    price: tuple  # unit price range, USD
    qty: tuple  # quantity range
    tags: tuple
    weight: tuple  # how often each team sells it: (process, labs)
    spec: str  # what the customer needs, in a few words


# fmt: off
OFFERS = [
    Offer("mpc", "{qty} multifunction process calibrators", "process calibrator",
          (4500, 9000), (2, 16), ("electrical",), (5, 1),
          "mA, V, RTD and thermocouple measure/simulate, 0.01 % accuracy"),
    Offer("dpc", "{qty} documenting process calibrators with HART",
          "documenting calibrator", (7000, 12000), (2, 10), ("electrical",), (4, 1),
          "HART communication, automated loop tests, upload to the maintenance system"),
    Offer("dry_block", "{qty} dry-block temperature calibrators",
          "dry-block calibrator", (6000, 14000), (1, 8), ("temperature",), (3, 3),
          "-30 to 660 °C, ±0.2 °C, interchangeable inserts"),
    Offer("bath", "{qty} temperature calibration baths", "calibration bath",
          (12000, 30000), (1, 3), ("temperature",), (1, 3),
          "-40 to 200 °C, stability ±0.005 °C"),
    Offer("sprt", "Reference thermometry set (SPRT and readout)", "SPRT set",
          (8000, 25000), (1, 1), ("temperature",), (0, 3),
          "ITS-90 SPRT, -189 to 660 °C, 8.5-digit readout"),
    Offer("controller", "{qty} automated pressure controllers", "pressure controller",
          (25000, 55000), (1, 3), ("pressure",), (2, 4),
          "-1 to 210 bar, 0.01 %FS, pneumatic"),
    Offer("hand_pump", "{qty} portable pressure calibrator kits",
          "pressure calibrator kit", (2500, 6000), (3, 20), ("pressure",), (4, 1),
          "0 to 700 bar with hand pumps, 0.025 %FS"),
    Offer("deadweight", "Hydraulic deadweight tester", "deadweight tester",
          (15000, 40000), (1, 2), ("pressure",), (1, 4),
          "up to 1,000 bar oil, 0.015 % of reading, accredited certificate"),
    Offer("reference", "Electrical reference calibrator", "reference calibrator",
          (30000, 70000), (1, 1), ("electrical",), (0, 3),
          "multimeter calibration up to 8.5 digits, 1 ppm"),
    Offer("software", "Calibration management software, {qty} seats",
          "calibration software", (700, 1200), (10, 60), ("software",), (3, 3),
          "asset history, calibration schedules, calibrator upload, audit trail"),
    Offer("service", "Accredited on-site calibration contract ({qty} instruments)",
          "calibration contract", (40, 90), (150, 900), ("service",), (3, 3),
          "ISO/IEC 17025 accredited certificates, on-site during the shutdown"),
    Offer("meter_bench", "Water meter test bench", "meter test bench", (60000, 180000),
          (1, 1), ("pressure",), (0, 2),
          "DN15 to DN50 meters, 0.2 % uncertainty, automatic reports"),
    Offer("mobile_lab", "Mobile calibration laboratory", "mobile lab", (150000, 260000),
          (1, 1), ("electrical", "temperature", "pressure"), (1, 1),
          "temperature, pressure and electrical calibration in one van"),
]
# fmt: on
CONTEXTS = {
    "process": [
        "fleet renewal",
        "for the turnaround",
        "for the new production unit",
        "replacement of obsolete units",
        "for the maintenance workshop",
        "for the validation team",
    ],
    "labs": [
        "scope extension",
        "replacement of obsolete units",
        "for the new laboratory",
        "for the metering lab",
        "accreditation audit follow-up",
        "second set for field work",
    ],
}
# tag key -> name of a new tag, or the XML id of a tag of sales_team's demo data
TAGS = {
    "electrical": "Electrical",
    "temperature": "Temperature",
    "pressure": "Pressure",
    "tender": "Tender",
    "software": "sales_team.categ_oppor2",
    "service": "sales_team.categ_oppor3",
}


def tag_ref(tag):
    return TAGS[tag] if "." in TAGS[tag] else f"crm_tag_{tag}_demo"


LOST_REASONS = {
    "competitor": "Lost to a competitor",
    "budget": "Budget frozen",
    "postponed": "Project postponed",
    "spec": "Specification not met",
    "silent": "No answer from the customer",
    "price": None,  # crm's "Too expensive"
}
LOST_BY_STAGE = {
    "start": ["silent", "budget", "postponed", "postponed"],
    "needs": ["spec", "postponed", "budget", "silent"],
    "solution": ["price", "competitor", "competitor", "spec"],
    "negotiation": ["competitor", "price", "price", "budget"],
}

EVIDENCE = {
    "budget": [
        "Budget of about {amount} in this year's maintenance plan, confirmed by "
        "{contact}.",
        "Capex request of {amount} approved by the plant manager; {contact} holds the "
        "budget.",
        "Funded from the instrument department's budget (about {amount}), confirmed "
        "by phone.",
        "Part of the annual equipment budget ({amount}), released by the director.",
    ],
    "decision_maker": [
        "{contact} ({function}) decides; the plant manager signs the order.",
        "Technical decision by {contact}; procurement signs above 50,000.",
        "{contact} ({function}) chairs the evaluation; purchasing issues the order.",
    ],
    "needs_documented": [
        "Requirements confirmed by e-mail: {spec}; {qty} unit(s).",
        "Requirement sheet signed off by {contact}: {spec}.",
        "Site survey notes shared with {contact}: {spec}; traceable to national "
        "standards.",
    ],
    "quotation": [
        "Quotation Q-{number} sent to {contact}: {amount}, delivery {weeks} weeks.",
        "Quotation Q-{number} ({amount}) sent with the technical compliance sheet.",
    ],
    "terms": [
        "Price {amount}, delivery {weeks} weeks, 30 % advance and 70 % on acceptance; "
        "confirmed by procurement.",
        "Final offer accepted in writing: {amount}, two-year warranty, on-site "
        "training included.",
        "Terms agreed at the negotiation meeting: {amount}, payment at 60 days, "
        "installation by our service team.",
    ],
}
WAIVE_REASONS = {
    "budget": [
        "Framework agreement with the group: the budget is released per call-off.",
        "State-funded project: the budget line is published in the procurement plan.",
    ],
    "decision_maker": [
        "Public tender: the evaluation committee decides and is not disclosed.",
    ],
    "needs_documented": [
        "Repeat of last year's order; the specification is unchanged.",
        "Tender: we quote to the published specification.",
    ],
    "demo": [
        "Repeat order of the model already in use at the site; no demo needed.",
        "The customer tried the unit at the trade show; no site visit needed.",
        "The sister plant uses the same calibrators; a reference call replaced the "
        "demo.",
    ],
    "quotation": [
        "Budgetary price accepted by phone; the formal quotation follows with the "
        "contract.",
    ],
    "terms": [
        "Purchase order received on our standard terms; the signed terms follow by "
        "mail.",
    ],
}
WAIVABLE = {
    "start": ["budget", "decision_maker"],
    "needs": ["needs_documented"],
    "solution": ["demo", "demo", "quotation"],
    "negotiation": ["terms"],
}
NEXT_STEPS = {
    "start": [
        ("call", "Discovery call: budget and decision maker"),
        ("email", "Send the product overview and references"),
        ("call", "Call back {contact} about the project timing"),
    ],
    "needs": [
        ("visit", "Site survey of the instrument workshop"),
        ("call", "Confirm ranges and accuracy with {contact}"),
        ("todo", "Write up the requirement sheet"),
    ],
    "solution": [
        ("meeting", "Present the {short} at the site to {contact}'s team"),
        ("email", "Follow up on quotation Q-{number}"),
        ("call", "Technical clarification with {contact}"),
    ],
    "negotiation": [
        ("call", "Negotiate payment terms with procurement"),
        ("meeting", "Final negotiation meeting"),
        ("email", "Send the revised offer"),
    ],
}
ACTIVITY_TYPES = {
    "call": ("mail.mail_activity_data_call", "Call"),
    "meeting": ("mail.mail_activity_data_meeting", "Meeting"),
    "email": ("mail.mail_activity_data_email", "Email"),
    "todo": ("mail.mail_activity_data_todo", "To-Do"),
    "visit": ("mail_activity_type_visit", "Visit"),
    "demo": ("mail_activity_type_demonstration", "Demo"),
}
# hours spent on an activity of each type: (shortest, longest)
DURATIONS = {
    "call": (0.25, 0.75),
    "email": (0.25, 0.5),
    "todo": (0.5, 2.0),
    "meeting": (1.0, 2.5),
    "demo": (1.5, 3.5),
    "visit": (1.5, 4.0),
}
FAR_VISIT = (4.0, 8.0)  # a visit abroad: the trip takes the day
# activities that may happen during a stay, besides those the story needs, tried
# once (twice in a long stay): (type, summary, chance, part of the stay, and the
# criterion they come before when it is met during the stay)
EXTRA_ACTIVITIES = {
    "start": [
        ("visit", "Introductory visit to {customer}", 0.55, (0.15, 0.9), None),
        ("email", "Product overview and references for {contact}", 0.5, (0, 0.6), None),
        ("call", "Follow-up call with {contact} on the timing", 0.35, (0.3, 1), None),
    ],
    "needs": [
        (
            "visit",
            "Site survey of the instrument workshop",
            0.8,
            (0.05, 0.7),
            "needs_documented",
        ),
        (
            "call",
            "Call with {contact} on ranges and accuracy",
            0.6,
            (0.2, 0.9),
            "needs_documented",
        ),
        ("visit", "Workshop with the maintenance team", 0.3, (0.3, 1), None),
        ("call", "Call with {contact} on the standards to meet", 0.3, (0.1, 0.9), None),
    ],
    "solution": [
        ("call", "Technical clarification with {contact}", 0.5, (0.1, 0.95), None),
        (
            "email",
            "Datasheets and sample certificates for {contact}",
            0.35,
            (0, 1),
            "quotation",
        ),
    ],
    "negotiation": [
        ("email", "Revised offer to procurement", 0.6, (0.2, 0.9), None),
        ("call", "Follow-up call with procurement on the order", 0.55, (0.4, 1), None),
        ("meeting", "Negotiation meeting with procurement", 0.3, (0.2, 0.9), None),
        ("visit", "Visit with our service engineer: installation", 0.08, (0, 1), None),
    ],
}
# chances of a positive, neutral or negative outcome, by how the stay ends
OUTCOME_WEIGHTS = {
    "forward": (7, 3, 0.5),
    "open": (3, 5, 1.5),
    "back": (1.5, 4, 3),
    "lost": (1, 4, 3),
}
OUTCOMES = ("positive", "neutral", "negative")
# the activities where the customer answers: they have feedback and an outcome
CONVERSATIONS = ("call", "visit", "meeting", "demo")
FEEDBACK = {
    "positive": [
        "{contact} confirmed the next step.",
        "Good feedback from the team; they want to move on.",
        "The plant manager joined and supports the project.",
        "Clear interest; they asked for the lead time.",
    ],
    "neutral": [
        "No decision yet; to be followed up.",
        "{contact} needs to check internally first.",
        "Information exchanged; nothing new on the timing.",
    ],
    "negative": [
        "{contact} says the budget is under review.",
        "They are also talking to a competitor, who is cheaper.",
        "The project has lost priority; timing unclear.",
        "Objections on the price and the delivery time.",
    ],
}


# ---------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------


@dataclass
class Row:
    event: str
    stage: str
    stage_from: str | None
    date_in: int
    moved_by: str
    revenue: float
    probability: float
    date_out: int | None = None
    backward: bool = False
    waive_reason: str | None = None


@dataclass
class Check:
    criterion: str
    stage: str
    state: str = "todo"
    date: int | None = None
    by: str | None = None
    evidence: str | None = None
    waive_reason: str | None = None


@dataclass
class Message:
    """A note in the chatter (done activities are written from the activities)."""

    date: int
    author: str
    kind: str  # "note"
    summary: str
    feedback: str = ""


@dataclass
class Activity:
    """An activity done by the rep: a row of the activity log and a message in the
    chatter."""

    date: int
    stage: str  # the stage of the opportunity at that moment
    kind: str  # a key of ACTIVITY_TYPES
    summary: str
    duration: float  # hours
    outcome: str
    feedback: str | None = ""  # None: to draw with the outcome
    next_step: str = ""
    tag: str = ""  # the activities the story needs: discovery, solution_meeting...
    weights: list | None = None  # of the outcomes, when still to draw


@dataclass
class Lead:
    number: int
    rep: Rep
    customer: Customer
    offer: Offer
    qty: int
    name: str
    estimate: float
    quote_number: str
    created: int
    priority: str
    tags: list
    revenue: float = 0.0
    probability: float = 10.0
    stage: str = "start"
    active: bool = True
    won: bool = False
    lost_reason: str | None = None
    date_closed: int | None = None
    deadline: int | None = None  # day, relative to today
    pushes: int = 0
    # (moment, deadline): each change of the expected closing date
    deadline_log: list = field(default_factory=list)
    override: dict = field(default_factory=dict)  # stage -> forecast category
    backward_moves: int = 0
    rows: list = field(default_factory=list)
    checks: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)  # notes
    activities: list = field(default_factory=list)
    next_step: tuple | None = None  # (kind, summary, due day)

    @property
    def xmlid(self):
        return f"crm_lead_{self.number:03d}_demo"

    @property
    def contact(self):
        return self.customer.contact

    @property
    def function(self):
        return self.customer.function

    @property
    def short(self):
        return self.offer.short

    @property
    def date_last_stage_update(self):
        entries = [row for row in self.rows if row.event in ("enter", "won")]
        return entries[-1].date_in


def day_of(moment):
    return moment // DAY


@dataclass
class Stay:
    """One stay of an opportunity in a stage, from ``start`` to ``end``."""

    sim: "Simulation"
    lead: Lead
    start: int
    end: int
    chance: float  # that an open criterion gets met during the stay
    waived: str | None
    stage: str = "start"
    outcome: str = "open"  # forward, lost, back or open

    def happens(self, factor=1.0):
        return self.chance >= 1 or self.sim.rng.random() < self.chance * factor

    def todo(self, criterion):
        check = self.lead.checks[criterion]
        return check.state == "todo" and criterion != self.waived

    def moment(self, low, high):
        return self.sim.within(self.start, self.end, low, high)

    @property
    def days(self):
        return (min(self.end, 0) - self.start) / DAY


class Simulation:
    """Plays each opportunity forward from its creation until today."""

    def __init__(self, seed=SEED):
        self.rng = random.Random(seed)
        # the optional activities, their durations and outcomes: drawn apart, so
        # that they do not change the history
        self.arng = random.Random(f"{seed}-activities")
        self.quote_counter = 0

    # time ------------------------------------------------------------------------

    def at(self, day, rng=None):
        """A moment of office hours on ``day``."""
        return day * DAY + (rng or self.rng).randint(WORK_START, WORK_END)

    def within(self, start, end, low=0.1, high=0.9, rng=None):
        """A moment between ``start`` and ``end`` (and before today), preferably in
        office hours."""
        rng = rng or self.rng
        end = min(end, 0)
        span = end - start
        if span <= 2:
            return start
        moment = start + int(span * rng.uniform(low, high))
        day = day_of(moment)
        office = self.at(day, rng)
        if start < office < end:
            moment = office
        return max(start + 1, min(moment, end - 1))

    def later(self, start, days):
        """A moment in office hours ``days`` days (at least one) after ``start``."""
        return self.at(day_of(start) + max(1, round(days)))

    # helpers ---------------------------------------------------------------------

    def money(self, amount, step=100):
        return float(max(step, round(amount / step) * step))

    def stay(self, lead, stage):
        days = STAGE_DAYS[stage] * lead.rep.pace * self.rng.lognormvariate(0, 0.45)
        days *= 1 + min(0.8, lead.estimate / 250000)
        if self.rng.random() < lead.rep.stall:
            days *= 2.2
        return max(1.0, days)

    def text(self, lead, template, rng=None):
        return template.format(
            amount=f"{lead.revenue or lead.estimate:,.0f} USD",
            contact=lead.contact,
            function=lead.function,
            spec=lead.offer.spec,
            qty=lead.qty,
            number=lead.quote_number,
            weeks=(rng or self.rng).choice([4, 6, 8, 10]),
            short=lead.short,
            customer=lead.customer.name,
        )

    def push_deadline(self, lead, moment):
        """The rep moves the expected closing date later when it has passed."""
        if lead.deadline is not None and lead.deadline < day_of(moment):
            lead.deadline = day_of(moment) + self.rng.randint(21, 50)
            lead.pushes += 1
            lead.deadline_log.append((moment, lead.deadline))

    def enter(self, lead, stage, moment, moved_by, event="enter", backward=False):
        stage_from = lead.rows[-1].stage if lead.rows else None
        if lead.rows:
            lead.rows[-1].date_out = moment
        lead.stage = stage
        lead.probability = WIN_RATE[stage]
        row = Row(
            event,
            stage,
            stage_from,
            moment,
            moved_by,
            lead.revenue,
            lead.probability,
            backward=backward,
        )
        lead.rows.append(row)
        if backward:
            lead.backward_moves += 1
        # the checks of the new stage, and what the opportunity already satisfies
        for criterion in CRITERIA.get(stage, {}):
            check = lead.checks.setdefault(criterion, Check(criterion, stage))
            if check.state == "todo" and self.auto_met(lead, criterion):
                check.state, check.date, check.by = "met", moment, moved_by
        return row

    def auto_met(self, lead, criterion):
        if criterion == "customer":
            return True
        if criterion == "revenue":
            return bool(lead.revenue)
        if criterion == "closing_date":
            return lead.deadline is not None
        if criterion == "demo":
            # the criterion counts the meetings logged on the opportunity
            return any(a.kind == "meeting" for a in lead.activities)
        return False

    def meet(self, lead, criterion, moment):
        check = lead.checks[criterion]
        if check.state != "todo":
            return
        check.state, check.date, check.by = "met", moment, lead.rep.key
        if CRITERIA[check.stage][criterion] == "checklist":
            check.evidence = self.text(lead, self.rng.choice(EVIDENCE[criterion]))

    def log(self, stay, moment, kind, summary, feedback=None, outcome=None, **kw):
        """The rep does an activity at ``moment`` of the stay: a log row and a
        message. The summary is written with the history's generator (the story
        needs it) unless ``rng`` says otherwise; the duration, the outcome and the
        feedback come from the activities' generator."""
        arng, lead = self.arng, stay.lead
        low, high = DURATIONS[kind]
        if kind == "visit" and lead.customer.country != "cn":
            low, high = FAR_VISIT
        hours = arng.uniform(low, high)
        if kind in ("visit", "meeting", "demo"):
            hours *= lead.rep.thorough
        if outcome is None and kind not in CONVERSATIONS:
            outcome = "neutral"  # paperwork: the customer answers by phone or visit
        activity = Activity(
            date=moment,
            stage=stay.stage,
            kind=kind,
            summary=self.text(lead, summary, kw.get("rng")),
            duration=min(24.0, max(0.25, round(hours * 4) / 4)),
            outcome=outcome or "",
            feedback=feedback,
            tag=kw.get("tag", ""),
        )
        if outcome is None:
            # drawn when the opportunity's story is over (see finish_activities)
            position = (moment - stay.start) / max(1, min(stay.end, 0) - stay.start)
            weights = list(OUTCOME_WEIGHTS[stay.outcome])
            if stay.outcome == "lost":
                weights[2] += 6 * position  # the end is near
            activity.weights = weights
        lead.activities.append(activity)
        return activity

    def effort(self, stay):
        """How much the rep invests in this stay."""
        effort = stay.lead.rep.effort
        if stay.outcome in ("lost", "back"):
            effort *= stay.lead.rep.focus
        return effort

    def extra_activities(self, stay):
        """The usual work of the stage, besides what the story needs: each tried
        once, twice in a stay of more than six weeks; diligent reps do more."""
        arng, lead = self.arng, stay.lead
        tries = 1 + min(1, int(stay.days / 45))
        for kind, summary, chance, (low, high), before in EXTRA_ACTIVITIES[stay.stage]:
            if kind == "visit" and lead.customer.country != "cn":
                chance /= 2
            end = stay.end
            check = lead.checks.get(before)
            if check and check.state == "met" and stay.start < check.date < end:
                end = check.date
            for __ in range(tries):
                if arng.random() < min(0.95, chance * self.effort(stay)):
                    moment = self.within(stay.start, end, low, high, arng)
                    self.log(stay, moment, kind, summary, rng=arng)

    # one stay in a stage -----------------------------------------------------------

    def work_stage(self, lead, stage, start, end, outcome, waived=None):
        """What happens while the opportunity is in ``stage`` from ``start`` to
        ``end``: activities, revenue and closing date, criteria met. ``outcome`` is
        "forward" (every criterion met or waived), "lost", "back" or "open"."""
        end = min(end, 0)
        if outcome == "forward":
            chance = 1.0
        elif outcome == "open":
            elapsed = (end - start) / DAY / max(1, STAGE_DAYS[stage] * lead.rep.pace)
            chance = min(0.85, 0.2 + 0.6 * elapsed)
        else:
            chance = 0.45
        if end - start < 30 and chance < 1:
            return
        stay = Stay(self, lead, start, end, chance, waived, stage, outcome)
        getattr(self, f"work_{stage}")(stay)

    def work_start(self, stay):
        lead = stay.lead
        if not any(a.tag == "discovery" for a in lead.activities):
            self.log(
                stay,
                stay.moment(0.05, 0.4),
                "call",
                "Discovery call with {contact}",
                "Interested; asked for budget and timing.",
                "neutral" if stay.outcome == "lost" else "positive",
                tag="discovery",
            )
        for criterion in ("budget", "decision_maker"):
            if stay.todo(criterion) and stay.happens():
                self.meet(lead, criterion, stay.moment(0.3, 0.95))
        self.extra_activities(stay)

    def work_needs(self, stay):
        lead = stay.lead
        if stay.todo("needs_documented") and stay.happens():
            moment = stay.moment(0.3, 0.9)
            self.meet(lead, "needs_documented", moment)
            if not lead.revenue:
                lead.revenue = self.money(lead.estimate, 500)
                self.meet(lead, "revenue", self.within(moment, stay.end, 0.05, 0.5))
        elif stay.todo("revenue") and stay.happens():
            lead.revenue = self.money(lead.estimate, 500)
            self.meet(lead, "revenue", stay.moment(0.4, 0.9))
        check = lead.checks["needs_documented"]
        if check.state == "met" and stay.start <= check.date < stay.end:
            # the requirement sheet went out just before the customer confirmed it
            moment = self.within(
                max(stay.start, check.date - 2 * DAY), check.date, 0.3, 0.9, self.arng
            )
            self.log(
                stay,
                moment,
                "email",
                "Requirement sheet for {contact} to confirm",
                rng=self.arng,
            )
        self.extra_activities(stay)

    def work_solution(self, stay):
        lead = stay.lead
        demo_at = stay.start
        if stay.todo("demo") and stay.happens():
            # the meeting at the site that the gate asks for
            demo_at = stay.moment(0.15, 0.5)
            feedback = self.rng.choice(
                [
                    "The team agrees with the proposed configuration.",
                    "Good meeting; they want the quotation this month.",
                    "Compared with their current units; ours is faster.",
                ]
            )
            meeting = self.log(
                stay,
                demo_at,
                "meeting",
                "Solution meeting at the site with {contact}'s team",
                feedback,
                "neutral" if stay.outcome == "lost" else "positive",
                tag="solution_meeting",
            )
            self.meet(lead, "demo", demo_at)
            self.demonstrate(stay, demo_at + int(meeting.duration * 60) + 30, 0.8)
        elif lead.checks["demo"].state == "met":
            self.demonstrate(stay, stay.start, 0.3)
        if stay.todo("quotation") and stay.happens():
            moment = self.within(demo_at, stay.end, 0.3, 0.9)
            lead.revenue = self.money(lead.estimate * self.rng.uniform(0.85, 1.2))
            self.meet(lead, "quotation", moment)
            if self.arng.random() < min(0.9, 0.5 * self.effort(stay)):
                self.log(
                    stay,
                    self.within(
                        max(demo_at, moment - 3 * DAY), moment, 0.2, 0.9, self.arng
                    ),
                    "todo",
                    "Quotation Q-{number} and its compliance sheet",
                    outcome="neutral",
                    rng=self.arng,
                )
            self.log(
                stay,
                moment,
                "email",
                "Quotation Q-{number} to {contact}",
                "",
                "neutral",
            )
        self.extra_activities(stay)

    def demonstrate(self, stay, after, chance):
        """A demo of the offer and a technical review, after the meeting that met
        the gate's criterion (a demo alone would not meet it: the criterion asks
        for a meeting, and a demo before it would contradict its check)."""
        arng = self.arng
        if after >= min(stay.end, 0) - 60:
            return
        if arng.random() < min(0.95, chance * self.effort(stay)):
            self.log(
                stay,
                self.within(after, stay.end, 0, 0.4, arng),
                "demo",
                arng.choice(
                    [
                        "Hands-on demonstration of the {short}",
                        "Demo of the {short} on the customer's bench",
                        "Demo of the {short} to the instrument technicians",
                    ]
                ),
                rng=arng,
            )
        check = stay.lead.checks["demo"]
        if arng.random() < min(0.6, 0.2 * self.effort(stay)):
            self.log(
                stay,
                self.within(max(after, check.date), stay.end, 0.3, 1, arng),
                "meeting",
                "Technical review of the offer with {contact}'s team",
                rng=arng,
            )

    def work_negotiation(self, stay):
        lead = stay.lead
        if self.rng.random() < 0.7:
            self.log(
                stay,
                stay.moment(0.1, 0.5),
                "call",
                "Price and delivery terms with procurement",
                "They ask for a better price and 60-day payment.",
                "neutral",
                tag="price_call",
            )
        if stay.todo("terms") and stay.happens(0.5):
            self.meet(lead, "terms", stay.moment(0.7, 0.98))
        self.extra_activities(stay)

    # one opportunity ------------------------------------------------------------------

    def play(self, lead):
        """Play the opportunity from its creation until today."""
        rng, rep = self.rng, lead.rep
        if rng.random() < 0.6:
            lead.revenue = self.money(lead.estimate, 500)
        self.enter(lead, "start", lead.created, rep.key)
        index, moment, went_back, restored = 0, lead.created, False, False
        while True:
            stage = FUNNEL[index]
            leave = self.later(moment, self.stay(lead, stage))
            if restored:  # restored on purpose: moves on before today
                leave = self.later(moment, rng.uniform(3, max(3, -day_of(moment) / 2)))
                leave = min(leave, self.at(-1))
            if day_of(leave) >= 0:
                self.work_stage(lead, stage, moment, 0, "open")
                self.finish_open(lead)
                return
            draw = rng.random()
            if restored or draw < rep.advance[index]:
                outcome = "forward"
            elif index >= 2 and not went_back and draw < rep.advance[index] + 0.08:
                outcome = "back"
            else:
                outcome = "lost"
            restored = False
            waived = None
            if outcome == "forward" and rng.random() < 0.06:
                todo = [c for c in WAIVABLE[stage] if lead.checks[c].state == "todo"]
                waived = rng.choice(todo) if todo else None
            self.work_stage(lead, stage, moment, leave, outcome, waived)
            if outcome != "lost":
                self.push_deadline(lead, leave)
            if outcome == "forward":
                moved_by, reason = rep.key, None
                if waived:
                    moved_by = MANAGER[0]
                    reason = self.waive(lead, stage, waived, leave)
                if index == len(FUNNEL) - 1:
                    if self.win(lead, leave, moved_by, reason):
                        return
                    moment = lead.rows[-1].date_in
                    continue
                row = self.enter(lead, FUNNEL[index + 1], leave, moved_by)
                row.waive_reason = reason
                if index == 0 and lead.deadline is None:
                    remaining = sum(STAGE_DAYS[s] for s in FUNNEL[1:]) * rep.pace
                    lead.deadline = day_of(leave) + round(
                        remaining * rep.optimism * rng.uniform(0.8, 1.3)
                    )
                    lead.deadline_log.append((leave, lead.deadline))
                index, moment = index + 1, leave
            elif outcome == "back":
                went_back = True
                self.enter(lead, FUNNEL[index - 1], leave, rep.key, backward=True)
                index, moment = index - 1, leave
            else:
                restore_at = self.lose(lead, stage, leave)
                if restore_at is None:
                    return
                restored, moment = True, restore_at

    def waive(self, lead, stage, criterion, moment):
        check = lead.checks[criterion]
        check.state, check.date, check.by = "waived", moment, MANAGER[0]
        check.waive_reason = self.rng.choice(WAIVE_REASONS[criterion])
        target = [*FUNNEL, "won"][FUNNEL.index(stage) + 1]
        lead.messages.append(
            Message(
                moment,
                MANAGER[0],
                "note",
                f"Advanced to “{STAGE_NAMES[target]}”",
                f"{MANAGER[1]} waived: {STAGE_NAMES[stage]}: "
                f"{CRITERION_NAMES[criterion]}. Reason: {check.waive_reason}",
            )
        )
        return check.waive_reason

    def win(self, lead, moment, moved_by, waive_reason=None):
        """Won; a few are reopened shortly after. Return True when the story ends."""
        lead.revenue = self.money(lead.revenue * self.rng.uniform(0.9, 1.0))
        row = self.enter(lead, "won", moment, moved_by, event="won")
        row.waive_reason = waive_reason
        lead.won, lead.date_closed = True, moment
        if day_of(moment) > -30 or self.rng.random() > 0.1:
            return True
        reopen = self.later(moment, self.rng.randint(2, 6))
        lead.won, lead.date_closed = False, None
        self.enter(lead, "negotiation", reopen, lead.rep.key, backward=True)
        lead.messages.append(
            Message(
                reopen,
                lead.rep.key,
                "note",
                "Back to Negotiation",
                "The customer put the purchase order on hold: budget re-approval "
                "needed.",
            )
        )
        return False

    def lose(self, lead, stage, moment):
        """Lost; a few are restored weeks later. Return the restore moment, if any."""
        lead.rows[-1].date_out = moment
        lead.rows.append(
            Row("lost", stage, stage, moment, lead.rep.key, lead.revenue, 0.0)
        )
        lead.active, lead.probability, lead.date_closed = False, 0.0, moment
        lead.lost_reason = self.rng.choice(LOST_BY_STAGE[stage])
        restore = self.later(moment, self.rng.randint(14, 40))
        if day_of(moment) > -75 or day_of(restore) > -15 or self.rng.random() > 0.08:
            return None
        lead.rows[-1].date_out = restore
        lead.rows.append(
            Row(
                "restored",
                stage,
                stage,
                restore,
                lead.rep.key,
                lead.revenue,
                WIN_RATE[stage],
            )
        )
        lead.active, lead.probability, lead.date_closed = True, WIN_RATE[stage], None
        lead.lost_reason = None
        lead.messages.append(
            Message(
                restore,
                lead.rep.key,
                "note",
                "Restored",
                "The customer called back: the project is funded again.",
            )
        )
        return restore

    def finish_open(self, lead):
        rng = self.rng
        if lead.deadline is not None and lead.deadline < 0 and rng.random() < 0.7:
            lead.deadline = rng.randint(7, 45)
            lead.pushes += 1
            lead.deadline_log.append((LAST_REVIEW, lead.deadline))
        lead.probability = max(
            5, min(95, WIN_RATE[lead.stage] + rng.choice([-10, -5, 0, 0, 0, 5, 10]))
        )
        days_in_stage = -day_of(lead.rows[-1].date_in)
        rotting = days_in_stage > {"start": 14, "needs": 21, "solution": 21}.get(
            lead.stage, 30
        )
        if rng.random() < (0.35 if rotting else lead.rep.planning):
            kind, summary = rng.choice(NEXT_STEPS[lead.stage])
            draw = rng.random()
            due = (
                rng.randint(-10, -1)
                if draw < 0.18
                else 0
                if draw < 0.26
                else rng.randint(1, 21)
            )
            lead.next_step = (kind, self.text(lead, summary), due)

    # all opportunities -------------------------------------------------------------

    def new_lead(self, number):
        rng = self.rng
        rep = rng.choices(REPS, weights=[r.weight for r in REPS])[0]
        customer = rng.choice([c for c in CUSTOMERS if c.team == rep.team])
        team_index = 0 if rep.team == "process" else 1
        offer = rng.choices(OFFERS, weights=[o.weight[team_index] for o in OFFERS])[0]
        qty = rng.randint(*offer.qty)
        estimate = qty * rng.uniform(*offer.price)
        context = rng.choice(CONTEXTS[rep.team])
        name = offer.name.format(qty=qty)
        if "{qty}" not in offer.name or rng.random() < 0.7:
            name = f"{name} – {context}"
        # more recent opportunities than old ones: the pipeline grows
        draw = rng.random()
        if draw < 0.15:
            age = rng.randint(2, 20)
        elif draw < 0.55:
            age = rng.randint(20, 110)
        else:
            age = rng.randint(110, HISTORY_DAYS)
        self.quote_counter += rng.randint(3, 17)
        tags = list(offer.tags)
        if rng.random() < 0.15:
            tags.append("tender")
        return Lead(
            number=number,
            rep=rep,
            customer=customer,
            offer=offer,
            qty=qty,
            name=name,
            estimate=estimate,
            quote_number=f"{2400 + self.quote_counter:05d}",
            created=self.at(-age),
            priority=rng.choices("0123", weights=[4, 4, 2, 1])[0],
            tags=tags,
        )

    def run(self):
        leads = []
        for number in range(1, LEAD_COUNT + 1):
            lead = self.new_lead(number)
            self.play(lead)
            self.finish_activities(lead)
            leads.append(lead)
        return leads

    def finish_activities(self, lead):
        """Outcomes and feedback of the activities, now that the end of the story is
        known: a deal that will be won shows it in its signals, a lost one shows
        the warning signs. The next step noted on each activity is the one the rep
        did next (or has planned, for the last one of an open opportunity)."""
        arng = self.arng
        lead.activities.sort(key=lambda activity: activity.date)
        for activity in lead.activities:
            if activity.weights:
                positive, neutral, negative = activity.weights
                if lead.won:
                    positive *= 1.8
                elif not lead.active:
                    positive, negative = positive * 0.5, negative * 1.5
                activity.outcome = arng.choices(
                    OUTCOMES, weights=(positive, neutral, negative)
                )[0]
            if activity.feedback is None:
                activity.feedback = ""
                if activity.kind in CONVERSATIONS:
                    template = arng.choice(FEEDBACK[activity.outcome])
                    activity.feedback = self.text(lead, template, arng)
        check = lead.checks.get("demo")
        if check and check.state == "todo":
            # a demo, visit or meeting logged meets the criterion, as the server
            # does when it loads the log
            done = [a for a in lead.activities if a.kind in DEMO_KINDS]
            if done:
                check.state, check.date, check.by = "met", done[0].date, lead.rep.key
        following = [a.summary for a in lead.activities[1:]]
        if lead.next_step and lead.active and not lead.won:
            following.append(lead.next_step[1])
        for activity, next_step in zip(lead.activities, following, strict=False):
            activity.next_step = next_step


# ---------------------------------------------------------------------------------
# Forecast snapshots
# ---------------------------------------------------------------------------------


@dataclass
class SnapshotLine:
    lead: Lead
    stage: str
    deadline: int | None  # day, relative to today
    revenue: float
    probability: float
    historical: float  # historical win rate of the stage, in percent
    category: str


@dataclass
class Snapshot:
    week: int  # weeks before today
    moment: int
    lines: list = field(default_factory=list)

    @property
    def xmlid(self):
        return f"funnel_forecast_snapshot_{self.week:02d}_demo"

    @property
    def day(self):
        return day_of(self.moment)


def clamp_probability(value):
    return float(max(5, min(95, value)))


class Forecaster:
    """Replays the year week by week and freezes the open opportunities every week,
    as the scheduled job does: each line holds the stage, revenue and probability of
    the moment, and the closing date the rep believed in then.

    Reps forecast in their own way (their ``style``): Chen Jing sandbags (her closing
    dates are later than her deals close, her probabilities low, half of her
    Negotiation deals held back as best case), Mark Thompson is over-optimistic (early
    closing dates, pushed again each week they pass, probabilities high, most of his
    Solution & quote deals called commit). The opportunities' current closing date,
    probability and pushes follow from it. Drawn from a generator of its own: the
    history does not change.
    """

    def __init__(self, leads, seed=SEED):
        self.rng = random.Random(f"{seed}-forecast")
        self.leads = leads
        self.beliefs = {}  # lead number -> [(moment, deadline)]

    def run(self):
        for lead in self.leads:
            self.decide(lead)
        snapshots = []
        for week in range(SNAPSHOT_WEEKS, 0, -1):
            snapshot = Snapshot(week, -7 * week * DAY + SNAPSHOT_MINUTE)
            rates = self.historical_rates(snapshot.moment)
            for lead in self.leads:
                line = self.line(lead, snapshot.moment, rates)
                if line:
                    snapshot.lines.append(line)
            snapshots.append(snapshot)
        return snapshots

    # what the rep believes ----------------------------------------------------------

    def decide(self, lead):
        rng, rep = self.rng, lead.rep
        # the same draws for every opportunity: the stream does not depend on styles
        pad = rng.randint(10, 28)
        early = rng.randint(10, 25)
        draws = {stage: rng.random() for stage in FUNNEL}
        if rep.style == "optimist":
            lead.override = {
                stage: category
                for stage, category, chance in (
                    ("needs", "best_case", 0.3),
                    ("solution", "commit", 0.65),
                )
                if draws[stage] < chance
            }
        elif rep.style == "sandbag":
            if draws["negotiation"] < 0.6:
                lead.override = {"negotiation": "best_case"}
        beliefs = list(lead.deadline_log)
        if rep.style == "sandbag":
            beliefs = [(moment, day + pad) for moment, day in beliefs]
        elif rep.style == "optimist" and beliefs:
            beliefs = self.optimist_beliefs(lead, beliefs[0], early)
        self.beliefs[lead.number] = beliefs
        if lead.deadline is not None and beliefs:
            lead.deadline = beliefs[-1][1]
        if rep.style == "optimist":
            lead.pushes = max(0, len(beliefs) - 1)
        if lead.active and not lead.won:
            lead.probability = clamp_probability(lead.probability + rep.lean)

    def optimist_beliefs(self, lead, first, early):
        """An early closing date, pushed by a week or three at each weekly review
        where it has passed while the opportunity is still open."""
        moment, day = first
        beliefs = [(moment, max(day_of(moment) + 7, day - early))]
        reviews = [-7 * week * DAY for week in range(SNAPSHOT_WEEKS, 0, -1)]
        for review in [*reviews, LAST_REVIEW]:
            if review <= moment or not self.state(lead, review):
                continue
            if beliefs[-1][1] < day_of(review) + 1:
                beliefs.append((review, day_of(review) + self.rng.randint(7, 21)))
        return beliefs

    # the state of an opportunity at a moment ------------------------------------------

    @staticmethod
    def row_at(lead, moment):
        current = None
        for row in lead.rows:
            if row.date_in > moment:
                break
            current = row
        return current

    def state(self, lead, moment):
        """The history row of the opportunity at ``moment`` when it is open then."""
        row = self.row_at(lead, moment)
        if row is None or row.event in ("won", "lost"):
            return None
        return row

    def deadline_at(self, lead, moment):
        deadline = None
        for changed, day in self.beliefs[lead.number]:
            if changed > moment:
                break
            deadline = day
        return deadline

    def line(self, lead, moment, rates):
        row = self.state(lead, moment)
        if row is None:
            return None
        stage = row.stage
        if lead.active and not lead.won and row is lead.rows[-1]:
            probability = lead.probability  # the current stay: today's probability
        else:
            probability = clamp_probability(row.probability + lead.rep.lean)
        return SnapshotLine(
            lead=lead,
            stage=stage,
            deadline=self.deadline_at(lead, moment),
            revenue=row.revenue,
            probability=probability,
            historical=rates.get((lead.rep.team, stage), WIN_RATE[stage]),
            category=lead.override.get(stage, CATEGORY[stage]),
        )

    def historical_rates(self, moment):
        """Historical win rate of each stage per team at ``moment``: won ÷ (won +
        lost) among the opportunities that passed the stage and closed within the
        year before; the company's rate when the team has fewer than 20."""
        counts = Counter()
        since = moment - HISTORY_WINDOW * DAY
        for lead in self.leads:
            row = self.row_at(lead, moment)
            if row is None or row.event not in ("won", "lost") or row.date_in < since:
                continue
            index = lead.rows.index(row)
            stages = {r.stage for r in lead.rows[: index + 1] if r.stage in FUNNEL}
            for stage in stages:
                for scope in (lead.rep.team, None):
                    counts[scope, stage, row.event] += 1
        rates = {}
        for stage in FUNNEL:
            won, lost = counts[None, stage, "won"], counts[None, stage, "lost"]
            company = 100 * won / (won + lost) if won + lost else WIN_RATE[stage]
            for team in TEAMS:
                won, lost = counts[team, stage, "won"], counts[team, stage, "lost"]
                rate = (
                    100 * won / (won + lost) if won + lost >= MIN_TEAM_SAMPLE else None
                )
                rates[team, stage] = round(company if rate is None else rate, 1)
        return rates


# ---------------------------------------------------------------------------------
# XML
# ---------------------------------------------------------------------------------


def past(moment):
    """Eval expression of a moment before today, relative to the loading day."""
    day, minute = divmod(moment, DAY)
    assert day <= -1, moment
    return (
        f"(DateTime.today() - relativedelta(days={-day}))"
        f".strftime('%Y-%m-%d {minute // 60:02d}:{minute % 60:02d}:00')"
    )


def relative_date(day):
    sign = "+" if day >= 0 else "-"
    return (
        f"(DateTime.today() {sign} relativedelta(days={abs(day)})).strftime('%Y-%m-%d')"
    )


def stage_search(stage):
    return f"[('template_key', '=', '{stage}')]"


class XmlFile:
    def __init__(self, name, title):
        self.name = name
        self.lines = [
            '<?xml version="1.0" encoding="utf-8"?>',
            "<!-- Generated by tools/gen_demo_data.py: change the generator, not this "
            "file. -->",
            '<odoo noupdate="1">',
        ]
        self.comment(title)

    def comment(self, text):
        lines = textwrap.wrap(escape(text), 78)
        lines[-1] += " -->"
        self.lines.append(f"    <!-- {lines[0]}")
        self.lines.extend(f"         {line}" for line in lines[1:])

    def blank(self):
        self.lines.append("")

    def raw(self, text):
        self.lines.extend(f"    {line}" if line else "" for line in text.split("\n"))

    def record(self, xmlid, model, fields, context=None):
        attrs = f'id="{xmlid}" model="{model}"'
        if context:
            attrs += f' context="{context}"'
        self.lines.append(f"    <record {attrs}>")
        for name, kind, value in fields:
            self.lines.append(f"        {self.field(name, kind, value)}")
        self.lines.append("    </record>")

    @staticmethod
    def field(name, kind, value):
        if kind == "text":
            return f'<field name="{name}">{escape(str(value))}</field>'
        if kind == "html":
            return f'<field name="{name}" type="html">{value}</field>'
        if kind in ("ref", "eval", "search"):
            return f"<field name={quoteattr(name)} {kind}={quoteattr(value)}/>"
        raise ValueError(kind)

    def text(self):
        return "\n".join([*self.lines, "</odoo>", ""])


NO_RESET_PASSWORD = "{'no_reset_password': True}"


def user_fields(key):
    return ("user_id", "ref", f"user_{key}_demo")


def write_users(out):
    out.record(
        f"partner_{MANAGER[0]}_demo",
        "res.partner",
        [
            ("name", "text", MANAGER[1]),
            ("email", "text", f"{MANAGER[2]}@example.com"),
            ("function", "text", MANAGER[3]),
            ("tz", "text", "Asia/Shanghai"),
        ],
    )
    out.record(
        f"user_{MANAGER[0]}_demo",
        "res.users",
        context=NO_RESET_PASSWORD,
        fields=[
            ("partner_id", "ref", f"partner_{MANAGER[0]}_demo"),
            ("login", "text", MANAGER[2]),
            ("password", "text", MANAGER[2]),
            ("company_id", "ref", "base.main_company"),
            ("company_ids", "eval", "[Command.set([ref('base.main_company')])]"),
            ("notification_type", "text", "inbox"),
            (
                "groups_id",
                "eval",
                "[Command.set([ref('base.group_user'), "
                "ref('sales_team.group_sale_manager')])]",
            ),
        ],
    )
    for rep in REPS:
        out.blank()
        out.record(
            f"partner_{rep.key}_demo",
            "res.partner",
            [
                ("name", "text", rep.name),
                ("email", "text", f"{rep.login}@example.com"),
                ("function", "text", rep.function),
                ("tz", "text", "Asia/Shanghai"),
            ],
        )
        out.record(
            f"user_{rep.key}_demo",
            "res.users",
            context=NO_RESET_PASSWORD,
            fields=[
                ("partner_id", "ref", f"partner_{rep.key}_demo"),
                ("login", "text", rep.login),
                ("password", "text", rep.login),
                ("company_id", "ref", "base.main_company"),
                ("company_ids", "eval", "[Command.set([ref('base.main_company')])]"),
                ("notification_type", "text", "inbox"),
                (
                    "groups_id",
                    "eval",
                    "[Command.set([ref('base.group_user'), "
                    "ref('sales_team.group_sale_salesman')])]",
                ),
            ],
        )


def write_teams(out):
    for key, (name, _description) in TEAMS.items():
        out.record(
            f"crm_team_{key}_demo",
            "crm.team",
            [
                ("name", "text", name),
                ("user_id", "ref", f"user_{MANAGER[0]}_demo"),
                ("company_id", "ref", "base.main_company"),
                ("use_leads", "eval", "False"),
                ("use_opportunities", "eval", "True"),
            ],
        )
        for rep in REPS:
            if rep.team == key:
                out.record(
                    f"crm_team_member_{rep.key}_demo",
                    "crm.team.member",
                    [
                        ("crm_team_id", "ref", f"crm_team_{key}_demo"),
                        user_fields(rep.key),
                    ],
                )
        out.blank()


def write_partners(out):
    for key, name, city, country, industry, _team, contact, function in CUSTOMERS:
        domain = key.replace("_", "-")
        out.record(
            f"res_partner_{key}_demo",
            "res.partner",
            [
                ("name", "text", name),
                ("is_company", "eval", "True"),
                ("city", "text", city),
                ("country_id", "ref", f"base.{country}"),
                ("industry_id", "ref", f"base.res_partner_industry_{industry}"),
                ("email", "text", f"info@{domain}.example.com"),
                ("website", "text", f"https://www.{domain}.example.com"),
            ],
        )
        login = contact.lower().replace(" ", ".")
        out.record(
            f"res_partner_{key}_contact_demo",
            "res.partner",
            [
                ("name", "text", contact),
                ("parent_id", "ref", f"res_partner_{key}_demo"),
                ("function", "text", function),
                ("email", "text", f"{login}@{domain}.example.com"),
            ],
        )


STAGE_SETUP = """\
<function model="funnel.template.wizard" name="_apply_template"/>

<!-- crm's own demo opportunities were created before this module: build their
     history from their chatter, then carry them over to the funnel stage for
     stage (New, Qualified, Proposition), gates opened for that one move.
     Archived (lost) ones stay where they were lost. -->
<function model="funnel.stage.history" name="_backfill_from_tracking"/>
<function model="crm.stage" name="write">
    <value model="crm.stage" eval="obj().search([('template_key', 'in', ('start', \
'needs'))]).ids"/>
    <value eval="{'gate_policy': 'none'}"/>
</function>
<function model="crm.lead" name="write">
    <value model="crm.lead" eval="obj().search([('stage_id', '=', \
ref('crm.stage_lead1'))]).ids"/>
    <value model="crm.stage" eval="{'stage_id': obj().search([('template_key', '=', \
'start')]).id}"/>
</function>
<function model="crm.lead" name="write">
    <value model="crm.lead" eval="obj().search([('stage_id', '=', \
ref('crm.stage_lead2'))]).ids"/>
    <value model="crm.stage" eval="{'stage_id': obj().search([('template_key', '=', \
'needs')]).id}"/>
</function>
<function model="crm.lead" name="write">
    <value model="crm.lead" eval="obj().search([('stage_id', '=', \
ref('crm.stage_lead3'))]).ids"/>
    <value model="crm.stage" eval="{'stage_id': obj().search([('template_key', '=', \
'solution')]).id}"/>
</function>
<function model="crm.stage" name="write">
    <value model="crm.stage" eval="obj().search([('template_key', 'in', ('start', \
'needs'))]).ids"/>
    <value eval="{'gate_policy': 'block'}"/>
</function>

<!-- crm's stock stages stay (other modules' demo data refers to them) but are
     folded and put after the funnel: the pipeline shows the funnel, new
     opportunities start in Start. -->
<function model="crm.stage" name="write">
    <value eval="[ref('crm.stage_lead1'), ref('crm.stage_lead2'), \
ref('crm.stage_lead3')]"/>
    <value eval="{'fold': True, 'sequence': 90}"/>
</function>"""

CLEANUP = """\
<!-- Creating an opportunity records its entry in its stage *now* and the checks of
     that stage; the dated history and checks below replace them. -->
<function model="funnel.stage.history" name="unlink">
    <value model="funnel.stage.history" eval="obj().search([('lead_id.team_id', 'in', \
[ref('crm_team_process_demo'), ref('crm_team_labs_demo')])]).ids"/>
</function>
<function model="funnel.lead.check" name="unlink">
    <value model="funnel.lead.check" eval="obj().search([('lead_id.team_id', 'in', \
[ref('crm_team_process_demo'), ref('crm_team_labs_demo')])]).ids"/>
</function>"""


def write_leads(out, leads):
    for key, label in TAGS.items():
        if "." not in label:
            out.record(f"crm_tag_{key}_demo", "crm.tag", [("name", "text", label)])
    out.blank()
    for key, label in LOST_REASONS.items():
        if label:
            out.record(
                f"crm_lost_reason_{key}_demo",
                "crm.lost.reason",
                [("name", "text", label)],
            )
    out.blank()
    for lead in leads:
        rep = lead.rep
        fields = [
            ("name", "text", lead.name),
            ("type", "text", "opportunity"),
            ("partner_id", "ref", f"res_partner_{lead.customer.key}_contact_demo"),
            user_fields(rep.key),
            ("team_id", "ref", f"crm_team_{rep.team}_demo"),
            ("stage_id", "search", stage_search(lead.stage)),
            (
                "tag_ids",
                "eval",
                "[Command.set(["
                + ", ".join(f"ref('{tag_ref(tag)}')" for tag in lead.tags)
                + "])]",
            ),
            ("priority", "text", lead.priority),
            ("expected_revenue", "text", f"{lead.revenue:.0f}"),
            ("probability", "text", f"{lead.probability:.0f}"),
        ]
        if lead.deadline is not None:
            fields.append(("date_deadline", "eval", relative_date(lead.deadline)))
        fields += [
            ("create_date", "eval", past(lead.created)),
            ("date_open", "eval", past(lead.created)),
            ("date_last_stage_update", "eval", past(lead.date_last_stage_update)),
        ]
        if lead.pushes:
            fields.append(("deadline_push_count", "text", lead.pushes))
        if lead.backward_moves:
            fields.append(("backward_move_count", "text", lead.backward_moves))
        if lead.date_closed is not None:
            fields.append(("date_closed", "eval", past(lead.date_closed)))
        if not lead.active:
            fields.append(("active", "eval", "False"))
            reason = lead.lost_reason
            fields.append(
                (
                    "lost_reason_id",
                    "ref",
                    "crm.lost_reason_1"
                    if reason == "price"
                    else f"crm_lost_reason_{reason}_demo",
                )
            )
        fields.append(
            (
                "description",
                "html",
                f"<p>{escape(lead.contact)} ({escape(lead.function)}): "
                f"{escape(lead.offer.spec)}.</p>",
            )
        )
        out.record(lead.xmlid, "crm.lead", fields, context="{'tracking_disable': True}")
    out.blank()
    out.raw(CLEANUP)


# sales targets: each rep's monthly target is what they won over the simulated year,
# per month, raised by this factor; a team's quarterly target is its reps' months
TARGET_STRETCH = 1.15
TARGET_MONTHS = range(-11, 13)  # this month and the 11 before, then the next 12
TARGET_QUARTERS = range(-4, 5)  # this quarter and the 4 before and after


def month_start(months):
    """Eval expression of the first day of the month ``months`` from this one."""
    return (
        f"(DateTime.today() + relativedelta(months={months}, day=1))"
        ".strftime('%Y-%m-%d')"
    )


def quarter_start(quarters):
    """Eval expression of the first day of the quarter ``quarters`` from this one."""
    return (
        f"(DateTime.today() + relativedelta(months={3 * quarters} - "
        "(DateTime.today().month - 1) % 3, day=1)).strftime('%Y-%m-%d')"
    )


def monthly_targets(leads):
    """Monthly target of each rep, rounded to 5,000."""
    targets = {}
    for rep in REPS:
        won = sum(lead.revenue for lead in leads if lead.rep is rep and lead.won)
        monthly = won * TARGET_STRETCH / 12
        targets[rep.key] = max(5000, int(round(monthly / 5000)) * 5000)
    return targets


def write_targets(out, leads):
    monthly = monthly_targets(leads)
    for rep in REPS:
        for months in TARGET_MONTHS:
            out.record(
                f"funnel_target_{rep.key}_{months + 11:02d}_demo",
                "funnel.target",
                [
                    user_fields(rep.key),
                    ("period", "text", "month"),
                    ("date_from", "eval", month_start(months)),
                    ("amount", "text", monthly[rep.key]),
                ],
            )
        out.blank()
    for team in TEAMS:
        quarterly = 3 * sum(monthly[rep.key] for rep in REPS if rep.team == team)
        for quarters in TARGET_QUARTERS:
            out.record(
                f"funnel_target_{team}_q{quarters + 4}_demo",
                "funnel.target",
                [
                    ("team_id", "ref", f"crm_team_{team}_demo"),
                    ("period", "text", "quarter"),
                    ("date_from", "eval", quarter_start(quarters)),
                    ("amount", "text", quarterly),
                ],
            )
        out.blank()


def write_history(out, leads):
    for lead in leads:
        out.blank()
        out.comment(f"{lead.xmlid}: {lead.name}")
        for index, row in enumerate(lead.rows, start=1):
            fields = [
                ("lead_id", "ref", lead.xmlid),
                ("event", "text", row.event),
            ]
            if row.stage_from:
                fields.append(("stage_from_id", "search", stage_search(row.stage_from)))
            fields += [
                ("stage_id", "search", stage_search(row.stage)),
                ("date_in", "eval", past(row.date_in)),
            ]
            if row.date_out is not None:
                days = Decimal(row.date_out - row.date_in) / DAY
                fields += [
                    ("date_out", "eval", past(row.date_out)),
                    (
                        "days_in_stage",
                        "text",
                        f"{days.quantize(Decimal('0.1'), ROUND_HALF_UP)}",
                    ),
                    ("is_open", "eval", "False"),
                ]
            fields += [
                user_fields(lead.rep.key),
                ("team_id", "ref", f"crm_team_{lead.rep.team}_demo"),
                ("moved_by_id", "ref", f"user_{row.moved_by}_demo"),
                ("company_id", "ref", "base.main_company"),
                ("expected_revenue", "text", f"{row.revenue:.0f}"),
                ("probability", "text", f"{row.probability:.0f}"),
                ("forecast_category", "text", CATEGORY[row.stage]),
            ]
            if row.backward:
                fields.append(("is_backward", "eval", "True"))
            if row.waive_reason:
                fields.append(("gate_waived", "eval", "True"))
                fields.append(("waive_reason", "text", row.waive_reason))
            out.record(
                f"funnel_stage_history_{lead.number:03d}_{index}_demo",
                "funnel.stage.history",
                fields,
            )


def write_checks(out, leads):
    for lead in leads:
        out.blank()
        out.comment(f"{lead.xmlid}: {lead.name}")
        for criterion, check in lead.checks.items():
            fields = [
                ("lead_id", "ref", lead.xmlid),
                (
                    "criterion_id",
                    "search",
                    f"[('stage_id.template_key', '=', '{check.stage}'), "
                    f"('template_key', '=', '{criterion}')]",
                ),
                ("state", "text", check.state),
            ]
            if check.state == "met":
                if check.evidence:
                    fields.append(("evidence", "text", check.evidence))
                fields += [
                    ("done_by_id", "ref", f"user_{check.by}_demo"),
                    ("done_date", "eval", past(check.date)),
                ]
            elif check.state == "waived":
                fields += [
                    ("waived_by_id", "ref", f"user_{check.by}_demo"),
                    ("waived_date", "eval", past(check.date)),
                    ("waive_reason", "text", check.waive_reason),
                ]
            out.record(
                f"funnel_lead_check_{lead.number:03d}_{criterion}_demo",
                "funnel.lead.check",
                fields,
            )


def write_logs(out, leads):
    for lead in leads:
        if not lead.activities:
            continue
        out.blank()
        out.comment(f"{lead.xmlid}: {lead.name}")
        numbered = list(enumerate(lead.activities, start=1))
        # the demos, visits and meetings first: each log re-evaluates the activity
        # criteria of the opportunity's current stage, which must find the
        # activity that met them
        numbered.sort(key=lambda pair: pair[1].kind not in DEMO_KINDS)
        for index, activity in numbered:
            assert activity.outcome in OUTCOMES, activity
            fields = [
                ("lead_id", "ref", lead.xmlid),
                user_fields(lead.rep.key),
                ("stage_id", "search", stage_search(activity.stage)),
                ("activity_type_id", "ref", ACTIVITY_TYPES[activity.kind][0]),
                ("date", "eval", past(activity.date)),
                ("duration", "text", f"{activity.duration:g}"),
                ("outcome", "text", activity.outcome),
                ("summary", "text", activity.summary),
            ]
            if activity.feedback:
                fields.append(("note", "text", activity.feedback))
            if activity.next_step:
                fields.append(("next_step", "text", activity.next_step))
            fields.append(("source", "text", "done"))
            out.record(
                f"funnel_activity_log_{lead.number:03d}_{index}_demo",
                "funnel.activity.log",
                fields,
            )


def write_messages(out, leads):
    for lead in leads:
        author = lead.rep.key
        messages = sorted(
            [
                *lead.messages,
                *(
                    Message(a.date, author, a.kind, a.summary, a.feedback)
                    for a in lead.activities
                ),
            ],
            key=lambda m: m.date,
        )
        for index, message in enumerate(messages, start=1):
            fields = [
                ("model", "text", "crm.lead"),
                ("res_id", "ref", lead.xmlid),
                ("author_id", "ref", f"partner_{message.author}_demo"),
                ("date", "eval", past(message.date)),
            ]
            if message.kind == "note":
                body = f"<p>{escape(message.summary)}. {escape(message.feedback)}</p>"
                fields += [
                    ("message_type", "text", "comment"),
                    ("subtype_id", "ref", "mail.mt_note"),
                ]
            else:
                xmlid, label = ACTIVITY_TYPES[message.kind]
                body = f"<p>{label} done: {escape(message.summary)}</p>"
                if message.feedback:
                    body += f"<p>Feedback: {escape(message.feedback)}</p>"
                fields += [
                    ("message_type", "text", "notification"),
                    ("subtype_id", "ref", "mail.mt_activities"),
                    ("mail_activity_type_id", "ref", xmlid),
                ]
            fields.append(("body", "html", body))
            out.record(
                f"mail_message_{lead.number:03d}_{index}_demo", "mail.message", fields
            )


def write_activities(out, leads):
    for lead in leads:
        if not lead.next_step:
            continue
        kind, summary, due = lead.next_step
        out.record(
            f"mail_activity_{lead.number:03d}_demo",
            "mail.activity",
            [
                ("res_model_id", "ref", "crm.model_crm_lead"),
                ("res_id", "ref", lead.xmlid),
                ("activity_type_id", "ref", ACTIVITY_TYPES[kind][0]),
                ("summary", "text", summary),
                ("date_deadline", "eval", relative_date(due)),
                user_fields(lead.rep.key),
            ],
            context="{'mail_activity_quick_update': True}",
        )


def write_snapshots(out, leads, snapshots):
    out.comment(
        "The opportunities' own forecast categories: the reps' overrides of the "
        "stage's category."
    )
    chosen = {}
    for lead in leads:
        if lead.active and not lead.won and lead.stage in lead.override:
            chosen.setdefault(lead.override[lead.stage], []).append(lead.xmlid)
    for category, xmlids in sorted(chosen.items()):
        refs = ", ".join(f"ref('{xmlid}')" for xmlid in xmlids)
        out.raw(
            '<function model="crm.lead" name="write" '
            "context=\"{'tracking_disable': True}\">\n"
            f'    <value eval="[{refs}]"/>\n'
            f"    <value eval=\"{{'forecast_category_override': '{category}'}}\"/>\n"
            "</function>"
        )
    for snapshot in snapshots:
        out.blank()
        manual = snapshot.week % 13 == 0  # the quarterly reviews: taken by hand
        out.record(
            snapshot.xmlid,
            "funnel.forecast.snapshot",
            [
                ("date", "eval", relative_date(snapshot.day)),
                ("taken_at", "eval", past(snapshot.moment)),
                ("company_id", "ref", "base.main_company"),
                (
                    "user_id",
                    "ref",
                    f"user_{MANAGER[0]}_demo" if manual else "base.user_root",
                ),
                ("kind", "text", "manual" if manual else "scheduled"),
            ],
        )
        for index, line in enumerate(snapshot.lines, start=1):
            lead = line.lead
            fields = [
                ("snapshot_id", "ref", snapshot.xmlid),
                ("date", "eval", relative_date(snapshot.day)),
                ("lead_id", "ref", lead.xmlid),
                user_fields(lead.rep.key),
                ("team_id", "ref", f"crm_team_{lead.rep.team}_demo"),
                ("stage_id", "search", stage_search(line.stage)),
            ]
            if line.deadline is not None:
                fields.append(("date_deadline", "eval", relative_date(line.deadline)))
            fields += [
                ("expected_revenue", "text", f"{line.revenue:.0f}"),
                ("probability", "text", f"{line.probability:.0f}"),
                ("stage_win_rate", "text", WIN_RATE[line.stage]),
                ("historical_win_rate", "text", f"{line.historical:.1f}"),
                ("forecast_category", "text", line.category),
            ]
            out.record(
                f"funnel_forecast_snapshot_line_{snapshot.week:02d}_{index:03d}_demo",
                "funnel.forecast.snapshot.line",
                fields,
            )


FILES = [
    (
        "res_users_demo.xml",
        "Sales team members: four reps and their manager. "
        "Login and password are the same (e.g. chen.jing / chen.jing).",
        write_users,
    ),
    ("crm_team_demo.xml", "Two sales teams.", write_teams),
    (
        "res_partner_demo.xml",
        "Customers: plants, labs and utilities, with a contact each.",
        write_partners,
    ),
    (
        "crm_stage_demo.xml",
        "The five stages of the professional funnel and their exit criteria.",
        None,
    ),
    (
        "crm_lead_demo.xml",
        "A year of opportunities of a calibration-equipment vendor.",
        write_leads,
    ),
    (
        "funnel_stage_history_demo.xml",
        "Stage history: every entry, exit, win and loss of the opportunities.",
        write_history,
    ),
    (
        "funnel_lead_check_demo.xml",
        "Exit criteria checks: met (with evidence), "
        "waived (with a reason) or still to do.",
        write_checks,
    ),
    (
        "funnel_activity_log_demo.xml",
        "Activity log: the visits, calls, e-mails, meetings and demos done on the "
        "opportunities, each in the stage of its moment, with its duration and "
        "outcome. Each is also a done activity in the chatter. The meetings of an "
        "opportunity come first: loading a log re-evaluates the activity criteria "
        "of the opportunity's stage, which must find the meeting that met them.",
        write_logs,
    ),
    (
        "mail_message_demo.xml",
        "Done activities (one per row of the activity log) and notes in the chatter.",
        write_messages,
    ),
    (
        "mail_activity_demo.xml",
        "Next activities planned on open opportunities.",
        write_activities,
    ),
    (
        "funnel_target_demo.xml",
        "Sales targets: a month for each rep and a quarter for each team, from a "
        "year ago to a year ahead.",
        write_targets,
    ),
    (
        "funnel_forecast_snapshot_demo.xml",
        "A year of weekly forecast snapshots: the open opportunities of each week, "
        "with the closing date their rep believed in then. Chen Jing sandbags, Mark "
        "Thompson is over-optimistic and his deals slip.",
        write_snapshots,
    ),
]


def render(leads, snapshots):
    files = {}
    for name, title, writer in FILES:
        out = XmlFile(name, title)
        if writer is None:
            out.raw(STAGE_SETUP)
        elif writer in (write_users, write_teams, write_partners):
            writer(out)
        elif writer is write_snapshots:
            writer(out, leads, snapshots)
        else:
            writer(out, leads)
        files[name] = out.text()
    return files


def summary(leads):
    lines = [f"{len(leads)} opportunities"]
    open_leads = [lead for lead in leads if lead.active and not lead.won]
    per_stage = Counter(lead.stage for lead in open_leads)
    lines.append(
        "open per stage: "
        + ", ".join(f"{STAGE_NAMES[s]} {per_stage[s]}" for s in FUNNEL)
    )
    for rep in REPS:
        mine = [lead for lead in leads if lead.rep is rep]
        won = [lead for lead in mine if lead.won]
        lost = [lead for lead in mine if not lead.active]
        cycles = [(lead.date_closed - lead.rows[0].date_in) / DAY for lead in won]
        rate = len(won) / max(1, len(won) + len(lost))
        lines.append(
            f"{rep.name:14} {len(mine):3} opportunities, won {len(won):2}, lost "
            f"{len(lost):2}, open {len(mine) - len(won) - len(lost):2}, win rate "
            f"{rate:.0%}, cycle {sum(cycles) / max(1, len(cycles)):.0f} days"
        )
    rows = [row for lead in leads for row in lead.rows]
    lines.append(
        f"history rows {len(rows)}, waived {sum(bool(r.waive_reason) for r in rows)}, "
        f"backward {sum(r.backward for r in rows)} "
        f"({sum(r.backward and r.stage_from == 'won' for r in rows)} from Won), "
        f"restored {sum(r.event == 'restored' for r in rows)}, "
        f"deadline pushes {sum(lead.pushes for lead in leads)} on "
        f"{sum(bool(lead.pushes) for lead in leads)} opportunities"
    )
    monthly = monthly_targets(leads)
    lines.append(
        "monthly targets: "
        + ", ".join(f"{rep.name} {monthly[rep.key]:,}" for rep in REPS)
    )
    activities = sum(len(lead.activities) for lead in leads)
    lines.append(
        f"checks {sum(len(lead.checks) for lead in leads)}, messages "
        f"{sum(len(lead.messages) for lead in leads) + activities}, planned "
        f"activities {sum(bool(lead.next_step) for lead in leads)}, open without "
        f"next step {sum(not lead.next_step for lead in open_leads)}"
    )
    return "\n".join([*lines, *activity_summary(leads)])


def activity_summary(leads):
    """Logged activities per type and stage; hours per rep on won and lost deals."""
    logs = [(lead, a) for lead in leads for a in lead.activities]
    lines = [
        f"activity log {len(logs)} rows, {sum(a.duration for __, a in logs):.0f} h"
    ]
    lines.append(f"{'':10}" + "".join(f"{STAGE_NAMES[s][:11]:>12}" for s in FUNNEL))
    for kind, (__, label) in ACTIVITY_TYPES.items():
        mine = [a for __, a in logs if a.kind == kind]
        count = Counter(a.stage for a in mine)
        lines.append(
            f"{label:10}"
            + "".join(f"{count[s]:>12}" for s in FUNNEL)
            + f"   {sum(a.duration for a in mine):.0f} h"
        )
    positive = {}
    for label, closed in (("won", True), ("lost", False)):
        said = [
            a.outcome == "positive"
            for lead, a in logs
            if lead.won == closed and lead.active == closed and a.kind in CONVERSATIONS
        ]
        positive[label] = sum(said) / max(1, len(said))
    lines.append(
        f"positive outcomes of calls, visits, meetings and demos: "
        f"{positive['won']:.0%} on won deals, {positive['lost']:.0%} on lost ones"
    )
    for rep in REPS:
        won = [lead for lead in leads if lead.rep is rep and lead.won]
        lost = [lead for lead in leads if lead.rep is rep and not lead.active]
        won_hours = sum(a.duration for lead in won for a in lead.activities)
        lost_hours = sum(a.duration for lead in lost for a in lead.activities)
        lines.append(
            f"{rep.name:14} hours on won {won_hours:5.0f} "
            f"({won_hours / max(1, len(won)):4.1f} per deal), on lost "
            f"{lost_hours:5.0f} ({lost_hours / max(1, len(lost)):4.1f} per deal)"
        )
    return lines


def forecast_summary(leads, snapshots):
    """Per rep, over the snapshots and the 30-day periods that are over, up to two
    periods ahead (the 3-month forecast): the commit and probability forecasts
    against what was won, and the slip rate (the database counts calendar months;
    these figures are close)."""
    lines = [
        f"forecast snapshots {len(snapshots)}, lines "
        f"{sum(len(s.lines) for s in snapshots)}"
    ]
    period = 30  # days
    for rep in REPS:
        forecast = Counter()
        actual = 0.0
        slipped = count = 0
        for snapshot in snapshots:
            first = snapshot.day // period
            last = min(first + 3, -1 // period)  # 3 periods ahead, and over
            won = [
                lead for lead in leads if lead.rep is rep and lead.won and lead.active
            ]
            for lead in won:
                index = day_of(lead.date_closed) // period
                if first <= index < last:
                    actual += lead.revenue
                    if lead.date_closed < snapshot.moment:
                        forecast["commit"] += lead.revenue
                        forecast["probability"] += lead.revenue
            for line in snapshot.lines:
                if line.lead.rep is not rep or line.deadline is None:
                    continue
                index = line.deadline // period
                if not first <= index < last:
                    continue
                count += 1
                end = (index + 1) * period
                lead = line.lead
                if lead.date_closed is not None:
                    slipped += day_of(lead.date_closed) >= end
                else:
                    slipped += (lead.deadline or 0) >= end or end <= 0
                if line.category == "commit":
                    forecast["commit"] += line.revenue
                forecast["probability"] += line.revenue * line.probability / 100
        bias = {key: 100 * (amount / actual - 1) for key, amount in forecast.items()}
        lines.append(
            f"{rep.name:14} bias commit {bias['commit']:+4.0f} %, probability "
            f"{bias['probability']:+4.0f} %, "
            f"slip rate {100 * slipped / max(1, count):3.0f} % of {count}"
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="fail when the files in the demo folder differ from what would be written",
    )
    args = parser.parse_args()
    leads = Simulation().run()
    snapshots = Forecaster(leads).run()
    files = render(leads, snapshots)
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (DEMO_DIR / name).exists()
            or (DEMO_DIR / name).read_text(encoding="utf-8") != text
        ]
        if stale:
            sys.exit(f"Demo data out of date, run tools/gen_demo_data.py: {stale}")
        return
    for name, text in files.items():
        (DEMO_DIR / name).write_text(text, encoding="utf-8")
    sys.stdout.write(
        "\n".join([summary(leads), *forecast_summary(leads, snapshots)]) + "\n"
    )


if __name__ == "__main__":
    main()
