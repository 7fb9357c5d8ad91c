from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from leadflow.accounts.models import Role, User

from .models import Channel, Grade, Status
from .pipeline import MERGEABLE
from .presenters import present_lead
from .queries import LeadFilter, can_see_contact, filter_leads, may_fix, visible_leads
from .timeline import lead_timeline


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    f = LeadFilter(
        status=g.get("status", "") if g.get("status", "") in Status.values else "",
        channel=g.get("channel", "")[:12],
        grade=g.get("grade", "") if g.get("grade", "") in Grade.values else "",
        owner=_int(g.get("owner", "")),
        since=_date(g.get("since", "")),
        until=_date(g.get("until", "")),
        q=g.get("q", "")[:100].replace("\x00", ""),
    )
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
    }
    template = "leads/list.html#results" if request.htmx else "leads/list.html"
    return render(request, template, context)


def _without_page(g) -> str:
    q = g.copy()
    q.pop("page", None)
    return q.urlencode()


@login_required
def lead_detail(request: HttpRequest, number: str) -> HttpResponse:
    lead = get_object_or_404(
        visible_leads(request.user).select_related("province", "team", "created_by"),
        number=number,
    )
    masked = not can_see_contact(request.user, lead)
    return render(
        request,
        "leads/detail.html",
        {
            "active": "leads",
            "lead": lead,
            "view": present_lead(lead, request.user),
            "timeline": lead_timeline(lead, masked=masked),
            "touches": lead.touches.count(),
            "can_verify": request.user.has_perm("leads.verify_lead"),
            "can_merge": request.user.has_perm("leads.verify_lead") and lead.status in MERGEABLE,
            "can_fix": may_fix(request.user, lead),
        },
    )
