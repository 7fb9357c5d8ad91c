"""Conversion analytics (R4.1–R4.6): every report reads the leads a user may see
(`visible_leads`), narrowed by the same filters, and is computed from history — stage
changes, assignments, follow-up records, review verdicts — not from where leads stand now.

The funnel (R4.1). A lead has *reached* a stage when its history has a move into that
stage or a later one (a lead that went from 需求明确 straight to 商务谈判 passed 方案对比), so
the counts never rise along the funnel; `Lead.furthest`, raised with every StageChange
written, holds the furthest rank, so the funnel is one pass over the leads. It *dropped out* at the furthest stage it reached
when it ended 无效 (invalid) or went back to the pool (stalled); the rest are won or still
open there.

Worked example: three leads — A: entered → verified → … → 成交; B: entered → verified →
assigned → 初步接触 → 无效; C: entered → verified and waiting. Reached: 线索 3, 核对通过 3,
已分配 2, 初步接触 2, 需求明确 1, …, 成交 1; conversion 已分配/核对通过 = 2/3; dropped at
初步接触: 1 (invalid); open at 核对通过: 1.
"""

import threading
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

from django.db import connections
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    F,
    FloatField,
    Func,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    StrIndex,
    Substr,
    TruncWeek,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import User
from leadflow.assignment.models import Assignment
from leadflow.followups.models import FollowUp, ReviewItem, Tally, Task
from leadflow.leads.models import FUNNEL_STEPS, Channel, Lead, StageChange, Status, outcome
from leadflow.leads.models import WORKING_STATUSES as WORKING
from leadflow.leads.queries import (
    WAITING_ON,
    LeadFilter,
    answered_late,
    day_start,
    filter_leads,
    still_waiting,
    visible_leads,
)

from . import stats
from .models import ChannelCost

S = Status


@dataclass(frozen=True)
class Filters:
    """The filters every report takes (R4.1): acquisition period, channel (a top-level
    channel includes its sub-channels), team, rep, industry, region, grade."""

    since: date | None = None
    until: date | None = None  # inclusive
    channel: str = ""
    team: int | None = None
    rep: int | None = None
    industry: int | None = None
    region: str = ""
    grade: str = ""

    def apply(self, leads: QuerySet[Lead]) -> QuerySet[Lead]:
        """The lead list's own filter (`leads.queries.filter_leads`): a number and the list
        it drills down to count the same leads by construction."""
        return filter_leads(leads, self.as_lead_filter())

    def visible_to(self, user) -> QuerySet[Lead]:
        """The leads `user` may see (R5.1) that these filters choose — the team's through
        `visible_leads`, which spares a team's manager the visibility condition — with the
        stored months they cover whole, for the reports to read (`rollups.attach`)."""
        from .rollups import attach  # it reads this module's parts

        leads = replace(self, team=None).apply(visible_leads(user, team=self.team))
        attach(leads, user, self)
        return leads

    def as_lead_filter(self) -> LeadFilter:
        return LeadFilter(
            since=self.since,
            until=self.until,
            channel=self.channel,
            team=self.team,
            owner=self.rep,
            industry=self.industry,
            region=self.region,
            grade=self.grade,
        )


@dataclass
class Step:
    rank: int
    label: str
    reached: int = 0
    conversion: float | None = None  # reached here ÷ reached at the step before
    invalid: int = 0  # dropped out here: ended 无效
    stalled: int = 0  # dropped out here: back in the pool
    open: int = 0  # still open with this as the furthest stage
    won: int = 0

    @property
    def dropped(self) -> int:
        return self.invalid + self.stalled


@dataclass
class Funnel:
    cohort: date | None  # the acquisition month; None: all together
    steps: list[Step] = field(default_factory=list)

    @property
    def leads(self) -> int:
        return self.steps[0].reached if self.steps else 0


def funnel(leads: QuerySet[Lead], *, by_month: bool = False) -> list[Funnel]:
    """The funnel of `leads` (R4.1): one for all of them, or one per acquisition month."""
    grouped: dict = defaultdict(list)
    if not by_month:
        counts = leads.annotate(top=F("furthest")).order_by().values("top", "status")
        grouped[None] = list(counts.annotate(n=Count("pk")))
        return [_funnel(None, grouped[None])]  # one, even over no leads
    for cohort, top, status, n in part_rows("cohorts", leads):
        grouped[as_date(cohort)].append({"top": top, "status": status, "n": n})
    return [_funnel(cohort, grouped[cohort]) for cohort in sorted(grouped)]


def together(funnels: list[Funnel]) -> Funnel:
    """The cohorts' funnels as one (the same as counting all their leads at once)."""
    steps = [Step(rank, str(label)) for rank, _status, label in FUNNEL_STEPS]
    for f in funnels:
        for total, step in zip(steps, f.steps, strict=True):
            for name in ("reached", "invalid", "stalled", "open", "won"):
                setattr(total, name, getattr(total, name) + getattr(step, name))
    for before, step in pairwise(steps):
        step.conversion = step.reached / before.reached if before.reached else None
    return Funnel(None, steps)


def _funnel(cohort, rows: list[dict]) -> Funnel:
    steps = [Step(rank, str(label)) for rank, _status, label in FUNNEL_STEPS]
    for row in rows:
        top, status, n = row["top"], row["status"], row["n"]
        for step in steps[: top + 1]:
            step.reached += n
        here = steps[top]
        ended = outcome(status)
        setattr(here, ended, getattr(here, ended) + n)
    for before, step in pairwise(steps):
        step.conversion = step.reached / before.reached if before.reached else None
    return Funnel(cohort, steps)


# --- channels (R4.2) ---------------------------------------------------------------------------


