"""R1.8 verification: approve → unassigned, return with a reason → fix → resubmit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.accounts.models import Role
from leadflow.core.audit import history
from leadflow.intake.services import approve_lead, restore_lead, resubmit_lead, return_lead
from leadflow.intake.validation import IntakeError
from leadflow.leads.models import StageChange, Status
from leadflow.leads.pipeline import TransitionError
from leadflow.leads.queries import returned_to, verification_queue

from ..factories import lead_data, make_user, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    """A moment after the submissions these tests make (they are stamped with the real now)."""
    return timezone.now() + timedelta(minutes=10)


@pytest.fixture
def rep(db):
    return make_user("rep-v", Role.REP)


def test_r1_8_new_leads_wait_in_the_support_queue(support, rep):
    lead = submit(rep).lead
    assert list(verification_queue(support)) == [lead]


def test_r1_8_approval_moves_the_lead_on_to_assignment(support, rep, now):
    lead = approve_lead(lead=submit(rep).lead, by=support, now=now)
    assert (lead.verified_by, lead.verified_at) == (support, now)
    changes = list(StageChange.objects.filter(lead=lead).values_list("from_status", "to_status"))
    assert changes[1:] == [
        (Status.PENDING_REVIEW, Status.UNASSIGNED),
        (Status.UNASSIGNED, Status.ASSIGNED),  # R2.2: assigned at once, the only rep
    ]
    assert StageChange.objects.filter(lead=lead)[1].by == support
    assert (lead.status, lead.owner) == (Status.ASSIGNED, rep)
    assert not verification_queue(support).exists()


def test_r1_8_a_returned_lead_goes_back_to_its_author_with_the_reason(support, rep, now):
    lead = return_lead(lead=submit(rep).lead, by=support, now=now, reason="手机号与联系人不符")
    assert lead.status == Status.RETURNED and lead.return_reason == "手机号与联系人不符"
    assert list(returned_to(rep)) == [lead]
    assert not returned_to(support).exists()


def test_r1_8_returning_needs_a_reason(support, rep, now):
    with pytest.raises(TransitionError) as exc:
        return_lead(lead=submit(rep).lead, by=support, now=now, reason="  ")
    assert exc.value.code == "reason_required"


def test_r1_8_the_author_fixes_and_resubmits(support, rep, now):
    original = lead_data(phone="13912340000")
    lead = submit(rep, **original).lead
    return_lead(lead=lead, by=support, now=now, reason="公司名称不完整")
    fixed = resubmit_lead(
        lead=lead, data={**original, "company_name": "苏州恒瑞精密机械有限公司"}, by=rep, now=now
    )
    assert fixed.status == Status.PENDING_REVIEW and fixed.number == lead.number
    assert fixed.company_name == "苏州恒瑞精密机械有限公司"
    trail = [(c.from_status, c.to_status) for c in StageChange.objects.filter(lead=lead)]
    assert trail == [
        ("", "pending_review"),
        ("pending_review", "returned"),
        ("returned", "pending_review"),
    ]
    changed = [
        e.changes for e in history(fixed).filter(action="update") if "company_name" in e.changes
    ]
    assert changed and changed[0]["company_name"][1] == "苏州恒瑞精密机械有限公司"


def test_r1_8_a_resubmission_is_checked_like_a_new_entry(support, rep, now):
    lead = submit(rep).lead
    return_lead(lead=lead, by=support, now=now, reason="x")
    with pytest.raises(IntakeError):
        resubmit_lead(lead=lead, data=lead_data(channel="NOPE"), by=rep, now=now)
    lead.refresh_from_db()
    assert lead.status == Status.RETURNED


def test_r1_8_only_pending_leads_can_be_approved(support, rep, now):
    lead = approve_lead(lead=submit(rep).lead, by=support, now=now)
    with pytest.raises(TransitionError) as exc:
        approve_lead(lead=lead, by=support, now=now)
    assert exc.value.code == "transition_not_allowed"


def test_r1_4_support_may_restore_a_screened_out_lead_with_a_reason(support, rep, now):
    lead = submit(rep, phone="13800000000").lead
    assert lead.status == Status.SCREENED_OUT
    with pytest.raises(TransitionError):
        restore_lead(lead=lead, by=support, now=now, reason="")
    lead = restore_lead(lead=lead, by=support, now=now, reason="客户确认号码为真实号码")
    assert lead.status == Status.PENDING_REVIEW


def test_r1_5_a_correction_that_makes_a_lead_repeat_an_open_one_is_flagged(support, rep, now):
    original = submit(rep, phone="13912340021").lead
    lead = submit(rep, phone="13912340022", company_name="临时名称").lead
    return_lead(lead=lead, by=support, now=now, reason="号码录错了")
    fixed = resubmit_lead(lead=lead, data=lead_data(phone="13912340021"), by=rep, now=now)
    assert fixed.duplicate_of == original
    assert [(f["code"], f["value"]) for f in fixed.screening] == [
        ("duplicate_open", original.number)
    ]
