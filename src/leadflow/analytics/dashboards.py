"""The dashboards (R4.1–R4.6 on one screen per role): which reports each role sees, over
which leads, and every number with the lead list behind it (its drill-down URL).

A rep sees their own numbers; a manager their teams' (the first one to start with); marketing
the channels; an administrator everything. Every chart's data carries, per point, the URL of
the lead list it counts, built by `drill` from the same filters — so the list opened from a
funnel stage holds exactly the leads the stage counted.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.accounts.models import Role, Team, User
from leadflow.core import parallel
from leadflow.leads.models import Lead

from . import queries
from .queries import Filters

PERIOD_DAYS = 90  # a dashboard opens on the leads acquired in the last 90 days

SECTIONS = {
    "rep": ("kpis", "funnel", "cohorts", "discipline", "heat", "grades"),
    "manager": ("kpis", "funnel", "cohorts", "reps", "discipline", "heat", "cycle", "losses"),
    "marketing": ("kpis", "funnel", "cohorts", "channels", "cycle", "losses"),
}
# an administrator sees every section (conversion by grade in the reps table)
SECTIONS["admin"] = tuple(
    dict.fromkeys(s for shown in SECTIONS.values() for s in shown if s != "grades")
)


# a dashboard's reports, longest first (an administrator's two years: the cycle 0.5 s, the
# reps table 0.3 s, discipline 0.2 s, the heat map 0.1 s, the rest ~10 ms each)
LONGEST = ("cycle", "reps", "discipline", "heat", "months", "funnel", "channels", "losses")


def role_of(user: User) -> str:
    """The dashboard a user gets: the widest of their roles."""
    if user.has_role(Role.ADMIN) or user.is_superuser:
        return "admin"
    if user.has_role(Role.MANAGER):
        return "manager"
    if user.has_role(Role.MARKETING, Role.SUPPORT):
        return "marketing"
    return "rep"


def managed_teams(user: User) -> QuerySet[Team]:
    return Team.objects.filter(manager=user).order_by("name")


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=PERIOD_DAYS - 1), today


def scoped(user: User, filters: Filters) -> tuple[QuerySet[Lead], Filters]:
    """The leads a dashboard counts, and the filters as they apply: a rep's own leads only
    (not the pool's); a manager's teams only (not other teams' leads waiting in the pool)."""
    role = role_of(user)
    if role == "rep":
        filters = replace(filters, rep=user.pk, team=None)
    elif role == "manager":  # one of their teams at a time, so the lead list matches
        teams = list(managed_teams(user).values_list("pk", flat=True))
        if not teams:
            filters = replace(filters, rep=user.pk, team=None)
        elif filters.team not in teams:
            filters = replace(filters, team=teams[0])
    return filters.visible_to(user), filters


def drill(filters: Filters, **extra) -> str:
    """The lead list behind a number: the dashboard's filters (as the list reads them) and
    what the number adds."""
    params = {**filters.as_lead_filter().as_dict(), **{k: str(v) for k, v in extra.items()}}
    query = urlencode({k: v for k, v in params.items() if v != ""})
    return _lead_list(get_script_prefix()) + "?" + query


@lru_cache(maxsize=8)
def _lead_list(prefix: str) -> str:
    return reverse("leads:list")  # thousands of heat-map cells each link to it


@dataclass
class Dashboard:
    role: str
    filters: Filters
    sections: tuple[str, ...]
    kpis: list[dict] = field(default_factory=list)
    charts: dict = field(default_factory=dict)  # what the page's ECharts draw, as JSON
    channels: list = field(default_factory=list)
    cycle: queries.Cycle | None = None
    reps: list = field(default_factory=list)
    discipline: list = field(default_factory=list)
    teams: dict = field(default_factory=dict)
    losses: queries.Losses | None = None
    funnel: queries.Funnel | None = None

    @property
    def grades(self) -> list[tuple[str, int, int]]:
        """Conversion by grade (R4.5): grade, leads owned, won — over the reps shown."""
        totals: dict[str, list[int]] = {}
        for r in self.reps:
            for grade, (owned, won) in r.by_grade.items():
                total = totals.setdefault(grade, [0, 0])
                total[0] += owned
                total[1] += won
        return [(g, n, w) for g, (n, w) in sorted(totals.items(), key=lambda kv: kv[0] or "Z")]


def build(user: User, filters: Filters, *, now: datetime, sections=None) -> Dashboard:
    """Every report the user's role sees, over the leads their filters choose."""
    role = role_of(user)
    leads, filters = scoped(user, filters)
    board = Dashboard(role, filters, tuple(sections or SECTIONS[role]))
    shown = board.sections
    add = board.charts.__setitem__
    if leads.query.has_filters():  # every lead: no report asks
        queries.lead_span(leads)  # asked by every report: once, before they run side by side
    jobs: dict = {}
    if "cohorts" in shown:  # the months, added up for the funnel
        jobs["months"] = partial(queries.funnel, leads, by_month=True)
    elif "funnel" in shown:
        jobs["funnel"] = partial(queries.funnel, leads)
    if "channels" in shown:
        jobs["channels"] = partial(queries.channels, leads, filters=filters)
    if "cycle" in shown or "kpis" in shown:
        jobs["cycle"] = partial(queries.cycle, leads, now=now)
    # both read the assignments and the tallies, once each (memos on `leads`): side by side,
    # the second to ask waits for the first's answer
    if "reps" in shown or "grades" in shown:
        jobs["reps"] = partial(queries.reps, leads)
    if "discipline" in shown:
        jobs["discipline"] = partial(queries.discipline, leads, now=now)
    if "heat" in shown:
        today = timezone.localdate(now)
        since = filters.since or (today - timedelta(days=27))
        until = filters.until or today
        since = max(since, until - timedelta(days=41))  # six weeks at most stay readable
        jobs["heat"] = partial(queries.sla_misses, leads, now=now, since=since, until=until)
    if "losses" in shown:
        jobs["losses"] = partial(queries.losses, leads)
    # the longest first, so that the short ones fill in beside them rather than after them
    found = parallel.together({name: jobs[name] for name in sorted(jobs, key=LONGEST.index)})

    if "funnel" in shown:
        months = found.get("months")
        [board.funnel] = [queries.together(months)] if months is not None else found["funnel"]
        add("funnel", funnel_chart(board.funnel, filters))
        add("dropouts", dropouts_chart(board.funnel, filters))
    if "cohorts" in shown:
        add("cohorts", cohorts_chart(found["months"], filters))
    if "channels" in shown:
        board.channels = found["channels"]
        add("channels", channels_chart(board.channels, filters))
    if "cycle" in found:
        board.cycle = found["cycle"]
        add("curves", board.cycle.won_curve)
    board.reps, board.discipline = found.get("reps", []), found.get("discipline", [])
    if "reps" in shown or "grades" in shown:
        add("reps", reps_chart(board.reps, filters))
    if "discipline" in shown:
        board.teams = queries.by_team(board.discipline)
    if "heat" in shown:
        add("heat", heat_chart(found["heat"], since, until, filters))
    if "losses" in shown:
        board.losses = found["losses"]
        add("losses", losses_chart(board.losses, filters))
    if "kpis" in shown:
        board.kpis = kpis(board, filters)
    return board


def kpis(board: Dashboard, filters: Filters) -> list[dict]:
    f = board.funnel
    leads = f.leads if f else 0
    won = f.steps[-1].reached if f else 0
    valid = f.steps[1].reached if f else 0
    rows = [
        {"label": _("线索"), "value": leads, "url": drill(filters)},
        {"label": _("核对通过率"), "value": _pct(valid, leads), "url": drill(filters, reached=1)},
        {"label": _("成交"), "value": won, "url": drill(filters, reached=7)},
        {"label": _("转化率"), "value": _pct(won, leads), "url": drill(filters, reached=7)},
    ]
    if board.cycle is not None:
        days = board.cycle.to_won.median
        hours = board.cycle.to_first_contact.median
        rows += [
            {
                "label": _("成交周期中位数"),
                "value": "—" if days is None else _("%(d).1f 天") % {"d": days},
                "url": drill(filters, reached=7),
            },
            {
                "label": _("首次联系用时中位数"),
                "value": "—" if hours is None else _("%(h).1f 小时") % {"h": hours},
                "url": drill(filters, reached=3),
            },
        ]
    if board.discipline:
        overdue = sum(r.overdue_now for r in board.discipline)
        rows.append({"label": _("当前逾期"), "value": overdue, "url": None})
    return rows


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def funnel_chart(f: queries.Funnel, filters: Filters) -> list[dict]:
    return [
        {
            "name": s.label,
            "value": s.reached,
            "conversion": s.conversion,
            "url": drill(filters, reached=s.rank),
        }
        for s in f.steps
    ]


def dropouts_chart(f: queries.Funnel, filters: Filters) -> dict:
    """Where leads stopped, and how: per stage, invalid / stalled / still open / won."""
    series = {}
    for name, label in (
        ("invalid", _("无效")),
        ("stalled", _("退回公海")),
        ("open", _("仍在跟进")),
        ("won", _("成交")),
    ):
        series[name] = {
            "label": label,
            "data": [
                {
                    "value": getattr(s, name),
                    "url": drill(filters, stop=s.rank, outcome=name),
                }
                for s in f.steps
            ],
        }
    return {"stages": [s.label for s in f.steps], "series": series}


def cohorts_chart(funnels: list[queries.Funnel], filters: Filters) -> dict:
    """Per acquisition month: leads, won, conversion."""
    months = []
    for f in funnels:
        start = f.cohort
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        month = replace(  # the month, within the period chosen
            filters,
            since=max(start, filters.since or start),
            until=min(end, filters.until or end),
        )
        leads, won = f.leads, f.steps[-1].reached
        months.append(
            {
                "month": start.strftime("%Y-%m"),
                "leads": leads,
                "won": won,
                "conversion": round(won / leads, 4) if leads else None,
                "url": drill(month),
                "won_url": drill(month, reached=7),
            }
        )
    return {"months": months}


def channels_chart(rows: list[queries.ChannelRow], filters: Filters) -> list[dict]:
    return [
        {
            "code": r.code,
            "name": r.name,
            "leads": r.leads,
            "won": r.won,
            "url": drill(replace(filters, channel=r.code)),
            "won_url": drill(replace(filters, channel=r.code), reached=7),
        }
        for r in rows
    ]


def reps_chart(rows: list[queries.RepRow], filters: Filters) -> list[dict]:
    return [
        {
            "name": str(r.rep),
            "owned": r.owned,
            "won": r.won,
            "url": drill(replace(filters, rep=r.rep.pk)),
            "won_url": drill(replace(filters, rep=r.rep.pk), reached=7),
        }
        for r in rows
    ]


def heat_chart(misses: dict, since: date, until: date, filters: Filters) -> dict:
    """Reps × days, the count of follow-up deadlines missed: the SLA heat map (R4.4)."""
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    people = {u.pk: str(u) for u in User.objects.filter(pk__in={r for r, _d in misses})}
    reps = sorted(people, key=lambda pk: people[pk])
    row = {pk: i for i, pk in enumerate(reps)}
    col = {d: i for i, d in enumerate(days)}
    # a rep's list, then the day: `drill(replace(filters, rep=rep), missed=day)` — built once
    # per rep, not once per cell (a 90-day map of 200 reps has thousands)
    lists = {rep: drill(replace(filters, rep=rep)) for rep in reps}
    cells = [
        {"value": [col[day], row[rep], n], "url": f"{lists[rep]}&missed={day.isoformat()}"}
        for (rep, day), n in sorted(misses.items())
        if day in col and rep in row
    ]
    return {
        "days": [d.strftime("%m-%d") for d in days],
        "reps": [people[pk] for pk in reps],
        "cells": cells,
        "max": max((c["value"][2] for c in cells), default=0),
    }


def losses_chart(losses: queries.Losses, filters: Filters) -> dict:
    return {
        "reasons": [{"name": name, "value": n} for name, n in losses.reasons[:12]],
        "url": drill(filters, outcome="invalid"),
    }