@dataclass
class ChannelRow:
    code: str
    name: str
    leads: int
    valid: int  # verified: passed sales support's check
    won: int
    won_amount: Decimal
    cost: Decimal | None  # None: no cost entered for the period

    @property
    def valid_rate(self) -> float | None:
        return self.valid / self.leads if self.leads else None

    @property
    def conversion(self) -> float | None:
        return self.won / self.leads if self.leads else None

    @property
    def cost_per_lead(self) -> Decimal | None:
        return _ratio(self.cost, self.leads)

    @property
    def cost_per_won(self) -> Decimal | None:
        return _ratio(self.cost, self.won)

    @property
    def roi(self) -> float | None:
        """(won amount − cost) ÷ cost."""
        if not self.cost:
            return None
        return float((self.won_amount - self.cost) / self.cost)


def _ratio(cost: Decimal | None, n: int) -> Decimal | None:
    if cost is None or not n:
        return None
    return (cost / n).quantize(Decimal("0.01"))


def channels(
    leads: QuerySet[Lead], *, filters: Filters | None = None, top_level: bool = True
) -> list[ChannelRow]:
    """Per channel (top-level with its sub-channels, or each channel): leads, valid rate,
    conversion, won amount, and from the channel costs of the period cost per lead, per won
    deal and ROI (R4.2). Largest first."""
    tree = {c.pk: (c.parent_id or c.pk) if top_level else c.pk for c in Channel.objects.all()}
    found: dict[int, dict] = {}
    for channel, n, valid, won, amount in part_rows("channels", leads):
        r = found.setdefault(tree[channel], {"n": 0, "valid": 0, "won": 0, "amount": None})
        r["n"], r["valid"], r["won"] = r["n"] + n, r["valid"] + valid, r["won"] + won
        if amount is not None:  # stored months keep sums as text
            r["amount"] = (r["amount"] or Decimal(0)) + Decimal(amount)
    names = {c.pk: c for c in Channel.objects.filter(pk__in=found)}
    costs = _costs(set(found), filters or Filters(), top_level)
    result = [
        ChannelRow(
            code=names[pk].code,
            name=str(names[pk]),
            leads=r["n"],
            valid=r["valid"],
            won=r["won"],
            won_amount=r["amount"] or Decimal(0),
            cost=costs.get(pk),
        )
        for pk, r in found.items()
    ]
    return sorted(result, key=lambda r: (-r.leads, r.code))


def _costs(groups: set[int], filters: Filters, top_level: bool) -> dict[int, Decimal]:
    rows = ChannelCost.objects.all()
    if filters.since:
        rows = rows.filter(month__gte=filters.since.replace(day=1))
    if filters.until:
        rows = rows.filter(month__lte=filters.until)
    group = Coalesce("channel__parent_id", "channel_id") if top_level else F("channel_id")
    totals = (
        rows.annotate(group=group)
        .filter(group__in=groups)
        .values("group")
        .annotate(total=Sum("amount"))
    )
    return {r["group"]: r["total"] for r in totals.order_by()}


# --- sales cycle (R4.3) ------------------------------------------------------------------------

DAY = 86400.0
CURVE_POINTS = 60  # a won-by-day curve keeps at most this many points


@dataclass
class Cycle:
    to_first_contact: stats.Summary  # hours from acquisition to the first contact
    to_won: stats.Summary  # days from acquisition to won (won leads)
    to_won_by_channel: dict[str, stats.Summary]
    in_stage: dict[str, stats.Summary]  # days spent in each stage, by stays that ended
    still_in_stage: dict[str, int]  # stays not ended yet (open leads there now)
    won_curve: dict[str, list[tuple[float, float]]]  # channel → [(day, share won by then)]


WORKED_STAGES = (S.UNASSIGNED, S.ASSIGNED, S.CONTACTING, S.QUALIFIED, S.EVALUATING, S.NEGOTIATING)


class Seconds(Func):
    """`end − start` in seconds, computed by the database (both are datetimes). A float:
    PostgreSQL's EXTRACT gives numeric, twice as slow to compute as date_part's double
    (stays in a stage, 640,000 stage changes: 307 → 155 ms) and read as Decimal."""

    output_field = FloatField()
    arg_joiner = " - "
    template = "date_part('epoch', %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class Nearest(Func):
    """A number rounded to the nearest whole one, as a float. (Django's Round casts to
    numeric on PostgreSQL, which made a histogram's GROUP BY sort on disk.)"""

    output_field = FloatField()
    template = "FLOOR(%(expressions)s + 0.5)"

    def as_sqlite(self, compiler, connection, **extra):  # FLOOR is Python there: ROUND is not
        return super().as_sql(compiler, connection, template="ROUND(%(expressions)s)", **extra)


FEW = 20_000  # a lead set up to this size is sent to the child tables as its ids


def lead_span(leads: QuerySet[Lead]) -> tuple[int, int] | None:
    """The smallest and largest id of `leads` (None: no leads), for `of_leads`; when they
    are few (`FEW`), their ids (`lead_ids`); when many, whether they are every lead in that
    range (`whole_span`). Kept on the queryset object: a dashboard hands the same one to
    every report, and each asked (four times 20–30 ms on 1,000,000 leads). A filtered copy
    is another object and asks anew."""
    if (known := leads.__dict__.get("_lead_span", ...)) is not ...:
        return known
    # id + 0: PostgreSQL would otherwise walk the primary key from its end until a row
    # matched the period — most of the table — instead of reading the period's rows
    some = F("pk") + 0
    span = leads.order_by().aggregate(lo=Min(some), hi=Max(some), n=Count("pk"))
    leads._lead_span = None if span["lo"] is None else (span["lo"], span["hi"])
    leads._lead_ids, leads._whole_span = None, False
    if leads._lead_span and span["n"] <= FEW:
        leads._lead_ids = list(leads.order_by().values_list("pk", flat=True))
    elif leads._lead_span and leads.query.has_filters() and _dense(span):
        # as many leads as the table holds in the range: the range alone chooses them
        every = leads.model._base_manager.using(leads.db)
        leads._whole_span = every.filter(pk__range=leads._lead_span).count() == span["n"]
    return leads._lead_span


