"""Follow-ups through /api/v1/ (R3.1–R3.8): records, next actions, grades, stage moves,
profile, behaviour events, playbook suggestions, "my day", the board and the review."""

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadflow.accounts.models import Role, Team, User
from leadflow.core.apierrors import api_error
from leadflow.leads.models import Lead
from leadflow.leads.presenters import present_lead
from leadflow.leads.queries import visible_leads
from leadflow.leads.schemas import LeadOut

from . import playbooks, queries, review, services
from .models import FollowUp, Grading, InvalidReason, LeadEvent, PlaybookStep, SlaPolicy, Task
from .services import Contact, Move

router = Router(tags=["follow-up"])


class FollowUpIn(Schema):
    contact_at: datetime
    method: str
    feedback: str
    contact_person: str = ""
    intent_change: str = ""
    need_change: str = ""
    next_action: str = ""
    next_action_due: datetime | None = None
    risk_note: str = ""
    competitor: str = ""


class FollowUpOut(FollowUpIn):
    id: int
    lead: str
    by: str
    recorded_at: datetime
    late: bool
    first: bool
    grade: str


class TaskIn(Schema):
    title: str
    due: datetime


class TaskDoneIn(Schema):
    outcome: str = ""


class TaskOut(Schema):
    id: int
    lead: str
    owner: str
    title: str
    due: datetime
    source: str
    done_at: datetime | None
    outcome: str


class GradeIn(Schema):
    grade: str
    reason: str


class GradingOut(Schema):
    lead: str
    by: str
    at: datetime
    from_grade: str
    to_grade: str
    reason: str
    kind: str


class StageIn(Schema):
    to: str
    reason: str = ""
    invalid_reason: str = ""  # a code from GET /invalid-reasons
    need: str = ""
    won_amount: Decimal | None = None
    won_at: datetime | None = None


class ProfileIn(Schema):
    employees: int | None = Field(None, ge=0)
    business_model: str | None = None
    decision_maker_role: str | None = None
    concerns: str | None = None
    personality: str | None = None


class EventIn(Schema):
    kind: str  # page_view, event_attended, inquiry, download, email_opened, trial, other
    at: datetime | None = None
    detail: str = ""
    source: str = ""
    payload: dict = {}


class EventOut(Schema):
    id: int
    kind: str
    at: datetime
    detail: str
    source: str
    payload: dict


class SuggestionOut(Schema):
    step: int
    title: str
    detail: str
    due: datetime


class DueOut(Schema):
    kind: str
    lead: str
    company_name: str
    due: datetime
    title: str
    task: int | None


class DayOut(Schema):
    overdue: list[DueOut]
    today: list[DueOut]
    upcoming: list[DueOut]
    confirmations: list[str]  # lead numbers awaiting my answer


class ColumnOut(Schema):
    status: str
    label: str
    total: int
    leads: list[LeadOut]
    needs: dict[str, list[str]]


class ReviewEntryOut(Schema):
    lead: str
    company_name: str
    rep: str
    graded_at: datetime
    grade: str
    reason: str
    verdict: str | None
    final: str | None
    note: str | None


class VerdictIn(Schema):
    lead: str
    verdict: str  # confirmed | corrected
    grade: str = ""
    note: str = ""


class AccuracyOut(Schema):
    rep: str
    reviewed: int
    confirmed: int
    corrected: int
    rate: float | None


class PolicyOut(Schema):
    grade: str
    active: bool
    business_time: bool
    first_contact_within: int
    first_contact_unit: str
    cadence_min: int
    cadence_max: int
    cadence_unit: str
    remind_before_hours: int


class ReasonOut(Schema):
    code: str
    label: str


def _lead(request: HttpRequest, number: str) -> Lead:
    return get_object_or_404(
        visible_leads(request.user).select_related("team", "owner__team"), number=number
    )


def followup_out(f: FollowUp) -> dict:
    return {
        **{name: getattr(f, name) for name in FollowUpIn.model_fields},
        "id": f.pk,
        "lead": f.lead.number,
        "by": f.by.username,
        "recorded_at": f.recorded_at,
        "late": f.late,
        "first": f.first,
        "grade": f.grade,
    }


def task_out(t: Task) -> dict:
    return {
        "id": t.pk,
        "lead": t.lead.number,
        "owner": t.owner.username,
        "title": t.title,
        "due": t.due,
        "source": t.source,
        "done_at": t.done_at,
        "outcome": t.outcome,
    }


def grading_out(g: Grading) -> dict:
    return {
        "lead": g.lead.number,
        "by": g.by.username,
        "at": g.at,
        "from_grade": g.from_grade,
        "to_grade": g.to_grade,
        "reason": g.reason,
        "kind": g.kind,
    }


@router.get("/leads/{number}/followups", response=list[FollowUpOut], summary="Follow-up records")
def followups(request: HttpRequest, number: str):
    lead = _lead(request, number)
    return [followup_out(f) for f in lead.followups.select_related("by", "lead")]


