"""The forecast: a year of weekly snapshots of the open opportunities, as the
scheduled job takes them, and how each rep forecasts.

Reps forecast in their own way (their ``style``): Chen Jing sandbags (her closing
dates are later than her deals close, her probabilities low, half of her
Negotiation deals held back as best case), Mark Thompson is over-optimistic (early
closing dates, pushed again each week they pass, probabilities high, most of his
Solution & quote deals called commit). The opportunities' current closing date,
probability and pushes follow from it. Drawn from a generator of its own: the
history does not change. A story of weekly forecast submissions belongs here.
"""

import random
from collections import Counter
from dataclasses import dataclass, field

from ..models.funnel_stage_win_rate import MIN_TEAM_SAMPLE
from .facts import Lead
from .funnel import (
    CATEGORY,
    DAY,
    FUNNEL,
    LAST_REVIEW,
    SNAPSHOT_MINUTE,
    SNAPSHOT_WEEKS,
    WIN_RATE,
    day_of,
)
from .pipeline import SEED


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
    the moment, and the closing date the rep believed in then."""

    def __init__(self, leads, cast, calendar, seed=SEED):
        self.rng = random.Random(f"{seed}-forecast")
        self.leads = leads
        self.teams = cast.teams
        self.calendar = calendar
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
                    ("solution", "commit", 0.9),
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
        if lead.is_open:
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
        if row is None or row.closes:
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
        if lead.is_open and row is lead.rows[-1]:
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
        window before (as ``funnel.stage.win.rate._refresh``); the company's rate
        when the team closed too few."""
        counts = Counter()
        since = moment - self.calendar.window_days(day_of(moment)) * DAY
        for lead in self.leads:
            row = self.row_at(lead, moment)
            if row is None or not row.closes or row.date_in <= since:
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
            for team in self.teams:
                won, lost = counts[team, stage, "won"], counts[team, stage, "lost"]
                rate = (
                    100 * won / (won + lost) if won + lost >= MIN_TEAM_SAMPLE else None
                )
                rates[team, stage] = round(company if rate is None else rate, 1)
        return rates
