"""The forecast calls: every week, the day after the snapshot, each rep submits
their commit and best case for the month under way and for the next one, in
their own way (their ``style``), beside the system's figures of that snapshot:

- Chen Jing sandbags: she calls about 30 % less than she then wins;
- Mark Thompson over-calls: about 60 % more than he wins;
- the others call about what they win, give or take 15 %.

What a rep "then wins" is the month's won revenue when the month is over at
install, else the board's expectation (won, commit and half the best case).
Before each month starts, the sales manager adjusts the biased calls of the
month (the last ones made before it), with a reason: Chen Jing's up, Mark
Thompson's down. Anna Keller stopped calling three weeks ago: the board flags
her. Drawn from a generator of its own.
"""

import random
from dataclasses import dataclass

from .funnel import DAY, WIN_RATE, day_of
from .pipeline import SEED

# the day after the snapshot, 09:00 UTC
CALL_DELAY = DAY + 510
# the manager's adjustment, two hours after the call
ADJUST_DELAY = 120
# the call of each style: what the rep then wins × this factor
STYLES = {"sandbag": 0.7, "optimist": 1.6, "": 1.0}
# the best case: so much more than the commit, of what the rep then wins
BEST_CASE_MARGIN = 0.3
NOTES = {
    "sandbag": "Only what is signed or about to be: the rest may slip.",
    "optimist": "Strong month ahead: most proposals close.",
    "": "As on the board.",
}
# the manager's correction of a style's call, and why
ADJUSTMENTS = {
    "sandbag": (1.3, "Chen Jing closes more than she calls: raised by 30 %."),
    "optimist": (
        0.65,
        "Mark Thompson's closing dates slip month after month: cut by a third.",
    ),
}
# reps who stopped calling so many weeks ago
SILENT_WEEKS = {"anna_keller": 2}
ROUNDING = 100


@dataclass
class Call:
    rep: object  # cast.Rep
    moment: int  # minutes relative to today
    month: int  # months from the current one (0: this month, -1: the last one)
    figures: dict  # the system's figures: won, commit, best_case, pipeline...
    commit: float
    best_case: float
    note: str
    adjustment: tuple | None = None  # (moment, commit, best case, reason)


def tell_calls(cast, leads, snapshots, calendar, seed=SEED):
    """The weekly calls of the reps, from the snapshots (forecast.Snapshot)."""
    rng = random.Random(f"{seed}-calls")
    won = [
        (lead.rep.key, row.date_in, row.revenue)
        for lead in leads
        for row in lead.rows
        if row.event == "won"
    ]
    calls = []
    over = calendar.day(calendar.month_start(0))  # the months before are over
    for snapshot in snapshots:
        moment = snapshot.moment + CALL_DELAY
        current = _months_from_today(calendar, day_of(moment))
        # the last call of a month before the next one starts
        last_of_month = _months_from_today(calendar, day_of(moment) + 7) > current
        for rep in cast.reps:
            # the same draws for every rep and week: the stream does not depend
            # on who keeps silent
            noises = [rng.uniform(0.85, 1.15) for __ in range(2)]
            if snapshot.week <= SILENT_WEEKS.get(rep.key, 0):
                continue
            for month, noise in zip((current, current + 1), noises, strict=True):
                figures = _figures(rep, snapshot, won, calendar, month, moment)
                outcome = _outcome(rep, won, calendar, month, figures, over)
                call = _call(rep, moment, month, figures, outcome * noise)
                if (
                    month == current + 1
                    and last_of_month
                    and rep.style in ADJUSTMENTS
                    and call.commit
                ):
                    factor, reason = ADJUSTMENTS[rep.style]
                    commit = _round(call.commit * factor)
                    call.adjustment = (
                        moment + ADJUST_DELAY,
                        commit,
                        max(commit, _round(call.best_case * min(factor, 1))),
                        reason,
                    )
                calls.append(call)
    return calls


def _months_from_today(calendar, day):
    value, today = calendar.date(day), calendar.today
    return (value.year - today.year) * 12 + value.month - today.month


def _figures(rep, snapshot, won, calendar, month, moment):
    """The system's figures of the rep for the month, at the call: the won
    revenue of the month so far, and the snapshot's open opportunities expected
    in it (a closing date already past counts in no month)."""
    first = calendar.day(calendar.month_start(month))
    last = calendar.day(calendar.month_start(month + 1)) - 1
    figures = dict.fromkeys(
        ("won", "commit", "best_case", "pipeline", "probability", "stage", "history"),
        0.0,
    )
    figures["won"] = sum(
        revenue
        for key, date_in, revenue in won
        if key == rep.key and first * DAY <= date_in < moment
    )
    for line in snapshot.lines:
        deadline = line.deadline
        if line.lead.rep.key != rep.key or deadline is None:
            continue
        if not max(first, snapshot.day) <= deadline <= last:
            continue
        figures[line.category] += line.revenue
        figures["probability"] += line.revenue * line.probability / 100
        figures["stage"] += line.revenue * WIN_RATE[line.stage] / 100
        figures["history"] += line.revenue * line.historical / 100
    return figures


def _outcome(rep, won, calendar, month, figures, over):
    """What the rep then wins in the month: its won revenue when the month is
    over, else the board's expectation."""
    first = calendar.day(calendar.month_start(month))
    if first < over:
        last = calendar.day(calendar.month_start(month + 1))
        return sum(
            revenue
            for key, date_in, revenue in won
            if key == rep.key and first * DAY <= date_in < last * DAY
        )
    return figures["won"] + figures["commit"] + figures["best_case"] / 2


def _call(rep, moment, month, figures, outcome):
    factor = STYLES.get(rep.style, STYLES[""])
    commit = max(_round(figures["won"]), _round(outcome * factor))
    return Call(
        rep=rep,
        moment=moment,
        month=month,
        figures=figures,
        commit=commit,
        best_case=max(commit, _round(outcome * (factor + BEST_CASE_MARGIN))),
        note=NOTES.get(rep.style, NOTES[""]),
    )


def _round(amount):
    return float(round(amount / ROUNDING) * ROUNDING)
