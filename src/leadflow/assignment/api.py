"""Assignment, confirmation, the pool and the rules through /api/v1/ (R2.2–R2.6, R5.4)."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from leadflow.accounts.models import Team, User
from leadflow.core.apierrors import api_error
from leadflow.leads.models import Channel, Industry, Lead
from leadflow.leads.presenters import present_lead
from leadflow.leads.queries import visible_leads
from leadflow.leads.schemas import LeadOut

from . import pool, queries, services
from .forms import AssignmentRuleForm, PolicyForm
from .models import Assignment, AssignmentPolicy, AssignmentRule
from .presenters import explain

router = Router(tags=["assignment"])


class ReasonIn(Schema):
    reason: str = ""


class AssignIn(Schema):
    rep: str  # username
    reason: str


class AssignmentOut(Schema):
    id: int
    rep: str
    rep_name: str
    kind: str
    state: str
    at: datetime
    accept_due: datetime | None
    decline_due: datetime | None
    answered_at: datetime | None
    decline_reason: str
    reason: str
    rule: str | None
    why: dict | None  # the explanation, readable ("why this rep?")


class AnswerOut(Schema):
    lead: LeadOut
    assignment: AssignmentOut | None


class LeadAssignmentOut(Schema):
    lead: str
    current: AssignmentOut | None
    history: list[AssignmentOut]


class InboxItem(Schema):
    lead: LeadOut
    assignment: AssignmentOut


class RuleIn(Schema):
    name: str
    order: int = 100
    active: bool = True
    regions: list[str] = []
    provinces: list[str] = []  # province codes (11 = 北京)
    industries: list[str] = []  # industry names
    grades: list[str] = []
    customer_types: list[str] = []
    channels: list[str] = []  # channel codes
    team: str | None = None  # team name
    rep: str | None = None  # username of the named rep
    note: str = ""


class RuleOut(RuleIn):
    id: int


class PolicyIO(Schema):
    weight_region: int
    weight_industry: int
    weight_grade: int
    weight_customer_type: int
    confirm_hours: int
    decline_hours: int
    remind_hours: int
    pool_days_a: int
    pool_days_b: int
    pool_days_c: int
    pool_warn_hours: int
    claim_daily_limit: int
    pool_holding_cap: int
    reclaim_cooldown_days: int


class BatchOut(Schema):
    assigned: int
    unplaced: int


def assignment_out(a: Assignment) -> dict:
    return {
        "id": a.pk,
        "rep": a.rep.username,
        "rep_name": str(a.rep),
        "kind": a.kind,
        "state": a.state,
        "at": a.at,
        "accept_due": a.accept_due,
        "decline_due": a.decline_due,
        "answered_at": a.answered_at,
        "decline_reason": a.decline_reason,
        "reason": a.reason,
        "rule": a.explanation.get("rule", {}).get("name") if a.explanation.get("rule") else None,
        "why": explain(a.explanation).as_dict() if a.explanation else None,
    }


def _lead(request: HttpRequest, number: str):
    return get_object_or_404(visible_leads(request.user), number=number)


def _fail(exc: services.AssignmentError) -> HttpError:
    status = {"reason_required": 400, "forbidden": 403, "not_a_rep": 400}.get(exc.code, 409)
    return api_error(status, exc.code, exc.message)


def _answer(request: HttpRequest, number: str, act) -> dict:
    try:
        a = act(_lead(request, number))
    except services.AssignmentError as exc:
        raise _fail(exc) from exc
    # read again without the visibility filter: after a decline the lead is no longer the
    # caller's (its contacts are masked for them by the presenter)
    lead = Lead.objects.select_related("channel", "channel__parent", "industry", "owner").get(
        number=number
    )
    return {
        "lead": present_lead(lead, request.user).as_dict(),
        "assignment": assignment_out(a) if a else None,
    }


def _managers_only(request: HttpRequest) -> None:
    if not services.may_assign(request.user):
        raise HttpError(403, _("只有销售经理和管理员可以进行此操作"))


@router.get(
    "/leads/{number}/assignment",
    response=LeadAssignmentOut,
    summary="Who has this lead, and why (为什么分给他)",
)
def lead_assignment(request: HttpRequest, number: str):
    lead = _lead(request, number)
    history = [
        assignment_out(a) for a in lead.assignments.select_related("rep").order_by("-at", "-pk")
    ]
    return {"lead": lead.number, "current": history[0] if history else None, "history": history}


@router.post("/leads/{number}/accept", response=AnswerOut, summary="Accept a lead (接收)")
def accept(request: HttpRequest, number: str):
    return _answer(
        request,
        number,
        lambda lead: services.accept(lead=lead, rep=request.user, now=timezone.now()),
    )


@router.post(
    "/leads/{number}/decline",
    response=AnswerOut,
    summary="Decline a lead with a reason (拒绝); returns the next assignment",
)
def decline(request: HttpRequest, number: str, payload: ReasonIn):
    return _answer(
        request,
        number,
        lambda lead: services.decline(
            lead=lead, rep=request.user, now=timezone.now(), reason=payload.reason
        ),
    )


@router.post("/leads/{number}/assign", response=AnswerOut, summary="Assign by hand (手动分配)")
def assign(request: HttpRequest, number: str, payload: AssignIn):
    _managers_only(request)
    rep = User.objects.filter(username=payload.rep).first()
    if rep is None:
        raise api_error(400, "unknown_rep", _("没有用户名为 %(u)s 的销售代表") % {"u": payload.rep})
    return _answer(
        request,
        number,
        lambda lead: services.assign_manually(
            lead=lead, rep=rep, by=request.user, now=timezone.now(), reason=payload.reason
        ),
    )


@router.post("/leads/{number}/claim", response=AnswerOut, summary="Claim from the pool (领取)")
def claim(request: HttpRequest, number: str):
    return _answer(
        request, number, lambda lead: pool.claim(lead=lead, rep=request.user, now=timezone.now())
    )


@router.get("/inbox", response=list[InboxItem], summary="Leads awaiting my confirmation")
def inbox(request: HttpRequest):
    return [
        {"lead": present_lead(a.lead, request.user).as_dict(), "assignment": assignment_out(a)}
        for a in queries.awaiting_confirmation(request.user)[:200]
    ]


@router.get("/pool", response=list[LeadOut], summary="The lead pool (公海)")
def pool_list(request: HttpRequest, page: int = 1):
    if not pool.may_see_pool(request.user):
        raise HttpError(403, _("您无权查看公海"))
    start = (max(page, 1) - 1) * 50
    return [
        present_lead(lead, request.user).as_dict() for lead in pool.pool_leads()[start : start + 50]
    ]


@router.post(
    "/assignment/run", response=BatchOut, summary="Assign every unassigned lead now (一键分配)"
)
def run_all(request: HttpRequest):
    _managers_only(request)
    result = services.assign_batch(
        queries.unassigned_for(request.user), now=timezone.now(), by=request.user
    )
    return {"assigned": result.assigned, "unplaced": result.unplaced}


@router.get(
    "/assignment/preview",
    response=LeadAssignmentOut | dict,
    summary="Who would get this lead now, and why (预览)",
)
def preview(request: HttpRequest, number: str):
    _managers_only(request)
    lead = _lead(request, number)
    _routing, data = services.preview(lead, timezone.now())
    return {"lead": lead.number, "why": explain(data).as_dict()}


def rule_out(r: AssignmentRule) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "order": r.order,
        "active": r.active,
        "regions": r.regions,
        "provinces": [p.pk for p in r.provinces.all()],
        "industries": [i.name for i in r.industries.all()],
        "grades": r.grades,
        "customer_types": r.customer_types,
        "channels": [c.code for c in r.channels.all()],
        "team": r.team.name if r.team_id else None,
        "rep": r.rep.username if r.rep_id else None,
        "note": r.note,
    }


@router.get("/assignment/rules", response=list[RuleOut], summary="Assignment rules (分配规则)")
def list_rules(request: HttpRequest):
    _managers_only(request)
    rules = AssignmentRule.objects.select_related("team", "rep").prefetch_related(
        "provinces", "industries", "channels"
    )
    return [rule_out(r) for r in rules]


def _save_rule(request: HttpRequest, payload: RuleIn, rule: AssignmentRule | None) -> dict:
    data = payload.model_dump()
    unknown = []

    def ids(model, field, values):
        found = dict(model.objects.filter(**{f"{field}__in": values}).values_list(field, "pk"))
        unknown.extend(v for v in values if v not in found)
        return [found[v] for v in values if v in found]

    data["industries"] = ids(Industry, "name", data["industries"])
    data["channels"] = ids(Channel, "code", data["channels"])
    data["team"] = ids(Team, "name", [data["team"]])[0] if data["team"] else None
    data["rep"] = ids(User, "username", [data["rep"]])[0] if data["rep"] else None
    if unknown:
        raise api_error(
            400, "unknown_value", _("未知的取值：%(v)s") % {"v": "、".join(map(str, unknown))}
        )
    form = AssignmentRuleForm(data=data, instance=rule, user=request.user)
    if not form.is_valid():
        messages = [f"{name}: {' '.join(errs)}" for name, errs in form.errors.items()]
        raise api_error(400, "invalid", "；".join(messages))
    return rule_out(form.save())


@router.post("/assignment/rules", response={201: RuleOut}, summary="Add a rule")
def create_rule(request: HttpRequest, payload: RuleIn):
    _managers_only(request)
    return Status(201, _save_rule(request, payload, None))


@router.put("/assignment/rules/{rule_id}", response=RuleOut, summary="Change a rule")
def update_rule(request: HttpRequest, rule_id: int, payload: RuleIn):
    _managers_only(request)
    return _save_rule(request, payload, get_object_or_404(AssignmentRule, pk=rule_id))


@router.delete("/assignment/rules/{rule_id}", response={204: None}, summary="Delete a rule")
def delete_rule(request: HttpRequest, rule_id: int):
    _managers_only(request)
    get_object_or_404(AssignmentRule, pk=rule_id).delete()
    return Status(204, None)


@router.get("/assignment/policy", response=PolicyIO, summary="Weights, deadlines, pool limits")
def get_policy(request: HttpRequest):
    _managers_only(request)
    return AssignmentPolicy.current()


@router.put("/assignment/policy", response=PolicyIO, summary="Change weights and limits")
def put_policy(request: HttpRequest, payload: PolicyIO):
    _managers_only(request)
    form = PolicyForm(data=payload.model_dump(), instance=AssignmentPolicy.current())
    if not form.is_valid():
        raise api_error(400, "invalid", "；".join(" ".join(e) for e in form.errors.values()))
    policy = form.save(commit=False)
    policy.updated_by = request.user
    policy.save()
    return policy
