"""The pipeline: each opportunity played forward from its creation until today,
stage by stage through the professional funnel: won, lost or still open; a few go
back a stage, a few lost ones are restored, a few won ones reopened; expected
closing dates slip and are pushed; exit criteria are met on the way, sometimes
waived by the sales manager with a reason.
"""

import random

from .catalog import (
    CONTEXTS,
    EVIDENCE,
    LOST_BY_STAGE,
    NEXT_STEPS,
    OFFERS,
    TEAMS,
    WAIVABLE,
    WAIVE_REASONS,
)
from .facts import Check, Lead, Message, Row
from .funnel import (
    CRITERIA,
    CRITERION_NAMES,
    CRITERION_TARGETS,
    DAY,
    FUNNEL,
    HISTORY_DAYS,
    LAST_REVIEW,
    ROTTING_DAYS,
    STAGE_NAMES,
    WIN_RATE,
    WON,
    WORK_END,
    WORK_START,
    day_of,
)
from .work import STAGE_DAYS, StageWork

SEED = 42  # one seed among a few tried: a spread that reads well in the reports
LEAD_COUNT = 150
# a rep with a dry top created no opportunity in so many last days
DRY_TOP_DAYS = 45
# what each field criterion of the funnel reads on the opportunity
FIELD_SET = {
    "partner_id": lambda lead: True,
    "expected_revenue": lambda lead: bool(lead.revenue),
    "date_deadline": lambda lead: lead.deadline is not None,
}


