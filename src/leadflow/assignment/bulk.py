"""The batch path of assignment: what `services._place` does for one lead, done for a chunk
of leads with a handful of statements — the leads read as plain rows, the writes as COPY
(inserts) and pipelined executemany (updates)."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import translation

from leadflow.accounts.models import RepProfile, User
from leadflow.core import bulk
from leadflow.core.locking import skip_locked
from leadflow.core.models import AuditEntry
from leadflow.leads.models import FUNNEL_RANK, Channel, Lead, StageChange, Status
from leadflow.leads.services import STAGE_CHANGE_COLUMNS, last_changes_at
from leadflow.notifications.services import Message, active_endpoints, lead_event, notify_many

from .models import Assignment
from .scoring import LeadFacts, Routing

A = Assignment
FIELDS = (
    "pk",
    "number",
    "company_name",
    "contact_name",
    "phone_e164",
    "email",
    "need",
    "region",
    "province_id",
    "industry_id",
    "grade",
    "customer_type",
    "channel_id",
    "owner_id",
    "team_id",
)


@dataclass(slots=True)
class BatchLead:
    """A 待分配 lead as the batch needs it: what matching reads and what the notice says."""

    pk: int
    number: str
    company_name: str
    contact_name: str
    phone_e164: str
    email: str
    need: str
    facts: LeadFacts
    owner_id: int | None
    team_id: int | None


def lock_unassigned(ids: list[int]) -> set[int]:
    """Of `ids`, the leads still 待分配, locked for this transaction (rows another process
    holds are skipped: it is placing them)."""
    rows = Lead.objects.filter(pk__among=ids, status=Status.UNASSIGNED)
    return set(skip_locked(rows).values_list("pk", flat=True))


def load_chunk(ids: list[int]) -> list[BatchLead]:
    """The chunk's leads still 待分配, as matching and the notice need them."""
    rows = Lead.objects.filter(pk__among=ids, status=Status.UNASSIGNED).order_by("pk")
    parents = dict(Channel.objects.values_list("pk", "parent_id"))
    found = []
    for values in rows.values_list(*FIELDS):
        row = dict(zip(FIELDS, values, strict=True))
        found.append(
            BatchLead(
                pk=row["pk"],
                number=row["number"],
                company_name=row["company_name"],
                contact_name=row["contact_name"],
                phone_e164=row["phone_e164"],
                email=row["email"],
                need=row["need"],
                facts=LeadFacts(
                    region=row["region"],
                    province=row["province_id"] or "",
                    industry=row["industry_id"],
                    grade=row["grade"],
                    customer_type=row["customer_type"],
                    channel=row["channel_id"],
                    channel_parent=parents.get(row["channel_id"]),
                ),
                owner_id=row["owner_id"],
                team_id=row["team_id"],
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Placed:
    """What the assignment notice needs of an Assignment not yet saved."""

    lead_id: int
    rep_id: int
    at: datetime
    accept_due: datetime


def write_assignments(
    placed: list[tuple[BatchLead, int, Routing]], s, *, now: datetime, by
) -> None:
    if not placed:
        return
    from .services import (
        _stage_reason,
        assigned_message,
        assigned_texts,
        explanation,
        local_time,
    )

    policy = s.policy
    accept_due = now + timedelta(hours=policy.confirm_hours)
    decline_due = now + timedelta(hours=policy.decline_hours)
    users = User.objects.in_bulk({rep_id for _lead, rep_id, _r in placed})
    by_id = getattr(by, "pk", None)
    texts = {**assigned_texts(), "at_local": local_time(now), "due_local": local_time(accept_due)}
    reasons: dict[str | None, str] = {}  # the StageChange reason, per rule
    per_rep: Counter[int] = Counter()
    batches: dict[int, list[BatchLead]] = defaultdict(list)
    notices: dict[int, list] = {}
    leads, assignments, changes, audits = [], [], [], []
    entered = last_changes_at([x.pk for x, _r, _w in placed])  # for the time in 待分配
    for lead, rep_id, routing in placed:
        rep = users[rep_id]
        per_rep[rep_id] += 1
        explained = explanation(routing, s.router.weights)
        rule = explained["rule"]
        leads.append(
            (Status.ASSIGNED, rep_id, rep.team_id, accept_due, now, ASSIGNED_RANK, lead.pk)
        )
        assignments.append(
            (lead.pk, rep_id, rep.team_id, A.Kind.AUTO, A.State.PENDING, by_id,
             rule["id"] if rule else None, "", explained, now, accept_due, decline_due,
             None, None, "")
        )  # fmt: skip
        name = rule["name"] if rule else None
        if name not in reasons:
            reasons[name] = _stage_reason(A.Kind.AUTO, "", explained)[:500]
        changes.append(
            (lead.pk, Status.UNASSIGNED, Status.ASSIGNED, now, entered.get(lead.pk), by_id,
             reasons[name], {})
        )  # fmt: skip
        audits.append(
            ("leads.lead", str(lead.pk), AuditEntry.Action.UPDATE,
             {"status": [Status.UNASSIGNED.value, Status.ASSIGNED.value],
              "owner": [lead.owner_id, rep_id], "team": [lead.team_id, rep.team_id]},
             "", by_id, now)
        )  # fmt: skip
        batches[rep_id].append(lead)
        if len(batches[rep_id]) == 1:
            placed_now = Placed(lead.pk, rep_id, now, accept_due)
            notices[rep_id] = [assigned_message(lead, placed_now, texts)]
        else:
            notices[rep_id].append(None)  # several: a digest, built below
    # 已分配 is now reached (a lead reopened to 核对通过 may have been further already)
    bulk.update(Lead, "id", LEAD_COLUMNS, leads, rising=["furthest"])
    bulk.insert(Assignment, ASSIGNMENT_COLUMNS, assignments)
    bulk.insert(StageChange, STAGE_CHANGE_COLUMNS, changes)
    bulk.insert(AuditEntry, AUDIT_COLUMNS, audits)
    # a rep given one lead gets its full notice; a rep given several gets one digest (on
    # every channel) listing them, rather than a burst of messages — the inbox has each
    notify_many(
        [
            (
                notices[r][0] if len(notices[r]) == 1 else _digest(users[r], mine, now, texts),
                users[r],
            )
            for r, mine in batches.items()
        ],
        now=now,
    )
    if active_endpoints():  # webhooks want the whole lead: read the few it concerns
        for lead in Lead.objects.filter(pk__in=[x.pk for x, _r, _w in placed]).select_related(
            "channel", "owner"
        ):
            lead_event(lead, "lead.assigned", at=now, extra={"rep": lead.owner.username})
    # last, and in rep order (one lock order): concurrent batch writers share these rows
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(RepProfile._meta.db_table)
        cursor.executemany(
            f"UPDATE {table} SET open_leads = open_leads + %s, last_assigned_at = %s "
            "WHERE user_id = %s",
            [(n, bulk.db_datetime(now), rep_id) for rep_id, n in sorted(per_rep.items())],
        )


DIGEST_LINES = 30


def _digest(rep, leads: list[BatchLead], now: datetime, texts: dict) -> Message:
    from .services import ASSIGNED_DIGEST

    with translation.override(settings.LANGUAGE_CODE):
        t = {k: str(v) for k, v in ASSIGNED_DIGEST.items()}
    lines = [
        t["line"] % {"n": x.number, "c": x.company_name, "g": x.facts.grade or "—"}
        for x in leads[:DIGEST_LINES]
    ]
    if len(leads) > DIGEST_LINES:
        lines.append(t["more"] % {"n": len(leads) - DIGEST_LINES})
    lines.append(t["due"] % {"t": texts["due_local"]})
    return Message(
        kind="assigned_digest",
        key=f"assigned-digest:{rep.pk}:{now.timestamp()}:{leads[0].pk}",
        title=t["title"] % {"n": len(leads)},
        lines=tuple(lines),
        link="/inbox/",
    )


# the column order of the tuples above
LEAD_COLUMNS = ["status", "owner_id", "team_id", "accept_due", "updated_at", "furthest"]
ASSIGNED_RANK = FUNNEL_RANK[Status.ASSIGNED]
ASSIGNMENT_COLUMNS = [
    "lead_id", "rep_id", "team_id", "kind", "state", "by_id", "rule_id", "reason",
    "explanation", "at", "accept_due", "decline_due", "reminded_at", "answered_at",
    "decline_reason",
]  # fmt: skip
AUDIT_COLUMNS = ["model", "object_pk", "action", "changes", "reason", "by_id", "at"]
