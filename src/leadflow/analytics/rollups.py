"""Stored monthly figures: a long view without reading all of history again.

A two-year dashboard over 1,000,000 leads read every lead and 5,000,000 stage changes each
time it opened (3–4 s on PostgreSQL, 10 s on SQLite). Most of those rows had not changed
since the last time. So the reports' parts (`queries.PARTS`: rows of keys and counts that
add up across disjoint sets of leads) are stored per acquisition month, for every lead of
the month (team 0) and for each team (`Rollup`); a view over whole months adds the stored
rows of the months that did not change to the rows the database gives for the rest.

Whether a month changed is the database's to say: triggers (migration analytics 0002) mark
the day each lead was acquired (`StaleDay`) whenever the lead, its stage changes, its
assignments, its follow-up tallies or the follow-ups naming a competitor are written, in the
writing transaction — from a form, an import's COPY, a bulk update or a shell alike. A month with a mark is read from the
database until `refresh` (a sweep, every few minutes) computes it again. The figures are
therefore exact, the same as reading every row; `tests/analytics/test_rollups.py` checks
that report by report.

Stored months serve a view when its viewer sees every lead in it (admin, support,
marketing; a team's manager, that team) and it chooses leads by period and team alone; any
other filter (channel, rep, industry, region, grade) reads the database, as before.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import BigIntegerField, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from leadflow.core import bulk
from leadflow.leads.models import Lead
from leadflow.leads.queries import sees_every_lead

from . import queries
from .models import Rollup, RollupMonth, StaleDay
from .queries import Filters

log = logging.getLogger("leadflow.rollups")

IDS = 5_000  # stale marks cleared per statement
MONTHS = 3  # computed and stored at a time


def month_after(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _start(month: date) -> datetime:
    return datetime.combine(month, time(), timezone.get_default_timezone())


def _month_of(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def months_of_days(days: Iterable[date]) -> set[date]:
    """The local months a set of UTC days (`StaleDay`) reach into: a UTC day can straddle
    the end of a month in Shanghai."""
    months = set()
    for day in days:
        start = datetime.combine(day, time(), UTC)
        months.add(_month_of(start))
        months.add(_month_of(start + timedelta(days=1) - timedelta(microseconds=1)))
    return months


def _runs(months: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """Consecutive months as [start, end) moments, as few as they make."""
    runs: list[list[date]] = []
    for month in sorted(months):
        if runs and month == month_after(runs[-1][1]):
            runs[-1][1] = month
        else:
            runs.append([month, month])
    return [(_start(first), _start(month_after(last))) for first, last in runs]


def _in_months(months: Iterable[date]) -> Q:
    """Leads acquired in these months."""
    q = Q(pk__in=[])
    for start, end in _runs(months):
        q |= Q(acquired_at__gte=start, acquired_at__lt=end)
    return q


# the ends of time, for ranges bounded on both sides
EARLIEST, LATEST = datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)


def _outside(months: Iterable[date]) -> Q:
    """Leads acquired outside these months, as ranges bounded on both sides: SQLite reads a
    NOT over ranges, or a range open on one side, from the whole table (the owners by grade
    over two years: 2.1 s, for no lead), and a closed range from the period index (1 ms)."""
    q, since = Q(pk__in=[]), EARLIEST
    for start, end in [*_runs(months), (LATEST, LATEST)]:
        q |= Q(acquired_at__gte=since, acquired_at__lt=start)
        since = end
    return q


# --- computing ---------------------------------------------------------------------------------


def refresh(now: datetime | None = None) -> int:
    """Store the figures of every month that has leads and has none stored yet or was
    marked since; drop those of months left without leads. The marks read are cleared at
    the end, in the same transaction as the figures: a write committed meanwhile leaves a
    mark of its own, so its month is computed again next time. Returns the months computed."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _alone():
            return 0  # another sweeper is at it
        marks, clear = _marks()
        span = Lead.objects.aggregate(lo=Min("acquired_at"), hi=Max("acquired_at"))
        months: set[date] = set()
        if span["lo"] is not None:
            month, last = _month_of(span["lo"]), _month_of(span["hi"])
            while month <= last:
                months.add(month)
                month = month_after(month)
        stored = RollupMonth.objects.all()
        known = set(stored.values_list("month", flat=True))
        todo = sorted((months - known) | (months_of_days(marks) & months))
        gone = known - months
        Rollup.objects.filter(month__in=[*todo, *gone]).delete()
        stored.filter(month__in=gone).delete()
        for i in range(0, len(todo), MONTHS):  # a few at a time: 1,000,000 leads give
            _compute(todo[i : i + MONTHS])  # 1.4 million rows (238 MB on PostgreSQL)
        if todo:
            stored.filter(month__in=todo).delete()
            stored.bulk_create(RollupMonth(month=m, computed_at=now) for m in todo)
        clear()
    if todo:
        log.info("rollups: %d months computed", len(todo))
    return len(todo)