def _dense(span: dict) -> bool:
    """Whether leads fill at least half their id range. A set sparse in its range — a team's
    over two years — cannot be every lead there unless most ids were deleted: not worth a
    count that would read the whole table."""
    return 2 * span["n"] > span["hi"] - span["lo"]


def whole_span(leads: QuerySet[Lead]) -> bool:
    """Whether `leads` are many and every lead in their id range (`lead_span`): the last 90
    days of everyone's leads, as ids follow acquisition — unless older leads were imported
    since, or the filter chose some of the period's."""
    lead_span(leads)
    return leads._whole_span


def lead_ids(leads: QuerySet[Lead]) -> list[int] | None:
    """The ids of `leads` when there are at most `FEW` of them (None: more)."""
    lead_span(leads)
    return leads._lead_ids


_KEEPING = threading.Lock()
_computing: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # queryset → its lock


def _kept(leads: QuerySet[Lead], name: str, compute):
    """`compute()`, once per queryset object: kept on it as `lead_span` is (a dashboard
    hands every report the same one; a filtered copy is another object and asks anew).
    Reports running side by side (`parallel.together`) ask at once: one computes, the
    other waits for its answer."""
    if (known := leads.__dict__.get(name)) is not None:
        return known
    with _KEEPING:
        lock = _computing.setdefault(leads, threading.Lock())
    with lock:
        if (known := leads.__dict__.get(name)) is None:
            known = leads.__dict__[name] = compute()
    return known


def assignments(leads: QuerySet[Lead]) -> dict[int, dict[str, int]]:
    """Per rep, the assignments of `leads` (`_by_rep`), for the reps table (R4.5) and the
    confirmations of the discipline report (R4.4) in one pass (`_kept`)."""
    return _kept(leads, "_assignments", lambda: _named(part_rows("placed", leads), PLACED))


def tallies(leads: QuerySet[Lead]) -> dict[int, dict[str, int]]:
    """Per author, the follow-up tallies of `leads` summed (`Tally.COUNTS`, `by`) and the
    leads they made the first contact with (`leads_contacted`), for the discipline report
    (R4.4) and the reps table (R4.5) in one pass (`_kept`)."""
    return _kept(leads, "_tallies", lambda: _named(part_rows("tallied", leads), TALLIED))


def _named(rows: list[tuple], names: tuple[str, ...]) -> dict[int, dict[str, int]]:
    """(who, *counts) rows — several per person from stored months — as person → counts."""
    found: dict[int, dict[str, int]] = {}
    for who, *counts in rows:
        mine = found.setdefault(who, dict.fromkeys(names, 0))
        for name, n in zip(names, counts, strict=True):
            mine[name] += n or 0
    return found


PLACED = ("n", "accepted", "declined", "lapsed", "offers", "on", "late", "offers_lapsed")
TALLIED = ("leads_contacted", *Tally.COUNTS)


def _placed_counts() -> dict:
    """Assignments placed (any kind: automatic, manual, claimed) and how they ended; the
    offers among them (not claims) answered by the deadline, late, or lapsed."""
    A = Assignment
    offer = ~Q(kind=A.Kind.CLAIM)
    answered = offer & Q(state__in=(A.State.ACCEPTED, A.State.DECLINED), accept_due__isnull=False)
    return {
        "n": Count("pk"),
        "accepted": Count("pk", filter=Q(state=A.State.ACCEPTED)),
        "declined": Count("pk", filter=Q(state=A.State.DECLINED)),
        "lapsed": Count("pk", filter=Q(state=A.State.EXPIRED)),
        "offers": Count("pk", filter=offer),
        "on": Count("pk", filter=answered & Q(answered_at__lte=F("accept_due"))),
        "late": Count("pk", filter=answered & Q(answered_at__gt=F("accept_due"))),
        "offers_lapsed": Count("pk", filter=offer & Q(state=A.State.EXPIRED)),
    }


def _by_rep(rows: QuerySet) -> dict[int, dict[str, int]]:
    """Assignments per rep (`_placed_counts`)."""
    return {r.pop("rep"): r for r in rows.order_by().values("rep").annotate(**_placed_counts())}


def of_leads(rows: QuerySet, leads: QuerySet[Lead]) -> QuerySet:
    """`rows` (follow-ups, stage changes, assignments …) of `leads`.

    A few leads (a team's, a rep's) go as their ids, one array parameter (`__among`): the
    database looks each up in the rows' lead index instead of evaluating the lead filter
    again in every report (a manager's tallies 67 → 27 ms, stage changes 114 → 44 ms). Many
    (everyone's last 90 days) go as the lead filter itself, with the range of their ids
    (`lead_span`): always true, and as leads arrive in order (ids follow acquisition), it
    lets the database read only that stretch of the rows' lead index instead of the whole
    table; an array of 120,000 ids would be slower (tallies 65 → 284 ms). When they are
    every lead in that range (`whole_span`: everyone's last 90 days), the range alone, with
    no lead filter to join (an administrator's tallies 96 → 40 ms, late follow-ups 152 →
    63 ms, assignments 86 → 38 ms). All the leads there are: all the rows, with no lead
    filter to apply to millions of them."""
    if not leads.query.has_filters():  # every lead (an administrator, all time): every row
        return rows
    if (span := lead_span(leads)) is None:
        return rows.none()
    if (ids := lead_ids(leads)) is not None:
        return rows.filter(lead_id__among=ids)
    if whole_span(leads):
        return rows.filter(lead_id__gte=span[0], lead_id__lte=span[1])
    return rows.filter(lead__in=leads, lead_id__gte=span[0], lead_id__lte=span[1])


