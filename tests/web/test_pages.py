"""The web UI: login, navigation by role, list and filters, the form, the queue (R1.7 web
form, R1.8, R5.1)."""

import pytest

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead, LeadTouch, Status

from ..factories import lead_data, make_user, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(db):
    return make_user("rep-web", Role.REP)


def test_login_page_and_redirect_by_role(client, support, rep):
    assert client.get("/").status_code == 302
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and "登录 LeadFlow" in page.content.decode()
    response = client.post("/accounts/login/", {"username": "support1", "password": "pw"})
    assert response.status_code == 302
    assert client.get("/").url == "/intake/queue/"
    client.force_login(rep)
    assert client.get("/").url == "/my-day/"


def test_wrong_password_is_said_plainly(client, support):
    response = client.post("/accounts/login/", {"username": "support1", "password": "nope"})
    assert response.status_code == 200 and "用户名或密码不正确" in response.content.decode()


def test_navigation_follows_the_role(client, support, rep):
    client.force_login(support)
    assert "核对队列" in client.get("/leads/").content.decode()
    client.force_login(rep)
    page = client.get("/leads/").content.decode()
    assert "核对队列" not in page and "录入线索" in page
    assert client.get("/intake/queue/").status_code == 403


def test_the_ui_switches_to_english(client, support):
    client.force_login(support)
    client.post("/i18n/setlang/", {"language": "en", "next": "/leads/"})
    page = client.get("/leads/").content.decode()
    assert "Verification queue" in page and "Lead number" in page


def test_r1_7_the_web_form_enters_a_lead(client, support):
    client.force_login(support)
    assert client.get("/intake/new/").status_code == 200
    data = lead_data(phone="139 1357 0001", acquired_at="2023-10-28T10:00")
    response = client.post("/intake/new/", data)
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert response.url == f"/leads/{lead.number}/"
    assert lead.phone_e164 == "+8613913570001" and lead.number == "G20231028001"
    detail = client.get(response.url).content.decode()
    assert "已录入线索 G20231028001" in detail and "录入，状态：待核对" in detail


def test_the_form_shows_each_problem_beside_its_field_and_keeps_the_input(client, support):
    client.force_login(support)
    response = client.post(
        "/intake/new/", lead_data(company_name="", phone="", email="", acquired_at="昨天下午")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="company_name"' in page and "必填项" in page
    assert "手机和邮箱至少填写一项" in page and "无法识别的时间" in page
    assert "采购设备" in page  # what was typed is still there
    assert not Lead.objects.exists()


def test_r1_5_a_repeat_through_the_form_records_a_touch(client, support):
    client.force_login(support)
    first = submit(support, phone="13913570002").lead
    response = client.post("/intake/new/", lead_data(phone="+86 139 1357 0002"))
    assert response.url == f"/leads/{first.number}/"
    assert LeadTouch.objects.filter(lead=first).count() == 1
    assert "重复" in client.get(response.url).content.decode()


def test_r1_5_the_live_duplicate_warning_names_the_lead_and_masks_its_owner(client, support):
    other_rep = make_user("other-rep", Role.REP)
    existing = submit(other_rep, phone="13913570003").lead
    Lead.objects.filter(pk=existing.pk).update(owner=other_rep, status=Status.CONTACTING)
    rep = make_user("asking-rep", Role.REP)
    client.force_login(rep)
    part = client.post(
        "/intake/check-duplicate/", {"phone": "139-1357-0003"}, headers={"HX-Request": "true"}
    )
    html = part.content.decode()
    assert existing.number in html and "疑似重复" in html
    assert "139****0003" in html and "+8613913570003" not in html
    assert "用**" in html  # the owner's name, masked for a rep outside the lead's scope
    assert "<html" not in html  # only the partial
    assert client.post("/intake/check-duplicate/", {"phone": "13913579999"}).content.strip() == b""


def test_lead_list_filters_and_search(client, support):
    a = submit(support, phone="13913570004", company_name="杭州蓝海物流有限公司").lead
    b = submit(support, phone="13800000000").lead
    client.force_login(support)

    def numbers(query):
        return {
            n for n in (a.number, b.number) if n in client.get(f"/leads/?{query}").content.decode()
        }

    assert numbers("") == {a.number, b.number}
    assert numbers("status=screened_out") == {b.number}
    assert numbers("q=蓝海") == {a.number}
    assert numbers("q=1391357%200004") == {a.number}
    assert numbers(f"q={a.number}") == {a.number}
    assert numbers("grade=D") == {b.number}
    assert numbers("channel=K") == set()
    assert numbers("since=2999-01-01") == set()
    assert client.get("/leads/?since=garbage&owner=x&status=bogus").status_code == 200
    for ends in ("until=9999-12-31", "since=0001-01-01", "missed=9999-12-31"):  # ignored
        assert numbers(ends) == {a.number, b.number}, ends
    partial = client.get("/leads/?q=蓝海", headers={"HX-Request": "true"}).content.decode()
    assert a.number in partial and '<nav class="navbar' not in partial


def test_r1_8_the_queue_approve_and_return_from_the_lead_page(client, support, rep):
    one = submit(rep, phone="13913570005").lead
    two = submit(rep, phone="13913570006").lead
    client.force_login(support)
    queue = client.get("/intake/queue/").content.decode()
    assert one.number in queue and two.number in queue
    detail = client.get(f"/leads/{one.number}/").content.decode()
    assert "核对通过" in detail and "退回" in detail
    response = client.post(f"/intake/{one.number}/approve/")
    assert response.status_code == 302 and response.url == f"/leads/{two.number}/"  # next in queue
    response = client.post(f"/intake/{two.number}/return/", {"reason": "手机号缺一位"})
    assert response.url == "/intake/queue/"
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, two.status, two.return_reason) == (
        Status.ASSIGNED,  # approved, and assigned at once to the only rep (R2.2)
        Status.RETURNED,
        "手机号缺一位",
    )
    refused = client.post(f"/intake/{two.number}/return/", {"reason": ""}, follow=True)
    assert "不能从" in refused.content.decode()


