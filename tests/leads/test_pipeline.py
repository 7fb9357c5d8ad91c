"""R3.3 (the lifecycle as data) and R5.2: every status change is a StageChange, with audit."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from leadflow.core.audit import history
from leadflow.leads.models import Status
from leadflow.leads.pipeline import TRANSITIONS, Evidence, TransitionError, check_transition
from leadflow.leads.services import move_lead

from ..factories import submit

ALL = list(Status.values)


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("to", ALL)
def test_r3_3_only_listed_moves_are_allowed(current, to):
    evidence = Evidence(reason="r", need="n", won_amount=Decimal(1), won_at=timezone.now())
    if to in TRANSITIONS[current]:
        check_transition(current=current, to=to, evidence=evidence)
    else:
        with pytest.raises(TransitionError) as exc:
            check_transition(current=current, to=to, evidence=evidence)
        assert exc.value.code == "transition_not_allowed"


def test_r3_3_moves_demand_their_evidence():
    with pytest.raises(TransitionError, match="原因"):
        check_transition(current=Status.CONTACTING, to=Status.INVALID, evidence=Evidence())
    with pytest.raises(TransitionError) as exc:
        check_transition(current=Status.CONTACTING, to=Status.QUALIFIED, evidence=Evidence())
    assert exc.value.code == "need_required"
    with pytest.raises(TransitionError) as exc:
        check_transition(
            current=Status.NEGOTIATING, to=Status.WON, evidence=Evidence(won_amount=Decimal(5))
        )
    assert exc.value.code == "won_evidence_required"


@pytest.mark.django_db
def test_r5_2_a_move_writes_a_stage_change_and_an_audit_entry(support):
    lead = submit(support).lead
    at = timezone.now() + timedelta(minutes=1)
    change = move_lead(
        lead=lead, to=Status.INVALID, by=support, at=at, evidence=Evidence(reason="无法联系")
    )
    assert (change.from_status, change.to_status, change.reason, change.by) == (
        Status.PENDING_REVIEW,
        Status.INVALID,
        "无法联系",
        support,
    )
    lead.refresh_from_db()
    assert lead.status == Status.INVALID
    entry = history(lead).filter(action="update").get()
    assert entry.changes == {"status": ["pending_review", "invalid"]} and entry.reason == "无法联系"


@pytest.mark.django_db
def test_r5_2_a_refused_move_writes_nothing(support):
    """Also that move_lead refuses before its savepoint-less block: the test's transaction
    stays usable for the checks below (else: TransactionManagementError)."""
    lead = submit(support).lead
    with pytest.raises(TransitionError):
        move_lead(lead=lead, to=Status.WON, by=support, at=timezone.now())
    assert lead.stage_changes.count() == 1 and not history(lead).filter(action="update").exists()
