"""The installed base: the calibrators installed at the vendor's customers, theirs
and competitors', the care team's year of care work, and the opportunities
care and ageing equipment brought back to the funnel.

Plain Python, seeded (``f"{SEED}-installed-base"``), fed by the pipeline's
leads: each won deal became an installed asset on its closing day; every
customer also has older units, installed over the last ten years, about one in
four a competitor's. The care team (two care owners, one per sales team) logs a
call or a visit on some customers every few weeks over the last year. Some of
the year's opportunities came from care (the care owner found them) or from the
installed base (an ageing unit), with their own outcomes in the pipeline.
"""

import random
from dataclasses import dataclass

# (key, name, lifetime in months, replacement value, late-life action)
CATEGORIES = [
    ("electrical", "Electrical calibrators", 60, 18000.0, "opportunity"),
    ("temperature", "Temperature calibrators", 84, 26000.0, "lead"),
    ("pressure", "Pressure calibrators", 72, 22000.0, "activity"),
]
OUR_BRAND = "Sino-Cal"
COMPETITOR_BRANDS = ("Metrix", "Calitek", "Presto")
MODELS = {
    "electrical": ("EC-110", "EC-220", "EC-500"),
    "temperature": ("TB-9", "TB-12", "DB-650"),
    "pressure": ("PC-200", "PC-300", "HP-70"),
}
# care owner of each sales team's customers (res_users <key>_demo)
CARE_OWNERS = {"process": "li_na", "labs": "zhang_wei"}
CARE_KINDS = (
    ("customer_care", "Customer care call"),
    ("regular_callback", "Regular callback"),
    ("technical_exchange", "Technical exchange on site"),
)
YEAR = 365
TEN_YEARS = 3650


@dataclass
class Asset:
    customer: object  # cast.Customer
    category: str  # key of CATEGORIES
    name: str
    brand: str
    model: str
    serial: str
    installed: int  # day, relative to today (negative)
    competitor: bool = False
    lead: object = None  # the won facts.Lead that sold it


@dataclass
class CareLog:
    customer: object
    asset: int | None  # index in the assets
    care_owner: str
    kind: str  # key of CARE_KINDS
    summary: str
    day: int  # relative to today
    outcome: str = "neutral"


@dataclass
class Origin:
    lead: object  # facts.Lead
    source: str  # "care" or "installed_base"
    finder: str | None  # the care owner who found it
    asset: int | None


@dataclass
class InstalledBase:
    assets: list
    care_logs: list
    origins: list


def tell_installed_base(cast, leads, seed):
    rng = random.Random(f"{seed}-installed-base")
    assets = []
    serials = iter(range(1, 100000))

    def add(customer, category, installed, competitor=False, lead=None):
        brand = rng.choice(COMPETITOR_BRANDS) if competitor else OUR_BRAND
        model = rng.choice(MODELS[category])
        assets.append(
            Asset(
                customer=customer,
                category=category,
                name=f"{model} {dict((c[0], c[1]) for c in CATEGORIES)[category][:-1]}",
                brand=brand,
                model=model,
                serial=f"{model}-{next(serials):05d}",
                installed=installed,
                competitor=competitor,
                lead=lead,
            )
        )

    for customer in cast.customers:
        for __ in range(rng.randint(1, 3)):
            add(
                customer,
                rng.choice(CATEGORIES)[0],
                -rng.randint(30, TEN_YEARS + 400),
                competitor=rng.random() < 0.25,
            )
    for lead in leads:
        if lead.is_won and lead.date_closed is not None:
            category = rng.choice(CATEGORIES)[0]
            add(lead.customer, category, min(lead.date_closed // 1440, -1), lead=lead)

    care_logs = []
    by_customer = {}
    for index, asset in enumerate(assets):
        by_customer.setdefault(asset.customer.key, []).append(index)
    for customer in cast.customers:
        owner = CARE_OWNERS[customer.team]
        day = -YEAR + rng.randint(0, 40)
        while day < -1:
            kind, summary = rng.choice(CARE_KINDS)
            asset = rng.choice(by_customer.get(customer.key, [None]))
            care_logs.append(
                CareLog(
                    customer=customer,
                    asset=asset,
                    care_owner=owner,
                    kind=kind,
                    summary=summary,
                    day=day,
                    outcome=rng.choice(("positive", "neutral", "neutral", "negative")),
                )
            )
            day += rng.randint(25, 90)

    origins = []
    for lead in leads:
        draw = rng.random()
        if draw < 0.08:
            origins.append(Origin(lead, "care", CARE_OWNERS[lead.customer.team], None))
        elif draw < 0.16:
            candidates = [
                i
                for i in by_customer.get(lead.customer.key, [])
                if assets[i].lead is not lead
            ]
            origins.append(
                Origin(
                    lead,
                    "installed_base",
                    None,
                    rng.choice(candidates) if candidates else None,
                )
            )
    return InstalledBase(assets, care_logs, origins)