class LocalDate(Func):
    """The local date of a datetime (Shanghai: the site's zone), or its month's first day.
    PostgreSQL truncates AT TIME ZONE; on SQLite Django's own truncation calls Python for
    every row, so this shifts by the zone's offset in SQL instead (Asia/Shanghai keeps one
    offset all year). Read it with `as_date`."""

    output_field = CharField()

    def __init__(self, expression, *, month: bool = False):
        self.month = month
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        zone = timezone.get_default_timezone_name()
        if self.month:
            return f"(date_trunc('month', {sql} AT TIME ZONE %s))::date", [*params, zone]
        # a cast, not date_trunc('day'): late records by day, 145,000 rows: 141 → 80 ms
        return f"({sql} AT TIME ZONE %s)::date", [*params, zone]

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        offset = timezone.now().astimezone(timezone.get_default_timezone()).utcoffset()
        minutes = int(offset.total_seconds() // 60)
        pattern = "%%Y-%%m-01" if self.month else "%%Y-%%m-%%d"
        return f"strftime('{pattern}', {sql}, '{minutes:+d} minutes')", params


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def cycle(leads: QuerySet[Lead], *, now: datetime, top_level: bool = True) -> Cycle:
    """How long things take (R4.3): to first contact, to won, in each stage — median,
    quartiles, p90 — and, per channel, the share of leads won by each day since acquisition
    (Kaplan–Meier, `stats.kaplan_meier`): every lead not won is followed until `now`, so a
    lead acquired last week counts for one week only instead of as a week-old failure, and
    a lead closed without a win stays among the not-won.

    The database does the counting: times to first contact to the minute and stays in a
    stage to the hour, as (value, how many) rows; the won leads' times to won exact to the
    second; the others by the day they were acquired, followed for the whole days from
    that day to today's."""
    minutes = part_rows("contact", leads)
    to_won: list[tuple[float, int]] = []
    won_by_channel: dict[str, list[tuple[float, int]]] = defaultdict(list)
    observations: dict[str, list[tuple]] = defaultdict(list)
    won, waiting = part_rows("won", leads), part_rows("waiting", leads)
    code_of = _channel_codes(top_level)  # read after the leads: it knows all their channels
    for channel, days, n in won:  # to the second
        code = code_of[channel]
        to_won.append((days, n))
        won_by_channel[code].append((days, n))
        observations[code].append((max(days, 0.0), True, n))
    today = timezone.localdate(now)
    for channel, day, n in waiting:  # followed until today: closed without a win = not won
        days = float(max((today - as_date(day)).days, 0))
        observations[code_of[channel]].append((days, False, n))
    in_stage, still = _stays(leads)
    return Cycle(
        to_first_contact=stats.summarize_counts((m / 60, n) for m, n in minutes),
        to_won=stats.summarize_counts(to_won),
        to_won_by_channel={c: stats.summarize_counts(v) for c, v in sorted(won_by_channel.items())},
        in_stage=in_stage,
        still_in_stage=still,
        won_curve={c: _thin(stats.kaplan_meier(o)) for c, o in sorted(observations.items())},
    )


def _channel_codes(top_level: bool) -> dict[int, str]:
    """Channel id → the code its leads count under: its root's (`Channel.root`) or, with
    `top_level` False, its own. Grouping the leads by channel id and folding here
    spares each query two joins (the not-won histogram: 126 → 62 ms on 123,000 leads)."""
    return {
        c.pk: (c.root.code if top_level else c.code)
        for c in Channel.objects.select_related("parent")
    }


def _stays(leads: QuerySet[Lead]) -> tuple[dict[str, stats.Summary], dict[str, int]]:
    """Days spent in each worked stage by the stays that ended (each StageChange keeps when
    its lead entered the status it left), to the hour; and the leads there now."""
    hours: dict[str, list[tuple[float, int]]] = {str(s): [] for s in WORKED_STAGES}
    for status, h, n in part_rows("stay_hours", leads):
        hours[status].append((h / 24, n))
    still = dict.fromkeys(hours, 0)
    for status, n in part_rows("still", leads):
        still[status] += n
    return {s: stats.summarize_counts(v) for s, v in hours.items()}, still


def _thin(curve: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(curve) <= CURVE_POINTS:
        return [(round(t, 2), round(p, 4)) for t, p in curve]
    step = len(curve) / (CURVE_POINTS - 1)
    picked = [curve[int(i * step)] for i in range(CURVE_POINTS - 1)] + [curve[-1]]
    return [(round(t, 2), round(p, 4)) for t, p in picked]


# --- reps (R4.5) -------------------------------------------------------------------------------


@dataclass
class RepRow:
    rep: User
    assigned: int  # leads placed with the rep (automatic, manual, claimed)
    accepted: int
    declined: int
    lapsed: int  # confirmations left to expire
    contacted: int  # leads the rep made the first contact on
    owned: int  # leads the rep owns now
    won: int
    won_amount: Decimal
    response_hours: float | None  # median, assignment → the rep's answer
    reviewed: int  # grades of the rep's the weekly review looked at
    confirmed: int
    by_grade: dict[str, tuple[int, int]]  # grade → (owned, won)

    @property
    def win_rate(self) -> float | None:
        """Won ÷ leads the rep owns (worked, won or closed)."""
        return self.won / self.owned if self.owned else None

    @property
    def grading_accuracy(self) -> float | None:
        return self.confirmed / self.reviewed if self.reviewed else None


def reps(leads: QuerySet[Lead]) -> list[RepRow]:
    """Per rep, over `leads` (R4.5): assigned, accepted, contacted, won, win rate, response
    time, grading accuracy from the weekly review, and conversion by grade. Most won first."""
    answered = of_leads(Assignment.objects.filter(answered_at__isnull=False), leads).exclude(
        kind=Assignment.Kind.CLAIM
    )
    response = _median_per_rep(answered, Nearest(Seconds("answered_at", "at") / 60.0))
    placed = assignments(leads)  # after: the discipline report, alongside, may have them
    contacted = {by: t["leads_contacted"] for by, t in tallies(leads).items()}
    owned: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    amounts: dict[int, Decimal] = defaultdict(Decimal)
    for owner, grade, n, won, amount in part_rows("owned", leads):
        if owner is None:
            continue
        mine = owned[owner][grade or ""]
        mine[0], mine[1] = mine[0] + n, mine[1] + won
        amounts[owner] += Decimal(amount or 0)  # stored months keep sums as text
    reviews = {
        r["rep"]: r
        for r in ReviewItem.objects.filter(lead__in=leads)
        .order_by()
        .values("rep")
        .annotate(n=Count("pk"), confirmed=Count("pk", filter=Q(verdict="confirmed")))
    }
    ids = set(placed) | set(owned) | set(contacted)
    people = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    result = []
    for pk in ids:
        grades = owned.get(pk, {})
        result.append(
            RepRow(
                rep=people[pk],
                assigned=placed.get(pk, {}).get("n", 0),
                accepted=placed.get(pk, {}).get("accepted", 0),
                declined=placed.get(pk, {}).get("declined", 0),
                lapsed=placed.get(pk, {}).get("lapsed", 0),
                contacted=contacted.get(pk, 0),
                owned=sum(n for n, _w in grades.values()),
                won=sum(w for _n, w in grades.values()),
                won_amount=amounts.get(pk, Decimal(0)),
                response_hours=None if response.get(pk) is None else response[pk] / 60,
                reviewed=reviews.get(pk, {}).get("n", 0),
                confirmed=reviews.get(pk, {}).get("confirmed", 0),
                by_grade={g: (n, w) for g, (n, w) in sorted(grades.items())},
            )
        )
    return sorted(result, key=lambda r: (-r.won, -r.owned, r.rep.username))


class Median(Aggregate):
    """The median, interpolated between the two middle values (`stats.quantile`)."""

    function = "percentile_cont"
    name = "Median"
    output_field = FloatField()
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


def _median_per_rep(rows: QuerySet, value) -> dict[int, float]:
    """Per rep, the median of `value` over `rows`. PostgreSQL computes it; SQLite, which
    has no percentile, gives (value, how many) per rep for `stats.summarize_counts`. (An
    administrator's 90 days: 88,000 such rows, read and folded in 230 ms, against one row
    per rep.)"""
    if connections[rows.db].vendor == "postgresql":
        return dict(rows.order_by().values("rep").annotate(m=Median(value)).values_list("rep", "m"))
    counts: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for rep_id, v, n in (
        rows.annotate(v=value)
        .order_by()
        .values("rep", "v")
        .annotate(n=Count("*"))
        .values_list("rep", "v", "n")
    ):
        counts[rep_id].append((v, n))
    return {rep_id: stats.summarize_counts(c).median for rep_id, c in counts.items()}


# --- losses (R4.6) -----------------------------------------------------------------------------


@dataclass
class Losses:
    reasons: list[tuple[str, int]]  # 无效 reason → leads, most first
    by_stage: dict[str, int]  # the furthest stage of the leads lost there
    competitors: list[tuple[str, int]]  # competitor named in follow-ups → leads, most first


def losses(leads: QuerySet[Lead], *, during: tuple[datetime, datetime] | None = None) -> Losses:
    """Why leads were lost (R4.6): the 无效 reasons as recorded on the leads (the listed
    reason chosen, or an import's own words), where in the funnel, and the competitors named
    in follow-up records. `during`: the leads that turned 无效 in it, and the competitors
    named in the follow-ups made in it."""
    if during:
        turned = StageChange.objects.filter(
            to_status=S.INVALID, at__gte=during[0], at__lt=during[1]
        )
        lost = list(_reasons(leads.filter(pk__in=turned.values("lead"))))
        rivals = list(_rivals(leads, during=during))
    else:
        lost, rivals = part_rows("reasons", leads), part_rows("rivals", leads)
    reasons: dict[str, int] = defaultdict(int)
    stages: dict[str, int] = defaultdict(int)
    rank_label = {rank: str(label) for rank, _s, label in FUNNEL_STEPS}
    for text, top, n in lost:
        reasons[text or str(_("未说明"))] += n
        stages[rank_label[top]] += n
    named: dict[str, int] = defaultdict(int)
    for name, n in rivals:
        named[" ".join(name.split())] += n
    return Losses(
        reasons=sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])),
        by_stage=dict(stages),
        competitors=sorted(named.items(), key=lambda kv: (-kv[1], kv[0])),
    )


