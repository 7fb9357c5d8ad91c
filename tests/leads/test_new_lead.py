"""R1.6, R5.2: `save_new_lead` — the number, the row and its first StageChange, written in one
statement on PostgreSQL and three on SQLite — stores a lead exactly as `Model.save()` would."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from leadflow.leads import catalog
from leadflow.leads.models import Channel, Industry, Lead, LeadNumberCounter, StageChange, Status
from leadflow.leads.services import blank_lead, save_new_lead

from ..factories import make_user

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def full_lead(user, **fields) -> Lead:
    """A lead with every kind of column filled: text, decimals, dates, moments, JSON, keys."""
    moment = datetime(2023, 10, 28, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    values = dict(
        channel=Channel.objects.get(code="G"),
        status=Status.PENDING_REVIEW,
        company_name="苏州恒瑞精密机械有限公司",
        contact_name="王经理",
        phone_e164="+8613913572468",
        phone_raw="139 1357 2468",
        email="wang@hengrui.cn",
        industry=Industry.objects.get(name="制造业"),
        need='采购设备，用于产线改造 "引号" 与 \\ 反斜杠',
        acquired_at=moment,
        wechat="wang-hr",
        province=catalog.province("江苏省"),
        city="苏州市",
        region="华东",
        employees=320,
        annual_revenue=Decimal("12000.50"),
        budget_min=Decimal("80000.00"),
        budget_max=Decimal("500000.00"),
        purchase_by=date(2023, 11, 30),
        current_supplier="某友商",
        notes="第一行\n第二行",
        grade="A",
        grade_reason="预算明确，30 天内采购",
        grade_rule="budget_and_deadline_30d",
        screening=[{"code": "seen_before", "severity": "flag", "value": "G20230101001"}],
        company_key="恒瑞精密机械",
        company_block="恒瑞",
        consent_source="官网表单",
        consent_at=moment,
        created_by=user,
        created_at=moment,
        updated_at=moment,
    )
    values.update(fields)
    return Lead(**values)


def columns(lead: Lead) -> dict:
    return {
        f.attname: getattr(lead, f.attname)
        for f in Lead._meta.concrete_fields
        if f.attname not in ("id", "number")
    }


def test_r5_2_every_column_is_stored_as_save_would_store_it():
    user = make_user("entry", "support")
    by_save = full_lead(user, number="X1")
    by_save.save()
    with transaction.atomic():
        lead = full_lead(user)
        save_new_lead(lead, day=date(2023, 10, 28), by=user, at=lead.created_at, reason="api")
    assert lead.pk and not lead._state.adding
    assert lead.number == "G20231028001"
    stored = Lead.objects.get(pk=lead.pk)
    assert columns(stored) == columns(Lead.objects.get(pk=by_save.pk))
    assert stored.number == "G20231028001"
    (entry,) = StageChange.objects.filter(lead=stored)
    assert (entry.from_status, entry.to_status, entry.by, entry.reason, entry.evidence) == (
        "",
        Status.PENDING_REVIEW,
        user,
        "api",
        {},
    )
    assert entry.at == lead.created_at and entry.entered_at is None


def test_r1_6_the_serial_widens_past_999_in_the_one_statement():
    user = make_user("entry", "support")
    channel = Channel.objects.get(code="G")
    LeadNumberCounter.objects.create(channel=channel, day=date(2023, 10, 28), last=998)
    numbers = []
    for _ in range(3):
        with transaction.atomic():
            lead = full_lead(user, phone_e164="")
            save_new_lead(lead, day=date(2023, 10, 28), by=user, at=lead.created_at)
        numbers.append(lead.number)
    assert numbers == ["G20231028999", "G202310281000", "G202310281001"]


def test_r5_2_a_lead_entered_by_nobody_keeps_an_empty_author_in_its_first_stage_change():
    """A lead from a system source has no author; its reason is cut to the column's length.
    (On PostgreSQL the statement's parameters are bound server-side, typed by the server.)"""
    user = make_user("entry", "support")
    for _ in range(2):  # the second run reuses the prepared statement
        with transaction.atomic():
            lead = full_lead(user, phone_e164="")
            save_new_lead(
                lead, day=date(2023, 10, 28), by=None, at=lead.created_at, reason="x" * 600
            )
        entry = StageChange.objects.get(lead=lead)
        assert entry.by_id is None and entry.reason == "x" * 500
    assert lead.number == "G20231028002"


@pytest.mark.django_db(transaction=True)
def test_r1_6_a_new_lead_is_saved_only_inside_its_numbering_transaction():
    user = make_user("entry", "support")
    with pytest.raises(RuntimeError):
        save_new_lead(full_lead(user), day=date(2023, 10, 28), by=user, at=datetime.now(SHANGHAI))
    assert not Lead.objects.exists()


def test_r1_2_a_blank_lead_has_every_default_and_findings_of_its_own():
    user = make_user("entry", "support")
    first = blank_lead(created_by=user, company_name="甲公司")
    first.screening.append({"code": "fake_phone", "severity": "reject"})
    second = blank_lead()
    assert second.screening == [] and second._state.adding
    assert columns(second) == columns(Lead())
    assert (first.created_by, first.created_by_id, first.company_name) == (user, user.pk, "甲公司")
