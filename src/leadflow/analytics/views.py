"""The dashboards per role and the weekly review report (R4.1–R4.7)."""

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import Team
from leadflow.followups import review

from . import dashboards, weekly
from .forms import FIRST_DAY, LAST_DAY, DashboardFilter
from .queries import Filters
from .workbook import workbook

HEADINGS = {
    "rep": gettext_lazy("我的数据"),
    "manager": gettext_lazy("团队看板"),
    "marketing": gettext_lazy("渠道看板"),
    "admin": gettext_lazy("全局看板"),
}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    data = request.GET.copy()
    if not data.get("since") and not data.get("until"):
        since, until = dashboards.default_period(today)
        data["since"], data["until"] = since.isoformat(), until.isoformat()
    form = DashboardFilter(data, user=request.user)
    status = 200
    if form.is_valid():
        filters = form.filters()
    else:  # say what is wrong, and show the default period meanwhile
        status = 400
        filters = Filters(*dashboards.default_period(today))
    board = dashboards.build(request.user, filters, now=timezone.now())
    return render(
        request,
        "analytics/dashboard.html",
        {
            "active": "dashboard",
            "form": form,
            "board": board,
            "heading": HEADINGS[board.role],
            "chart_labels": chart_labels(),
        },
        status=status,
    )


def chart_labels() -> dict:
    """The words the charts draw, in the user's language."""
    return {
        "leads": _("线索"),
        "won": _("成交"),
        "owned": _("负责"),
        "conversion": _("转化率"),
        "misses": _("错过时限"),
        "days": _("天"),
        "share_won": _("已成交比例"),
        "reached": _("到达"),
    }


@login_required
def weekly_latest(request: HttpRequest) -> HttpResponse:
    """The last full week's report of the first team the user may review."""
    team = review.reviewable_teams(request.user).first()
    if team is None:
        raise PermissionDenied
    last_week = review.week_of(timezone.localdate()) - timedelta(days=7)
    return redirect("analytics:weekly", team.pk, last_week.isoformat())


def _weekly(request: HttpRequest, team_id: int, week: str) -> weekly.WeeklyReport:
    team = get_object_or_404(Team, pk=team_id)
    if not review.may_review(request.user, team):
        raise PermissionDenied
    try:
        day = date.fromisoformat(week)
    except ValueError:
        raise Http404(_("日期格式应为 YYYY-MM-DD")) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Http404(_("日期须在 2000 年至 2100 年之间"))
    return weekly.report(request.user, team, day, now=timezone.now())


@login_required
def weekly_page(request: HttpRequest, team: int, week: str) -> HttpResponse:
    r = _weekly(request, team, week)
    if r.week.isoformat() != week:  # any day of the week: its Monday's page
        return redirect("analytics:weekly", team, r.week.isoformat())
    return render(
        request,
        "analytics/weekly.html",
        {
            "active": "weekly",
            "r": r,
            "teams": review.reviewable_teams(request.user),
            "previous": r.week - timedelta(days=7),
            "following": r.week + timedelta(days=7),
            "charts": {**r.charts, "trend": r.trend_chart},
            "chart_labels": chart_labels(),
        },
    )


@login_required
def weekly_workbook(request: HttpRequest, team: int, week: str) -> HttpResponse:
    r = _weekly(request, team, week)
    response = HttpResponse(
        workbook(r),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"weekly-review-{r.team.pk}-{r.week.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