@router.post(
    "/leads/{number}/followups",
    response={201: FollowUpOut},
    summary="Record a contact (跟进记录); late when entered more than 1 h after it",
)
def record(request: HttpRequest, number: str, payload: FollowUpIn):
    lead = _lead(request, number)
    contact = Contact(**payload.dict())
    f = services.record_followup(lead=lead, by=request.user, contact=contact, now=timezone.now())
    return Status(201, followup_out(f))


@router.get("/leads/{number}/tasks", response=list[TaskOut], summary="Next actions of a lead")
def tasks(request: HttpRequest, number: str):
    lead = _lead(request, number)
    return [task_out(t) for t in lead.tasks.select_related("owner", "lead")]


@router.post("/leads/{number}/tasks", response={201: TaskOut}, summary="Schedule a next action")
def add_task(request: HttpRequest, number: str, payload: TaskIn):
    lead = _lead(request, number)
    t = services.add_task(
        lead=lead, by=request.user, title=payload.title, due=payload.due, now=timezone.now()
    )
    return Status(201, task_out(t))


@router.post("/tasks/{task_id}/done", response=TaskOut, summary="Mark a next action done")
def task_done(request: HttpRequest, task_id: int, payload: TaskDoneIn):
    task = get_object_or_404(
        Task.objects.select_related("lead", "owner").filter(lead__in=visible_leads(request.user)),
        pk=task_id,
    )
    t = services.complete_task(
        task=task, by=request.user, now=timezone.now(), outcome=payload.outcome
    )
    return task_out(t)


@router.post("/leads/{number}/grade", response=GradingOut, summary="Set or confirm the grade")
def grade(request: HttpRequest, number: str, payload: GradeIn):
    lead = _lead(request, number)
    g = services.set_grade(
        lead=lead,
        by=request.user,
        grade=payload.grade.strip().upper(),
        reason=payload.reason,
        now=timezone.now(),
    )
    return grading_out(g)


@router.get("/leads/{number}/gradings", response=list[GradingOut], summary="The grading sheet")
def gradings(request: HttpRequest, number: str):
    lead = _lead(request, number)
    return [grading_out(g) for g in lead.gradings.select_related("by", "lead")]


@router.post(
    "/leads/{number}/stage",
    response=LeadOut,
    summary="Move along the pipeline with the evidence the move demands (R3.3)",
)
def stage(request: HttpRequest, number: str, payload: StageIn):
    lead = _lead(request, number)
    move = Move(**payload.dict())
    (services.move_stage(lead=lead, by=request.user, move=move, now=timezone.now()))
    lead = Lead.objects.select_related("channel", "channel__parent", "industry", "owner").get(
        pk=lead.pk
    )
    return present_lead(lead, request.user).as_dict()


@router.patch("/leads/{number}/profile", response=LeadOut, summary="Customer profile (客户画像)")
def profile(request: HttpRequest, number: str, payload: ProfileIn):
    lead = _lead(request, number)
    values = payload.dict(exclude_unset=True)
    (services.update_profile(lead=lead, by=request.user, values=values, now=timezone.now()))
    lead = Lead.objects.select_related("channel", "channel__parent", "industry", "owner").get(
        pk=lead.pk
    )
    return present_lead(lead, request.user).as_dict()


@router.post(
    "/leads/{number}/events",
    response={201: EventOut},
    summary="Report customer behaviour: page views, events attended, questions (R3.6)",
)
def add_event(request: HttpRequest, number: str, payload: EventIn):
    lead = _lead(request, number)
    now = timezone.now()
    e = services.record_event(
        lead=lead,
        kind=payload.kind,
        at=payload.at or now,
        detail=payload.detail,
        source=payload.source,
        payload=payload.payload,
        by=request.user,
        now=now,
    )
    return Status(201, event_out(e))


def event_out(e: LeadEvent) -> dict:
    return {
        "id": e.pk,
        "kind": e.kind,
        "at": e.at,
        "detail": e.detail,
        "source": e.source,
        "payload": e.payload,
    }


@router.get("/leads/{number}/events", response=list[EventOut], summary="Customer behaviour")
def events(request: HttpRequest, number: str):
    return [event_out(e) for e in _lead(request, number).events.all()]


@router.get(
    "/leads/{number}/suggestions",
    response=list[SuggestionOut],
    summary="Next-action suggestions from the grade's playbook (R3.7)",
)
def suggestions(request: HttpRequest, number: str):
    lead = _lead(request, number)
    return [
        {"step": s.step.pk, "title": s.step.title, "detail": s.step.detail, "due": s.due}
        for s in playbooks.suggestions(lead, now=timezone.now())
    ]


@router.post(
    "/leads/{number}/suggestions/{step_id}",
    response={201: TaskOut},
    summary="Schedule a suggestion as a next action",
)
def schedule(request: HttpRequest, number: str, step_id: int):
    lead = _lead(request, number)
    step = get_object_or_404(PlaybookStep, pk=step_id)
    t = playbooks.schedule(lead=lead, step=step, by=request.user, now=timezone.now())
    return Status(201, task_out(t))


