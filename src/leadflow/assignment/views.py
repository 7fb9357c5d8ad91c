from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadflow.accounts.models import Role, User
from leadflow.leads.models import Lead
from leadflow.leads.presenters import present_lead
from leadflow.leads.queries import visible_leads

from . import pool, queries, services
from .forms import AssignmentRuleForm, PolicyForm
from .models import AssignmentPolicy, AssignmentRule
from .presenters import explain


def managers_only(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not services.may_assign(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _lead(request: HttpRequest, number: str) -> Lead:
    return get_object_or_404(visible_leads(request.user), number=number)


def _back(request: HttpRequest, number: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect("leads:detail", number=number)


def _answer(request: HttpRequest, number: str, act, done: str) -> HttpResponse:
    try:
        act(_lead(request, number))
    except services.AssignmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"n": number})
    return _back(request, number)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    rows = [
        (a, present_lead(a.lead, request.user))
        for a in queries.awaiting_confirmation(request.user)[:200]
    ]
    return render(
        request, "assignment/inbox.html", {"active": "inbox", "rows": rows, "now": timezone.now()}
    )


@login_required
@require_POST
def accept(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(
        request,
        number,
        lambda lead: services.accept(lead=lead, rep=request.user, now=timezone.now()),
        _("已接收线索 %(n)s，请按时完成首次联系"),
    )


@login_required
@require_POST
def decline(request: HttpRequest, number: str) -> HttpResponse:
    reason = request.POST.get("reason", "")[:500]
    return _answer(
        request,
        number,
        lambda lead: services.decline(
            lead=lead, rep=request.user, now=timezone.now(), reason=reason
        ),
        _("已拒绝线索 %(n)s，已通知经理"),
    )


@login_required
@require_POST
def claim(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(
        request,
        number,
        lambda lead: pool.claim(lead=lead, rep=request.user, now=timezone.now()),
        _("已从公海领取线索 %(n)s"),
    )


@managers_only
@require_POST
def assign(request: HttpRequest, number: str) -> HttpResponse:
    rep_id = request.POST.get("rep", "")
    rep = User.objects.filter(pk=int(rep_id)).first() if rep_id.isdigit() else None
    if rep is None:
        messages.error(request, _("请选择销售代表"))
        return _back(request, number)
    return _answer(
        request,
        number,
        lambda lead: services.assign_manually(
            lead=lead,
            rep=rep,
            by=request.user,
            now=timezone.now(),
            reason=request.POST.get("reason", "")[:500],
        ),
        _("线索 %(n)s 已分配") + f" → {rep}",
    )


@managers_only
def console(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    unassigned = queries.unassigned_for(request.user)
    page = Paginator(unassigned, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "assignment/console.html",
        {
            "active": "console",
            "page": page,
            "rows": [present_lead(lead, request.user) for lead in page.object_list],
            "escalated": list(queries.escalated_for(request.user, now)[:100]),
            "reps": list(services.assignable_reps(request.user)),
        },
    )


@managers_only
@require_POST
def run_all(request: HttpRequest) -> HttpResponse:
    result = services.assign_batch(
        queries.unassigned_for(request.user), now=timezone.now(), by=request.user
    )
    messages.success(
        request,
        _("已分配 %(a)s 条；%(u)s 条暂无可接手的销售")
        % {"a": result.assigned, "u": result.unplaced},
    )
    return redirect("assignment:console")


@managers_only
def rules(request: HttpRequest) -> HttpResponse:
    policy = AssignmentPolicy.current()
    context = {
        "active": "rules",
        "rules": AssignmentRule.objects.select_related("team", "rep").prefetch_related(
            "provinces", "industries", "channels"
        ),
        "policy_form": PolicyForm(instance=policy),
        "number": request.GET.get("number", "").strip()[:30],
    }
    if context["number"]:
        lead = visible_leads(request.user).filter(number=context["number"]).first()
        if lead is None:
            context["preview_error"] = _("未找到线索 %(n)s，或您无权查看") % {
                "n": context["number"]
            }
        else:
            _routing, data = services.preview(lead, timezone.now())
            context["preview"] = explain(data)
            context["preview_lead"] = lead
    return render(request, "assignment/rules.html", context)


@managers_only
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(AssignmentRule, pk=pk) if pk else None
    form = AssignmentRuleForm(request.POST or None, instance=rule, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("规则“%(r)s”已保存") % {"r": form.instance.name})
        return redirect("assignment:rules")
    return render(
        request, "assignment/rule_form.html", {"active": "rules", "form": form, "rule": rule}
    )


@managers_only
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AssignmentRule, pk=pk)
    rule.delete()
    messages.success(request, _("规则“%(r)s”已删除") % {"r": rule.name})
    return redirect("assignment:rules")


@managers_only
@require_POST
def policy(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST, instance=AssignmentPolicy.current())
    if form.is_valid():
        saved = form.save(commit=False)
        saved.updated_by = request.user
        saved.save()
        messages.success(request, _("分配设置已保存"))
    else:
        for error in form.errors.values():
            messages.error(request, "；".join(error))
    return redirect("assignment:rules")


@login_required
def pool_view(request: HttpRequest) -> HttpResponse:
    if not pool.may_see_pool(request.user):
        raise PermissionDenied
    now = timezone.now()
    page = Paginator(pool.pool_leads(), 50).get_page(request.GET.get("page"))
    policy = AssignmentPolicy.current()
    is_rep = request.user.has_role(Role.REP)
    return render(
        request,
        "assignment/pool.html",
        {
            "active": "pool",
            "page": page,
            "rows": [present_lead(lead, request.user) for lead in page.object_list],
            "policy": policy,
            "is_rep": is_rep,
            "claimed_today": pool.claims_today(request.user, now) if is_rep else 0,
            "holding": pool.claimed_holding(request.user) if is_rep else 0,
        },
    )