class Simulation(StageWork):
    """Plays each opportunity forward from its creation until today."""

    def __init__(self, cast, seed=SEED):
        self.cast = cast
        self.rng = random.Random(seed)
        # the optional activities, their durations and outcomes: drawn apart, so
        # that they do not change the history
        self.arng = random.Random(f"{seed}-activities")
        self.quote_counter = 0

    # time ------------------------------------------------------------------------

    def at(self, day, rng=None):
        """A moment of office hours on ``day``."""
        return day * DAY + (rng or self.rng).randint(WORK_START, WORK_END)

    def within(self, start, end, low=0.1, high=0.9, rng=None):
        """A moment between ``start`` and ``end`` (and before today), preferably in
        office hours."""
        rng = rng or self.rng
        end = min(end, 0)
        span = end - start
        if span <= 2:
            return start
        moment = start + int(span * rng.uniform(low, high))
        day = day_of(moment)
        office = self.at(day, rng)
        if start < office < end:
            moment = office
        return max(start + 1, min(moment, end - 1))

    def later(self, start, days):
        """A moment in office hours ``days`` days (at least one) after ``start``."""
        return self.at(day_of(start) + max(1, round(days)))

    # helpers ---------------------------------------------------------------------

    def money(self, amount, step=100):
        return float(max(step, round(amount / step) * step))

    def stay(self, lead, stage):
        days = STAGE_DAYS[stage] * lead.rep.pace * self.rng.lognormvariate(0, 0.45)
        days *= 1 + min(0.8, lead.estimate / 250000)
        if self.rng.random() < lead.rep.stall:
            days *= 2.2
        return max(1.0, days)

    def text(self, lead, template, rng=None):
        return template.format(
            amount=f"{lead.revenue or lead.estimate:,.0f} USD",
            contact=lead.contact,
            function=lead.function,
            spec=lead.offer.spec,
            qty=lead.qty,
            number=lead.quote_number,
            weeks=(rng or self.rng).choice([4, 6, 8, 10]),
            short=lead.short,
            customer=lead.customer.name,
        )

    def push_deadline(self, lead, moment):
        """The rep moves the expected closing date later when it has passed."""
        if lead.deadline is not None and lead.deadline < day_of(moment):
            lead.deadline = day_of(moment) + self.rng.randint(21, 50)
            lead.pushes += 1
            lead.deadline_log.append((moment, lead.deadline))

    def enter(self, lead, stage, moment, moved_by, event="enter", backward=False):
        stage_from = lead.rows[-1].stage if lead.rows else None
        if lead.rows:
            lead.rows[-1].date_out = moment
        lead.stage = stage
        lead.probability = WIN_RATE[stage]
        row = Row(
            event,
            stage,
            stage_from,
            moment,
            moved_by,
            lead.revenue,
            lead.probability,
            backward=backward,
        )
        lead.rows.append(row)
        if backward:
            lead.backward_moves += 1
        # the checks of the new stage, and what the opportunity already satisfies
        for criterion in CRITERIA.get(stage, {}):
            check = lead.checks.setdefault(criterion, Check(criterion, stage))
            if check.state == "todo" and self.auto_met(lead, stage, criterion):
                check.state, check.date, check.by = "met", moment, moved_by
        return row

    def auto_met(self, lead, stage, criterion):
        """Whether a field or activity criterion of ``stage`` is met on entering
        it."""
        kind = CRITERIA[stage][criterion]
        if kind == "field":
            return FIELD_SET[CRITERION_TARGETS[criterion]](lead)
        if kind == "activity":
            # the rep counts on the meetings held so far; the visits and demos of
            # the early stages are recognised when the log is complete (see
            # StageWork.finish_activities), as the server does when it loads it
            return any(a.kind == "meeting" for a in lead.activities)
        return False

    def meet(self, lead, criterion, moment):
        check = lead.checks[criterion]
        if check.state != "todo":
            return
        check.state, check.date, check.by = "met", moment, lead.rep.key
        if CRITERIA[check.stage][criterion] == "checklist":
            check.evidence = self.text(lead, self.rng.choice(EVIDENCE[criterion]))

    # one opportunity ------------------------------------------------------------------

    def play(self, lead):
        """Play the opportunity from its creation until today."""
        rng, rep = self.rng, lead.rep
        if rng.random() < 0.6:
            lead.revenue = self.money(lead.estimate, 500)
        self.enter(lead, "start", lead.created, rep.key)
        index, moment, went_back, restored = 0, lead.created, False, False
        while True:
            stage = FUNNEL[index]
            leave = self.later(moment, self.stay(lead, stage))
            if restored:  # restored on purpose: moves on before today
                leave = self.later(moment, rng.uniform(3, max(3, -day_of(moment) / 2)))
                leave = min(leave, self.at(-1))
            if day_of(leave) >= 0:
                self.work_stage(lead, stage, moment, 0, "open")
                self.finish_open(lead)
                return
            draw = rng.random()
            if restored or draw < rep.advance[index]:
                outcome = "forward"
            elif index >= 2 and not went_back and draw < rep.advance[index] + 0.08:
                outcome = "back"
            else:
                outcome = "lost"
            restored = False
            waived = None
            if outcome == "forward" and rng.random() < 0.06:
                todo = [c for c in WAIVABLE[stage] if lead.checks[c].state == "todo"]
                waived = rng.choice(todo) if todo else None
            self.work_stage(lead, stage, moment, leave, outcome, waived)
            if outcome != "lost":
                self.push_deadline(lead, leave)
            if outcome == "forward":
                moved_by, reason = rep.key, None
                if waived:
                    moved_by = self.cast.manager[0]
                    reason = self.waive(lead, stage, waived, leave)
                if index == len(FUNNEL) - 1:
                    if self.win(lead, leave, moved_by, reason):
                        return
                    moment = lead.rows[-1].date_in
                    continue
                row = self.enter(lead, FUNNEL[index + 1], leave, moved_by)
                row.waive_reason = reason
                if index == 0 and lead.deadline is None:
                    remaining = sum(STAGE_DAYS[s] for s in FUNNEL[1:]) * rep.pace
                    lead.deadline = day_of(leave) + round(
                        remaining * rep.optimism * rng.uniform(0.8, 1.3)
                    )
                    lead.deadline_log.append((leave, lead.deadline))
                index, moment = index + 1, leave
            elif outcome == "back":
                went_back = True
                self.enter(lead, FUNNEL[index - 1], leave, rep.key, backward=True)
                index, moment = index - 1, leave
            else:
                restore_at = self.lose(lead, stage, leave)
                if restore_at is None:
                    return
                restored, moment = True, restore_at

    def waive(self, lead, stage, criterion, moment):
        check = lead.checks[criterion]
        manager, manager_name = self.cast.manager
        check.state, check.date, check.by = "waived", moment, manager
        check.waive_reason = self.rng.choice(WAIVE_REASONS[criterion])
        target = [*FUNNEL, WON][FUNNEL.index(stage) + 1]
        lead.messages.append(
            Message(
                moment,
                manager,
                "note",
                f"Advanced to “{STAGE_NAMES[target]}”",
                f"{manager_name} waived: {STAGE_NAMES[stage]}: "
                f"{CRITERION_NAMES[criterion]}. Reason: {check.waive_reason}",
            )
        )
        return check.waive_reason

    def win(self, lead, moment, moved_by, waive_reason=None):
        """Won; a few are reopened shortly after. Return True when the story ends."""
        lead.revenue = self.money(lead.revenue * self.rng.uniform(0.9, 1.0))
        row = self.enter(lead, WON, moment, moved_by, event="won")
        row.waive_reason = waive_reason
        lead.won, lead.date_closed = True, moment
        if day_of(moment) > -30 or self.rng.random() > 0.1:
            return True
        reopen = self.later(moment, self.rng.randint(2, 6))
        lead.won, lead.date_closed = False, None
        self.enter(lead, FUNNEL[-1], reopen, lead.rep.key, backward=True)
        lead.messages.append(
            Message(
                reopen,
                lead.rep.key,
                "note",
                "Back to Negotiation",
                "The customer put the purchase order on hold: budget re-approval "
                "needed.",
            )
        )
        return False

    def lose(self, lead, stage, moment):
        """Lost; a few are restored weeks later. Return the restore moment, if any."""
        lead.rows[-1].date_out = moment
        lead.rows.append(
            Row("lost", stage, stage, moment, lead.rep.key, lead.revenue, 0.0)
        )
        lead.active, lead.probability, lead.date_closed = False, 0.0, moment
        lead.lost_reason = self.rng.choice(LOST_BY_STAGE[stage])
        restore = self.later(moment, self.rng.randint(14, 40))
        if day_of(moment) > -75 or day_of(restore) > -15 or self.rng.random() > 0.08:
            return None
        lead.rows[-1].date_out = restore
        lead.rows.append(
            Row(
                "restored",
                stage,
                stage,
                restore,
                lead.rep.key,
                lead.revenue,
                WIN_RATE[stage],
            )
        )
        lead.active, lead.probability, lead.date_closed = True, WIN_RATE[stage], None
        lead.lost_reason = None
        lead.messages.append(
            Message(
                restore,
                lead.rep.key,
                "note",
                "Restored",
                "The customer called back: the project is funded again.",
            )
        )
        return restore

    def finish_open(self, lead):
        rng = self.rng
        if lead.deadline is not None and lead.deadline < 0 and rng.random() < 0.7:
            lead.deadline = rng.randint(7, 45)
            lead.pushes += 1
            lead.deadline_log.append((LAST_REVIEW, lead.deadline))
        lead.probability = max(
            5, min(95, WIN_RATE[lead.stage] + rng.choice([-10, -5, 0, 0, 0, 5, 10]))
        )
        days_in_stage = -day_of(lead.rows[-1].date_in)
        rotting = days_in_stage > ROTTING_DAYS[lead.stage]
        if rng.random() < (0.35 if rotting else lead.rep.planning):
            kind, summary = rng.choice(NEXT_STEPS[lead.stage])
            draw = rng.random()
            due = (
                rng.randint(-10, -1)
                if draw < 0.18
                else 0
                if draw < 0.26
                else rng.randint(1, 21)
            )
            lead.next_step = (kind, self.text(lead, summary), due)

    # all opportunities -------------------------------------------------------------

    def new_lead(self, number):
        rng = self.rng
        reps = self.cast.reps
        rep = rng.choices(reps, weights=[r.weight for r in reps])[0]
        customer = rng.choice([c for c in self.cast.customers if c.team == rep.team])
        team_index = TEAMS.index(rep.team)
        offer = rng.choices(OFFERS, weights=[o.weight[team_index] for o in OFFERS])[0]
        qty = rng.randint(*offer.qty)
        estimate = qty * rng.uniform(*offer.price)
        context = rng.choice(CONTEXTS[rep.team])
        name = offer.name.format(qty=qty)
        if "{qty}" not in offer.name or rng.random() < 0.7:
            name = f"{name} – {context}"
        # more recent opportunities than old ones: the pipeline grows
        draw = rng.random()
        if draw < 0.15:
            age = rng.randint(2, 20)
        elif draw < 0.55:
            age = rng.randint(20, 110)
        else:
            age = rng.randint(110, HISTORY_DAYS)
        if rep.dry_top and age < DRY_TOP_DAYS:
            age += DRY_TOP_DAYS
        self.quote_counter += rng.randint(3, 17)
        tags = list(offer.tags)
        if rng.random() < 0.15:
            tags.append("tender")
        return Lead(
            number=number,
            rep=rep,
            customer=customer,
            offer=offer,
            qty=qty,
            name=name,
            estimate=estimate,
            quote_number=f"{2400 + self.quote_counter:05d}",
            created=self.at(-age),
            priority=rng.choices("0123", weights=[4, 4, 2, 1])[0],
            tags=tags,
        )

    def run(self):
        leads = []
        for number in range(1, LEAD_COUNT + 1):
            lead = self.new_lead(number)
            self.play(lead)
            self.finish_activities(lead)
            leads.append(lead)
        return leads