# --- follow-up discipline (R4.4) ---------------------------------------------------------------


@dataclass
class Kept:
    """How often a rule was kept: on time, late (done after the deadline), missed (not done
    and past it)."""

    on_time: int = 0
    late: int = 0
    missed: int = 0

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.missed

    @property
    def rate(self) -> float | None:
        return self.on_time / self.total if self.total else None

    def add(self, other: "Kept") -> None:
        self.on_time += other.on_time
        self.late += other.late
        self.missed += other.missed


@dataclass
class DisciplineRow:
    rep: User | None
    team: str
    first_contact: Kept = field(default_factory=Kept)  # first contacts by their deadline
    cadence: Kept = field(default_factory=Kept)  # follow-ups within the grade's cadence
    records: Kept = field(default_factory=Kept)  # records written within 1 h of the contact
    confirmations: Kept = field(default_factory=Kept)  # answered within the confirm deadline
    overdue_now: int = 0  # first contacts, follow-ups and next actions overdue right now


def discipline(
    leads: QuerySet[Lead], *, now: datetime, during: tuple[datetime, datetime] | None = None
) -> list[DisciplineRow]:
    """Per rep (R4.4): first contacts on time, cadence kept, records within 1 h,
    confirmations within the deadline, and what is overdue right now.

    Each follow-up keeps the deadline it answered (`FollowUp.due`: the first-contact
    deadline for the first, the grade's cadence deadline after), so keeping the rhythm is
    one count per rep. A deadline passed with no contact yet is *missed*, counted for the
    lead's owner. `during` (the weekly review's week) counts the follow-ups made, the
    assignments offered and the deadlines that fell in it, instead of every one."""
    rows: dict[int, DisciplineRow] = {}

    def row(rep_id: int) -> DisciplineRow:
        if rep_id not in rows:
            rows[rep_id] = DisciplineRow(rep=None, team="")  # who: filled in at the end
        return rows[rep_id]

    if during:  # the week's records themselves, counted as their tallies count them
        made = (
            of_leads(FollowUp.objects.all(), leads)
            .filter(contact_at__gte=during[0], contact_at__lt=during[1])
            .order_by()
            .values("by")
            .annotate(**Tally.counts())
        )
    else:  # every record: their tallies, a row per lead and author instead of ten
        made = [{"by": by, **counts} for by, counts in tallies(leads).items()]
    for r in made:
        mine = row(r["by"])
        mine.first_contact.on_time, mine.first_contact.late = r["first_on"], r["first_late"]
        mine.cadence.on_time, mine.cadence.late = r["cadence_on"], r["cadence_late"]
        mine.records.on_time = r["made"] - r["records_late"]
        mine.records.late = r["records_late"]
    working = leads.filter(status__in=WORKING, owner__isnull=False)
    overdue = Q(first_contact_at=None, first_contact_due__lt=now) | Q(next_followup_due__lt=now)
    first_missed = Q(first_contact_at=None, first_contact_due__lt=now)
    cadence_missed = Q(next_followup_due__lt=now)
    if during:
        first_missed &= Q(first_contact_due__gte=during[0], first_contact_due__lt=during[1])
        cadence_missed &= Q(next_followup_due__gte=during[0], next_followup_due__lt=during[1])
    for r in (  # one pass: deadlines missed (in `during`), and everything overdue now
        working.filter(overdue)
        .order_by()
        .values("owner")
        .annotate(
            first=Count("pk", filter=first_missed),
            cadence=Count("pk", filter=cadence_missed),
            overdue=Count("pk"),
        )
    ):
        row(r["owner"]).first_contact.missed = r["first"]
        row(r["owner"]).cadence.missed = r["cadence"]
        row(r["owner"]).overdue_now += r["overdue"]
    if during:
        placed = _by_rep(
            of_leads(Assignment.objects.all(), leads).filter(at__gte=during[0], at__lt=during[1])
        )
    else:
        placed = assignments(leads)
    for rep_id, r in placed.items():
        if r["offers"]:
            kept_ = row(rep_id).confirmations
            kept_.on_time, kept_.late, kept_.missed = r["on"], r["late"], r["offers_lapsed"]
    late_tasks = Task.objects.filter(
        lead__in=leads.filter(status__in=WORKING), done_at=None, due__lt=now
    )
    for rep_id, n in (
        late_tasks.order_by().values("owner").annotate(n=Count("pk")).values_list("owner", "n")
    ):
        row(rep_id).overdue_now += n
    rows.pop(None, None)
    for rep in User.objects.select_related("team").filter(pk__in=rows):
        rows[rep.pk].rep, rows[rep.pk].team = rep, str(rep.team or "")
    return sorted(rows.values(), key=lambda r: (r.team, r.rep.username))


