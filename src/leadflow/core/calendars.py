"""The business calendar in force: working hours and company overrides from the database
on top of the statutory calendar (core.workcalendar)."""

from .models import CalendarOverride, WorkSchedule
from .workcalendar import WorkCalendar


def current() -> WorkCalendar:
    schedule = WorkSchedule.objects.first() or WorkSchedule()
    breaks = ()
    if schedule.break_starts and schedule.break_ends:
        breaks = ((schedule.break_starts, schedule.break_ends),)
    overrides = dict(CalendarOverride.objects.values_list("day", "working"))
    return WorkCalendar(
        opens=schedule.opens, closes=schedule.closes, breaks=breaks, overrides=overrides
    )
