"""Reads for the assignment screens: a rep's inbox, a manager's queues, the lead panel."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead, Status
from leadflow.leads.queries import visible_leads

from .models import Assignment
from .presenters import Explanation, explain
from .services import MANUALLY_ASSIGNABLE, assignable_reps, may_assign

A = Assignment


def awaiting_confirmation(user) -> QuerySet[Assignment]:
    """The rep's inbox: leads waiting for their answer, the nearest deadline first."""
    return (
        A.objects.filter(rep=user, state=A.State.PENDING)
        .select_related("lead", "lead__channel", "lead__channel__parent", "lead__industry")
        .order_by("accept_due", "pk")
    )


def unassigned_for(user) -> QuerySet[Lead]:
    return visible_leads(user).filter(status=Status.UNASSIGNED).order_by("verified_at", "pk")


def escalated_for(user, now: datetime, days: int = 7) -> QuerySet[Assignment]:
    """Declines and lapsed confirmations of the last week on the manager's teams."""
    rows = A.objects.filter(
        state__in=[A.State.DECLINED, A.State.EXPIRED], answered_at__gte=now - timedelta(days=days)
    ).select_related("lead", "rep", "lead__owner")
    if not user.has_role(Role.ADMIN):
        rows = rows.filter(rep__team__manager=user)
    return rows.order_by("-answered_at")


@dataclass(frozen=True)
class Panel:
    """The assignment box on a lead page."""

    current: Assignment | None  # the latest placing
    explanation: Explanation | None
    history: list[Assignment]
    can_answer: bool  # the rep this lead awaits
    can_decline: bool  # …and still within the decline window
    can_assign: bool  # a manager may assign or reassign it
    can_claim: bool
    reps: list


def panel(lead: Lead, user, now: datetime) -> Panel:
    history = list(lead.assignments.select_related("rep", "by", "rule").order_by("-at", "-pk"))
    current = history[0] if history else None
    pending = current if current and current.state == A.State.PENDING else None
    mine = pending is not None and pending.rep_id == user.pk
    can_assign = may_assign(user) and lead.status in MANUALLY_ASSIGNABLE
    return Panel(
        current=current,
        explanation=explain(current.explanation) if current and current.explanation else None,
        history=history,
        can_answer=mine and now <= pending.accept_due,
        can_decline=mine and now <= pending.decline_due,
        can_assign=can_assign,
        can_claim=lead.status == Status.POOL and user.has_role(Role.REP),
        reps=list(assignable_reps(user)) if can_assign else [],
    )
