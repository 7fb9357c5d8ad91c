"""Writes on leads that every app shares: status moves with their StageChange."""

import functools
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.db.models.base import ModelState

from leadflow.accounts import loads
from leadflow.core import bulk
from leadflow.core.audit import record_changes, snapshot
from leadflow.core.statements import prepared_cursor

from .models import OPEN_STATUSES, Lead, StageChange, reached
from .numbering import counter_upsert_sql, format_number_sql, next_number
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


def blank_lead(**values) -> Lead:
    """A new, unsaved Lead with its fields' defaults, then `values` set as attributes (a
    related object or its `…_id`). `Lead()` works out every one of its 60 fields' defaults
    each time, which costs more than an intake's rules together; here that is done once."""
    lead = Lead.__new__(Lead)
    lead.__dict__.update(_lead_defaults())
    lead._state = ModelState()
    lead.screening = []  # the one mutable default
    for name, value in values.items():
        setattr(lead, name, value)
    return lead


@functools.cache
def _lead_defaults() -> dict:
    return {k: v for k, v in Lead().__dict__.items() if k != "_state"}


def save_new_lead(lead: Lead, *, day: date, by, at: datetime, reason: str = "") -> None:
    """Number a new lead for its channel and `day` (R1.6), insert it, and write its first
    StageChange — from nothing to its initial status (R5.2) — in the caller's transaction.

    On PostgreSQL this is one statement: the counter's upsert, the lead (its row as one JSON
    document) and the StageChange as data-modifying CTEs — one round trip instead of three
    and no compilation of a 60-column `save()`; prepared, so the server plans it once per
    connection (`core.statements`). On SQLite, in-process, three plain
    statements. The counter row stays locked until commit either way (no gaps)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a new lead is saved inside the transaction that numbers it")
    root = lead.channel.root
    lead.furthest = reached(lead.furthest, lead.status)
    by_id = getattr(by, "pk", None)
    if connection.vendor == "postgresql":
        params = [root.pk, day, 1, 1, f"{root.code}{day:%Y%m%d}", bulk.as_record(lead)]
        with prepared_cursor() as cursor:
            cursor.execute(_new_lead_sql(), [*params, lead.status, at, by_id, reason[:500]])
            lead.pk, lead.number = cursor.fetchone()
    else:
        lead.number = next_number(channel=lead.channel, day=day)
        lead.pk = bulk.insert_one(lead)
        bulk.insert(
            StageChange,
            STAGE_CHANGE_COLUMNS,
            [(lead.pk, "", lead.status, at, None, by_id, reason[:500], {})],
        )
    lead._state.adding, lead._state.db = False, connection.alias


# a StageChange row as the batch writers (`core.bulk.insert`) take it
STAGE_CHANGE_COLUMNS = [
    "lead_id", "from_status", "to_status", "at", "entered_at", "by_id", "reason", "evidence",
]  # fmt: skip


@functools.cache
def _new_lead_sql() -> str:
    q = connection.ops.quote_name
    table, changes = q(Lead._meta.db_table), q(StageChange._meta.db_table)
    columns = [c for c in bulk.record_columns(Lead) if c != "number"]
    names = ", ".join(q(c) for c in columns)
    values = ", ".join(f"r.{q(c)}" for c in columns)
    entry = ", ".join(q(c) for c in STAGE_CHANGE_COLUMNS)
    return (
        f"WITH n AS ({counter_upsert_sql()}), "
        f"l AS (INSERT INTO {table} ({q('number')}, {names}) "
        f"SELECT {format_number_sql('%s', 'n.last')}, {values} "
        f"FROM n, jsonb_populate_record(NULL::{table}, %s::jsonb) AS r "
        "RETURNING id, number), "
        f"s AS (INSERT INTO {changes} ({entry}) "
        "SELECT l.id, '', %s, %s, NULL, %s, %s, '{}'::jsonb FROM l) "
        "SELECT id, number FROM l"
    )
