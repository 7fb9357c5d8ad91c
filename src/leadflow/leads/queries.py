"""Reads of leads. `visible_leads(user)` is the only way views, the API, exports and reports
get leads (R5.1); `can_see_contact` decides whether contact details are shown or masked."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from leadflow.accounts.models import Region, Role, Team

from .models import FUNNEL_RANK, OUTCOMES, WORKING_STATUSES, Grade, Lead, Status

VERIFICATION_STATUSES = frozenset({Status.PENDING_REVIEW, Status.RETURNED, Status.SCREENED_OUT})


def visible_leads(user, *, team: int | None = None) -> QuerySet[Lead]:
    """Leads `user` may see: admin, support and marketing all (contacts masked outside their
    scope); a manager their teams', their own and those awaiting assignment or in the pool;
    a rep their own, what they entered and the pool.

    `team` (an id): of those, the team's only. A team's manager sees every lead of it, so
    for them the team alone chooses the leads — without the visibility condition, an OR
    over a join that the database would otherwise check lead by lead from the table (a
    manager's two-year dashboard did so in every report: 200–250 ms each on 80,000 leads)."""
    leads = Lead.objects.select_related("channel", "channel__parent", "industry", "owner")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return leads.none()
    if team is not None:
        leads = leads.filter(team_id=team)
    if sees_every_lead(user, team=team):
        return leads
    scope = Q(owner=user) | Q(created_by=user)
    if user.has_role(Role.MANAGER):
        # their teams' leads, and those waiting for someone to take them (to assign by hand)
        scope |= Q(team__manager=user) | Q(status__in=[Status.UNASSIGNED, Status.POOL])
    if user.has_role(Role.REP):
        scope |= Q(status=Status.POOL)
    return leads.filter(scope)


def sees_every_lead(user, *, team: int | None = None) -> bool:
    """Whether `user` sees every lead (of `team`, when given): admin, support and
    marketing; a team's manager, every lead of that team."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.has_role(Role.ADMIN, Role.SUPPORT, Role.MARKETING):
        return True
    return (
        team is not None
        and user.has_role(Role.MANAGER)
        and Team.objects.filter(pk=team, manager=user).exists()
    )


def can_see_contact(user, lead: Lead) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if user.pk in (lead.owner_id, lead.created_by_id):
        return True
    if user.has_role(Role.MANAGER) and lead.team_id and lead.team.manager_id == user.pk:
        return True
    return user.has_role(Role.SUPPORT) and lead.status in VERIFICATION_STATUSES


def may_fix(user, lead: Lead) -> bool:
    """Who may correct and resubmit a lead's intake fields: whoever entered it, or support."""
    return lead.created_by_id == user.pk or user.has_role(Role.SUPPORT, Role.ADMIN)


def verification_queue(user) -> QuerySet[Lead]:
    return visible_leads(user).filter(status=Status.PENDING_REVIEW).order_by("acquired_at", "pk")


def returned_to(user) -> QuerySet[Lead]:
    return visible_leads(user).filter(status=Status.RETURNED, created_by=user)


@dataclass(frozen=True)
class LeadFilter:
    """What a lead-list URL asks for: the list's own filters, and those the dashboards'
    drill-downs add (team, industry, region; how far along the funnel, how it ended, a
    deadline missed on a day), so a number on a dashboard opens the leads behind it."""

    status: str = ""
    channel: str = ""  # channel code; a top-level code includes its sub-channels
    grade: str = ""
    owner: int | None = None
    since: date | None = None
    until: date | None = None
    q: str = ""
    team: int | None = None
    industry: int | None = None
    region: str = ""
    reached: int | None = None  # the funnel rank reached at least (FUNNEL_RANK)
    stop: int | None = None  # the furthest rank exactly: where the lead stopped
    outcome: str = ""  # won / invalid / stalled / open (OUTCOMES)
    missed: date | None = None  # a follow-up deadline missed that day

    DRILL = ("team", "industry", "region", "reached", "stop", "outcome", "missed")

    @classmethod
    def from_query(cls, g) -> "LeadFilter":
        """The filter a lead-list URL describes; anything malformed is ignored."""
        return cls(
            status=g.get("status", "") if g.get("status", "") in Status.values else "",
            channel=g.get("channel", "")[:12],
            grade=g.get("grade", "") if g.get("grade", "") in Grade.values else "",
            owner=_number(g.get("owner", "")),
            since=_parse_day(g.get("since", "")),
            until=_parse_day(g.get("until", "")),
            q=g.get("q", "")[:100].replace("\x00", ""),
            team=_number(g.get("team", "")),
            industry=_number(g.get("industry", "")),
            region=g.get("region", "") if g.get("region", "") in Region.values else "",
            reached=_rank(g.get("reached", "")),
            stop=_rank(g.get("stop", "")),
            outcome=g.get("outcome", "") if g.get("outcome", "") in (*OUTCOMES, "open") else "",
            missed=_parse_day(g.get("missed", "")),
        )

    def as_dict(self) -> dict:
        return {k: str(v) for k, v in vars(self).items() if v not in (None, "")}

    def drill(self) -> dict:
        """The drill-down part, kept through the list's own filtering and paging."""
        return {k: v for k, v in self.as_dict().items() if k in self.DRILL}


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


def _rank(value: str) -> int | None:
    return int(value) if value.isdigit() and int(value) <= max(FUNNEL_RANK.values()) else None


def _parse_day(value: str) -> date | None:
    """A date, or None for anything else — including years at the calendar's ends, where
    the day after (or the zone's offset) would overflow."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is None or 1900 <= day.year <= 9998 else None


def filter_leads(leads: QuerySet[Lead], f: LeadFilter) -> QuerySet[Lead]:
    if f.status:
        leads = leads.filter(status=f.status)
    if f.channel:
        leads = leads.filter(Q(channel__code=f.channel) | Q(channel__parent__code=f.channel))
    if f.grade:
        leads = leads.filter(grade=f.grade)
    if f.owner:
        leads = leads.filter(owner_id=f.owner)
    if f.since:
        leads = leads.filter(acquired_at__gte=day_start(f.since))
    if f.until:
        leads = leads.filter(acquired_at__lt=day_start(f.until + timedelta(days=1)))
    if f.q:
        leads = leads.filter(_search(f.q.strip()))
    if f.team:
        leads = leads.filter(team_id=f.team)
    if f.industry:
        leads = leads.filter(industry_id=f.industry)
    if f.region:
        leads = leads.filter(region=f.region)
    if f.reached is not None:
        leads = leads.filter(furthest__gte=f.reached)
    if f.stop is not None:
        leads = leads.filter(furthest=f.stop)
    if f.outcome:
        every = frozenset().union(*OUTCOMES.values())
        leads = (
            leads.exclude(status__in=every)
            if f.outcome == "open"
            else leads.filter(status__in=OUTCOMES[f.outcome])
        )
    if f.missed:
        leads = leads.filter(missed_on(f.missed, owner=f.owner))
    return leads


# A follow-up deadline is missed (R4.4) when the contact answering it came after it
# (`answered_late`, on follow-ups), or when a lead being worked has passed it and still waits
# for that contact (`still_waiting`). The SLA heat map (analytics.queries.sla_misses) and
# its drill-down (`missed_on`) count by these. The deadlines a lead waits on, each with what
# makes it still pending:
WAITING_ON = (("first_contact_due", Q(first_contact_at=None)), ("next_followup_due", Q()))


def answered_late(start: datetime, end: datetime, *, via: str = "") -> Q:
    """Follow-ups made after a deadline that fell in [start, end) (`via`: the path to the
    follow-ups, e.g. "followups__" from leads)."""
    due = f"{via}due"
    return Q(**{f"{due}__gte": start, f"{due}__lt": end, f"{via}contact_at__gt": F(due)})


def still_waiting(field: str, pending: Q, start: datetime, end: datetime) -> Q:
    """Leads being worked whose deadline `field` fell in [start, end) with no contact yet
    (`pending`, from WAITING_ON)."""
    window = Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return Q(status__in=WORKING_STATUSES) & pending & window


def missed_on(day: date, *, owner: int | None = None, now: datetime | None = None) -> Q:
    """Leads with a follow-up deadline that fell on `day` and was missed: contacted after it
    (by `owner`, when given), or still not contacted while being worked (the SLA heat map's
    cells, R4.4)."""
    now = now or timezone.now()
    start, end = day_start(day), min(day_start(day + timedelta(days=1)), now)
    late = answered_late(start, end, via="followups__")
    if owner:
        late &= Q(followups__by_id=owner)
    waiting = Q()
    for field, pending in WAITING_ON:
        waiting |= still_waiting(field, pending, start, end)
    return Q(pk__in=Lead.objects.filter(late).values("pk")) | waiting


def _search(q: str) -> Q:
    cond = Q(number__iexact=q) | Q(company_name__icontains=q) | Q(contact_name__icontains=q)
    if re.fullmatch(r"[\d\s+\-()]{4,}", q):
        digits = re.sub(r"\D", "", q)
        cond |= Q(phone_e164__contains=digits)
    if "@" in q:
        cond |= Q(email__iexact=q.lower())
    return cond


def day_start(day: date) -> datetime:
    """The first moment of `day` in the site's zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.combine(day, time.min))
