from datetime import date

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from .models import Channel, Grade, Status
from .presenters import present_lead
from .queries import LeadFilter, filter_leads, visible_leads
from .schemas import ChannelOut, LeadOut, LeadPage

router = Router(tags=["leads"])


class LeadQuery(Schema):
    status: Status | None = None
    channel: str | None = None
    grade: Grade | None = None
    owner: int | None = None
    since: date | None = None
    until: date | None = None
    q: str | None = None
    page: int = 1
    page_size: int = 50


@router.get("/leads", response=LeadPage, summary="List leads visible to me")
def list_leads(request: HttpRequest, query: Query[LeadQuery]):
    page_size = min(max(query.page_size, 1), 200)
    page = max(query.page, 1)
    f = LeadFilter(
        status=query.status or "",
        channel=query.channel or "",
        grade=query.grade or "",
        owner=query.owner,
        since=query.since,
        until=query.until,
        q=(query.q or "")[:100].replace("\x00", ""),
    )
    leads = filter_leads(visible_leads(request.user), f)
    start = (page - 1) * page_size
    rows = list(
        leads.select_related("team", "province", "duplicate_of", "created_by")[
            start : start + page_size
        ]
    )
    return {
        "count": leads.count(),
        "page": page,
        "page_size": page_size,
        "results": [present_lead(lead, request.user).as_dict() for lead in rows],
    }


@router.get("/leads/{number}", response=LeadOut, summary="One lead")
def get_lead(request: HttpRequest, number: str):
    lead = get_object_or_404(visible_leads(request.user), number=number)
    return present_lead(lead, request.user).as_dict()


@router.get("/channels", response=list[ChannelOut], summary="Lead channels (来源渠道)")
def list_channels(request: HttpRequest):
    channels = Channel.objects.select_related("parent").order_by("parent_id", "code")
    return [
        {
            "code": c.code,
            "name": c.name,
            "category": c.category,
            "parent": c.parent.code if c.parent_id else None,
            "requires_verification": c.requires_verification,
            "active": c.active,
        }
        for c in channels
    ]
