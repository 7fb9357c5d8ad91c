from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadflow.leads.findings import MATCHED_ON, label
from leadflow.leads.models import Status
from leadflow.leads.pipeline import TransitionError
from leadflow.leads.presenters import owner_label, present_lead
from leadflow.leads.queries import may_fix, returned_to, verification_queue, visible_leads

from .dedup import find_duplicate_as_typed
from .forms import LeadForm, initial_for
from .services import (
    MergeError,
    approve_lead,
    merge_lead,
    restore_lead,
    resubmit_lead,
    return_lead,
    submit_lead,
)
from .validation import IntakeError


def _show_errors(form: LeadForm, exc: IntakeError) -> None:
    for error in exc.errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
@permission_required("leads.add_lead", raise_exception=True)
def new_lead(request: HttpRequest) -> HttpResponse:
    form = LeadForm(request.POST or None, initial=initial_for(None))
    if request.method == "POST":
        try:
            result = submit_lead(data=form.raw(), by=request.user, source="web", now=timezone.now())
        except IntakeError as exc:
            _show_errors(form, exc)
        else:
            lead = result.lead
            if result.created:
                messages.success(request, _("已录入线索 %(n)s") % {"n": lead.number})
            else:
                messages.warning(
                    request,
                    _("与在跟线索 %(n)s 重复，已记为一次新的接触，未新建线索") % {"n": lead.number},
                )
            if visible_leads(request.user).filter(pk=lead.pk).exists():
                return redirect("leads:detail", number=lead.number)
            return redirect("intake:new")
    return render(
        request, "intake/form.html", {"form": form, "active": "new", "title": _("录入线索")}
    )


@login_required
def edit_lead(request: HttpRequest, number: str) -> HttpResponse:
    lead = get_object_or_404(visible_leads(request.user), number=number)
    if not may_fix(request.user, lead):
        raise PermissionDenied
    form = LeadForm(request.POST or None, initial=initial_for(lead))
    if request.method == "POST":
        try:
            lead = resubmit_lead(lead=lead, data=form.raw(), by=request.user, now=timezone.now())
        except IntakeError as exc:
            _show_errors(form, exc)
        except TransitionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已重新提交 %(n)s") % {"n": lead.number})
            return redirect("leads:detail", number=lead.number)
    return render(
        request,
        "intake/form.html",
        {"form": form, "lead": lead, "title": _("修改并重新提交 %(n)s") % {"n": lead.number}},
    )


@login_required
def check_duplicate(request: HttpRequest) -> HttpResponse:
    """The live duplicate warning on the lead form (htmx), masked like everything else."""
    match = find_duplicate_as_typed(
        phone=request.POST.get("phone", ""),
        email=request.POST.get("email", ""),
        company_name=request.POST.get("company_name", ""),
        customer_type=request.POST.get("customer_type", ""),
    )
    context = {"match": match}
    if match:
        context["matched_on"] = label(MATCHED_ON, match.matched_on)
        context["view"] = present_lead(match.lead, request.user)
        context["owner"] = owner_label(match.lead, request.user)
        context["visible"] = visible_leads(request.user).filter(pk=match.lead.pk).exists()
    return render(request, "intake/form.html#duplicate", context)


@login_required
@permission_required("leads.verify_lead", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "pending")
    if tab == "screened":
        leads = visible_leads(request.user).filter(status=Status.SCREENED_OUT)
    else:
        leads = verification_queue(request.user)
    page = Paginator(leads, 50).get_page(request.GET.get("page"))
    rows = [present_lead(lead, request.user) for lead in page.object_list]
    return render(
        request,
        "intake/queue.html",
        {"active": "queue", "rows": rows, "page": page, "tab": tab},
    )


@login_required
def returned(request: HttpRequest) -> HttpResponse:
    rows = [present_lead(lead, request.user) for lead in returned_to(request.user)[:200]]
    return render(request, "intake/returned.html", {"active": "returned", "rows": rows})


def _verify(request: HttpRequest, number: str, action, done: str, **kwargs) -> HttpResponse:
    if not request.user.has_perm("leads.verify_lead"):
        raise PermissionDenied
    lead = get_object_or_404(visible_leads(request.user), number=number)
    try:
        action(lead=lead, by=request.user, now=timezone.now(), **kwargs)
    except TransitionError as exc:
        messages.error(request, exc.message)
        return redirect("leads:detail", number=number)
    messages.success(request, done % {"n": number})
    next_lead = verification_queue(request.user).first()
    if next_lead is not None:
        return redirect("leads:detail", number=next_lead.number)
    return redirect("intake:queue")


@require_POST
@login_required
def approve(request: HttpRequest, number: str) -> HttpResponse:
    return _verify(request, number, approve_lead, _("%(n)s 核对通过，进入待分配"))


@require_POST
@login_required
def return_(request: HttpRequest, number: str) -> HttpResponse:
    reason = request.POST.get("reason", "")[:500].replace("\x00", "").strip()
    return _verify(request, number, return_lead, _("%(n)s 已退回录入人"), reason=reason)


@require_POST
@login_required
def restore(request: HttpRequest, number: str) -> HttpResponse:
    reason = request.POST.get("reason", "")[:500].replace("\x00", "").strip()
    return _verify(request, number, restore_lead, _("%(n)s 已恢复到核对队列"), reason=reason)


@require_POST
@login_required
def merge(request: HttpRequest, number: str) -> HttpResponse:
    if not request.user.has_perm("leads.verify_lead"):
        raise PermissionDenied
    visible = visible_leads(request.user)
    lead = get_object_or_404(visible, number=number)
    target = request.POST.get("into", "")[:30].replace("\x00", "").strip()
    into = visible.filter(number=target).first()
    if into is None:
        messages.error(request, _("未找到要合并到的线索：%(n)s") % {"n": target})
        return redirect("leads:detail", number=number)
    reason = request.POST.get("reason", "")[:500].replace("\x00", "").strip()
    try:
        merge_lead(lead=lead, into=into, by=request.user, now=timezone.now(), reason=reason)
    except (MergeError, TransitionError) as exc:
        messages.error(request, exc.message)
        return redirect("leads:detail", number=number)
    messages.success(request, _("%(a)s 已合并至 %(b)s") % {"a": number, "b": into.number})
    return redirect("leads:detail", number=into.number)
