"""The work done in each stay of an opportunity in a stage: the activities the
story needs (a discovery call, the solution meeting the gate asks for, the price
call), the usual work of the stage, and the exit criteria met on the way.

The optional activities, their durations and outcomes are drawn from a generator
of their own (``arng``), so that they do not change the history.
"""

from .cast import HOME_COUNTRY
from .catalog import (
    ACTIVITY_TYPES,
    CONVERSATIONS,
    DURATIONS,
    EXTRA_ACTIVITIES,
    FAR_VISIT,
    FEEDBACK,
    OUTCOME_WEIGHTS,
    OUTCOMES,
)
from .facts import Activity, Stay
from .funnel import CRITERION_TARGETS, DAY

# median days in each stage, before the rep's pace and the deal size
STAGE_DAYS = {"start": 9, "needs": 11, "solution": 15, "negotiation": 18}
# the activity kinds that the "demo" criterion counts
DEMO_KINDS = tuple(
    kind for kind, xmlid in ACTIVITY_TYPES.items() if xmlid in CRITERION_TARGETS["demo"]
)


class StageWork:
    """The part of the simulation that works a stay (mixed into Simulation)."""

    def log(self, stay, moment, kind, summary, feedback=None, outcome=None, **kw):
        """The rep does an activity at ``moment`` of the stay: a log row and a
        message. The summary is written with the history's generator (the story
        needs it) unless ``rng`` says otherwise; the duration, the outcome and the
        feedback come from the activities' generator."""
        arng, lead = self.arng, stay.lead
        low, high = DURATIONS[kind]
        if kind == "visit" and lead.customer.country != HOME_COUNTRY:
            low, high = FAR_VISIT
        hours = arng.uniform(low, high)
        if kind in ("visit", "meeting", "demo"):
            hours *= lead.rep.thorough
        if outcome is None and kind not in CONVERSATIONS:
            outcome = "neutral"  # paperwork: the customer answers by phone or visit
        activity = Activity(
            date=moment,
            stage=stay.stage,
            kind=kind,
            summary=self.text(lead, summary, kw.get("rng")),
            duration=min(24.0, max(0.25, round(hours * 4) / 4)),
            outcome=outcome or "",
            feedback=feedback,
            tag=kw.get("tag", ""),
        )
        if outcome is None:
            # drawn when the opportunity's story is over (see finish_activities)
            position = (moment - stay.start) / max(1, min(stay.end, 0) - stay.start)
            weights = list(OUTCOME_WEIGHTS[stay.outcome])
            if stay.outcome == "lost":
                weights[2] += 6 * position  # the end is near
            activity.weights = weights
        lead.activities.append(activity)
        return activity

    def effort(self, stay):
        """How much the rep invests in this stay."""
        effort = stay.lead.rep.effort
        if stay.outcome in ("lost", "back"):
            effort *= stay.lead.rep.focus
        return effort

    def extra_activities(self, stay):
        """The usual work of the stage, besides what the story needs: each tried
        once, twice in a stay of more than six weeks; diligent reps do more."""
        arng, lead = self.arng, stay.lead
        tries = 1 + min(1, int(stay.days / 45))
        for kind, summary, chance, (low, high), before in EXTRA_ACTIVITIES[stay.stage]:
            if kind == "visit" and lead.customer.country != HOME_COUNTRY:
                chance /= 2
            end = stay.end
            check = lead.checks.get(before)
            if check and check.state == "met" and stay.start < check.date < end:
                end = check.date
            for __ in range(tries):
                if arng.random() < min(0.95, chance * self.effort(stay)):
                    moment = self.within(stay.start, end, low, high, arng)
                    self.log(stay, moment, kind, summary, rng=arng)

    # one stay in a stage -----------------------------------------------------------

    def work_stage(self, lead, stage, start, end, outcome, waived=None):
        """What happens while the opportunity is in ``stage`` from ``start`` to
        ``end``: activities, revenue and closing date, criteria met. ``outcome`` is
        "forward" (every criterion met or waived), "lost", "back" or "open"."""
        end = min(end, 0)
        if outcome == "forward":
            chance = 1.0
        elif outcome == "open":
            elapsed = (end - start) / DAY / max(1, STAGE_DAYS[stage] * lead.rep.pace)
            chance = min(0.85, 0.2 + 0.6 * elapsed)
        else:
            chance = 0.45
        if end - start < 30 and chance < 1:
            return
        stay = Stay(self, lead, start, end, chance, waived, stage, outcome)
        getattr(self, f"work_{stage}")(stay)

    def work_start(self, stay):
        lead = stay.lead
        if not any(a.tag == "discovery" for a in lead.activities):
            self.log(
                stay,
                stay.moment(0.05, 0.4),
                "call",
                "Discovery call with {contact}",
                "Interested; asked for budget and timing.",
                "neutral" if stay.outcome == "lost" else "positive",
                tag="discovery",
            )
        for criterion in ("budget", "decision_maker"):
            if stay.todo(criterion) and stay.happens():
                self.meet(lead, criterion, stay.moment(0.3, 0.95))
        self.extra_activities(stay)

    def work_needs(self, stay):
        lead = stay.lead
        if stay.todo("needs_documented") and stay.happens():
            moment = stay.moment(0.3, 0.9)
            self.meet(lead, "needs_documented", moment)
            if not lead.revenue:
                lead.revenue = self.money(lead.estimate, 500)
                self.meet(lead, "revenue", self.within(moment, stay.end, 0.05, 0.5))
        elif stay.todo("revenue") and stay.happens():
            lead.revenue = self.money(lead.estimate, 500)
            self.meet(lead, "revenue", stay.moment(0.4, 0.9))
        check = lead.checks["needs_documented"]
        if check.state == "met" and stay.start <= check.date < stay.end:
            # the requirement sheet went out just before the customer confirmed it
            moment = self.within(
                max(stay.start, check.date - 2 * DAY), check.date, 0.3, 0.9, self.arng
            )
            self.log(
                stay,
                moment,
                "email",
                "Requirement sheet for {contact} to confirm",
                rng=self.arng,
            )
        self.extra_activities(stay)

    def work_solution(self, stay):
        lead = stay.lead
        demo_at = stay.start
        if stay.todo("demo") and stay.happens():
            # the meeting at the site that the gate asks for
            demo_at = stay.moment(0.15, 0.5)
            feedback = self.rng.choice(
                [
                    "The team agrees with the proposed configuration.",
                    "Good meeting; they want the quotation this month.",
                    "Compared with their current units; ours is faster.",
                ]
            )
            meeting = self.log(
                stay,
                demo_at,
                "meeting",
                "Solution meeting at the site with {contact}'s team",
                feedback,
                "neutral" if stay.outcome == "lost" else "positive",
                tag="solution_meeting",
            )
            self.meet(lead, "demo", demo_at)
            self.demonstrate(stay, demo_at + int(meeting.duration * 60) + 30, 0.8)
        elif lead.checks["demo"].state == "met":
            self.demonstrate(stay, stay.start, 0.3)
        if stay.todo("quotation") and stay.happens():
            moment = self.within(demo_at, stay.end, 0.3, 0.9)
            lead.revenue = self.money(lead.estimate * self.rng.uniform(0.85, 1.2))
            self.meet(lead, "quotation", moment)
            if self.arng.random() < min(0.9, 0.5 * self.effort(stay)):
                self.log(
                    stay,
                    self.within(
                        max(demo_at, moment - 3 * DAY), moment, 0.2, 0.9, self.arng
                    ),
                    "todo",
                    "Quotation Q-{number} and its compliance sheet",
                    outcome="neutral",
                    rng=self.arng,
                )
            self.log(
                stay,
                moment,
                "email",
                "Quotation Q-{number} to {contact}",
                "",
                "neutral",
            )
        self.extra_activities(stay)

    def demonstrate(self, stay, after, chance):
        """A demo of the offer and a technical review, after the meeting that met
        the gate's criterion (a demo alone would not meet it: the criterion asks
        for a meeting, and a demo before it would contradict its check)."""
        arng = self.arng
        if after >= min(stay.end, 0) - 60:
            return
        if arng.random() < min(0.95, chance * self.effort(stay)):
            self.log(
                stay,
                self.within(after, stay.end, 0, 0.4, arng),
                "demo",
                arng.choice(
                    [
                        "Hands-on demonstration of the {short}",
                        "Demo of the {short} on the customer's bench",
                        "Demo of the {short} to the instrument technicians",
                    ]
                ),
                rng=arng,
            )
        check = stay.lead.checks["demo"]
        if arng.random() < min(0.6, 0.2 * self.effort(stay)):
            self.log(
                stay,
                self.within(max(after, check.date), stay.end, 0.3, 1, arng),
                "meeting",
                "Technical review of the offer with {contact}'s team",
                rng=arng,
            )

    def work_negotiation(self, stay):
        lead = stay.lead
        if self.rng.random() < 0.7:
            self.log(
                stay,
                stay.moment(0.1, 0.5),
                "call",
                "Price and delivery terms with procurement",
                "They ask for a better price and 60-day payment.",
                "neutral",
                tag="price_call",
            )
        if stay.todo("terms") and stay.happens(0.5):
            self.meet(lead, "terms", stay.moment(0.7, 0.98))
        self.extra_activities(stay)

    def finish_activities(self, lead):
        """Outcomes and feedback of the activities, now that the end of the story is
        known: a deal that will be won shows it in its signals, a lost one shows
        the warning signs. The next step noted on each activity is the one the rep
        did next (or has planned, for the last one of an open opportunity)."""
        arng = self.arng
        lead.activities.sort(key=lambda activity: activity.date)
        for activity in lead.activities:
            if activity.weights:
                positive, neutral, negative = activity.weights
                if lead.is_won:
                    positive *= 1.8
                elif lead.is_lost:
                    positive, negative = positive * 0.5, negative * 1.5
                activity.outcome = arng.choices(
                    OUTCOMES, weights=(positive, neutral, negative)
                )[0]
            if activity.feedback is None:
                activity.feedback = ""
                if activity.kind in CONVERSATIONS:
                    template = arng.choice(FEEDBACK[activity.outcome])
                    activity.feedback = self.text(lead, template, arng)
        check = lead.checks.get("demo")
        if check and check.state == "todo":
            # a demo, visit or meeting logged meets the criterion, as the server
            # does when it loads the log
            done = [a for a in lead.activities if a.kind in DEMO_KINDS]
            if done:
                check.state, check.date, check.by = "met", done[0].date, lead.rep.key
        following = [a.summary for a in lead.activities[1:]]
        if lead.next_step and lead.is_open:
            following.append(lead.next_step[1])
        for activity, next_step in zip(lead.activities, following, strict=False):
            activity.next_step = next_step


# ---------------------------------------------------------------------------------
# Forecast snapshots
