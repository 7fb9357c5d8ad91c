"""R4.7 / R5.1 exports: filters, visibility and masking, formula injection, the export log."""

import csv
import io

import pytest
import python_calamine
from django.http import StreamingHttpResponse
from django.urls import reverse

from leadflow.accounts.models import Role
from leadflow.intake.exporting import neutralise
from leadflow.intake.models import ExportLog
from leadflow.leads.models import Lead, Status

from ..factories import make_user, submit


def _csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel on Chinese Windows reads UTF-8 by its BOM
    return list(csv.reader(io.StringIO(body[1:])))


def _xlsx(response) -> list[list]:
    content = b"".join(response.streaming_content)
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    return book.get_sheet_by_index(0).to_python()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("+8613800138000", "+8613800138000"),
        ("-500", "-500"),
        ("北京", "北京"),
    ],
)
def test_r4_7_cells_that_would_run_as_formulas_are_neutralised(value, expected):
    assert neutralise(value) == expected


@pytest.mark.django_db
def test_r4_7_csv_export_follows_the_filter_and_is_logged(client, support):
    submit(support, company_name='=HYPERLINK("http://evil")', phone="13912340001")
    submit(support, company_name="杭州恒远精密机械有限公司", industry="个人/其他")  # screened out
    client.force_login(support)
    response = client.get(reverse("intake:export-csv"), {"status": Status.PENDING_REVIEW})
    rows = _csv(response)
    assert rows[0][:3] == ["线索编号", "状态", "来源渠道"]
    assert len(rows) == 2
    assert rows[1][3] == '\'=HYPERLINK("http://evil")'
    assert rows[1][5] == "+8613912340001"
    log = ExportLog.objects.get()
    assert (log.by, log.kind, log.file_format, log.rows) == (support, "leads", "csv", 1)
    assert log.filters == {"status": "pending_review"}


@pytest.mark.django_db
def test_r5_1_exports_mask_contacts_outside_the_users_scope(client, support, marketing):
    lead = submit(support, phone="13912340002").lead
    Lead.objects.filter(pk=lead.pk).update(status=Status.UNASSIGNED)
    client.force_login(marketing)  # sees every lead, but not this one's contact details
    grid = _xlsx(client.get(reverse("intake:export-xlsx")))
    assert grid[1][0] == lead.number
    assert grid[1][5] == "139****0002"
    assert ExportLog.objects.get().rows == 1


@pytest.mark.django_db
def test_r5_1_a_rep_exports_nothing(client, support):
    submit(support)
    rep = make_user("rep1", Role.REP)
    client.force_login(rep)
    assert client.get(reverse("intake:export-csv")).status_code == 403
    assert ExportLog.objects.count() == 0


@pytest.mark.django_db
def test_r5_1_a_manager_exports_only_visible_leads(client, support):
    submit(support)
    manager = make_user("manager1", Role.MANAGER)
    client.force_login(manager)
    rows = _csv(client.get(reverse("intake:export-csv")))
    assert len(rows) == 1  # the header: no team lead is theirs


@pytest.mark.django_db
def test_r4_7_the_api_exports_with_a_bearer_token(client, support):
    from leadflow.accounts.models import ApiToken

    submit(support)
    token = ApiToken.objects.create(user=support, key=ApiToken.new_key())
    response = client.get(
        "/api/v1/exports/leads",
        {"format": "csv", "status": Status.PENDING_REVIEW},
        headers={"Authorization": f"Bearer {token.key}"},
    )
    assert response.status_code == 200
    assert len(_csv(response)) == 2
    rep = make_user("rep2", Role.REP)
    client.force_login(rep)
    assert client.get("/api/v1/exports/leads").status_code == 403
