"""What the story leaves behind, one class per record the generator writes: the
opportunities with their history rows, checks, notes, logged activities and next
step. Moments are minutes relative to today 00:00 (UTC), days relative to today.
"""

from dataclasses import dataclass, field

from .cast import Customer, Rep
from .catalog import Offer
from .funnel import CLOSING_EVENTS, DAY


@dataclass
class Row:
    """A row of the stage history."""

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

    @property
    def closes(self):
        """The row closes the opportunity (won or lost) while it is current."""
        return self.event in CLOSING_EVENTS


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
    kind: str  # a key of catalog.ACTIVITY_TYPES
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

    # open, won, lost: as the addon says (a lost opportunity is archived, a won
    # one is active in the won stage, the others are open)
    @property
    def is_won(self):
        return self.active and self.won

    @property
    def is_lost(self):
        return not self.active

    @property
    def is_open(self):
        return self.active and not self.won

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

    @property
    def category(self):
        """The forecast category the rep chose for the current stage, if any."""
        return self.override.get(self.stage) if self.is_open else None


@dataclass
class Stay:
    """One stay of an opportunity in a stage, from ``start`` to ``end``."""

    sim: object  # the Simulation
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
