"""Analytics through /api/v1/analytics/ (R4.1, R4.2): each report over the leads the caller
may see, with the filters of every report."""

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from leadflow.accounts.models import Region, Team, User
from leadflow.core.apierrors import api_error
from leadflow.leads.models import Grade, Industry

from . import queries

router = Router(tags=["analytics"])


class FilterIn(Schema):
    since: date | None = None
    until: date | None = None
    channel: str = ""  # channel code; a top-level code includes its sub-channels
    team: str = ""  # team name
    rep: str = ""  # username
    industry: str = ""  # industry name
    region: str = ""
    grade: str = ""


class StepOut(Schema):
    rank: int
    label: str
    reached: int
    conversion: float | None
    dropped: int
    invalid: int
    stalled: int
    open: int
    won: int


class FunnelOut(Schema):
    cohort: date | None
    leads: int
    steps: list[StepOut]


class ChannelOut(Schema):
    code: str
    name: str
    leads: int
    valid: int
    valid_rate: float | None
    won: int
    conversion: float | None
    won_amount: float
    cost: float | None
    cost_per_lead: float | None
    cost_per_won: float | None
    roi: float | None


def _bad(field: str, message):
    return api_error(400, "invalid", message, field)


def _top_level(level: str) -> bool:
    if level not in ("top", "channel"):
        raise _bad("level", _("层级只能为 top（一级渠道）或 channel（每个渠道）"))
    return level == "top"


def _filters(f: FilterIn) -> queries.Filters:
    """Names as people use them (team, username, industry) to ids; unknown ones are a 400."""
    if f.since and f.until and f.since > f.until:
        raise _bad("since", _("开始日期不能晚于结束日期"))
    team = rep = industry = None
    if f.team:
        team = Team.objects.filter(name=f.team).values_list("pk", flat=True).first()
        if team is None:
            raise _bad("team", _("没有名为 %(t)s 的团队") % {"t": f.team})
    if f.rep:
        rep = User.objects.filter(username=f.rep).values_list("pk", flat=True).first()
        if rep is None:
            raise _bad("rep", _("没有用户名为 %(u)s 的用户") % {"u": f.rep})
    if f.industry:
        industry = Industry.objects.filter(name=f.industry).values_list("pk", flat=True).first()
        if industry is None:
            raise _bad("industry", _("没有名为 %(i)s 的行业") % {"i": f.industry})
    region = f.region.strip()
    if region and region not in Region.values:
        raise _bad("region", _("大区须为：%(r)s") % {"r": "、".join(Region.values)})
    grade = f.grade.strip().upper()
    if grade and grade not in Grade.values:
        raise _bad("grade", _("等级须为 A、B、C 或 D"))
    return queries.Filters(
        since=f.since,
        until=f.until,
        channel=f.channel.strip(),
        team=team,
        rep=rep,
        industry=industry,
        region=region,
        grade=grade,
    )


@router.get(
    "/analytics/funnel",
    response=list[FunnelOut],
    summary="The funnel from the stage history: reached, conversion, drop-outs (R4.1)",
)
def funnel(request: HttpRequest, f: Query[FilterIn], by: str = ""):
    if by not in ("", "month"):
        raise _bad("by", _("分组只能为 month（按获取月份）"))
    filters = _filters(f)
    leads = filters.visible_to(request.user)
    return [
        {
            "cohort": fn.cohort,
            "leads": fn.leads,
            "steps": [{**vars(s), "dropped": s.dropped} for s in fn.steps],
        }
        for fn in queries.funnel(leads, by_month=by == "month")
    ]


@router.get(
    "/analytics/channels",
    response=list[ChannelOut],
    summary="Channel quality: leads, valid rate, conversion, won amount, cost, ROI (R4.2)",
)
def channels(request: HttpRequest, f: Query[FilterIn], level: str = "top"):
    top_level = _top_level(level)
    filters = _filters(f)
    leads = filters.visible_to(request.user)
    rows = queries.channels(leads, filters=filters, top_level=top_level)
    return [
        {
            "code": r.code,
            "name": r.name,
            "leads": r.leads,
            "valid": r.valid,
            "valid_rate": r.valid_rate,
            "won": r.won,
            "conversion": r.conversion,
            "won_amount": float(r.won_amount),
            "cost": _float(r.cost),
            "cost_per_lead": _float(r.cost_per_lead),
            "cost_per_won": _float(r.cost_per_won),
            "roi": r.roi,
        }
        for r in rows
    ]


def _float(value):
    return None if value is None else float(value)


