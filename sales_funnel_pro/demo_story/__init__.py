"""The story the demo tells: a year of selling at a calibration-equipment vendor.

The vendor sells electrical, temperature and pressure calibrators, calibration
software and accredited calibration services through two sales teams and four
reps. About 150 opportunities are played over the last twelve months, stage by
stage, with seeded random generators, so that every install tells the same story,
dated from the day of the install:

- Chen Jing, the best rep, wins more and faster than the others and spends her
  hours on the deals she wins; the sales manager, Helen Zhou, waives a few gates
  with a reason; a few deals go back a stage, a few lost ones are restored, a few
  won ones reopened; closing dates slip and are pushed;
- visits and calls come early, demos and meetings in Solution & quote, calls and
  e-mails in Negotiation; most open opportunities have a next activity planned;
- every week the open pipeline is frozen in a forecast snapshot: Chen Jing
  sandbags, Mark Thompson is over-optimistic and his deals slip;
- each rep has a monthly quota; the pipeline covers the next quarter's about two
  to four times, except for one rep;
- the capability figures: Liu Yang converts well early but stalls at Solution &
  quote (the coaching list's top row: coach here), Anna Keller stopped
  prospecting (a dry top), Chen Jing wins more and faster than her teammate.

This package is plain Python: it knows the funnel as the addon defines it, and
nothing of the database. ``funnel.demo.generator`` reads the people and customers
of the demo's XML core, calls ``tell`` and writes what it returns, each table
through its own model. One module per concern, each drawing from a random
generator of its own (seeded ``f"{SEED}-<concern>"``) when it comes after the
pipeline, so that adding a story leaves the others as they are:

- ``cast``: the reps' habits (a story about how each rep converts, stage by
  stage, or fills the top of the funnel, starts here), the manager, customers;
- ``catalog``: offers and the words of the story;
- ``pipeline`` and ``work``: the opportunities, their history, checks and
  activities;
- ``forecast``: how reps forecast and the weekly snapshots;
- ``calls``: the reps' weekly forecast calls and the manager's adjustments;
- ``review`` and ``targets``: the dates of the open pipeline and the quotas;
- ``installed_base``: the customers' equipment, the care team's year and the
  opportunities care and ageing units brought back, fed by the won deals.
"""

from dataclasses import dataclass

from .calls import tell_calls
from .forecast import Forecaster
from .funnel import Calendar
from .installed_base import tell_installed_base
from .pipeline import SEED, Simulation
from .review import PipelineReview
from .targets import plan_targets


@dataclass
class Story:
    calendar: Calendar
    leads: list  # of facts.Lead
    snapshots: list  # of forecast.Snapshot
    targets: list  # of targets.Target
    installed_base: object = None  # installed_base.InstalledBase
    calls: list = None  # of calls.Call


def tell(cast, today, seed=SEED):
    """The story of ``cast`` (a cast.Cast), installed on ``today`` (a date)."""
    calendar = Calendar(today)
    leads = Simulation(cast, seed).run()
    snapshots = Forecaster(leads, cast, calendar, seed).run()
    PipelineReview(calendar, seed).run(leads)
    return Story(
        calendar,
        leads,
        snapshots,
        plan_targets(cast, calendar),
        tell_installed_base(cast, leads, seed),
        tell_calls(cast, leads, snapshots, calendar, seed),
    )
