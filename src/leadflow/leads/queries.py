"""Reads of leads. `visible_leads(user)` is the only way views, the API, exports and reports
get leads (R5.1); `can_see_contact` decides whether contact details are shown or masked."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from leadflow.accounts.models import Role

from .models import Grade, Lead, Status

VERIFICATION_STATUSES = frozenset({Status.PENDING_REVIEW, Status.RETURNED, Status.SCREENED_OUT})


def visible_leads(user) -> QuerySet[Lead]:
    """Leads `user` may see: admin, support and marketing all (contacts masked outside their
    scope); a manager their teams', their own and those awaiting assignment or in the pool;
    a rep their own, what they entered and the pool."""
    leads = Lead.objects.select_related("channel", "channel__parent", "industry", "owner")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return leads.none()
    if user.has_role(Role.ADMIN, Role.SUPPORT, Role.MARKETING):
        return leads
    scope = Q(owner=user) | Q(created_by=user)
    if user.has_role(Role.MANAGER):
        # their teams' leads, and those waiting for someone to take them (to assign by hand)
        scope |= Q(team__manager=user) | Q(status__in=[Status.UNASSIGNED, Status.POOL])
    if user.has_role(Role.REP):
        scope |= Q(status=Status.POOL)
    return leads.filter(scope)


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
    status: str = ""
    channel: str = ""  # channel code; a top-level code includes its sub-channels
    grade: str = ""
    owner: int | None = None
    since: date | None = None
    until: date | None = None
    q: str = ""

    @classmethod
    def from_query(cls, g) -> "LeadFilter":
        """The filter a lead-list URL describes; anything malformed is ignored."""
        return cls(
            status=g.get("status", "") if g.get("status", "") in Status.values else "",
            channel=g.get("channel", "")[:12],
            grade=g.get("grade", "") if g.get("grade", "") in Grade.values else "",
            owner=int(g["owner"]) if g.get("owner", "").isdigit() else None,
            since=_parse_day(g.get("since", "")),
            until=_parse_day(g.get("until", "")),
            q=g.get("q", "")[:100].replace("\x00", ""),
        )

    def as_dict(self) -> dict:
        return {k: str(v) for k, v in vars(self).items() if v not in (None, "")}


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


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
        leads = leads.filter(acquired_at__gte=_day_start(f.since))
    if f.until:
        leads = leads.filter(acquired_at__lt=_day_start(f.until + timedelta(days=1)))
    if f.q:
        leads = leads.filter(_search(f.q.strip()))
    return leads


def _search(q: str) -> Q:
    cond = Q(number__iexact=q) | Q(company_name__icontains=q) | Q(contact_name__icontains=q)
    if re.fullmatch(r"[\d\s+\-()]{4,}", q):
        digits = re.sub(r"\D", "", q)
        cond |= Q(phone_e164__contains=digits)
    if "@" in q:
        cond |= Q(email__iexact=q.lower())
    return cond


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