def sla_misses(
    leads: QuerySet[Lead], *, now: datetime, since: date, until: date
) -> dict[tuple[int, date], int]:
    """Deadlines missed per rep and day, for the heat map (R4.4): follow-ups made after the
    deadline they answered (counted on the deadline's day, for whoever made them) and
    deadlines passed with no contact yet (for the owner), from `since` to `until`."""
    start, end = day_start(since), min(day_start(until + timedelta(days=1)), now)
    misses: dict[tuple[int, date], int] = defaultdict(int)
    late = of_leads(FollowUp.objects.filter(answered_late(start, end)), leads)
    for rep_id, day, n in (
        late.annotate(day=LocalDate("due"))
        .order_by()
        .values("by", "day")
        .annotate(n=Count("*"))  # not the id: the index of late records covers the rest
        .values_list("by", "day", "n")
    ):
        misses[(rep_id, as_date(day))] += n
    for field_, pending in WAITING_ON:
        for rep_id, day, n in (
            leads.filter(still_waiting(field_, pending, start, end), owner__isnull=False)
            .annotate(day=LocalDate(field_))
            .order_by()
            .values("owner", "day")
            .annotate(n=Count("pk"))
            .values_list("owner", "day", "n")
        ):
            misses[(rep_id, as_date(day))] += n
    return dict(misses)


def by_team(rows: list[DisciplineRow]) -> dict[str, DisciplineRow]:
    """The discipline rows summed per team."""
    teams: dict[str, DisciplineRow] = {}
    for r in rows:
        total = teams.setdefault(r.team, DisciplineRow(r.rep, r.team))
        if total is not r:
            for name in ("first_contact", "cadence", "records", "confirmations"):
                getattr(total, name).add(getattr(r, name))
            total.overdue_now += r.overdue_now
    return teams


# --- a week's activity (R4.7) ------------------------------------------------------------------


