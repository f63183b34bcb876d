"""Yesterday's pipeline review: each rep dates their open opportunities into
this quarter or the next one.

A rep first calls what closes this quarter, from the latest stage down, among the
opportunities whose stage forecasts them as best case or commit, until the call
reaches their quota for the quarter (a sandbagger calls half of it, an optimist
half as much again); every other dated opportunity closes next quarter. The
quarter each opportunity falls in does not depend on the day the demo is
installed, so that the coverage of the targets reads the same every day: about
two to four times for the reps whose pipeline is full, less for Chen Jing, whose
deals close fast and whose pipeline runs thin.

Drawn from a generator of its own, after the forecast: the history and the
snapshots do not change.
"""

import random

from .funnel import CATEGORY, FUNNEL, LAST_REVIEW
from .pipeline import SEED

REVIEW = LAST_REVIEW + 60  # yesterday 11:00 UTC, after the last look at the dates
# the share of the quarter's quota each forecasting style calls for this quarter
CALL_SHARE = {"sandbag": 0.5, "optimist": 1.5, "": 1.0}
# the categories of the stages whose opportunities may close this quarter
CLOSING_CATEGORIES = ("best_case", "commit")


class PipelineReview:
    def __init__(self, calendar, seed=SEED):
        self.rng = random.Random(f"{seed}-review")
        self.quarters = [calendar.quarter_days(quarter) for quarter in range(2)]

    def run(self, leads):
        # where each opportunity falls in its quarter: the same draws for every
        # opportunity, whichever are reviewed
        positions = {lead.number: self.rng.random() for lead in leads}
        reps = {lead.rep.key: lead.rep for lead in leads}
        for key, rep in reps.items():
            dated = [
                lead
                for lead in leads
                if lead.rep.key == key and lead.is_open and lead.deadline is not None
            ]
            dated.sort(
                key=lambda lead: (-FUNNEL.index(lead.stage), -lead.revenue, lead.number)
            )
            call = CALL_SHARE[rep.style] * 3 * rep.quota
            called = 0.0
            for lead in dated:
                quarter = 1
                if called < call and CATEGORY[lead.stage] in CLOSING_CATEGORIES:
                    quarter, called = 0, called + lead.revenue
                self.redate(lead, quarter, positions[lead.number])

    def redate(self, lead, quarter, position):
        start, end = self.quarters[quarter]
        start = max(start, 0)
        deadline = start + int(position * (end - start + 1))
        if deadline == lead.deadline:
            return
        if deadline > lead.deadline:
            lead.pushes += 1
        lead.deadline = deadline
        lead.deadline_log.append((REVIEW, deadline))
