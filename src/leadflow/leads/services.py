"""Writes on leads that every app shares: status moves with their StageChange."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from leadflow.accounts import loads
from leadflow.core.audit import record_changes, snapshot

from .models import OPEN_STATUSES, Lead, StageChange, reached
from .pipeline import Evidence, check_transition


def move_lead(
    *,
    lead: Lead,
    to: str,
    by,
    at: datetime,
    evidence: Evidence | None = None,
    fields: dict[str, Any] | None = None,
) -> StageChange:
    """Move `lead` to status `to` if the pipeline allows it and the evidence suffices.
    `fields` (name → value; a foreign key by id) change with it, in the same statement and
    the same audit entry — an assignment's owner and team, say."""
    evidence = evidence or Evidence()
    fields = fields or {}
    check_transition(current=lead.status, to=to, evidence=evidence)
    # the refusal above leaves the caller's transaction as it was; past this point a failure
    # fails the caller's transaction too, so no savepoint is needed (two round trips fewer)
    with transaction.atomic(savepoint=False):
        return _move(lead, to, by, at, evidence, fields)


def _move(lead: Lead, to: str, by, at: datetime, evidence: Evidence, fields: dict) -> StageChange:
    before = snapshot(lead, ["status", *fields])
    owner = lead.owner_id
    change = StageChange.objects.create(
        lead=lead,
        from_status=lead.status,
        to_status=to,
        at=at,
        entered_at=last_change_at(lead.pk),
        by=by,
        reason=evidence.reason[:500],
        evidence=evidence.as_json(),
    )
    was_open = lead.status in OPEN_STATUSES
    lead.status = to
    lead.furthest = reached(lead.furthest, to)
    lead.updated_at = at
    for name, value in fields.items():
        setattr(lead, lead._meta.get_field(name).attname, value)
    lead.save(update_fields=["status", "furthest", "updated_at", *fields])
    record_changes(instance=lead, before=before, by=by, at=at, reason=evidence.reason)
    loads.moved(  # a change of owner is the caller's to count
        old_owner=owner,
        new_owner=owner,
        was_open=was_open,
        is_open=to in OPEN_STATUSES,
    )
    from leadflow.notifications.services import lead_event  # notifications builds on leads

    lead_event(lead, "lead.status_changed", at=at, extra={"from": change.from_status})
    return change


def last_change_at(lead_id: int) -> datetime | None:
    """When the lead entered its current status: its latest StageChange."""
    return (
        StageChange.objects.filter(lead_id=lead_id)
        .order_by("-at", "-pk")
        .values_list("at", flat=True)
        .first()
    )


def last_changes_at(lead_ids) -> dict[int, datetime]:
    """`last_change_at` for many leads in one query."""
    return dict(
        StageChange.objects.filter(lead_id__among=list(lead_ids))
        .order_by()
        .values("lead_id")
        .annotate(last=Max("at"))
        .values_list("lead_id", "last")
    )


def record_entry(*, lead: Lead, by, at: datetime, reason: str = "") -> StageChange:
    """The first StageChange of a new lead: from nothing to its initial status."""
    if reached(lead.furthest, lead.status) != lead.furthest:
        lead.furthest = reached(lead.furthest, lead.status)
        Lead.objects.filter(pk=lead.pk).update(furthest=lead.furthest)
    return StageChange.objects.create(
        lead=lead, from_status="", to_status=lead.status, at=at, by=by, reason=reason[:500]
    )
