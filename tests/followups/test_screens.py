"""The follow-up screens (R3.2–R3.8): lead page forms, my day, the board, the review."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.followups import services
from leadflow.followups.models import FollowUp, Task
from leadflow.followups.services import Contact
from leadflow.leads.models import Status

from .conftest import A_LEAD, B_LEAD

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def lead(desk):
    return desk.working(timezone.now() - timedelta(hours=3), **B_LEAD)


def test_r3_2_the_lead_page_records_a_follow_up(client, lead):
    client.force_login(lead.owner)
    page = client.get(f"/leads/{lead.number}/").content.decode()
    assert 'id="followup-form"' in page and "首次联系截止</dt>" in page
    assert "发送同行业成功案例" in page  # B's playbook suggestions
    talked = timezone.now() - timedelta(minutes=20)
    response = client.post(
        f"/leads/{lead.number}/followups/",
        {
            "contact_at": local(talked),
            "method": "wechat",
            "feedback": "客户要案例",
            "competitor": "某某科技",
        },
    )
    assert response.status_code == 302 and response.url.endswith("#followups")
    record = FollowUp.objects.get(lead=lead)
    assert record.method == "wechat" and record.competitor == "某某科技" and not record.late
    timeline = client.get(f"/leads/{lead.number}/").content.decode()
    assert "微信跟进" in timeline and "竞品：某某科技" in timeline
    assert "首次联系截止</dt>" not in timeline and "首次联系</dt>" in timeline  # done


def test_r3_2_a_refused_record_comes_back_with_what_was_typed(client, lead):
    client.force_login(lead.owner)
    future = timezone.now() + timedelta(hours=3)
    response = client.post(
        f"/leads/{lead.number}/followups/",
        {"contact_at": local(future), "method": "phone", "feedback": "很长的一段客户反馈，不能丢"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "联系时间不能晚于现在" in page and "很长的一段客户反馈，不能丢" in page
    assert not FollowUp.objects.exists()


def test_r3_3_the_stage_form_asks_for_evidence_and_keeps_it(client, lead):
    client.force_login(lead.owner)
    refused = client.post(f"/leads/{lead.number}/move/", {"to": "qualified", "reason": "电话确认"})
    assert refused.status_code == 400
    assert "“需求明确”需要填写客户需求描述" in refused.content.decode()
    assert "电话确认" in refused.content.decode()
    done = client.post(f"/leads/{lead.number}/move/", {"to": "qualified", "need": "20台设备"})
    assert done.status_code == 302
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED
    form = client.get(f"/leads/{lead.number}/move/?to=won", headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'name="won_amount"' in form.content.decode()
    htmx = client.post(
        f"/leads/{lead.number}/move/",
        {"to": "evaluating", "next": "/board/"},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == "/board/"


def test_r3_4_grade_and_r3_7_suggestion_from_the_lead_page(client, lead):
    client.force_login(lead.owner)
    early = client.post(f"/leads/{lead.number}/grade/", {"grade": "A", "reason": "预算足"})
    assert early.status_code == 400 and "请先记录首次联系" in early.content.decode()
    now = timezone.now()
    services.record_followup(
        lead=lead,
        by=lead.owner,
        now=now,
        contact=Contact(contact_at=now, method="phone", feedback="x"),
    )
    assert (
        client.post(f"/leads/{lead.number}/grade/", {"grade": "A", "reason": "预算足"}).status_code
        == 302
    )
    lead.refresh_from_db()
    assert lead.grade == "A"
    page = client.get(f"/leads/{lead.number}/").content.decode()
    assert "准备定制化方案并当面/视频讲解" in page  # A's playbook now
    from leadflow.followups.models import PlaybookStep

    step = PlaybookStep.objects.filter(grade="A").first()
    assert client.post(f"/leads/{lead.number}/suggestions/{step.pk}/").status_code == 302
    task = Task.objects.get(lead=lead, step=step)
    done = client.post(f"/tasks/{task.pk}/done/", {"outcome": "已发送"})
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None and task.outcome == "已发送"


def test_r3_6_the_profile_form(client, lead):
    client.force_login(lead.owner)
    response = client.post(
        f"/leads/{lead.number}/profile/",
        {
            "employees": "500",
            "business_model": "K12学校,500名学生,公办",
            "decision_maker_role": "校长",
            "concerns": "价格",
            "personality": "谨慎",
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.decision_maker_role == "校长" and lead.employees == 500
    bad = client.post(f"/leads/{lead.number}/profile/", {"employees": "-3"})
    assert bad.status_code == 400


def test_r3_8_my_day_page(client, desk):
    now = timezone.now()
    late = desk.working(now - timedelta(days=10), **A_LEAD)
    client.force_login(late.owner)
    page = client.get("/my-day/").content.decode()
    assert "已逾期" in page and late.number in page
    assert client.get("/").url == "/my-day/"


def test_r3_3_the_board_page_shows_columns_and_what_a_drop_needs(client, lead, desk):
    client.force_login(lead.owner)
    page = client.get("/board/").content.decode()
    assert lead.number in page and 'data-status="qualified"' in page
    assert "&quot;contacting&quot;: [&quot;need&quot;]" in page
    client.force_login(desk.m_east)
    assert lead.number in client.get(f"/board/?owner={lead.owner.pk}").content.decode()


def test_r3_5_the_review_page_confirms_and_corrects(client, desk):
    when = timezone.now() - timedelta(days=7)
    lead = desk.working(when - timedelta(hours=2), **B_LEAD)
    services.record_followup(
        lead=lead,
        by=lead.owner,
        now=when,
        contact=Contact(contact_at=when, method="phone", feedback="x"),
    )
    services.set_grade(lead=lead, by=lead.owner, grade="A", reason="预算足", now=when)
    client.force_login(desk.m_east)
    week = timezone.localtime(when).date().isoformat()
    page = client.get(f"/reviews/?team={desk.east.pk}&week={week}").content.decode()
    assert lead.number in page and "预算足" in page
    url = f"/reviews/{desk.east.pk}/{week}/{lead.number}/"
    refused = client.post(url, {"verdict": "corrected", "grade": "B"}, follow=True)
    assert "修正需要填写说明" in refused.content.decode()
    client.post(url, {"verdict": "corrected", "grade": "B", "note": "预算未落实"})
    lead.refresh_from_db()
    assert lead.grade == "B"
    page = client.get(f"/reviews/?team={desk.east.pk}&week={week}").content.decode()
    assert "预算未落实" in page and "0%（0/1）" in page
    client.force_login(desk.east1)
    assert client.get("/reviews/").status_code == 403


def test_r3_1_managers_edit_the_plans_and_new_deadlines_follow(client, desk):
    from leadflow.followups.models import SlaPolicy

    client.force_login(desk.east1)
    assert client.get("/follow-up-plans/").status_code == 403
    client.force_login(desk.m_east)
    page = client.get("/follow-up-plans/")
    assert page.status_code == 200 and 'data-grade="A"' in page.content.decode()
    policies = list(SlaPolicy.objects.order_by("grade"))
    data = {"form-TOTAL_FORMS": len(policies), "form-INITIAL_FORMS": len(policies)}
    for i, p in enumerate(policies):
        data.update(
            {
                f"form-{i}-id": p.pk,
                f"form-{i}-active": "on",
                f"form-{i}-first_contact_within": p.first_contact_within,
                f"form-{i}-first_contact_unit": p.first_contact_unit,
                f"form-{i}-cadence_min": p.cadence_min,
                f"form-{i}-cadence_max": p.cadence_max,
                f"form-{i}-cadence_unit": p.cadence_unit,
                f"form-{i}-remind_before_hours": p.remind_before_hours,
            }
        )
        if p.business_time:
            data[f"form-{i}-business_time"] = "on"
    bad = dict(data, **{"form-1-cadence_min": 5, "form-1-cadence_max": 3})  # B
    refused = client.post("/follow-up-plans/", bad)
    assert refused.status_code == 400
    assert "最短跟进间隔不能大于最长间隔" in refused.content.decode()
    data.pop("form-0-business_time")  # A on natural time, 2 hours
    data["form-0-first_contact_within"] = 2
    assert client.post("/follow-up-plans/", data).status_code == 302
    lead = desk.working(timezone.now() - timedelta(minutes=30), **A_LEAD)
    assert lead.first_contact_due == lead.assignments.get().at + timedelta(hours=2)


def test_r3_1_the_plans_through_the_api(client, desk):
    from ..assignment.test_screens_and_api import api

    body = {
        "business_time": False, "first_contact_within": 2, "first_contact_unit": "hour",
        "cadence_min": 1, "cadence_max": 1, "cadence_unit": "day",
    }  # fmt: skip
    assert api(client, "put", "/sla-policies/A", desk.east1, body).status_code == 403
    done = api(client, "put", "/sla-policies/a", desk.m_east, body)
    assert done.status_code == 200 and done.json()["business_time"] is False
    bad = api(client, "put", "/sla-policies/B", desk.m_east, dict(body, cadence_min=4))
    assert (
        bad.status_code == 400
        and bad.json()["detail"][0]["message"] == "最短跟进间隔不能大于最长间隔"
    )
    unit = api(client, "put", "/sla-policies/B", desk.m_east, dict(body, cadence_unit="month"))
    assert unit.status_code == 400 and unit.json()["detail"][0]["field"] == "cadence_unit"
    listed = {p["grade"]: p for p in api(client, "get", "/sla-policies", desk.east1).json()}
    assert listed["A"]["first_contact_within"] == 2 and listed["B"]["cadence_max"] == 3
