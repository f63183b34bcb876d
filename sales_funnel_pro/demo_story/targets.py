"""Sales targets: a month for each rep (their quota) and a quarter for each team
(its reps' quotas), from a year ago to a year ahead."""

from typing import NamedTuple

TARGET_MONTHS = range(-11, 13)  # this month and the 11 before, then the next 12
TARGET_QUARTERS = range(-4, 5)  # this quarter and the 4 before and after


class Target(NamedTuple):
    xmlid: str
    rep: str | None  # key of the rep, or
    team: str | None  # key of the team
    period: str
    date_from: object  # datetime.date
    amount: float


def plan_targets(cast, calendar):
    targets = []
    for rep in cast.reps:
        for months in TARGET_MONTHS:
            targets.append(
                Target(
                    f"funnel_target_{rep.key}_{months + 11:02d}_demo",
                    rep.key,
                    None,
                    "month",
                    calendar.month_start(months),
                    rep.quota,
                )
            )
    for team in cast.teams:
        quarterly = 3 * sum(rep.quota for rep in cast.reps if rep.team == team)
        for quarters in TARGET_QUARTERS:
            targets.append(
                Target(
                    f"funnel_target_{team}_q{quarters + 4}_demo",
                    None,
                    team,
                    "quarter",
                    calendar.quarter_start(quarters),
                    quarterly,
                )
            )
    return targets
