from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.accounts.models import Role, Team, User
from leadflow.assignment.queries import panel as assignment_panel
from leadflow.followups import queries as followups
from leadflow.followups.forms import lead_page as followup_forms

from .models import FUNNEL_STEPS, Channel, Grade, Industry, Status
from .pipeline import MERGEABLE
from .presenters import present_lead
from .queries import LeadFilter, can_see_contact, filter_leads, may_fix, visible_leads


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    f = LeadFilter.from_query(g)
    leads = filter_leads(visible_leads(request.user), f).select_related("province")
    page = Paginator(leads, 50).get_page(g.get("page"))
    rows = [present_lead(lead, request.user) for lead in page.object_list]
    context = {
        "active": "leads",
        "page": page,
        "rows": rows,
        "f": f,
        "statuses": Status.choices,
        "grades": Grade.choices,
        "channels": Channel.objects.filter(parent=None).order_by("code"),
        "owners": User.objects.filter(groups__name=Role.REP).order_by("username"),
        "query": g.copy().urlencode() if "page" not in g else _without_page(g),
        "drill": f.drill(),
        "drilled": _drilled(f),
    }
    template = "leads/list.html#results" if request.htmx else "leads/list.html"
    return render(request, template, context)


OUTCOME_LABELS = {
    "won": _("成交"),
    "invalid": _("无效"),
    "stalled": _("退回公海"),
    "open": _("仍在跟进"),
}


def _drilled(f: LeadFilter) -> list[str]:
    """The dashboard's drill-down in words: what the list is narrowed to beyond its form."""
    steps = {rank: label for rank, _s, label in FUNNEL_STEPS}
    said = []
    if f.team:
        said.append(_("团队：%(t)s") % {"t": Team.objects.filter(pk=f.team).first() or "—"})
    if f.industry:
        said.append(_("行业：%(i)s") % {"i": Industry.objects.filter(pk=f.industry).first() or "—"})
    if f.region:
        said.append(_("大区：%(r)s") % {"r": f.region})
    if f.reached is not None:
        said.append(_("到达「%(s)s」及以后") % {"s": steps[f.reached]})
    if f.stop is not None:
        said.append(_("止于「%(s)s」") % {"s": steps[f.stop]})
    if f.outcome:
        said.append(str(OUTCOME_LABELS[f.outcome]))
    if f.missed:
        said.append(_("%(d)s 有跟进时限被错过") % {"d": f.missed.isoformat()})
    return said


def _without_page(g) -> str:
    q = g.copy()
    q.pop("page", None)
    return q.urlencode()


@login_required
def lead_detail(request: HttpRequest, number: str) -> HttpResponse:
    lead = get_object_or_404(
        visible_leads(request.user).select_related("province", "team", "created_by", "owner__team"),
        number=number,
    )
    masked = not can_see_contact(request.user, lead)
    now = timezone.now()
    return render(
        request,
        "leads/detail.html",
        {
            "active": "leads",
            "lead": lead,
            "now": now,
            "view": present_lead(lead, request.user),
            "timeline": followups.timeline(lead, masked=masked),
            **followup_forms(lead, request.user, now),
            "touches": lead.touches.count(),
            "can_verify": request.user.has_perm("leads.verify_lead"),
            "can_merge": request.user.has_perm("leads.verify_lead") and lead.status in MERGEABLE,
            "can_fix": may_fix(request.user, lead),
            "panel": assignment_panel(lead, request.user, now),
        },
    )