@dataclass
class ActivityRow:
    rep: User
    offered: int = 0  # assignments offered to the rep in the period
    accepted: int = 0
    declined: int = 0
    first_contacts: int = 0
    followups: int = 0
    won: int = 0
    won_amount: Decimal = Decimal(0)


def activity(leads: QuerySet[Lead], *, during: tuple[datetime, datetime]) -> list[ActivityRow]:
    """What each rep did with `leads` in the period (the weekly review, R4.7): assignments
    offered and answered, first contacts and follow-ups made, deals won (by the owner, on
    the day the lead moved to 成交). Most won first."""
    start, end = during
    A = Assignment.State
    rows: dict[int, ActivityRow] = {}

    def row(pk: int) -> ActivityRow:
        return rows.setdefault(pk, ActivityRow(rep=None))

    offered = Assignment.objects.filter(lead__in=leads, at__gte=start, at__lt=end)
    for r in (
        offered.exclude(kind=Assignment.Kind.CLAIM)
        .order_by()
        .values("rep")
        .annotate(
            n=Count("pk"),
            accepted=Count("pk", filter=Q(state=A.ACCEPTED)),
            declined=Count("pk", filter=Q(state=A.DECLINED)),
        )
    ):
        mine = row(r["rep"])
        mine.offered, mine.accepted, mine.declined = r["n"], r["accepted"], r["declined"]
    made = FollowUp.objects.filter(lead__in=leads, contact_at__gte=start, contact_at__lt=end)
    for r in (
        made.order_by()
        .values("by")
        .annotate(n=Count("pk"), first=Count("pk", filter=Q(first=True)))
    ):
        row(r["by"]).followups, row(r["by"]).first_contacts = r["n"], r["first"]
    won = StageChange.objects.filter(lead__in=leads, to_status=S.WON, at__gte=start, at__lt=end)
    for r in (
        Lead.objects.filter(pk__in=won.values("lead"), status=S.WON, owner__isnull=False)
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"), amount=Sum("won_amount"))
    ):
        row(r["owner"]).won, row(r["owner"]).won_amount = r["n"], r["amount"] or Decimal(0)
    for rep in User.objects.filter(pk__in=rows):
        rows[rep.pk].rep = rep
    return sorted(rows.values(), key=lambda r: (-r.won, -r.followups, r.rep.username))


def moved(leads: QuerySet[Lead], *, during: tuple[datetime, datetime]) -> dict[str, int]:
    """Leads that moved into each status in the period (each lead once per status)."""
    start, end = during
    return dict(
        StageChange.objects.filter(lead__in=leads, at__gte=start, at__lt=end)
        .order_by()
        .values("to_status")
        .annotate(n=Count("lead", distinct=True))
        .values_list("to_status", "n")
    )


def weekly_trend(leads: QuerySet[Lead], *, weeks: list[date]) -> list[tuple[date, int, int]]:
    """Per week (Mondays given): leads acquired, and deals won (by the day they were won)."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(weeks[0], time(), zone)
    end = datetime.combine(weeks[-1] + timedelta(days=7), time(), zone)
    new = dict(
        leads.filter(acquired_at__gte=start, acquired_at__lt=end)
        .annotate(week=TruncWeek("acquired_at", tzinfo=zone))
        .order_by()
        .values("week")
        .annotate(n=Count("pk"))
        .values_list("week", "n")
    )
    won = dict(
        leads.filter(status=S.WON, won_at__gte=start, won_at__lt=end)
        .annotate(week=TruncWeek("won_at", tzinfo=zone))
        .order_by()
        .values("week")
        .annotate(n=Count("pk"))
        .values_list("week", "n")
    )

    def day(value) -> date:
        return value.date() if isinstance(value, datetime) else value

    new = {day(k): v for k, v in new.items()}
    won = {day(k): v for k, v in won.items()}
    return [(w, new.get(w, 0), won.get(w, 0)) for w in weeks]


# --- parts: what the reports read, as rows that add up across months --------------------------
#
# Each part is a GROUP BY over leads (or their stage changes, follow-ups, assignments,
# tallies): key columns, then counts and sums. Rows of disjoint sets of leads add up key by
# key — a lead is acquired in one month and is in one team — so `rollups` stores each part
# per month and team, and a two-year dashboard adds 24 months of stored rows instead of
# reading 1,000,000 leads and 5,000,000 stage changes again. `by`: the month and team first
# (what `rollups` stores by). A count of distinct leads (`rivals`) adds up for the same
# reason. The reports accumulate what they read: a key can come twice (stored, and the rest).


@dataclass(frozen=True)
class Part:
    """A part's query, and the `Rollup` columns its keys and values are stored in."""

    query: Callable[..., QuerySet]  # (leads, by=False) -> (month, team if by,) *keys, *values
    keys: tuple[str, ...]
    values: tuple[str, ...] = ("n",)


PARTS: dict[str, Part] = {}


def _part(keys: tuple[str, ...], values: tuple[str, ...] = ("n",)):
    def register(query):
        PARTS[query.__name__.lstrip("_")] = Part(query, keys, values)
        return query

    return register


def part_rows(name: str, leads: QuerySet[Lead]) -> list[tuple]:
    """The part's rows over `leads`: from the database, or — when `rollups.attach` found
    stored months for them — those months' stored rows, added up, with the rest's."""
    part = PARTS[name]
    if (plan := leads.__dict__.get("_rollup")) is not None:
        return plan.rows(name, part)
    return [tuple(r) for r in part.query(leads)]


def _by(path: str, by: bool) -> dict:
    if not by:
        return {}
    return {
        "r_month": LocalDate(f"{path}acquired_at", month=True),
        "r_team": Coalesce(f"{path}team_id", 0),
    }


