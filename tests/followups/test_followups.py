"""Follow-up records, next actions, grading and their clocks (R3.1, R3.2, R3.4, R3.7)."""

from datetime import timedelta

import pytest

from leadflow.followups import services
from leadflow.followups.models import Clock, FollowUp, Grading, Task
from leadflow.followups.services import Contact, FollowUpError
from leadflow.leads.models import Status

from .conftest import A_LEAD, B_LEAD, T0, at


def contact(when, **kw):
    return Contact(contact_at=when, method=kw.pop("method", "phone"), feedback="有兴趣", **kw)


def clocks(lead):
    return {(c.kind, c.task_id): c for c in Clock.objects.filter(lead=lead)}


def test_r3_1_accepting_starts_the_first_contact_clock_from_the_assignment(desk):
    lead = desk.working(T0, accept_after=timedelta(hours=1), **A_LEAD)
    assert lead.grade == "A"
    assert lead.first_contact_due == at(2026, 11, 2, 14)  # 4 working hours after 10:00
    clock = clocks(lead)[("first_contact", None)]
    assert clock.rep == lead.owner and clock.due == lead.first_contact_due
    assert clock.fire_at == at(2026, 11, 2, 13)  # reminded an hour before
    assert clock.escalate_at == at(2026, 11, 2, 18)  # missed again: four more working hours


def test_r3_1_a_friday_evening_a_lead_is_due_monday_1250(desk):
    friday = at(2026, 11, 20, 17, 50)
    lead = desk.working(friday, accept_after=timedelta(minutes=5), **A_LEAD)
    assert lead.first_contact_due == at(2026, 11, 23, 12, 50)


def test_r3_1_b_first_contact_is_one_working_day(desk):
    lead = desk.working(T0, **B_LEAD)
    assert lead.grade == "B"
    assert lead.first_contact_due == at(2026, 11, 3, 10)


def test_r3_1_natural_time_policies_count_the_weekend(desk):
    from leadflow.followups.models import SlaPolicy

    SlaPolicy.objects.filter(grade="A").update(business_time=False)
    friday = at(2026, 11, 20, 17, 50)
    lead = desk.working(friday, accept_after=timedelta(minutes=5), **A_LEAD)
    assert lead.first_contact_due == at(2026, 11, 20, 21, 50)


def test_r3_2_a_follow_up_record_completes_the_first_contact_and_restarts_the_cadence(desk):
    lead = desk.working(T0, **B_LEAD)
    talked = T0 + timedelta(hours=2)
    record = services.record_followup(
        lead=lead,
        by=lead.owner,
        now=talked + timedelta(minutes=20),
        contact=contact(
            talked,
            method="wechat",
            contact_person="王经理",
            intent_change="从观望转为对比3家供应商",
            need_change="预算 5万→8万",
            risk_note="客户也在看竞品",
            competitor="某某科技",
        ),
    )
    lead.refresh_from_db()
    assert record.first and not record.late and record.grade == "B"
    assert record.competitor == "某某科技" and record.need_change == "预算 5万→8万"
    assert lead.first_contact_at == talked and lead.last_contact_at == talked
    # B: every 2–3 working days → due after 3, reminded after 2
    assert lead.next_followup_due == at(2026, 11, 5, 12)
    found = clocks(lead)
    assert ("first_contact", None) not in found
    assert found[("followup", None)].fire_at == at(2026, 11, 4, 12)
    assert lead.pool_due == talked + timedelta(days=15)  # the pool clock runs from it too


def test_r3_2_a_record_entered_more_than_an_hour_after_the_contact_is_marked_late(desk):
    lead = desk.working(T0, **B_LEAD)
    talked = T0 + timedelta(hours=1)
    on_time = services.record_followup(
        lead=lead, by=lead.owner, now=talked + timedelta(minutes=59), contact=contact(talked)
    )
    late = services.record_followup(
        lead=lead, by=lead.owner, now=talked + timedelta(minutes=61), contact=contact(talked)
    )
    assert not on_time.late and late.late
    assert FollowUp.objects.filter(lead=lead).count() == 2  # accepted all the same
    assert not late.first


@pytest.mark.parametrize(
    ("kw", "code", "field"),
    [
        ({"contact_at": T0 + timedelta(hours=3)}, "contact_in_future", "contact_at"),
        ({"contact_at": T0 - timedelta(days=3)}, "contact_before_lead", "contact_at"),
        ({"method": "fax"}, "bad_method", "method"),
        ({"feedback": "  "}, "feedback_required", "feedback"),
        ({"next_action": "发报价"}, "next_action_due_required", "next_action_due"),
        ({"next_action_due": T0 + timedelta(days=1)}, "next_action_required", "next_action"),
        (
            {"next_action": "发报价", "next_action_due": T0 - timedelta(minutes=1)},
            "next_action_due_past",
            "next_action_due",
        ),
    ],
)
def test_r3_2_a_bad_record_is_refused_with_its_reason(desk, kw, code, field):
    lead = desk.working(T0 - timedelta(hours=2), **B_LEAD)
    data = {"contact_at": T0 - timedelta(minutes=10), "method": "phone", "feedback": "有兴趣"}
    with pytest.raises(FollowUpError) as exc:
        services.record_followup(
            lead=lead, by=lead.owner, now=T0, contact=Contact(**{**data, **kw})
        )
    assert (exc.value.code, exc.value.field) == (code, field)
    assert str(exc.value.message)
    assert not FollowUp.objects.filter(lead=lead).exists()