def _alone() -> bool:
    """Whether this transaction is the only refresh running: two would each delete the
    other's months before it committed and store them twice. PostgreSQL: an advisory lock
    until the transaction ends; SQLite's IMMEDIATE transactions run one at a time anyway."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('leadflow.rollups'))")
        return cursor.fetchone()[0]


def _marks() -> tuple[set[date], Callable[[], None]]:
    """The stale days marked so far, and how to clear exactly those marks."""
    marks = StaleDay.objects.all()
    if connection.vendor == "sqlite":
        # the transaction took the write lock at BEGIN (settings: IMMEDIATE), so no mark is
        # written until it ends — the triggers there write a day once, not again while marked
        top = marks.aggregate(top=Max("pk"))["top"] or 0
        days = set(marks.filter(pk__lte=top).values_list("day", flat=True).distinct())
        return days, lambda: marks.filter(pk__lte=top).delete()
    # PostgreSQL: ids are taken at insert, not commit — a lower one may still come: by id
    rows = list(marks.values_list("pk", "day"))

    def clear() -> None:
        ids = [pk for pk, _day in rows]
        for i in range(0, len(ids), IDS):
            marks.filter(pk__in=ids[i : i + IDS]).delete()

    return {day for _pk, day in rows}, clear


COLUMNS = ["month", "team", "part", "t", "i", "x", "day", *queries.VALUES, "amount"]


def _compute(months: list[date]) -> None:
    """Every part's rows over the leads of `months`, per month and team, stored — and the
    teams' rows added up per month as team 0's (with those of leads in no team)."""
    leads = Lead.objects.filter(_in_months(months))
    rows: list[tuple] = []
    for name, part in queries.PARTS.items():
        every: dict[tuple, list] = {}
        for month, team, *found in part.query(leads, by=True):
            month = queries.as_date(month)
            keys, values = found[: len(part.keys)], found[len(part.keys) :]
            row = dict(zip(part.keys, keys, strict=True))
            row.update(zip(part.values, values, strict=True))
            if team:
                rows.append(_row(month, team, name, row))
            key = (month, *keys)
            if (have := every.get(key)) is None:
                every[key] = row
            else:
                for column in part.values:
                    have[column] = _add(have[column], row[column])
        rows += [_row(key[0], 0, name, row) for key, row in every.items()]
    bulk.insert(Rollup, COLUMNS, rows)


def _row(month: date, team: int, part: str, row: dict) -> tuple:
    full = {"t": "", "i": None, "x": None, "day": None, "amount": None}
    full.update(dict.fromkeys(queries.VALUES, 0))
    full.update(row, month=month, team=team, part=part)
    if isinstance(full["day"], str):  # SQLite gives text
        full["day"] = date.fromisoformat(full["day"])
    return tuple(full[c] for c in COLUMNS)


def _add(a, b):
    return b if a is None else a if b is None else a + b


# --- reading -----------------------------------------------------------------------------------


@dataclass
class Plan:
    """Which months of a view are read from storage (`months`), the leads of the rest read
    from the database (`rest`), and the team stored figures are of (0: all leads)."""

    team: int
    months: list[date]
    rest: QuerySet[Lead]

    def rows(self, name: str, part) -> list[tuple]:
        """The part's rows: the stored months' added up by key, then the rest's."""
        stored = (
            Rollup.objects.filter(part=name, team=self.team, month__in=self.months)
            .order_by()
            .values(*part.keys)
            .annotate(**{f"sum_{v}": _sum(v) for v in part.values})
            .values_list(*part.keys, *(f"sum_{v}" for v in part.values))
        )
        if "amount" in part.values:  # a sum of money: the ORM reads it as Decimal
            found = [tuple(r) for r in stored]
        else:  # counts: as the driver gives them (100,000 times to won: 60 ms less)
            with connection.cursor() as cursor:
                cursor.execute(*stored.query.sql_with_params())
                found = cursor.fetchall()
        return found + [tuple(r) for r in part.query(self.rest)]


def _sum(column: str):
    """A sum of counts as a whole number: PostgreSQL's SUM of bigint is numeric, which the
    driver reads as Decimal (the 100,000 times to won took 350 ms to read so)."""
    if column == "amount":
        return Sum(column)
    return Cast(Sum(column), BigIntegerField())


def attach(leads: QuerySet[Lead], user, filters: Filters) -> Plan | None:
    """Let the reports over `leads` (the leads `user` sees that `filters` choose) read the
    stored months they cover whole (`queries.part_rows`). None: they read the database —
    another filter than period and team, a viewer who sees only some of the leads, no
    whole month stored and unchanged."""
    if filters.channel or filters.rep or filters.industry or filters.region or filters.grade:
        return None
    if not sees_every_lead(user, team=filters.team):
        return None
    months = {  # whole months within the period
        m
        for m in RollupMonth.objects.values_list("month", flat=True)
        if (not filters.since or m >= filters.since)
        and (not filters.until or month_after(m) - timedelta(days=1) <= filters.until)
    }
    marked = StaleDay.objects.values_list("day", flat=True).distinct()
    months -= months_of_days(marked)
    if not months:
        return None
    plan = Plan(filters.team or 0, sorted(months), leads.filter(_outside(months)))
    leads._rollup = plan
    return plan
