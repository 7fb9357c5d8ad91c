"""R1.5: a duplicate found after intake is merged into (linked to) the lead it repeats."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.accounts.models import ApiToken, Role
from leadflow.core.audit import history
from leadflow.intake.services import MergeError, merge_lead
from leadflow.leads.models import Lead, LeadTouch, Status

from ..factories import make_user, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def later():
    return timezone.now() + timedelta(minutes=5)


def test_r1_5_merging_closes_the_duplicate_and_fills_the_original(support, later):
    original = submit(support, phone="13913571001", email="").lead
    duplicate = submit(
        support, phone="", email="buyer@example.com", company_name="另一个写法的公司"
    ).lead
    into = merge_lead(lead=duplicate, into=original, by=support, now=later, reason="同一客户")
    duplicate.refresh_from_db()
    assert duplicate.status == Status.INVALID and duplicate.duplicate_of == original
    assert duplicate.invalid_reason == "重复线索"
    assert (
        duplicate.stage_changes.last().reason == f"重复线索，已合并至 {original.number}：同一客户"
    )
    assert into.email == "buyer@example.com"  # what the original lacked
    touch = LeadTouch.objects.get(lead=original)
    assert (touch.matched_on, touch.submitted["number"]) == ("merge", duplicate.number)
    assert any("email" in e.changes for e in history(original).filter(action="update"))


def test_r1_5_the_duplicates_touches_move_to_the_original(support, later):
    original = submit(support, phone="13913571002").lead
    duplicate = submit(support, phone="13913571003", company_name="完全不同的公司").lead
    submit(support, phone="13913571003", company_name="完全不同的公司")  # a touch on the duplicate
    merge_lead(lead=duplicate, into=original, by=support, now=later, reason="")
    assert LeadTouch.objects.filter(lead=original).count() == 2
    assert not LeadTouch.objects.filter(lead=duplicate).exists()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("self", "merge_into_self"),
        ("closed_target", "merge_into_closed"),
        ("owned", "merge_too_late"),
    ],
)
def test_r1_5_merges_that_make_no_sense_are_refused(support, later, case, code):
    a = submit(support, phone="13913571004").lead
    b = submit(support, phone="13913571005", company_name="第二家公司").lead
    if case == "closed_target":
        Lead.objects.filter(pk=b.pk).update(status=Status.WON)
    if case == "owned":
        Lead.objects.filter(pk=a.pk).update(status=Status.CONTACTING)
    with pytest.raises(MergeError) as exc:
        merge_lead(
            lead=a,
            into=a if case == "self" else Lead.objects.get(pk=b.pk),
            by=support,
            now=later,
            reason="",
        )
    assert exc.value.code == code
    assert Lead.objects.get(pk=a.pk).status != Status.INVALID


def test_r1_5_merge_through_the_api_and_the_lead_page(client, support):
    original = submit(support, phone="13913571006").lead
    duplicate = submit(support, phone="13913571007", company_name="重复录入的公司").lead
    token = ApiToken.objects.create(user=support, key=ApiToken.new_key()).key
    auth = {"Authorization": f"Bearer {token}"}
    unknown = client.post(
        f"/api/v1/leads/{duplicate.number}/merge",
        {"into": "G19990101001"},
        content_type="application/json",
        headers=auth,
    )
    assert unknown.status_code == 400 and unknown.json()["detail"][0]["code"] == "unknown_lead"
    merged = client.post(
        f"/api/v1/leads/{duplicate.number}/merge",
        {"into": original.number},
        content_type="application/json",
        headers=auth,
    )
    assert merged.status_code == 200 and merged.json()["number"] == original.number
    again = client.post(
        f"/api/v1/leads/{duplicate.number}/merge",
        {"into": original.number},
        content_type="application/json",
        headers=auth,
    )
    assert again.status_code == 400 and again.json()["detail"][0]["code"] == "merge_too_late"

    third = submit(support, phone="13913571008", company_name="又一个重复").lead
    client.force_login(support)
    assert "合并重复线索" in client.get(f"/leads/{third.number}/").content.decode()
    response = client.post(
        f"/intake/{third.number}/merge/", {"into": original.number, "reason": "同一联系人"}
    )
    assert response.url == f"/leads/{original.number}/"
    assert Lead.objects.get(pk=third.pk).duplicate_of == original


def test_r1_5_only_verifiers_merge(client, support):
    rep = make_user("rep-merge", Role.REP)
    a = submit(rep, phone="13913571009").lead
    b = submit(rep, phone="13913571010", company_name="乙公司").lead
    client.force_login(rep)
    assert client.post(f"/intake/{a.number}/merge/", {"into": b.number}).status_code == 403
    assert "合并重复线索" not in client.get(f"/leads/{a.number}/").content.decode()
