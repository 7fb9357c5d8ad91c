"""Follow-up deadlines by grade (R3.1) and when the sweeper acts on them (R3.8). Pure.

A grade's policy gives the first contact allowance and the cadence (the longest gap
between two contacts, and the shortest, at which the rep is reminded). Each policy counts
natural time or business time (core.workcalendar). Every deadline has three moments:

- remind: before the deadline (the cadence's shortest gap, or `remind_before` ahead);
  skipped when it would already have passed when the deadline was set;
- due: the deadline itself — the rep is told it was missed;
- escalate: when the same allowance has run out a second time — the manager is told.

Worked example, grade A on business time (first contact 4 h, remind 1 h before), accepted
Friday 2026-11-20 17:50: due Monday 12:50 (10 min on Friday, 3 h 50 on Monday), reminded
Monday 11:50, escalated Monday 16:50 (four more working hours). After a first contact on
Monday 11:00 the cadence (1 day) makes the next follow-up due Tuesday 11:00.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from leadflow.core.workcalendar import WorkCalendar, due, measure

NO_GRADE = "C"  # a lead not graded yet follows C's plan


@dataclass(frozen=True)
class Policy:
    grade: str
    business_time: bool
    first_contact: tuple[int, str]  # (amount, unit): (4, "hour")
    cadence: tuple[int, int, str]  # (shortest, longest, unit): (2, 3, "day")
    remind_before: timedelta


@dataclass(frozen=True)
class Timing:
    start: datetime
    remind_at: datetime | None  # None: too close to remind
    due: datetime
    escalate_at: datetime


@dataclass(frozen=True)
class Plans:
    """The policies in force and the business calendar they may count on."""

    policies: dict[str, Policy]
    calendar: WorkCalendar

    def policy(self, grade: str) -> Policy | None:
        return self.policies.get(grade or NO_GRADE)

    def _calendar(self, policy: Policy) -> WorkCalendar | None:
        return self.calendar if policy.business_time else None

    def first_contact(self, grade: str, start: datetime) -> Timing | None:
        """First contact after the lead became the rep's at `start`."""
        policy = self.policy(grade)
        if policy is None:
            return None
        cal = self._calendar(policy)
        allowance = measure(policy.first_contact[1], policy.first_contact[0], cal)
        deadline = due(start, allowance, cal)
        return Timing(
            start=start,
            remind_at=_before(start, deadline, policy.remind_before),
            due=deadline,
            escalate_at=due(deadline, allowance, cal),
        )

    def followup(self, grade: str, last_contact: datetime) -> Timing | None:
        """The next follow-up after the contact at `last_contact`."""
        policy = self.policy(grade)
        if policy is None:
            return None
        cal = self._calendar(policy)
        shortest, longest, unit = policy.cadence
        allowance = measure(unit, longest, cal)
        deadline = due(last_contact, allowance, cal)
        if shortest < longest:
            remind = due(last_contact, measure(unit, shortest, cal), cal)
        else:
            remind = _before(last_contact, deadline, policy.remind_before)
        return Timing(
            start=last_contact,
            remind_at=remind,
            due=deadline,
            escalate_at=due(deadline, allowance, cal),
        )

    def task(self, grade: str, created: datetime, deadline: datetime) -> Timing:
        """A next action due at `deadline`: reminded ahead, escalated a day after."""
        policy = self.policy(grade)
        cal = self._calendar(policy) if policy else None
        ahead = policy.remind_before if policy else timedelta(hours=1)
        return Timing(
            start=created,
            remind_at=_before(created, deadline, ahead),
            due=deadline,
            escalate_at=due(deadline, measure("day", 1, cal), cal),
        )

    def after(self, grade: str, start: datetime, amount: int, unit: str) -> datetime:
        """`amount` `unit`s after `start` on the grade's clock (playbook suggestions)."""
        policy = self.policy(grade)
        cal = self._calendar(policy) if policy else None
        return due(start, measure(unit, amount, cal), cal)


def _before(start: datetime, deadline: datetime, ahead: timedelta) -> datetime | None:
    moment = deadline - ahead
    return moment if moment > start else None


# What the sweeper does to a clock at `now`, given the stage it has reached.
REMIND, OVERDUE, ESCALATE, DONE = 0, 1, 2, 3


def next_fire(stage: int, timing: Timing) -> datetime | None:
    """When a clock at `stage` next needs the sweeper."""
    return {
        REMIND: timing.remind_at or timing.due,
        OVERDUE: timing.due,
        ESCALATE: timing.escalate_at,
    }.get(stage)


def first_stage(timing: Timing, now: datetime) -> int:
    """The stage of a clock set at `now`: a reminder only when there is still time for one."""
    return REMIND if timing.remind_at is not None and timing.remind_at > now else OVERDUE


def act(stage: int, *, due_at: datetime, escalate_at: datetime, now: datetime) -> int:
    """Which notice the sweeper sends now: a sweeper that was down sends only the latest one
    (an escalation says the deadline was missed too)."""
    if now >= escalate_at:
        return ESCALATE
    if now >= due_at:
        return max(stage, OVERDUE)
    return stage