def test_r1_8_the_author_sees_returned_leads_and_resubmits(client, support, rep):
    lead = submit(rep, phone="13913570007").lead
    client.force_login(support)
    client.post(f"/intake/{lead.number}/return/", {"reason": "客户名称不完整"})
    client.force_login(rep)
    page = client.get("/intake/returned/").content.decode()
    assert lead.number in page and "客户名称不完整" in page
    form = client.get(f"/intake/{lead.number}/edit/").content.decode()
    assert "13913570007" in form
    data = lead_data(phone="13913570007", company_name="宁波锦程供应链管理有限公司")
    response = client.post(f"/intake/{lead.number}/edit/", data)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (
        lead.status == Status.PENDING_REVIEW and lead.company_name == "宁波锦程供应链管理有限公司"
    )
    timeline = client.get(f"/leads/{lead.number}/").content.decode()
    assert "已退回 → 待核对" in timeline and "客户名称" in timeline


def test_others_cannot_fix_a_lead_they_did_not_enter(client, support, rep):
    lead = submit(rep).lead
    stranger = make_user("stranger", Role.MANAGER)
    client.force_login(stranger)
    assert client.get(f"/intake/{lead.number}/edit/").status_code == 404


def test_healthz(client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_the_ui_is_chinese_by_default_whatever_the_browser_prefers(client, support):
    client.force_login(support)
    page = client.get("/leads/", headers={"Accept-Language": "en-US,en;q=0.9"}).content.decode()
    assert "线索列表" in page and "Verification queue" not in page


def test_every_message_has_an_english_translation():
    """The English catalogue covers every message: an untranslated one would show Chinese
    to a user who chose English."""
    from pathlib import Path

    import leadflow

    po = Path(leadflow.__file__).parent / "locale/en/LC_MESSAGES/django.po"
    entries = po.read_text(encoding="utf-8").split("\n\n")[1:]
    untranslated = [e for e in entries if 'msgstr ""' in e.splitlines()[-1] or "#, fuzzy" in e]
    assert not untranslated, untranslated[:3]


@pytest.mark.parametrize(
    "url",
    [
        "/leads/G%00/",
        "/leads/?channel=G%00",
        "/leads/?q=%00",
        "/intake/queue/?page=%00",
        "/api/v1/leads/G%0020231028001",
        "/api/v1/leads?channel=%00",
        "/api/v1/leads?q=a%00b",
    ],
)
def test_a_nul_in_the_address_is_a_clear_400_never_a_500(client, support, url):
    client.force_login(support)
    response = client.get(url)
    assert response.status_code == 400
    assert "空字符" in response.content.decode()


def test_the_form_refuses_nul_and_overlong_fields_beside_the_field(client, support):
    client.force_login(support)
    response = client.post("/intake/new/", lead_data(contact_name="王\x00", need="需" * 10_000))
    page = response.content.decode()
    assert response.status_code == 200
    assert "含有非法的空字符" in page and "过长" in page
    assert not Lead.objects.exists()


@pytest.mark.parametrize("field", ["reason", "into"])
def test_verification_actions_survive_nul_in_their_fields(client, support, field):
    lead = submit(support).lead
    client.force_login(support)
    action = "return" if field == "reason" else "merge"
    response = client.post(f"/intake/{lead.number}/{action}/", {field: "x\x00y"})
    assert response.status_code == 302


def test_a_won_lead_shows_its_amount_and_date(client, support):
    from decimal import Decimal

    from django.utils import timezone

    lead = submit(support).lead
    Lead.objects.filter(pk=lead.pk).update(
        status=Status.WON, won_amount=Decimal("80000"), won_at=timezone.now()
    )
    client.force_login(support)
    assert "¥80000" in client.get(f"/leads/{lead.number}/").content.decode()
    api = client.get(f"/api/v1/leads/{lead.number}").json()
    assert api["won_amount"] == "80000.00" and api["won_at"]


def test_r1_5_the_live_warning_reads_whatever_is_typed_without_failing(client, support):
    client.force_login(support)
    for data in (
        {"phone": "abc\x00"},
        {"email": "not-an-email"},
        {"company_name": "甲\x00乙公司"},
        {},
    ):
        assert client.post("/intake/check-duplicate/", data).status_code == 200
