"""The dashboards per role and the weekly review report (R4.1–R4.7)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import dashboards
from .forms import DashboardFilter
from .queries import Filters

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