def _grouped(rows: QuerySet, keys: list[str], **counts) -> QuerySet:
    """`rows` grouped by `keys`, as (*keys, *counts) rows; the count of rows by default."""
    counts = counts or {"n": Count("pk")}
    return rows.order_by().values(*keys).annotate(**counts).values_list(*keys, *counts)


@_part(("month", "i", "t"))
def _cohorts(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Leads per acquisition month, furthest stage and status (the funnel, R4.1)."""
    extra = _by("", by)
    rows = leads.annotate(**extra, top=F("furthest"), cohort=LocalDate("acquired_at", month=True))
    return _grouped(rows, [*extra, "cohort", "top", "status"])


@_part(("i",), ("n", "v1", "v2", "amount"))
def _channels(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Per channel: leads, verified, won, won amount (R4.2)."""
    extra = _by("", by)
    return _grouped(
        leads.annotate(**extra),
        [*extra, "channel_id"],
        n=Count("pk"),
        valid=Count("pk", filter=Q(furthest__gte=1)),
        won=Count("pk", filter=Q(status=S.WON)),
        amount=Sum("won_amount", filter=Q(status=S.WON)),
    )


@_part(("x",))
def _contact(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Leads per minute from acquisition to the first contact (R4.3)."""
    extra = _by("", by)
    rows = leads.filter(first_contact_at__isnull=False).annotate(
        **extra, m=Nearest(Seconds("first_contact_at", "acquired_at") / 60.0)
    )
    return _grouped(rows, [*extra, "m"])


WON = Q(status=S.WON, won_at__isnull=False)


@_part(("i", "x"))
def _won(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Won leads per channel and days from acquisition to won, to the second (R4.3)."""
    extra = _by("", by)
    rows = leads.filter(WON).annotate(**extra, d=Seconds("won_at", "acquired_at") / DAY)
    return _grouped(rows, [*extra, "channel_id", "d"])


@_part(("i", "day"))
def _waiting(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Leads not won per channel and day acquired (R4.3: followed until today)."""
    extra = _by("", by)
    rows = leads.exclude(WON).annotate(**extra, day=LocalDate("acquired_at"))
    return _grouped(rows, [*extra, "channel_id", "day"])


@_part(("t", "x"))
def _stay_hours(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Stays in a worked stage that ended, per stage and hours spent (R4.3)."""
    extra = _by("lead__", by)
    stays = StageChange.objects.filter(from_status__in=WORKED_STAGES, entered_at__isnull=False)
    rows = of_leads(stays, leads).annotate(**extra, h=Nearest(Seconds("at", "entered_at") / 3600.0))
    return _grouped(rows, [*extra, "from_status", "h"], n=Count("*"))


@_part(("t",))
def _still(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Leads in each worked stage now (R4.3)."""
    extra = _by("", by)
    return _grouped(leads.filter(status__in=WORKED_STAGES).annotate(**extra), [*extra, "status"])


@_part(("i", "t"), ("n", "v1", "amount"))
def _owned(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Per owner and grade: leads owned, won, won amount (R4.5); leads with no owner under
    None (not a filter: SQLite would read the leads through the owner index)."""
    extra = _by("", by)
    return _grouped(
        leads.annotate(**extra),
        [*extra, "owner", "grade"],
        n=Count("pk"),
        won=Count("pk", filter=Q(status=S.WON)),
        amount=Sum("won_amount", filter=Q(status=S.WON)),
    )


@_part(("t", "i"))
def _reasons(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Invalid leads per reason and furthest stage (R4.6). The reason as recorded on the
    lead: "label：note" (moves), or an import's own words."""
    extra = _by("", by)
    cut = StrIndex("invalid_reason", Value("："))
    reason = Case(
        When(cut__gt=0, then=Substr("invalid_reason", 1, cut - 1)),
        default=F("invalid_reason"),
    )
    rows = leads.filter(status=S.INVALID).annotate(
        **extra, top=F("furthest"), cut=cut, reason=reason
    )
    return _grouped(rows, [*extra, "reason", "top"])


@_part(("t",))
def _rivals(
    leads: QuerySet[Lead], by: bool = False, during: tuple[datetime, datetime] | None = None
) -> QuerySet:
    """Per competitor named in follow-ups, the leads it was named for (R4.6); `during`:
    in the follow-ups made then."""
    extra = _by("lead__", by)
    records = of_leads(FollowUp.objects.exclude(competitor=""), leads)
    if during:
        records = records.filter(contact_at__gte=during[0], contact_at__lt=during[1])
    return _grouped(
        records.annotate(**extra), [*extra, "competitor"], n=Count("lead", distinct=True)
    )


VALUES = ("n", "v1", "v2", "v3", "v4", "v5", "v6", "v7")  # `Rollup`'s count columns


@_part(("i",), VALUES)
def _placed(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Per rep, the assignments of the leads (`_placed_counts`, R4.4 and R4.5)."""
    extra = _by("lead__", by)
    rows = of_leads(Assignment.objects.all(), leads).annotate(**extra)
    return _grouped(rows, [*extra, "rep"], **_placed_counts())


@_part(("i",), VALUES)
def _tallied(leads: QuerySet[Lead], by: bool = False) -> QuerySet:
    """Per author, the leads' follow-up tallies summed and the leads they made the first
    contact with (R4.4 and R4.5)."""
    extra = _by("lead__", by)
    keys = [*extra, "by"]
    return (
        of_leads(Tally.objects.all(), leads)
        .annotate(**extra)
        .order_by()
        .values(*keys)
        # before the sums: the sum named `contacted` would stand for the field in the filter
        .annotate(leads_contacted=Count("pk", filter=Q(contacted__gt=0)))
        .annotate(**{name: Sum(name) for name in Tally.COUNTS})
        .values_list(*keys, *TALLIED)
    )
