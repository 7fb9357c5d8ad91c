"""The writes of a batch assignment, in bulk: what `services._place` does for one lead,
done for a chunk of leads with one statement per table (per rep for the lead updates)."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import F

from leadflow.accounts.models import RepProfile, User
from leadflow.core import bulk
from leadflow.core.models import AuditEntry
from leadflow.leads.models import Lead, StageChange, Status
from leadflow.notifications.services import active_endpoints, lead_event, notify_many

from .models import Assignment
from .scoring import Routing

A = Assignment


def write_assignments(placed: list[tuple[Lead, int, Routing]], s, *, now: datetime, by) -> None:
    if not placed:
        return
    from .services import _stage_reason, assigned_message, explanation

    policy = s.policy
    accept_due = now + timedelta(hours=policy.confirm_hours)
    decline_due = now + timedelta(hours=policy.decline_hours)
    users = User.objects.in_bulk({rep_id for _lead, rep_id, _r in placed})
    by_id = getattr(by, "pk", None)
    per_rep: dict[int, list[int]] = defaultdict(list)
    assignments, changes, audits = [], [], []
    for lead, rep_id, routing in placed:
        rep = users[rep_id]
        per_rep[rep_id].append(lead.pk)
        explained = explanation(routing, s.router.weights)
        reason = _stage_reason(A.Kind.AUTO, "", explained)
        assignments.append(
            Assignment(
                lead=lead,
                rep=rep,
                team_id=rep.team_id,
                kind=A.Kind.AUTO,
                state=A.State.PENDING,
                by_id=by_id,
                rule_id=routing.rule.id if routing.rule else None,
                reason="",
                explanation=explained,
                at=now,
                accept_due=accept_due,
                decline_due=decline_due,
                decline_reason="",
            )
        )
        changes.append(
            StageChange(
                lead_id=lead.pk,
                from_status=Status.UNASSIGNED,
                to_status=Status.ASSIGNED,
                at=now,
                by_id=by_id,
                reason=reason[:500],
                evidence={},
            )
        )
        audits.append(
            AuditEntry(
                model="leads.lead",
                object_pk=str(lead.pk),
                action=AuditEntry.Action.UPDATE,
                changes={
                    "status": [Status.UNASSIGNED.value, Status.ASSIGNED.value],
                    "owner": [lead.owner_id, rep_id],
                    "team": [lead.team_id, rep.team_id],
                },
                reason="",
                by_id=by_id,
                at=now,
            )
        )
    for rep_id, ids in sorted(per_rep.items()):  # one lock order for every writer
        Lead.objects.filter(pk__in=ids).update(
            status=Status.ASSIGNED,
            owner_id=rep_id,
            team_id=users[rep_id].team_id,
            accept_due=accept_due,
            updated_at=now,
        )
        RepProfile.objects.filter(user_id=rep_id).update(
            open_leads=F("open_leads") + len(ids), last_assigned_at=now
        )
    for model, objs in ((Assignment, assignments), (StageChange, changes), (AuditEntry, audits)):
        columns = bulk.columns_of(model)
        bulk.insert(model, columns, bulk.rows_of(objs, columns))
    notify_many(((assigned_message(a.lead, a), a.rep) for a in assignments), now=now)
    if active_endpoints():
        for a in assignments:
            lead = a.lead
            lead.status, lead.owner, lead.team_id = Status.ASSIGNED, a.rep, a.team_id
            lead_event(lead, "lead.assigned", at=now, extra={"rep": a.rep.username})
