"""What the story is made of: the vendor's offers, and the words of its reps and
customers (evidence, waivers, next steps, feedback), the kinds of activity and how
long each takes.

Records the story refers to are named by their XML id: tags and lost reasons
(created by the demo's XML core, or crm's and sales_team's own), activity types.
"""

from typing import NamedTuple

from ..models.funnel_activity_log import OUTCOMES as LOG_OUTCOMES

# ---------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------


# the teams, in the order of Offer.weight
TEAMS = ("process", "labs")


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
# tag key -> XML id: the demo's own tags, or sales_team's demo tags
TAGS = {
    "electrical": "sales_funnel_pro.crm_tag_electrical_demo",
    "temperature": "sales_funnel_pro.crm_tag_temperature_demo",
    "pressure": "sales_funnel_pro.crm_tag_pressure_demo",
    "tender": "sales_funnel_pro.crm_tag_tender_demo",
    "software": "sales_team.categ_oppor2",
    "service": "sales_team.categ_oppor3",
}
# lost reason key -> XML id: the demo's own, or crm's "Too expensive"
LOST_REASONS = {
    "competitor": "sales_funnel_pro.crm_lost_reason_competitor_demo",
    "budget": "sales_funnel_pro.crm_lost_reason_budget_demo",
    "postponed": "sales_funnel_pro.crm_lost_reason_postponed_demo",
    "spec": "sales_funnel_pro.crm_lost_reason_spec_demo",
    "silent": "sales_funnel_pro.crm_lost_reason_silent_demo",
    "price": "crm.lost_reason_1",
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
# activity kind -> XML id of its type
ACTIVITY_TYPES = {
    "call": "mail.mail_activity_data_call",
    "meeting": "mail.mail_activity_data_meeting",
    "email": "mail.mail_activity_data_email",
    "todo": "mail.mail_activity_data_todo",
    "visit": "sales_funnel_pro.mail_activity_type_visit",
    "demo": "sales_funnel_pro.mail_activity_type_demonstration",
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
OUTCOMES = tuple(key for key, __ in LOG_OUTCOMES)  # positive, neutral, negative
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
