"""The business calendar for China (R3.1): working hours on working days.

Pure: no ORM. A `WorkCalendar` knows the working hours (default 09:00–18:00 in
Asia/Shanghai, optionally with a lunch break), which days are worked — the statutory
calendar of the `chinesecalendar` package, holidays and make-up working days (调休)
included — and the company's own overrides, which win. `add` counts working time forward.

Worked example (A lead, 4 working hours, 2026-11-20 is a Friday):

    assigned Fri 17:50 → 10 minutes left on Friday (until 18:00); Saturday and Sunday are
    not worked; the remaining 3 h 50 min run from Monday 09:00 → due Mon 12:50.

Around a holiday the make-up days count: Saturday 2026-02-14 is worked before the Spring
Festival (15–23 February), so 4 working hours from Fri 02-13 17:00 end Sat 02-14 12:00, and
4 more from Sat 17:00 skip the festival and end Tue 02-24 12:00.

Years the package does not cover yet (it is updated when the State Council publishes each
year's arrangement, usually in November) fall back to Monday–Friday; an administrator can
enter that year's days as overrides until the package catches up.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 3660  # ten years: no working-time sum may search further than this


@dataclass(frozen=True)
class WorkCalendar:
    opens: time = time(9)
    closes: time = time(18)
    breaks: tuple[tuple[time, time], ...] = ()  # e.g. ((time(12), time(13, 30)),)
    zone: ZoneInfo = SHANGHAI
    overrides: Mapping[date, bool] = field(default_factory=dict)  # True = worked, False = off

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError("working hours must open before they close")
        for start, end in self.breaks:
            if not self.opens <= start < end <= self.closes:
                raise ValueError("a break must lie inside the working hours")

    # -- days -------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        """Company override first, then the statutory calendar (调休 included), then Mon–Fri
        for years the calendar does not know yet."""
        if day in self.overrides:
            return self.overrides[day]
        statutory = _statutory_workday(day)
        return day.weekday() < 5 if statutory is None else statutory

    def knows(self, day: date) -> bool:
        """Whether the statutory calendar covers `day`'s year (else Mon–Fri is assumed)."""
        return _statutory_workday(day) is not None

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working spans of `day` as aware local datetimes (empty on a day off)."""
        if not self.is_workday(day):
            return []
        edges = [self.opens]
        for start, end in sorted(self.breaks):
            edges += [start, end]
        edges.append(self.closes)
        return [
            (
                datetime.combine(day, edges[i], tzinfo=self.zone),
                datetime.combine(day, edges[i + 1], tzinfo=self.zone),
            )
            for i in range(0, len(edges), 2)
            if edges[i] < edges[i + 1]
        ]

    @property
    def day_length(self) -> timedelta:
        """Working time in one full working day (9 h by default)."""
        d = date(2000, 1, 3)
        total = timedelta()
        for start, end in sorted(self.breaks):
            total -= datetime.combine(d, end) - datetime.combine(d, start)
        return total + (datetime.combine(d, self.closes) - datetime.combine(d, self.opens))

    # -- time -------------------------------------------------------------------------

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of working time after `start` (aware; returned in UTC).
        A start outside working hours counts from the next opening."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if amount <= timedelta(0):
            return start.astimezone(UTC)
        remaining = amount
        moment = start.astimezone(self.zone)
        day = moment.date()
        for _ in range(MAX_DAYS):
            for opens, closes in self.spans(day):
                if closes <= moment:
                    continue
                begin = max(opens, moment)
                if begin + remaining <= closes:
                    return (begin + remaining).astimezone(UTC)
                remaining -= closes - begin
            day += timedelta(days=1)
        raise ValueError("no working time within ten years: check the calendar overrides")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero when `end` is not after `start`)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        first = start.astimezone(self.zone)
        last = end.astimezone(self.zone)
        day = first.date()
        while day <= last.date():
            for opens, closes in self.spans(day):
                lo, hi = max(opens, first), min(closes, last)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return any(a <= local < b for a, b in self.spans(local.date()))


NATURAL = None  # a policy on natural time has no calendar


def measure(unit: str, amount: int, calendar: WorkCalendar | None) -> timedelta:
    """`amount` hours / days / weeks as time to add: natural time without a calendar; with
    one, an hour is a working hour, a day a working day, a week five working days."""
    if calendar is None:
        per = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
    else:
        day = calendar.day_length
        per = {"hour": timedelta(hours=1), "day": day, "week": 5 * day}
    return amount * per[unit]


def due(start: datetime, amount: timedelta, calendar: WorkCalendar | None) -> datetime:
    """The deadline `amount` after `start`, in working time when a calendar is given."""
    if calendar is None:
        return start + amount
    return calendar.add(start, amount)


@functools.lru_cache(maxsize=16_384)
def _statutory_workday(day: date) -> bool | None:
    """The statutory calendar's answer for `day` (None for a year it does not know yet),
    kept: deadlines ask about the same few hundred days again and again."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None
