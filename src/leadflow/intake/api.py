from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Status
from ninja.errors import HttpError

from leadflow.leads.api import router as leads_router
from leadflow.leads.pipeline import TransitionError
from leadflow.leads.presenters import present_lead
from leadflow.leads.queries import LeadFilter, may_fix, visible_leads
from leadflow.leads.schemas import LeadOut

from .exporting import export_csv, export_xlsx
from .schemas import IntakeOut, LeadIn, MergeIn, ReasonIn
from .services import (
    MergeError,
    approve_lead,
    merge_lead,
    restore_lead,
    resubmit_lead,
    return_lead,
    submit_lead,
)
from .validation import FieldError, IntakeError

# The lead paths are shared with leads.api (GET /leads and POST /leads are one path), so the
# intake operations join that router.
router = leads_router


@router.post(
    "/leads",
    response={201: IntakeOut, 200: IntakeOut},
    summary="Submit a lead (录入线索)",
    tags=["intake"],
    description="201 with the new lead; 200 with the existing lead when it repeats an open one.",
)
def create_lead(request: HttpRequest, payload: LeadIn):
    if not request.user.has_perm("leads.add_lead"):
        raise HttpError(403, _("您没有录入线索的权限"))
    result = submit_lead(
        data=payload.model_dump(), by=request.user, source="api", now=timezone.now()
    )
    body = present_lead(result.lead, request.user).as_dict()
    body.update(repeat=not result.created, matched_on=result.match and result.match.matched_on)
    return Status(201 if result.created else 200, body)


def _transition(request: HttpRequest, number: str, action, **kwargs):
    lead = get_object_or_404(visible_leads(request.user), number=number)
    try:
        lead = action(lead=lead, by=request.user, now=timezone.now(), **kwargs)
    except TransitionError as exc:
        raise IntakeError([FieldError("status", exc.code, str(exc.message))]) from exc
    return present_lead(lead, request.user).as_dict()


def _require_verifier(request: HttpRequest) -> None:
    if not request.user.has_perm("leads.verify_lead"):
        raise HttpError(403, _("只有销售支持可以核对线索"))


@router.post(
    "/leads/{number}/approve", response=LeadOut, summary="Verify a lead (核对通过)", tags=["intake"]
)
def approve(request: HttpRequest, number: str, payload: ReasonIn | None = None):
    _require_verifier(request)
    return _transition(request, number, approve_lead, note=payload.reason if payload else "")


@router.post(
    "/leads/{number}/return", response=LeadOut, summary="Return a lead (退回)", tags=["intake"]
)
def return_(request: HttpRequest, number: str, payload: ReasonIn):
    _require_verifier(request)
    return _transition(request, number, return_lead, reason=payload.reason)


@router.post(
    "/leads/{number}/restore",
    response=LeadOut,
    summary="Restore a screened-out lead",
    tags=["intake"],
)
def restore(request: HttpRequest, number: str, payload: ReasonIn):
    _require_verifier(request)
    return _transition(request, number, restore_lead, reason=payload.reason)


@router.put(
    "/leads/{number}", response=LeadOut, summary="Fix and resubmit a returned lead", tags=["intake"]
)
def resubmit(request: HttpRequest, number: str, payload: LeadIn):
    lead = get_object_or_404(visible_leads(request.user), number=number)
    if not may_fix(request.user, lead):
        raise HttpError(403, _("只有录入人或销售支持可以修改后重新提交"))
    return _transition(request, number, resubmit_lead, data=payload.model_dump())


@router.post(
    "/leads/{number}/merge",
    response=LeadOut,
    summary="Merge a duplicate into another lead (合并重复线索)",
    tags=["intake"],
)
def merge(request: HttpRequest, number: str, payload: MergeIn):
    _require_verifier(request)
    visible = visible_leads(request.user)
    lead = get_object_or_404(visible, number=number)
    into = visible.filter(number=payload.into).first()
    if into is None:
        message = _("未找到要合并到的线索：%(n)s") % {"n": payload.into[:30]}
        raise IntakeError([FieldError("into", "unknown_lead", message)])
    try:
        into = merge_lead(
            lead=lead, into=into, by=request.user, now=timezone.now(), reason=payload.reason
        )
    except MergeError as exc:
        raise IntakeError([FieldError("into", exc.code, exc.message)]) from exc
    return present_lead(into, request.user).as_dict()


@router.get(
    "/exports/leads",
    summary="Export leads (导出线索) as .xlsx or .csv",
    tags=["exports"],
    description="The lead list with the filters of GET /leads (status, channel, grade, owner, "
    "since, until, q); contacts masked as in the UI; every export is logged.",
    response={200: None},
)
def export(request: HttpRequest, format: Literal["xlsx", "csv"] = "xlsx"):
    if not request.user.has_perm("leads.export_lead"):
        raise HttpError(403, _("您没有导出线索的权限"))
    f = LeadFilter.from_query(request.GET)
    return export_csv(request.user, f) if format == "csv" else export_xlsx(request.user, f)
