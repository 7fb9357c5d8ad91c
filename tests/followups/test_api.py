"""Follow-ups through the API (R3.2–R3.7, R5.4): the same services, 4xx with reasons."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.followups.models import FollowUp, LeadEvent, PlaybookStep, Task
from leadflow.leads.models import Lead

from ..assignment.test_screens_and_api import api, bearer
from .conftest import A_LEAD, B_LEAD

pytestmark = pytest.mark.django_db


def iso(moment):
    return moment.isoformat()


@pytest.fixture
def lead(desk):
    return desk.working(timezone.now() - timedelta(hours=3), **B_LEAD)


def test_r3_2_a_contact_recorded_through_the_api(client, lead):
    now = timezone.now()
    body = {
        "contact_at": iso(now - timedelta(hours=2)),
        "method": "visit",
        "feedback": "客户认可方案",
        "competitor": "某某科技",
        "next_action": "发送报价",
        "next_action_due": iso(now + timedelta(days=1)),
    }
    response = api(client, "post", f"/leads/{lead.number}/followups", lead.owner, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["late"] is True and data["first"] is True and data["competitor"] == "某某科技"
    tasks = api(client, "get", f"/leads/{lead.number}/tasks", lead.owner).json()
    assert [t["title"] for t in tasks] == ["发送报价"]
    listed = api(client, "get", f"/leads/{lead.number}/followups", lead.owner).json()
    assert [f["id"] for f in listed] == [data["id"]]


def test_r3_2_bad_records_get_4xx_with_the_field_in_chinese_and_english(client, lead):
    body = {
        "contact_at": iso(timezone.now() + timedelta(hours=2)),
        "method": "phone",
        "feedback": "x",
    }
    zh = api(client, "post", f"/leads/{lead.number}/followups", lead.owner, body)
    assert zh.status_code == 400
    assert zh.json()["detail"] == [
        {"field": "contact_at", "code": "contact_in_future", "message": "联系时间不能晚于现在"}
    ]
    en = client.post(
        f"/api/v1/leads/{lead.number}/followups",
        data=json.dumps(body),
        content_type="application/json",
        headers={**bearer(lead.owner), "Accept-Language": "en"},
    )
    assert en.status_code == 400
    assert en.json()["detail"][0]["message"] == "The contact time cannot be in the future"
    missing = api(
        client, "post", f"/leads/{lead.number}/followups", lead.owner, {"method": "phone"}
    )
    assert missing.status_code == 400 and missing.json()["detail"][0]["field"] == "contact_at"
    assert not FollowUp.objects.exists()


def test_r3_2_someone_elses_lead_is_forbidden_or_invisible(client, lead, desk):
    body = {"contact_at": iso(timezone.now()), "method": "phone", "feedback": "x"}
    stranger = api(client, "post", f"/leads/{lead.number}/followups", desk.north1, body)
    assert stranger.status_code == 404  # not even visible to another team's rep
    teammate = desk.east1 if lead.owner != desk.east1 else desk.east2
    assert api(client, "post", f"/leads/{lead.number}/followups", teammate, body).status_code == 404


def test_r3_3_stage_moves_through_the_api_demand_their_evidence(client, lead):
    url = f"/leads/{lead.number}/stage"
    refused = api(client, "post", url, lead.owner, {"to": "qualified"})
    assert refused.status_code == 400
    assert refused.json()["detail"][0] == {
        "field": "need",
        "code": "need_required",
        "message": "“需求明确”需要填写客户需求描述",
    }
    moved = api(client, "post", url, lead.owner, {"to": "qualified", "need": "20台设备"})
    assert moved.status_code == 200 and moved.json()["status"] == "qualified"
    illegal = api(client, "post", url, lead.owner, {"to": "won"})
    assert (
        illegal.status_code == 400
        and illegal.json()["detail"][0]["code"] == "transition_not_allowed"
    )
    reasons = api(client, "get", "/invalid-reasons", lead.owner).json()
    assert {"code": "unreachable", "label": "联系不上"} in reasons
    gone = api(
        client,
        "post",
        url,
        lead.owner,
        {"to": "invalid", "invalid_reason": "unreachable", "reason": "空号"},
    )
    assert gone.status_code == 200 and gone.json()["status"] == "invalid"
    reopen = api(client, "post", url, lead.owner, {"to": "contacting", "reason": "回电"})
    assert reopen.status_code == 403 and reopen.json()["detail"][0]["code"] == "manager_required"


def test_r3_4_grading_through_the_api(client, lead):
    now = timezone.now()
    early = api(
        client, "post", f"/leads/{lead.number}/grade", lead.owner, {"grade": "A", "reason": "x"}
    )
    assert (
        early.status_code == 400 and early.json()["detail"][0]["code"] == "first_contact_required"
    )
    body = {
        "contact_at": iso(now - timedelta(minutes=5)),
        "method": "phone",
        "feedback": "预算充足",
    }
    api(client, "post", f"/leads/{lead.number}/followups", lead.owner, body)
    done = api(
        client,
        "post",
        f"/leads/{lead.number}/grade",
        lead.owner,
        {"grade": "a", "reason": "预算充足"},
    )
    assert done.status_code == 200 and done.json()["to_grade"] == "A"
    sheet = api(client, "get", f"/leads/{lead.number}/gradings", lead.owner).json()
    assert [(g["from_grade"], g["to_grade"]) for g in sheet] == [("B", "A")]


def test_r3_6_behaviour_events_and_profile_through_the_api(client, lead, desk):
    url = f"/leads/{lead.number}/events"
    made = api(
        client,
        "post",
        url,
        lead.owner,
        {"kind": "page_view", "detail": "/pricing", "source": "官网"},
    )
    assert made.status_code == 201 and made.json()["kind"] == "page_view"
    bad = api(client, "post", url, lead.owner, {"kind": "teleport"})
    assert bad.status_code == 400 and bad.json()["detail"][0]["field"] == "kind"
    assert LeadEvent.objects.filter(lead=lead).count() == 1
    assert [e["detail"] for e in api(client, "get", url, lead.owner).json()] == ["/pricing"]
    profile = {"employees": 500, "business_model": "K12学校,500名学生,公办", "personality": "果断"}
    patched = api(client, "patch", f"/leads/{lead.number}/profile", lead.owner, profile)
    assert patched.status_code == 200, patched.content
    lead.refresh_from_db()
    assert (lead.employees, lead.business_model, lead.personality) == (
        500,
        "K12学校,500名学生,公办",
        "果断",
    )
    too_long = api(
        client, "patch", f"/leads/{lead.number}/profile", lead.owner, {"concerns": "价" * 300}
    )
    assert too_long.status_code == 400 and too_long.json()["detail"][0]["field"] == "concerns"
    negative = api(client, "patch", f"/leads/{lead.number}/profile", lead.owner, {"employees": -1})
    assert negative.status_code == 400


def test_r3_7_playbook_suggestions_become_next_actions_in_one_call(client, lead):
    suggested = api(client, "get", f"/leads/{lead.number}/suggestions", lead.owner).json()
    steps = PlaybookStep.objects.filter(grade="B", active=True)
    assert [s["title"] for s in suggested] == [s.title for s in steps]
    first = suggested[0]
    made = api(client, "post", f"/leads/{lead.number}/suggestions/{first['step']}", lead.owner)
    assert made.status_code == 201 and made.json()["source"] == "playbook"
    again = api(client, "post", f"/leads/{lead.number}/suggestions/{first['step']}", lead.owner)
    assert again.status_code == 400 and again.json()["detail"][0]["code"] == "already_scheduled"
    left = api(client, "get", f"/leads/{lead.number}/suggestions", lead.owner).json()
    assert first["title"] not in [s["title"] for s in left]
    a_step = PlaybookStep.objects.filter(grade="A").first()
    wrong = api(client, "post", f"/leads/{lead.number}/suggestions/{a_step.pk}", lead.owner)
    assert wrong.status_code == 400 and wrong.json()["detail"][0]["code"] == "not_suggested"


def test_r3_8_my_day_lists_overdue_today_and_confirmations(client, desk):
    now = timezone.now()
    overdue = desk.working(now - timedelta(days=10), **A_LEAD)  # first contact long overdue
    rep = overdue.owner
    Task.objects.create(
        lead=overdue,
        owner=rep,
        title="回访",
        due=now + timedelta(days=2),
        source="manual",
        created_by=rep,
        created_at=now,
    )
    waiting = desk.lead(now)
    day = api(client, "get", "/me/day", rep).json()
    assert [d["lead"] for d in day["overdue"] if d["kind"] == "first_contact"] == [overdue.number]
    assert [d["title"] for d in day["upcoming"]] == ["回访"]
    assert waiting.number not in day["confirmations"]  # it went to the lighter teammate
    theirs = api(client, "get", "/me/day", waiting.owner).json()
    assert theirs["confirmations"] == [waiting.number]


def test_r3_3_the_board_through_the_api(client, lead, desk):
    columns = api(client, "get", "/board", lead.owner).json()
    assert [c["status"] for c in columns] == [
        "contacting",
        "qualified",
        "evaluating",
        "negotiating",
        "won",
        "invalid",
    ]
    assert lead.number in [x["number"] for x in columns[0]["leads"]]
    assert columns[1]["needs"]["contacting"] == ["need"]
    assert columns[4]["needs"]["evaluating"] == ["won_amount", "won_at"]
    unknown = api(client, "get", "/board?owner=nobody", desk.m_east)
    assert unknown.status_code == 400
    assert Lead.objects.filter(pk=lead.pk).exists()
