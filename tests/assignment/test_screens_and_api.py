"""The assignment screens and /api/v1/ (R2.2–R2.6, R5.4): the rep inbox, the manager
console with "assign all", the rules and weights editor with its preview, the pool, and
the same through the API — bad input is a 4xx with a reason, never a 500."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.accounts.models import ApiToken, RepProfile
from leadflow.assignment.models import Assignment, AssignmentPolicy, AssignmentRule
from leadflow.leads.models import Lead, Status

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    key = ApiToken.objects.get_or_create(user=user, defaults={"key": ApiToken.new_key()})[0].key
    return {"Authorization": f"Bearer {key}"}


def api(client, method, path, user, body=None):
    return getattr(client, method)(
        f"/api/v1{path}",
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers=bearer(user),
    )


def test_r2_2_the_api_says_why_this_rep(client, org):
    lead = org.lead(timezone.now())
    body = api(client, "get", f"/leads/{lead.number}/assignment", lead.owner).json()
    why = body["current"]["why"]
    assert body["current"]["rep"] == lead.owner.username and body["current"]["state"] == "pending"
    assert why["summary"] and why["candidates"][0]["winner"]
    assert {label for label, _w in why["weights"]} == {"区域", "行业", "等级"}
    other = api(client, "get", f"/leads/{lead.number}/assignment", org.north1)
    assert other.status_code == 404  # not theirs to see


def test_r2_5_accept_and_decline_through_the_api(client, org):
    lead = org.lead(timezone.now())
    first = lead.owner
    missing = api(client, "post", f"/leads/{lead.number}/decline", first, {"reason": ""})
    assert missing.status_code == 400 and missing.json()["detail"][0]["code"] == "reason_required"
    declined = api(client, "post", f"/leads/{lead.number}/decline", first, {"reason": "太远"})
    assert declined.status_code == 200
    nxt = declined.json()["assignment"]
    assert nxt["rep"] != first.username and nxt["state"] == "pending"
    inbox = api(client, "get", "/inbox", Lead.objects.get(pk=lead.pk).owner).json()
    assert [item["lead"]["number"] for item in inbox] == [lead.number]
    again = api(client, "post", f"/leads/{lead.number}/accept", first)
    assert again.status_code in (404, 409)  # no longer theirs
    owner = Lead.objects.get(pk=lead.pk).owner
    accepted = api(client, "post", f"/leads/{lead.number}/accept", owner)
    assert accepted.status_code == 200 and accepted.json()["lead"]["status"] == "contacting"


def test_r2_3_manual_assignment_through_the_api(client, org):
    lead = org.lead(timezone.now())
    other = "east1" if lead.owner == org.east2 else "east2"
    path = f"/leads/{lead.number}/assign"
    no_reason = api(client, "post", path, org.m_east, {"rep": other, "reason": ""})
    assert no_reason.status_code == 400
    unknown = api(client, "post", path, org.m_east, {"rep": "nobody", "reason": "x"})
    assert unknown.status_code == 400 and unknown.json()["detail"][0]["code"] == "unknown_rep"
    by_rep = api(client, "post", path, lead.owner, {"rep": other, "reason": "x"})
    assert by_rep.status_code == 403
    not_mine = api(client, "post", path, org.m_east, {"rep": "north1", "reason": "x"})
    assert not_mine.status_code == 403 and not_mine.json()["detail"][0]["code"] == "forbidden"
    done = api(client, "post", path, org.m_east, {"rep": other, "reason": "客户指定"})
    assert done.status_code == 200 and done.json()["assignment"]["reason"] == "客户指定"
    assert done.json()["lead"]["owner"] != str(lead.owner)


def test_r2_2_rules_and_policy_through_the_api(client, org):
    rule = {
        "name": "华北制造业",
        "order": 5,
        "regions": ["华北"],
        "industries": ["制造业"],
        "grades": ["A", "B"],
        "channels": ["G"],
        "team": "华北一组",
    }
    created = api(client, "post", "/assignment/rules", org.m_north, rule)
    assert created.status_code == 201, created.json()
    rid = created.json()["id"]
    assert api(client, "get", "/assignment/rules", org.m_north).json()[0]["industries"] == [
        "制造业"
    ]
    both = api(client, "put", f"/assignment/rules/{rid}", org.m_north, {**rule, "rep": "north1"})
    assert both.status_code == 400  # a team or a rep, not both
    bad = api(client, "post", "/assignment/rules", org.m_north, {**rule, "regions": ["火星"]})
    assert bad.status_code == 400
    unknown = api(client, "post", "/assignment/rules", org.m_north, {**rule, "industries": ["?"]})
    assert unknown.status_code == 400 and "?" in unknown.json()["detail"][0]["message"]
    assert api(client, "get", "/assignment/rules", org.east1).status_code == 403
    policy = api(client, "get", "/assignment/policy", org.m_east).json()
    assert (policy["weight_region"], policy["confirm_hours"], policy["decline_hours"]) == (
        40,
        24,
        2,
    )
    changed = api(client, "put", "/assignment/policy", org.m_east, {**policy, "weight_region": 60})
    assert changed.status_code == 200 and AssignmentPolicy.current().weight_region == 60
    wrong = api(client, "put", "/assignment/policy", org.m_east, {**policy, "decline_hours": 48})
    assert wrong.status_code == 400  # longer than the confirmation window
    assert api(client, "delete", f"/assignment/rules/{rid}", org.m_north).status_code == 204


def test_r2_2_assign_all_and_the_console(client, org):
    RepProfile.objects.update(capacity=0)
    leads = [org.lead(timezone.now()) for _ in range(3)]
    assert all(Lead.objects.get(pk=x.pk).status == Status.UNASSIGNED for x in leads)
    client.force_login(org.m_east)
    page = client.get("/assignment/").content.decode()
    assert all(x.number in page for x in leads) and "一键分配" in page
    RepProfile.objects.update(capacity=10)
    response = client.post("/assignment/run/", follow=True)
    assert "已分配 3 条" in response.content.decode()
    assert Assignment.objects.filter(state="pending").count() == 3
    client.force_login(org.east1)
    assert client.get("/assignment/").status_code == 403
    assert api(client, "post", "/assignment/run", org.east1).status_code == 403


def test_r2_2_rules_editor_and_preview(client, org, manufacturing):
    lead = org.lead(timezone.now(), industry="制造业")
    client.force_login(org.m_east)
    page = client.get("/assignment/rules/").content.decode()
    assert "还没有规则" in page and "区域权重" in page
    response = client.post(
        "/assignment/rules/new/",
        {
            "name": "大客户",
            "order": 1,
            "active": "on",
            "industries": [manufacturing.pk],
            "rep": org.east1.pk,
        },
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    invalid = client.post(
        "/assignment/rules/new/",
        {"name": "两个都选", "order": 2, "team": org.east.pk, "rep": org.east1.pk},
    )
    assert invalid.status_code == 200 and "二选一" in invalid.content.decode()
    preview = client.get(f"/assignment/rules/?number={lead.number}").content.decode()
    assert "规则：大客户" in preview and str(org.east1) in preview
    missing = client.get("/assignment/rules/?number=G000").content.decode()
    assert "未找到线索 G000" in missing
    client.post(
        "/assignment/policy/",
        {
            "weight_region": 0,
            "weight_industry": 0,
            "weight_grade": 0,
            "weight_customer_type": 0,
            "confirm_hours": 24,
            "decline_hours": 2,
            "remind_hours": 2,
            "pool_days_a": 7,
            "pool_days_b": 15,
            "pool_days_c": 30,
            "pool_warn_hours": 24,
            "claim_daily_limit": 5,
            "pool_holding_cap": 20,
            "reclaim_cooldown_days": 7,
        },
    )
    assert AssignmentPolicy.current().weight_region == 40  # all-zero weights refused
    assert client.post(f"/assignment/rules/{rule.pk}/delete/").status_code == 302
    assert not AssignmentRule.objects.exists()


def test_r2_6_the_pool_page_and_claim(client, org):
    lead = org.lead(timezone.now())
    Lead.objects.filter(pk=lead.pk).update(status=Status.POOL, owner=None, team=None)
    client.force_login(org.north1)
    page = client.get("/pool/").content.decode()
    assert lead.number in page and "今日已领取 0 / 5 条" in page
    response = client.post(f"/leads/{lead.number}/claim/", {"next": "/pool/"}, follow=True)
    assert "已从公海领取" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).owner == org.north1
    client.force_login(org.north1)
    again = api(client, "post", f"/leads/{lead.number}/claim", org.east1)
    assert again.status_code in (404, 409)
    client.force_login(org.support)
    assert client.get("/pool/").status_code == 403


def test_r2_5_the_inbox_shows_the_deadline_and_the_lead_page_the_answers(client, org):
    lead = org.lead(timezone.now())
    client.force_login(lead.owner)
    inbox = client.get("/inbox/").content.decode()
    assert lead.number in inbox and "lf-countdown" in inbox
    detail = client.get(f"/leads/{lead.number}/").content.decode()
    assert "为什么分配给这位销售" in detail and 'name="decline"' in detail
    assert Assignment.objects.get().decline_due > timezone.now() + timedelta(hours=1)
    client.force_login(org.m_east)
    detail = client.get(f"/leads/{lead.number}/").content.decode()
    assert 'id="manual-assign"' in detail and 'name="decline"' not in detail


def test_r2_5_accepting_after_the_deadline_is_refused_and_the_sweeper_escalates(client, org):
    import time_machine

    from leadflow.assignment import services

    start = timezone.now()
    lead = org.lead(start)
    first = lead.owner
    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        late = api(client, "post", f"/leads/{lead.number}/accept", first)
        assert late.status_code == 409
        assert late.json()["detail"][0]["code"] == "confirm_deadline_passed"
        assert services.expire_due(timezone.now()) == 1
    lead.refresh_from_db()
    assert lead.owner not in (first, None)
    client.force_login(org.m_east)
    console = client.get("/assignment/").content.decode()
    assert lead.number in console and "超时未确认" in console  # listed under escalations


def test_r5_2_the_timeline_names_the_new_owner_and_shows_local_times(client, org):
    start = timezone.make_aware(timezone.datetime(2026, 11, 2, 10, 0))
    lead = org.lead(start)
    client.force_login(org.m_east)
    page = client.get(f"/leads/{lead.number}/").content.decode()
    assert f"∅ → {lead.owner}" in page and f"∅ → {org.east}" in page
    assert "∅ → 2026-11-03 10:00" in page  # the confirmation deadline, Shanghai time
    assert "+00:00" not in page