def due_out(d: queries.Due) -> dict:
    return {
        "kind": d.kind,
        "lead": d.lead.number,
        "company_name": d.lead.company_name,
        "due": d.due,
        "title": str(d.title),
        "task": d.task.pk if d.task else None,
    }


@router.get("/me/day", response=DayOut, summary="My day: overdue, due today, next actions")
def my_day(request: HttpRequest):
    day = queries.my_day(request.user, timezone.now())
    return {
        "overdue": [due_out(d) for d in day.overdue],
        "today": [due_out(d) for d in day.today],
        "upcoming": [due_out(d) for d in day.upcoming],
        "confirmations": [a.lead.number for a in day.confirmations],
    }


@router.get("/board", response=list[ColumnOut], summary="The pipeline board (kanban)")
def board(request: HttpRequest, owner: str = ""):
    owner_id = None
    if owner:
        owner_id = User.objects.filter(username=owner).values_list("pk", flat=True).first()
        if owner_id is None:
            raise api_error(400, "unknown_rep", _("没有用户名为 %(u)s 的用户") % {"u": owner})
    return [
        {
            "status": c.status,
            "label": str(c.label),
            "total": c.total,
            "leads": [present_lead(lead, request.user).as_dict() for lead in c.leads],
            "needs": c.needs,
        }
        for c in queries.board(request.user, timezone.now(), owner=owner_id)
    ]


def _team(request: HttpRequest, name: str) -> Team:
    team = Team.objects.filter(name=name).first()
    if team is None:
        raise api_error(404, "not_found", _("没有名为 %(t)s 的团队") % {"t": name})
    if not review.may_review(request.user, team):
        raise api_error(403, "forbidden", _("只有团队经理可以主持评审"))
    return team


@router.get(
    "/reviews/{team}/{week}",
    response=list[ReviewEntryOut],
    summary="The weekly grade review: leads the team graded that week (R3.5)",
)
def review_list(request: HttpRequest, team: str, week: date):
    return [
        {
            "lead": e.lead.number,
            "company_name": e.lead.company_name,
            "rep": e.grading.by.username,
            "graded_at": e.grading.at,
            "grade": e.grading.to_grade,
            "reason": e.grading.reason,
            "verdict": e.item.verdict if e.item else None,
            "final": e.item.final if e.item else None,
            "note": e.item.note if e.item else None,
        }
        for e in review.graded_in_week(_team(request, team), week)
    ]


@router.post(
    "/reviews/{team}/{week}",
    response={201: ReviewEntryOut},
    summary="Confirm or correct one lead's grade in the review",
)
def review_judge(request: HttpRequest, team: str, week: date, payload: VerdictIn):
    the_team = _team(request, team)
    lead = get_object_or_404(visible_leads(request.user), number=payload.lead)
    item = review.judge(
        team=the_team,
        week=week,
        lead=lead,
        by=request.user,
        verdict=payload.verdict,
        grade=payload.grade.strip().upper(),
        note=payload.note,
        now=timezone.now(),
    )
    return Status(
        201,
        {
            "lead": lead.number,
            "company_name": lead.company_name,
            "rep": item.rep.username,
            "graded_at": item.grading.at,
            "grade": item.given,
            "reason": item.grading.reason,
            "verdict": item.verdict,
            "final": item.final,
            "note": item.note,
        },
    )


@router.get(
    "/review-accuracy/{team}",
    response=list[AccuracyOut],
    summary="Grading accuracy per rep from the reviews",
)
def review_accuracy(request: HttpRequest, team: str):
    the_team = _team(request, team)
    reps = list(User.objects.filter(team=the_team, groups__name=Role.REP).order_by("username"))
    return [
        {
            "rep": a.rep.username,
            "reviewed": a.reviewed,
            "confirmed": a.confirmed,
            "corrected": a.corrected,
            "rate": a.rate,
        }
        for a in review.accuracy(reps=reps)
    ]


@router.get("/sla-policies", response=list[PolicyOut], summary="Follow-up plans per grade")
def policies(request: HttpRequest):
    return list(SlaPolicy.objects.all())


class PolicyIn(Schema):
    active: bool = True
    business_time: bool = True
    first_contact_within: int
    first_contact_unit: str
    cadence_min: int
    cadence_max: int
    cadence_unit: str
    remind_before_hours: int = 1


@router.put(
    "/sla-policies/{grade}",
    response=PolicyOut,
    summary="Change a grade's follow-up plan (managers, admins)",
)
def set_policy(request: HttpRequest, grade: str, payload: PolicyIn):
    from .forms import PolicyForm

    if not request.user.has_role(Role.MANAGER, Role.ADMIN):
        raise api_error(403, "forbidden", _("只有销售经理和管理员可以修改跟进时限"))
    policy = get_object_or_404(SlaPolicy, grade=grade.upper())
    form = PolicyForm(payload.dict(), instance=policy)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise api_error(400, "invalid", errors[0], None if field == "__all__" else field)
    return form.save()


@router.get("/invalid-reasons", response=list[ReasonOut], summary="The 无效 reasons to choose from")
def invalid_reasons(request: HttpRequest):
    return list(InvalidReason.objects.filter(active=True))
