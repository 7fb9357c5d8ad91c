"""Follow-up screens: "my day", the kanban board, the lead page's forms and the weekly
review. Views parse, call one service and render; a refused form comes back with what the
user typed and the reason (HTTP 400), so nothing is lost."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadflow.accounts.models import Role, Team, User
from leadflow.core import calendars
from leadflow.leads.models import Lead, Status
from leadflow.leads.queries import visible_leads

from . import playbooks, queries, review, services
from .forms import (
    FollowUpForm,
    GradeForm,
    MoveForm,
    PolicyFormSet,
    ProfileForm,
    TaskForm,
    VerdictForm,
)
from .models import PlaybookStep, SlaPolicy, Task
from .services import Contact, FollowUpError, Move


def _lead(request: HttpRequest, number: str) -> Lead:
    return get_object_or_404(
        visible_leads(request.user).select_related("team", "owner__team"), number=number
    )


def _back(request: HttpRequest, lead: Lead, anchor: str = "") -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        url = target
    else:
        url = f"/leads/{lead.number}/{anchor}"
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _refused(request, form, exc: FollowUpError, *, lead: Lead, title: str, template: str):
    """The form again, with what was typed and why it was refused."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
    return _form_page(request, form, lead=lead, title=title, template=template, status=exc.status)


def _form_page(request, form, *, lead, title, template, status=400):
    context = {"form": form, "lead": lead, "title": title, "template": template}
    context["next"] = request.POST.get("next", "") or request.GET.get("next", "")
    if request.htmx:
        return render(request, template, context, status=status)
    return render(request, "followups/form_page.html", context, status=status)


# --- the lead page's forms -----------------------------------------------------------------------


@login_required
@require_POST
def record(request: HttpRequest, number: str) -> HttpResponse:
    lead = _lead(request, number)
    form = FollowUpForm(request.POST)
    page = {"lead": lead, "title": _("填写跟进记录"), "template": "followups/_followup_form.html"}
    if not form.is_valid():
        return _form_page(request, form, **page)
    try:
        followup = services.record_followup(
            lead=lead, by=request.user, contact=Contact(**form.cleaned_data), now=timezone.now()
        )
    except FollowUpError as exc:
        return _refused(request, form, exc, **page)
    if followup.late:
        messages.warning(request, _("已记录（联系后超过 1 小时填写，标记为补录）"))
    else:
        messages.success(request, _("已记录跟进"))
    return _back(request, lead, "#followups")


@login_required
@require_POST
def grade(request: HttpRequest, number: str) -> HttpResponse:
    lead = _lead(request, number)
    form = GradeForm(request.POST)
    page = {"lead": lead, "title": _("定级"), "template": "followups/_grade_form.html"}
    if not form.is_valid():
        return _form_page(request, form, **page)
    try:
        services.set_grade(lead=lead, by=request.user, now=timezone.now(), **form.cleaned_data)
    except FollowUpError as exc:
        return _refused(request, form, exc, **page)
    messages.success(request, _("等级已更新，跟进计划随之调整"))
    return _back(request, lead, "#followups")


@login_required
def move(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the evidence form for a move (the board's dialog); POST: make the move."""
    lead = _lead(request, number)
    page = {"lead": lead, "title": _("变更状态"), "template": "followups/_move_form.html"}
    if request.method != "POST":
        to = request.GET.get("to", "")
        initial = {"to": to, "won_at": timezone.localtime().replace(second=0, microsecond=0)}
        form = MoveForm(initial=initial, targets=queries.targets(lead) or None)
        return _form_page(request, form, status=200, **page)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, **page)
    data = form.cleaned_data
    reason = data["invalid_reason"].code if data["invalid_reason"] else ""
    step = Move(
        to=data["to"],
        reason=data["reason"],
        invalid_reason=reason,
        need=data["need"],
        won_amount=data["won_amount"],
        won_at=data["won_at"],
    )
    try:
        services.move_stage(lead=lead, by=request.user, move=step, now=timezone.now())
    except FollowUpError as exc:
        return _refused(request, form, exc, **page)
    messages.success(
        request, _("线索 %(n)s 已变更为“%(s)s”") % {"n": lead.number, "s": Status(step.to).label}
    )
    return _back(request, lead)


@login_required
@require_POST
def add_task(request: HttpRequest, number: str) -> HttpResponse:
    lead = _lead(request, number)
    form = TaskForm(request.POST)
    page = {"lead": lead, "title": _("安排下一步行动"), "template": "followups/_task_form.html"}
    if not form.is_valid():
        return _form_page(request, form, **page)
    try:
        services.add_task(lead=lead, by=request.user, now=timezone.now(), **form.cleaned_data)
    except FollowUpError as exc:
        return _refused(request, form, exc, **page)
    messages.success(request, _("已安排下一步行动"))
    return _back(request, lead, "#followups")


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(
        Task.objects.select_related("lead").filter(lead__in=visible_leads(request.user)), pk=pk
    )
    try:
        services.complete_task(
            task=task, by=request.user, now=timezone.now(), outcome=request.POST.get("outcome", "")
        )
    except FollowUpError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已完成：%(t)s") % {"t": task.title})
    return _back(request, task.lead, "#followups")


@login_required
@require_POST
def schedule(request: HttpRequest, number: str, step: int) -> HttpResponse:
    lead = _lead(request, number)
    the_step = get_object_or_404(PlaybookStep, pk=step)
    try:
        task = playbooks.schedule(lead=lead, step=the_step, by=request.user, now=timezone.now())
    except FollowUpError as exc:
        messages.error(request, exc.message)
    else:
        when = timezone.localtime(task.due).strftime("%Y-%m-%d %H:%M")
        messages.success(request, _("已安排：%(t)s（%(d)s 前）") % {"t": task.title, "d": when})
    return _back(request, lead, "#followups")


@login_required
@require_POST
def profile(request: HttpRequest, number: str) -> HttpResponse:
    lead = _lead(request, number)
    form = ProfileForm(request.POST, instance=Lead(pk=lead.pk))
    page = {"lead": lead, "title": _("客户画像"), "template": "followups/_profile_form.html"}
    if not form.is_valid():
        return _form_page(request, form, **page)
    values = {name: form.cleaned_data[name] for name in services.PROFILE_FIELDS}
    try:
        services.update_profile(lead=lead, by=request.user, values=values, now=timezone.now())
    except FollowUpError as exc:
        return _refused(request, form, exc, **page)
    messages.success(request, _("客户画像已保存"))
    return _back(request, lead, "#profile")


# --- my day and the board ------------------------------------------------------------------------


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "followups/my_day.html",
        {"active": "day", "day": queries.my_day(request.user, now), "now": now},
    )


