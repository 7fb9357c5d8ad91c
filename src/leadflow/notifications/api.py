"""The in-app notifications through /api/v1/ (the bell)."""

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from . import services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    lead: str | None
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    unread: int
    results: list[NotificationOut]


class ReadIn(Schema):
    ids: list[int] | None = None  # None: all


@router.get("/notifications", response=NotificationPage, summary="My notifications")
def list_notifications(request: HttpRequest, unread: bool = False, page: int = 1):
    rows = services.inbox(request.user)
    if unread:
        rows = rows.filter(read_at=None)
    start = (max(page, 1) - 1) * 50
    return {
        "unread": services.unread_count(request.user),
        "results": [
            {
                "id": n.pk,
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "lead": n.lead.number if n.lead_id else None,
                "link": n.payload.get("link", ""),
                "created_at": n.created_at,
                "read_at": n.read_at,
            }
            for n in rows[start : start + 50]
        ],
    }


@router.post("/notifications/read", response=dict, summary="Mark read (some or all)")
def read(request: HttpRequest, payload: ReadIn):
    marked = services.mark_read(request.user, now=timezone.now(), ids=payload.ids)
    return {"marked": marked, "unread": services.unread_count(request.user)}