class SummaryOut(Schema):
    n: int
    mean: float | None
    p25: float | None
    median: float | None
    p75: float | None
    p90: float | None
    min: float | None
    max: float | None


class CycleOut(Schema):
    to_first_contact_hours: SummaryOut
    to_won_days: SummaryOut
    to_won_days_by_channel: dict[str, SummaryOut]
    days_in_stage: dict[str, SummaryOut]
    still_in_stage: dict[str, int]
    won_by_day: dict[str, list[tuple[float, float]]]  # channel → [(day, share won)]


@router.get(
    "/analytics/cycle",
    response=CycleOut,
    summary="Sales cycle: median, quartiles, p90; won-by-day curves counting open leads (R4.3)",
)
def cycle(request: HttpRequest, f: Query[FilterIn], level: str = "top"):
    top_level = _top_level(level)
    filters = _filters(f)
    leads = filters.visible_to(request.user)
    c = queries.cycle(leads, now=timezone.now(), top_level=top_level)
    return {
        "to_first_contact_hours": vars(c.to_first_contact),
        "to_won_days": vars(c.to_won),
        "to_won_days_by_channel": {k: vars(v) for k, v in c.to_won_by_channel.items()},
        "days_in_stage": {k: vars(v) for k, v in c.in_stage.items()},
        "still_in_stage": c.still_in_stage,
        "won_by_day": c.won_curve,
    }


class RepOut(Schema):
    rep: str
    name: str
    assigned: int
    accepted: int
    declined: int
    lapsed: int
    contacted: int
    owned: int
    won: int
    won_amount: float
    win_rate: float | None
    response_hours: float | None
    reviewed: int
    grading_accuracy: float | None
    by_grade: dict[str, tuple[int, int]]  # grade → (owned, won)


@router.get(
    "/analytics/reps",
    response=list[RepOut],
    summary="Reps: assigned, accepted, contacted, won, win rate, response, grading (R4.5)",
)
def reps(request: HttpRequest, f: Query[FilterIn]):
    leads = _filters(f).visible_to(request.user)
    return [
        {
            "rep": r.rep.username,
            "name": str(r.rep),
            "assigned": r.assigned,
            "accepted": r.accepted,
            "declined": r.declined,
            "lapsed": r.lapsed,
            "contacted": r.contacted,
            "owned": r.owned,
            "won": r.won,
            "won_amount": float(r.won_amount),
            "win_rate": r.win_rate,
            "response_hours": r.response_hours,
            "reviewed": r.reviewed,
            "grading_accuracy": r.grading_accuracy,
            "by_grade": r.by_grade,
        }
        for r in queries.reps(leads)
    ]


class CountOut(Schema):
    name: str
    leads: int


class LossesOut(Schema):
    reasons: list[CountOut]
    by_stage: dict[str, int]
    competitors: list[CountOut]


@router.get(
    "/analytics/losses",
    response=LossesOut,
    summary="Why leads were lost: 无效 reasons, where, competitors named (R4.6)",
)
def losses(request: HttpRequest, f: Query[FilterIn]):
    leads = _filters(f).visible_to(request.user)
    result = queries.losses(leads)
    return {
        "reasons": [{"name": n, "leads": c} for n, c in result.reasons],
        "by_stage": result.by_stage,
        "competitors": [{"name": n, "leads": c} for n, c in result.competitors],
    }


class KeptOut(Schema):
    on_time: int
    late: int
    missed: int
    rate: float | None


class DisciplineOut(Schema):
    rep: str | None  # None: a team's total
    team: str
    first_contact: KeptOut
    cadence: KeptOut
    records: KeptOut
    confirmations: KeptOut
    overdue_now: int


def _discipline_out(r, rep: str | None) -> dict:
    kept = ("first_contact", "cadence", "records", "confirmations")
    return {
        "rep": rep,
        "team": r.team,
        **{k: {**vars(getattr(r, k)), "rate": getattr(r, k).rate} for k in kept},
        "overdue_now": r.overdue_now,
    }


@router.get(
    "/analytics/discipline",
    response=list[DisciplineOut],
    summary="Follow-up discipline per rep and team: SLA kept, and overdue now (R4.4)",
)
def discipline(request: HttpRequest, f: Query[FilterIn]):
    leads = _filters(f).visible_to(request.user)
    rows = queries.discipline(leads, now=timezone.now())
    teams = queries.by_team(rows)
    return [_discipline_out(r, r.rep.username) for r in rows] + [
        _discipline_out(t, None) for t in teams.values()
    ]