def test_r3_2_only_the_owner_or_their_manager_records(desk):
    lead = desk.working(T0, **B_LEAD)
    stranger = desk.north1
    with pytest.raises(FollowUpError) as exc:
        services.record_followup(lead=lead, by=stranger, now=T0, contact=contact(T0))
    assert exc.value.status == 403
    services.record_followup(lead=lead, by=desk.m_east, now=T0, contact=contact(T0))


def test_r3_2_a_lead_not_yet_accepted_takes_no_record(desk):
    lead = desk.lead(T0)
    assert lead.status == Status.ASSIGNED
    with pytest.raises(FollowUpError) as exc:
        services.record_followup(lead=lead, by=lead.owner, now=T0, contact=contact(T0))
    assert exc.value.code == "not_working"


def test_r3_2_the_next_action_becomes_a_task_with_a_reminder(desk):
    lead = desk.working(T0, **B_LEAD)
    due = at(2026, 11, 4, 15)
    record = services.record_followup(
        lead=lead,
        by=lead.owner,
        now=T0 + timedelta(minutes=30),
        contact=contact(T0 + timedelta(minutes=20), next_action="发送报价单", next_action_due=due),
    )
    task = Task.objects.get(lead=lead)
    assert (task.title, task.due, task.source, task.followup) == (
        "发送报价单",
        due,
        "followup",
        record,
    )
    lead.refresh_from_db()
    assert lead.next_action_due == due
    clock = clocks(lead)[("next_action", task.pk)]
    assert clock.fire_at == due - timedelta(hours=2)  # B reminds two hours ahead
    services.complete_task(task=task, by=lead.owner, now=T0 + timedelta(days=1), outcome="已发送")
    lead.refresh_from_db()
    assert lead.next_action_due is None
    assert ("next_action", task.pk) not in clocks(lead)


def test_r3_4_the_rep_grades_after_the_first_contact_with_a_reason(desk):
    lead = desk.working(T0, **B_LEAD)
    with pytest.raises(FollowUpError) as exc:
        services.set_grade(lead=lead, by=lead.owner, grade="A", reason="预算充足", now=T0)
    assert exc.value.code == "first_contact_required"
    talked = T0 + timedelta(hours=1)
    services.record_followup(lead=lead, by=lead.owner, now=talked, contact=contact(talked))
    with pytest.raises(FollowUpError) as exc:
        services.set_grade(lead=lead, by=lead.owner, grade="A", reason=" ", now=talked)
    assert exc.value.code == "reason_required"
    grading = services.set_grade(
        lead=lead, by=lead.owner, grade="A", reason="预算50万，两周内定供应商", now=talked
    )
    lead.refresh_from_db()
    assert (grading.from_grade, grading.to_grade, grading.by) == ("B", "A", lead.owner)
    assert lead.grade == "A" and lead.grade_reason == "预算50万，两周内定供应商"
    # R3.4: the plan follows the grade — A follows up daily (1 working day)
    assert lead.next_followup_due == talked + timedelta(days=1)
    confirm = services.set_grade(lead=lead, by=lead.owner, grade="A", reason="再次确认", now=talked)
    assert confirm.confirmed and Grading.objects.filter(lead=lead).count() == 2


def test_r3_4_a_grade_change_before_the_first_contact_re_plans_it(desk):
    lead = desk.working(T0, **B_LEAD)
    assert lead.first_contact_due == at(2026, 11, 3, 10)
    services.set_grade(lead=lead, by=desk.m_east, grade="A", reason="大客户", now=T0)
    lead.refresh_from_db()
    assert lead.first_contact_due == at(2026, 11, 2, 14)  # from the assignment, A's 4 h
    assert clocks(lead)[("first_contact", None)].due == lead.first_contact_due


def test_r3_2_a_record_cannot_be_deleted_in_the_admin(desk, admin_client):
    """Records are history the discipline figures count (their tallies): kept as written."""
    lead = desk.working(T0, **B_LEAD)
    record = services.record_followup(
        lead=lead, by=lead.owner, now=T0 + timedelta(hours=1), contact=contact(T0)
    )
    response = admin_client.post(f"/admin/followups/followup/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert FollowUp.objects.filter(pk=record.pk).exists()
    changes = admin_client.post(
        "/admin/followups/followup/",
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )
    assert changes.status_code in (200, 302) and FollowUp.objects.filter(pk=record.pk).exists()
