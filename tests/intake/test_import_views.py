"""R1.7 the import flow in the web UI: upload → mapping → preview → dry run → run → result."""

import io

import pytest
import python_calamine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadflow.accounts.models import Role
from leadflow.intake.models import ImportJob, ImportMapping
from leadflow.leads.models import Lead

from ..factories import make_user
from .test_import import HEADERS, csv_bytes, row

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def client_support(client, support, settings):
    settings.TASKS = IMMEDIATE
    client.force_login(support)
    return client


def upload(client, content, name="名单.csv", channel="G"):
    return client.post(
        reverse("intake:imports"),
        {"file": SimpleUploadedFile(name, content), "channel": channel},
    )


@pytest.mark.django_db(transaction=True)
def test_r1_7_web_flow_upload_mapping_preview_dry_run_run_result(client_support):
    content = csv_bytes([row(), row(客户名称="宁波宏达五金有限公司"), row(客户名称="")])
    response = upload(client_support, content)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "intake:import-mapping", args=[job.pk]
    )

    page = client_support.get(response.url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "客户名称" in text and "杭州恒远精密机械有限公司" in text  # headers with samples
    form = {f"col_{i}": job.columns.get(h, "") for i, h in enumerate(job.headers)}
    form.update(mode="create", match_on="number", save_as="展会名单")
    response = client_support.post(reverse("intake:import-mapping", args=[job.pk]), form)
    assert response.status_code == 302
    assert ImportMapping.objects.get().name == "展会名单"

    page = client_support.get(reverse("intake:import-preview", args=[job.pk]))
    text = page.content.decode()
    assert "必填项" in text and "table-danger" in text  # the empty company name, in its cell
    assert Lead.objects.count() == 0  # a preview writes nothing

    client_support.post(reverse("intake:import-check", args=[job.pk]))
    job.refresh_from_db()
    assert job.dry_run["created"] == 2 and job.dry_run["rejected"] == 1
    assert Lead.objects.count() == 0

    response = client_support.post(reverse("intake:import-start", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.counts["created"] == 2
    page = client_support.get(response.url)
    assert 'data-count="rejected">1<' in page.content.decode()
    workbook = client_support.get(reverse("intake:import-rejected", args=[job.pk]))
    grid = (
        python_calamine.CalamineWorkbook.from_filelike(
            io.BytesIO(b"".join(workbook.streaming_content))
        )
        .get_sheet_by_index(0)
        .to_python()
    )
    assert int(grid[1][0]) == 4 and grid[1][1] == "客户名称"


@pytest.mark.django_db
def test_r1_7_a_bad_upload_is_refused_with_its_reason(client_support):
    response = upload(client_support, "客户名称,联系人\n甲,乙\n".encode(), name="leads.xlsx")
    assert response.status_code == 400
    assert "不是有效的 XLSX 文件" in response.content.decode()
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_r1_7_mapping_refuses_one_field_for_two_columns(client_support):
    upload(client_support, csv_bytes([row()]))
    job = ImportJob.objects.get()
    form = {f"col_{i}": "company_name" for i in range(len(HEADERS))}
    form.update(mode="create", match_on="number")
    response = client_support.post(reverse("intake:import-mapping", args=[job.pk]), form)
    assert response.status_code == 400
    assert "对应了多列" in response.content.decode()


@pytest.mark.django_db
def test_r1_7_progress_fragment_polls_while_running(client_support):
    upload(client_support, csv_bytes([row()]))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="running", rows_done=0)
    fragment = client_support.get(
        reverse("intake:import-job", args=[job.pk]), headers={"HX-Request": "true"}
    )
    text = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in text and "<html" not in text


@pytest.mark.django_db
def test_r5_1_imports_are_their_uploaders_own(client_support, db):
    upload(client_support, csv_bytes([row()]))
    job = ImportJob.objects.get()
    other = make_user("support2", Role.SUPPORT)
    client_support.force_login(other)
    assert client_support.get(reverse("intake:import-job", args=[job.pk])).status_code == 403
    rep = make_user("rep9", Role.REP)
    client_support.force_login(rep)
    response = client_support.get(reverse("intake:imports"))
    assert response.status_code == (200 if rep.has_perm("leads.add_lead") else 403)
