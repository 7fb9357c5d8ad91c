"""Reminders, overdue notices and escalations (R3.8), swept on a timeline."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from leadflow.followups import services
from leadflow.followups.models import Clock
from leadflow.followups.services import Contact
from leadflow.followups.sweeps import sweep
from leadflow.notifications.models import Notification

from ..assignment.test_concurrency import race
from .conftest import A_LEAD, at


def notes(kind=None, **kw):
    rows = Notification.objects.filter(channel="in_app", kind__startswith="sla_", **kw)
    return list((rows.filter(kind=kind) if kind else rows).order_by("pk"))


def test_r3_8_an_a_lead_reminded_then_overdue_then_escalated_on_business_time(desk):
    friday = at(2026, 11, 20, 17, 50)
    lead = desk.working(friday, accept_after=timedelta(minutes=5), **A_LEAD)
    rep, manager = lead.owner, desk.m_east
    timeline = [
        (at(2026, 11, 21, 10), []),  # Saturday: nothing is due on a day off
        (at(2026, 11, 23, 11, 49), []),
        (at(2026, 11, 23, 11, 50), [("sla_reminder", rep)]),
        (at(2026, 11, 23, 12, 30), []),
        (at(2026, 11, 23, 12, 50), [("sla_overdue", rep)]),
        (at(2026, 11, 23, 16, 49), []),
        (at(2026, 11, 23, 16, 50), [("sla_escalated", rep), ("sla_escalated", manager)]),
        (at(2026, 11, 24, 9), []),
    ]
    seen = 0
    for moment, expected in timeline:
        with time_machine.travel(moment, tick=False):
            sweep(timezone.now())
        rows = notes()[seen:]
        assert [(n.kind, n.recipient) for n in rows] == expected, moment
        seen += len(rows)
    reminder = notes("sla_reminder")[0]
    assert lead.number in reminder.title and "2026-11-23 12:50" in reminder.title
    escalation = notes("sla_escalated", recipient=manager)[0]
    assert str(rep) in escalation.title and "首次联系" in escalation.title
    assert Clock.objects.get(lead=lead).fire_at is None


def test_r3_8_a_sweeper_that_was_down_sends_only_the_latest_notice(desk):
    lead = desk.working(at(2026, 11, 2, 10), **A_LEAD)
    sweep(at(2026, 11, 3, 10))  # long past the reminder, the deadline and the escalation
    assert [n.kind for n in notes(recipient=lead.owner)] == ["sla_escalated"]
    assert [n.kind for n in notes(recipient=desk.m_east)] == ["sla_escalated"]
    sweep(at(2026, 11, 3, 11))
    assert len(notes()) == 2


def test_r3_8_a_follow_up_in_time_silences_the_first_contact_clock(desk):
    lead = desk.working(at(2026, 11, 2, 10), **A_LEAD)
    talked = at(2026, 11, 2, 11)
    services.record_followup(
        lead=lead,
        by=lead.owner,
        now=talked,
        contact=Contact(contact_at=talked, method="phone", feedback="约了演示"),
    )
    sweep(at(2026, 11, 2, 18))
    assert notes() == []
    # the cadence (A: daily) now runs: overdue the next working day at 11:00
    sweep(at(2026, 11, 3, 11, 1))
    assert [n.kind for n in notes()] == ["sla_overdue"]
    assert "跟进已逾期" in notes()[0].title


def test_r3_8_next_actions_are_reminded_and_escalated(desk):
    lead = desk.working(at(2026, 11, 2, 10), **A_LEAD)
    task = services.add_task(
        lead=lead,
        by=lead.owner,
        title="发送报价单",
        due=at(2026, 11, 4, 15),
        now=at(2026, 11, 2, 11),
    )
    sweep(at(2026, 11, 4, 14, 5))
    kinds = [(n.kind, n.title) for n in notes() if "下一步" in n.title]
    assert kinds == [
        ("sla_reminder", f"线索 {lead.number} 的下一步行动“发送报价单”将于 2026-11-04 15:00 到期")
    ]
    services.complete_task(task=task, by=lead.owner, now=at(2026, 11, 4, 14, 30))
    sweep(at(2026, 11, 6, 15))
    assert not [n for n in notes() if "下一步" in n.title and n.kind != "sla_reminder"]


def test_r3_8_notices_go_through_the_outbox_by_email_too(desk):
    lead = desk.working(at(2026, 11, 2, 10), **A_LEAD)
    sweep(at(2026, 11, 2, 13, 30))
    mail = Notification.objects.get(channel="email", kind="sla_reminder")
    assert mail.recipient == lead.owner and mail.state == "pending"


@pytest.mark.django_db(transaction=True)
def test_r3_8_two_concurrent_sweepers_send_each_notice_exactly_once(desk):
    leads = [desk.working(at(2026, 11, 2, 10), **A_LEAD) for _ in range(8)]
    moment = at(2026, 11, 2, 14, 30)  # every lead overdue
    sent, errors = race(lambda i: sweep(moment), 3)
    assert not errors, errors[:2]
    assert sum(sent) == 8
    overdue = notes("sla_overdue")
    assert len(overdue) == 8
    assert {n.lead_id for n in overdue} == {lead.pk for lead in leads}


def test_r3_8_personal_reminders_stay_out_of_the_team_chat_escalations_reach_it(desk):
    from leadflow.notifications.models import Robot

    chat = Robot.objects.create(
        name="华东群", platform="wecom", url="https://qyapi.weixin.qq.com/x", team=desk.east
    )
    lead = desk.working(at(2026, 11, 2, 10), **A_LEAD)
    own = Robot.objects.create(
        name="个人", platform="dingtalk", url="https://oapi.dingtalk.com/x", user=lead.owner
    )
    sweep(at(2026, 11, 2, 13, 30))  # the reminder
    robots = Notification.objects.filter(channel="robot", kind__startswith="sla_")
    assert [(n.kind, n.robot) for n in robots] == [("sla_reminder", own)]
    sweep(at(2026, 11, 2, 18))  # the escalation
    escalated = robots.filter(kind="sla_escalated")
    assert {n.robot for n in escalated} == {chat, own}
