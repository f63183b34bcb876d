"""The funnel of the story as the addon defines it, and the story's clock.

Nothing here restates a business rule: the stages, their win rates, forecast
categories, rotting limits and exit criteria come from the professional funnel
template, the historical-rate window from ``funnel.stage.win.rate``.
"""

import calendar
from datetime import date, timedelta

from ..models.funnel_stage_win_rate import WINDOW_MONTHS
from ..wizard.funnel_template_wizard import PROFESSIONAL_FUNNEL

# ---------------------------------------------------------------------------------
# Stages and exit criteria (wizard/funnel_template_wizard.py)
# ---------------------------------------------------------------------------------

# (key, name, sequence, win rate, category, rotting days, criteria) per stage, and
# (key, name, guidance, kind, field or activity types) per criterion
_STAGES = [
    (key, name, win_rate, category, rotting, criteria)
    for key, name, __, win_rate, category, rotting, criteria in PROFESSIONAL_FUNNEL
]
# the stages an opportunity works through, in order, then the won stage
FUNNEL = [stage[0] for stage in _STAGES if stage[3] != "closed"]
WON = next(stage[0] for stage in _STAGES if stage[3] == "closed")
STAGE_NAMES = {stage[0]: stage[1]._translate("en_US") for stage in _STAGES}
WIN_RATE = {stage[0]: stage[2] for stage in _STAGES}
CATEGORY = {stage[0]: stage[3] for stage in _STAGES}
ROTTING_DAYS = {stage[0]: stage[4] for stage in _STAGES}
_CRITERIA = [(stage[0], *criterion) for stage in _STAGES for criterion in stage[5]]
# exit criteria of each stage: criterion key -> kind
CRITERIA = {
    stage: {
        key: kind
        for stage_key, key, __, ___, kind, ____ in _CRITERIA
        if stage_key == stage
    }
    for stage in FUNNEL
}
CRITERION_NAMES = {key: name._translate("en_US") for __, key, name, *___ in _CRITERIA}
# what a field or activity criterion looks at: a field name of the opportunity, or
# the XML ids of the activity types it counts
CRITERION_TARGETS = {
    key: target for __, key, ___, ____, kind, target in _CRITERIA if kind != "checklist"
}

# ---------------------------------------------------------------------------------
# Open, won, lost: one definition
# ---------------------------------------------------------------------------------

# the history events that close an opportunity: its current row is one of them
CLOSING_EVENTS = ("won", "lost")

# ---------------------------------------------------------------------------------
# Time: minutes relative to today 00:00 UTC, the day the demo is installed
# ---------------------------------------------------------------------------------

DAY = 1440
WORK_START, WORK_END = 60, 630  # 01:00-10:30 UTC: office hours in China
LAST_REVIEW = -DAY + 600  # yesterday 10:00 UTC: the last look at closing dates
HISTORY_DAYS = 360  # the oldest opportunity was created this many days ago
SNAPSHOT_WEEKS = 52  # weekly forecast snapshots, the last one a week ago
SNAPSHOT_MINUTE = 30  # taken at 00:30 UTC, before office hours


def day_of(moment):
    return moment // DAY


def months_before(today, months):
    """The day ``months`` calendar months before ``today`` (as relativedelta)."""
    month = today.month - 1 - months
    year, month = today.year + month // 12, month % 12 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


class Calendar:
    """The calendar of the install day: where months and quarters start, as days
    relative to today, so that the story can date what it plans by period."""

    def __init__(self, today):
        self.today = today

    def day(self, value):
        """Days from today to the date ``value``."""
        return (value - self.today).days

    def date(self, day):
        return self.today + timedelta(days=day)

    def month_start(self, months):
        """First day of the month ``months`` from this one."""
        month = self.today.month - 1 + months
        return date(self.today.year + month // 12, month % 12 + 1, 1)

    def quarter_start(self, quarters):
        """First day of the quarter ``quarters`` from this one."""
        return self.month_start(3 * quarters - (self.today.month - 1) % 3)

    def quarter_days(self, quarters):
        """First and last day of the quarter ``quarters`` from this one, relative
        to today."""
        start = self.quarter_start(quarters)
        end = self.quarter_start(quarters + 1) - timedelta(days=1)
        return self.day(start), self.day(end)

    def window_days(self, moment_day):
        """Days in the historical-rate window ending on day ``moment_day``."""
        end = self.date(moment_day)
        return (end - months_before(end, WINDOW_MONTHS)).days
