"""The API at /api/v1/: R1.7 (REST entry), R1.5 repeats, R5.1 masking, and bad input."""

import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from leadflow.accounts.models import ApiToken, Role
from leadflow.core.models import AuditEntry
from leadflow.leads.models import Lead

from .factories import lead_data, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(support):
    return ApiToken.objects.create(user=support, key=ApiToken.new_key()).key


def post(client, token, body, lang="zh-hans", raw=None):
    return client.post(
        "/api/v1/leads",
        data=raw if raw is not None else json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": lang},
    )


def test_r1_7_post_creates_a_normalised_numbered_graded_lead(client, token):
    body = lead_data(
        phone="+86 139-1357-2468", channel="G", acquired_at="2023-10-28T10:00:00+08:00"
    )
    response = post(client, token, body)
    assert response.status_code == 201, response.content
    lead = response.json()
    assert lead["number"] == "G20231028001"
    assert lead["status"] == "pending_review"
    assert lead["phone_e164"] == "+8613913572468"
    assert lead["province"] and lead["region"]
    assert lead["grade"] in "ABC" and lead["grade_reason"]
    assert lead["screening"] == [] and lead["duplicate_of"] is None and lead["repeat"] is False


def test_r1_5_a_repeat_answers_200_with_the_existing_lead(client, token):
    first = post(client, token, lead_data(phone="13913572468")).json()
    again = post(client, token, lead_data(phone="8613913572468"))
    assert again.status_code == 200
    assert again.json()["number"] == first["number"]
    assert again.json()["repeat"] is True and again.json()["matched_on"] == "phone"
    assert Lead.objects.count() == 1


def test_r1_4_screened_out_leads_come_back_with_their_reasons(client, token):
    response = post(client, token, lead_data(phone="13800000000"))
    assert response.status_code == 201
    lead = response.json()
    assert lead["status"] == "screened_out"
    assert lead["screening"][0]["code"] == "phone_fake"
    assert "13800000000" in lead["screening"][0]["message"]


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"company_name": "公" * 10_000}, "company_name", "too_long"),
        ({"contact_name": "王\u0000"}, "contact_name", "nul"),
        ({"acquired_at": "28/13/2023 99:99"}, "acquired_at", "bad_datetime"),
        ({"channel": "ZZZ"}, "channel", "unknown_channel"),
        ({"phone": "call me maybe"}, "phone", "not_a_phone"),
        ({"company_name": 42.5}, "company_name", "not_text"),
        ({"budget_min": "很多"}, "budget_min", "bad_number"),
        ({"company_name": None}, "company_name", "required"),
    ],
)
def test_bad_input_is_a_400_with_field_code_and_chinese_message(
    client, token, override, field, code
):
    response = post(client, token, lead_data(**override))
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert {"field": field, "code": code} in [
        {"field": d["field"], "code": d["code"]} for d in detail
    ]
    assert all(d["message"] for d in detail)
    assert not Lead.objects.exists() and not AuditEntry.objects.exists()


def test_bad_input_messages_follow_the_request_language(client, token):
    zh = post(client, token, {"channel": "G"}).json()["detail"]
    en = post(client, token, {"channel": "G"}, lang="en").json()["detail"]
    assert "必填项" in [d["message"] for d in zh]
    assert "This field is required." in [d["message"] for d in en]


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "\u0000", ""])
def test_a_body_that_is_not_a_json_object_is_a_400(client, token, raw):
    response = post(client, token, None, raw=raw)
    assert response.status_code == 400
    assert response.json()["detail"][0]["code"] in {"bad_json", "required", "invalid"}


def test_a_phone_written_as_a_json_number_is_accepted(client, token):
    response = post(client, token, lead_data(phone=13913572469))
    assert response.status_code == 201 and response.json()["phone_e164"] == "+8613913572469"


