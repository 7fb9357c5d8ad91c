"""Reads for the follow-up screens: a rep's day, the kanban board, the lead page's panel
and the lead timeline with contacts, grades and behaviour."""

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.accounts.models import User
from leadflow.assignment.queries import awaiting_confirmation
from leadflow.leads.models import WORKING_STATUSES, Lead, Status
from leadflow.leads.queries import visible_leads
from leadflow.leads.timeline import Event, lead_timeline

from . import playbooks
from .models import FollowUp, Grading, InvalidReason, LeadEvent, Task
from .services import allowed_move, load_plans, may_work, needs

# --- my day ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """Something a rep must do by `due`: a first contact, a follow-up or a next action."""

    kind: str  # first_contact | followup | next_action
    lead: Lead
    due: datetime
    title: str
    task: Task | None = None


@dataclass
class Day:
    overdue: list[Due] = field(default_factory=list)
    today: list[Due] = field(default_factory=list)
    upcoming: list[Due] = field(default_factory=list)  # next actions after today
    confirmations: list = field(default_factory=list)


def end_of_day(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)


def my_day(user: User, now: datetime, *, upcoming_days: int = 7) -> Day:
    """The rep's day (R3.8): overdue first, then due today, then the week's next actions,
    and the leads waiting for their confirmation."""
    tonight = end_of_day(now)
    mine = Lead.objects.filter(owner=user, status__in=WORKING_STATUSES).select_related(
        "channel", "industry"
    )
    items: list[Due] = []
    for lead in mine.filter(first_contact_at=None, first_contact_due__lt=tonight):
        items.append(Due("first_contact", lead, lead.first_contact_due, _("首次联系")))
    for lead in mine.filter(next_followup_due__lt=tonight):
        items.append(Due("followup", lead, lead.next_followup_due, _("定期跟进")))
    tasks = (
        Task.objects.filter(
            owner=user,
            done_at=None,
            due__lt=tonight + timedelta(days=upcoming_days),
            lead__status__in=WORKING_STATUSES,
        )
        .select_related("lead", "lead__channel", "lead__industry")
        .order_by("due", "pk")
    )
    for task in tasks[:500]:
        items.append(Due("next_action", task.lead, task.due, task.title, task))
    day = Day(confirmations=list(awaiting_confirmation(user)[:100]))
    for item in sorted(items, key=lambda i: (i.due, i.lead.pk)):
        if item.due < now:
            day.overdue.append(item)
        elif item.due < tonight:
            day.today.append(item)
        else:
            day.upcoming.append(item)
    return day


# --- the board ---------------------------------------------------------------------------------

BOARD = (
    Status.CONTACTING,
    Status.QUALIFIED,
    Status.EVALUATING,
    Status.NEGOTIATING,
    Status.WON,
    Status.INVALID,
)
CLOSED_SHOWN_DAYS = 30  # won and invalid leads stay on the board this long
PER_COLUMN = 200


@dataclass(frozen=True)
class Column:
    status: str
    label: str
    leads: list[Lead]
    total: int
    needs: dict  # from status → evidence fields a drop here asks for

    @property
    def needs_json(self) -> str:
        return json.dumps(self.needs)


def board(user: User, now: datetime, *, owner: int | None = None) -> list[Column]:
    """The pipeline as columns (R3.3): the leads `user` may see, being worked or closed in
    the last 30 days; a manager may narrow it to one rep."""
    leads = visible_leads(user).filter(
        Q(status__in=WORKING_STATUSES)
        | Q(
            status__in=[Status.WON, Status.INVALID],
            updated_at__gte=now - timedelta(days=CLOSED_SHOWN_DAYS),
        )
    )
    if owner:
        leads = leads.filter(owner_id=owner)
    columns = []
    for status in BOARD:
        rows = leads.filter(status=status).order_by("-updated_at", "-pk")
        columns.append(
            Column(
                status=status,
                label=Status(status).label,
                leads=list(rows[:PER_COLUMN]),
                total=rows.count(),
                needs={src: needs(src, status) for src in BOARD if allowed_move(src, status)},
            )
        )
    return columns


# --- the lead page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    can_work: bool
    followups: list[FollowUp]
    tasks: list[Task]
    suggestions: list
    gradings: list[Grading]
    targets: list[tuple[str, str, list[str]]]  # (status, label, evidence asked)
    working: bool
    invalid_reasons: list[InvalidReason]
    methods: list
    events: list[LeadEvent]


def targets(lead: Lead) -> list[str]:
    """The statuses a person may move `lead` to from where it is."""
    return [s for s in BOARD if allowed_move(lead.status, s)]


def panel(lead: Lead, user: User, now: datetime) -> Panel:
    can_work = may_work(user, lead)
    working = lead.status in WORKING_STATUSES
    moves = [(s, Status(s).label, needs(lead.status, s)) for s in targets(lead)]
    return Panel(
        can_work=can_work,
        followups=list(lead.followups.select_related("by")[:50]),
        tasks=list(lead.tasks.filter(done_at=None).select_related("owner")),
        suggestions=playbooks.suggestions(lead, now=now, plans=load_plans())
        if can_work and working
        else [],
        gradings=list(lead.gradings.select_related("by")),
        targets=moves if can_work or lead.status in (Status.WON, Status.INVALID) else [],
        invalid_reasons=list(InvalidReason.objects.filter(active=True)),
        methods=FollowUp.Method.choices,
        events=list(lead.events.order_by("-at")[:20]),
        working=working,
    )


def timeline(lead: Lead, *, masked: bool) -> list[Event]:
    """The lead timeline with contacts, grades, next actions and behaviour woven in."""
    events = lead_timeline(lead, masked=masked)
    for f in lead.followups.select_related("by"):
        late = _("（补录）") if f.late else ""
        events.append(
            Event(
                f.contact_at,
                "followup",
                _("%(m)s跟进%(late)s") % {"m": f.get_method_display(), "late": late},
                "；".join(
                    part
                    for part in (
                        f.feedback,
                        f.intent_change and _("意向：%(v)s") % {"v": f.intent_change},
                        f.need_change and _("需求：%(v)s") % {"v": f.need_change},
                        f.risk_note and _("风险：%(v)s") % {"v": f.risk_note},
                        f.competitor and _("竞品：%(v)s") % {"v": f.competitor},
                        f.next_action and _("下一步：%(v)s") % {"v": f.next_action},
                    )
                    if part
                ),
                str(f.by),
            )
        )
    for g in lead.gradings.select_related("by"):
        events.append(
            Event(
                g.at,
                "grade",
                _("定级 %(a)s → %(b)s") % {"a": g.from_grade or "∅", "b": g.to_grade}
                if g.from_grade != g.to_grade
                else _("确认等级 %(b)s") % {"b": g.to_grade},
                g.reason,
                str(g.by),
            )
        )
    for e in lead.events.all():
        events.append(Event(e.at, "behaviour", e.get_kind_display(), e.detail, e.source))
    for t in lead.tasks.exclude(done_at=None).select_related("done_by"):
        events.append(
            Event(
                t.done_at,
                "task",
                _("完成：%(t)s") % {"t": t.title},
                t.outcome,
                str(t.done_by or ""),
            )
        )
    return sorted(events, key=lambda e: e.at)