@login_required
def board(request: HttpRequest) -> HttpResponse:
    owner = request.GET.get("owner", "")
    owner_id = int(owner) if owner.isdigit() else None
    reps = []
    if request.user.has_role(Role.MANAGER, Role.ADMIN):
        reps = User.objects.filter(groups__name=Role.REP, is_active=True).order_by("username")
        if not request.user.has_role(Role.ADMIN):
            reps = reps.filter(team__manager=request.user)
    return render(
        request,
        "followups/board.html",
        {
            "active": "board",
            "columns": queries.board(request.user, timezone.now(), owner=owner_id),
            "reps": reps,
            "owner": owner_id,
        },
    )


# --- the weekly review ---------------------------------------------------------------------------


def _day(value: str) -> date | None:
    """The date a URL names, None when it names none."""
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _week(value: str) -> date:
    """The week a URL names (any day of it), else last week: reviews look back."""
    return review.week_of(_day(value) or timezone.localdate() - timedelta(days=7))


def _named_week(value: str) -> date:
    day = _day(value)
    if day is None:
        raise Http404
    return day


@login_required
def review_page(request: HttpRequest) -> HttpResponse:
    teams = list(review.reviewable_teams(request.user))
    if not teams:
        raise PermissionDenied
    team_id = request.GET.get("team", "")
    team = next((t for t in teams if str(t.pk) == team_id), teams[0])
    week = _week(request.GET.get("week", ""))
    reps = list(User.objects.filter(team=team, groups__name=Role.REP).order_by("username"))
    return render(
        request,
        "followups/review.html",
        {
            "active": "review",
            "teams": teams,
            "team": team,
            "week": week,
            "previous": week - timedelta(days=7),
            "following": week + timedelta(days=7),
            "entries": review.graded_in_week(team, week),
            "accuracy": zip(
                review.accuracy(reps=reps),
                review.accuracy(reps=reps, meeting=(team, week)),
                strict=True,
            ),
            "grades": [g for g, _label in Lead._meta.get_field("grade").choices],
            "meeting": team.gradereview_set.filter(week=week).first(),
        },
    )


@login_required
@require_POST
def judge(request: HttpRequest, team: int, week: str, number: str) -> HttpResponse:
    the_team = get_object_or_404(Team, pk=team)
    lead = _lead(request, number)
    form = VerdictForm(request.POST)
    back = f"/reviews/?team={the_team.pk}&week={week}"
    if not form.is_valid():
        messages.error(request, _("请选择确认或修正"))
        return redirect(back)
    try:
        review.judge(
            team=the_team,
            week=_named_week(week),
            lead=lead,
            by=request.user,
            now=timezone.now(),
            **form.cleaned_data,
        )
    except FollowUpError as exc:
        messages.error(request, f"{lead.number}：{exc.message}")
    else:
        messages.success(request, _("%(n)s 已评审") % {"n": lead.number})
    return redirect(f"{back}#lead-{lead.number}")


@login_required
@require_POST
def close_review(request: HttpRequest, team: int, week: str) -> HttpResponse:
    the_team = get_object_or_404(Team, pk=team)
    try:
        review.close(
            team=the_team,
            week=_named_week(week),
            by=request.user,
            summary=request.POST.get("summary", ""),
            now=timezone.now(),
        )
    except FollowUpError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("评审会已结束，纪要已保存"))
    return redirect(f"/reviews/?team={the_team.pk}&week={week}")


# --- follow-up plans ---------------------------------------------------------------------------


@login_required
def plans(request: HttpRequest) -> HttpResponse:
    """The follow-up plan of each grade (R3.1), edited by managers and admins; a change
    applies to deadlines set from then on."""
    if not request.user.has_role(Role.MANAGER, Role.ADMIN):
        raise PermissionDenied
    policies = SlaPolicy.objects.order_by("grade")
    formset = PolicyFormSet(request.POST or None, queryset=policies)
    if request.method == "POST":
        if formset.is_valid():
            formset.save()
            messages.success(request, _("跟进时限已保存，之后设定的截止时间按新规则计算"))
            return redirect("followups:plans")
        status = 400
    else:
        status = 200
    calendar = calendars.current()
    return render(
        request,
        "followups/plans.html",
        {"active": "plans", "formset": formset, "calendar": calendar},
        status=status,
    )