def test_the_api_needs_a_session_or_a_bearer_token(client, support):
    response = client.get("/api/v1/leads")
    assert response.status_code == 401
    assert response.json()["detail"][0]["code"] == "unauthorized"
    bad = client.get("/api/v1/leads", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    client.force_login(support)
    assert client.get("/api/v1/leads").status_code == 200


def test_r5_1_marketing_cannot_verify_and_sees_masked_contacts(client, token, marketing):
    number = post(client, token, lead_data(phone="13913572460", email="buyer@example.com")).json()[
        "number"
    ]
    mtoken = ApiToken.objects.create(user=marketing, key=ApiToken.new_key()).key
    auth = {"Authorization": f"Bearer {mtoken}"}
    lead = client.get(f"/api/v1/leads/{number}", headers=auth).json()
    assert lead["phone_e164"] == "139****2460"
    assert lead["email"] == "b***@example.com" and lead["contact_masked"] is True
    refused = client.post(
        f"/api/v1/leads/{number}/approve", headers=auth, content_type="application/json"
    )
    assert refused.status_code == 403


def test_r1_8_verification_through_the_api(client, token, db):
    rep = make_user("rep-api", Role.REP)
    rtoken = ApiToken.objects.create(user=rep, key=ApiToken.new_key()).key
    number = post(client, rtoken, lead_data()).json()["number"]
    auth = {"Authorization": f"Bearer {token}"}
    returned = client.post(
        f"/api/v1/leads/{number}/return",
        data={"reason": "缺少公司全称"},
        content_type="application/json",
        headers=auth,
    )
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    no_reason = client.post(
        f"/api/v1/leads/{number}/approve", headers=auth, content_type="application/json"
    )
    assert (
        no_reason.status_code == 400
        and no_reason.json()["detail"][0]["code"] == "transition_not_allowed"
    )
    fixed = client.put(
        f"/api/v1/leads/{number}",
        data=json.dumps(lead_data(company_name="苏州恒瑞精密机械有限公司")),
        content_type="application/json",
        headers={"Authorization": f"Bearer {rtoken}"},
    )
    assert fixed.status_code == 200 and fixed.json()["status"] == "pending_review"
    approved = client.post(
        f"/api/v1/leads/{number}/approve", headers=auth, content_type="application/json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "assigned"  # R2.2: at once


def test_list_filters_and_pagination(client, token):
    for n in range(3):
        post(client, token, lead_data(channel="G" if n else "K"))
    auth = {"Authorization": f"Bearer {token}"}
    page = client.get("/api/v1/leads?channel=G&page_size=1", headers=auth).json()
    assert page["count"] == 2 and len(page["results"]) == 1
    assert client.get("/api/v1/leads?status=won", headers=auth).json()["count"] == 0
    bad = client.get("/api/v1/leads?status=nonsense", headers=auth)
    assert bad.status_code == 400 and bad.json()["detail"][0]["field"] == "status"
    missing = client.get("/api/v1/leads/G20990101001", headers=auth)
    assert missing.status_code == 404 and missing.json()["detail"][0]["code"] == "not_found"


def test_r1_1_channels_are_listed_with_code_category_and_parent(client, token):
    channels = client.get("/api/v1/channels", headers={"Authorization": f"Bearer {token}"}).json()
    by_code = {c["code"]: c for c in channels}
    assert by_code["G"]["name"] == "官网注册" and by_code["G"]["category"] == "online"
    assert any(c["parent"] == "G" for c in channels)


def test_openapi_and_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/leads" in schema["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_the_token_command_prints_a_working_token(client, support, capsys):
    call_command("token", support.username)
    key = capsys.readouterr().out.strip()
    assert (
        client.get("/api/v1/leads", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    )
    call_command("token", support.username)
    assert capsys.readouterr().out.strip() == key


def test_a_rotated_token_or_a_deactivated_user_stops_working_at_once(client, support):
    old = ApiToken.objects.create(user=support, key=ApiToken.new_key()).key
    auth = {"Authorization": f"Bearer {old}"}
    assert client.get("/api/v1/leads", headers=auth).status_code == 200  # now cached
    call_command("token", support.username, "--rotate")
    assert client.get("/api/v1/leads", headers=auth).status_code == 401
    new = ApiToken.objects.get(user=support).key
    assert (
        client.get("/api/v1/leads", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    )
    support.is_active = False
    support.save()
    assert (
        client.get("/api/v1/leads", headers={"Authorization": f"Bearer {new}"}).status_code == 401
    )


def test_r5_1_a_role_change_applies_to_the_next_api_call(client, support, marketing):
    lead_number = submit_via_api(client, support)
    key = ApiToken.objects.create(user=marketing, key=ApiToken.new_key()).key
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/leads/{lead_number}", headers=auth).json()["contact_masked"]
    marketing.groups.add(Group.objects.get(name=Role.ADMIN))
    assert not client.get(f"/api/v1/leads/{lead_number}", headers=auth).json()["contact_masked"]


def submit_via_api(client, user) -> str:
    key = ApiToken.objects.get_or_create(user=user, defaults={"key": ApiToken.new_key()})[0].key
    return post(client, key, lead_data()).json()["number"]


def test_the_api_answers_in_utf8_not_escapes(client, token):
    response = post(client, token, lead_data(company_name="杭州云帆网络科技有限公司"))
    assert "杭州云帆网络科技有限公司".encode() in response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
