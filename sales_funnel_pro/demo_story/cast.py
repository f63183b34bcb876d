"""Who is in the story: the reps and how each of them sells, their manager, and
the customers.

The people themselves (names, logins, groups, teams) and the customers are
records of the demo's XML core (``demo/``); the generator reads them and gives
each rep the habits below, found by the XML id of the user (``user_<key>_demo``).
A story about the reps (conversion per stage, funnel shape) starts here.
"""

from dataclasses import dataclass
from typing import NamedTuple

# the vendor's home: a visit abroad takes the day
HOME_COUNTRY = "cn"
MANAGER = "helen_zhou"

# How each rep sells, in the order in which opportunities are dealt to them.
#   advance: chance to advance from each funnel stage (the rest is lost or goes back)
#   pace: multiplies the stage durations
#   stall: chance that a stay drags on (rotting)
#   planning: chance that an open opportunity has a next activity planned
#   optimism: share of the remaining cycle the rep expects at qualification
#   weight: share of the opportunities
#   effort: multiplies the chance of each optional activity
#   thorough: multiplies the length of visits, meetings and demos
#   focus: multiplies the effort on stays that end lost or back
#   lean: points added to the stage's win rate as the rep's probability
#   style: how the rep forecasts: "sandbag" (later closing dates, commit deals held
#       back as best case) or "optimist" (early closing dates, pushed week after
#       week, best case deals called commit)
#   quota: the rep's monthly sales target, set by the manager for the year
#   dry_top: the rep stopped prospecting lately: no opportunity of the last
#       weeks (the capability card's dry top)
HABITS = {
    "chen_jing": {
        "advance": (0.88, 0.85, 0.8, 0.86),
        "pace": 0.65,
        "stall": 0.05,
        "planning": 0.92,
        "optimism": 0.9,
        "weight": 0.27,
        "effort": 1.5,
        "thorough": 1.35,
        "focus": 0.4,
        "lean": -15,
        "style": "sandbag",
        "quota": 70000,
    },
    "mark_thompson": {
        "advance": (0.78, 0.72, 0.62, 0.74),
        "pace": 1.15,
        "stall": 0.2,
        "planning": 0.6,
        "optimism": 0.6,
        "weight": 0.25,
        "effort": 0.9,
        "thorough": 1.0,
        "focus": 1.0,
        "lean": 15,
        "style": "optimist",
        "quota": 40000,
    },
    # converts well early, then stalls at Solution & quote: coach there
    "liu_yang": {
        "advance": (0.9, 0.88, 0.42, 0.8),
        "pace": 1.0,
        "stall": 0.12,
        "planning": 0.75,
        "optimism": 0.7,
        "weight": 0.25,
        "effort": 1.0,
        "thorough": 1.0,
        "focus": 1.0,
        "quota": 45000,
    },
    # no new opportunity lately: a dry top
    "anna_keller": {
        "advance": (0.78, 0.74, 0.8, 0.74),
        "pace": 1.1,
        "stall": 0.16,
        "planning": 0.65,
        "optimism": 0.65,
        "weight": 0.23,
        "effort": 1.0,
        "thorough": 1.05,
        "focus": 0.95,
        "quota": 40000,
        "dry_top": True,
    },
}


@dataclass(frozen=True)
class Rep:
    key: str
    name: str
    team: str  # key of the team: crm_team_<team>_demo
    advance: tuple
    pace: float
    stall: float
    planning: float
    optimism: float
    weight: float
    effort: float
    thorough: float
    focus: float
    quota: int
    lean: int = 0
    style: str = ""
    dry_top: bool = False


class Customer(NamedTuple):
    key: str  # res_partner_<key>_demo, its contact res_partner_<key>_contact_demo
    name: str
    country: str  # ISO code, lower case
    team: str  # key of the team that sells to it
    contact: str
    function: str


@dataclass(frozen=True)
class Cast:
    reps: list  # of Rep, in the order of HABITS
    manager: tuple  # (key, name)
    customers: list  # of Customer, in the order of the XML core

    @property
    def teams(self):
        return list(dict.fromkeys(rep.team for rep in self.reps))
