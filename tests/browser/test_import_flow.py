"""R1.7 in a real browser: upload a file, confirm the mapping, see the preview, start the
import, watch the progress bar while the task worker runs it, and read the result."""

import csv
import io

import pytest
from django.core.management import call_command

from leadflow.accounts.models import Role
from leadflow.intake.models import ImportJob
from leadflow.leads.models import Lead

from ..factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _file(tmp_path):
    rows = [["单位名称", "联系人", "手机号码", "所属行业", "需求描述", "留资时间"]]
    for i in range(30):
        rows.append([f"常州第{i}精密机械有限公司", "周先生", f"1391357{3000 + i}", "制造业",
                     "采购设备，用于产线改造", "2026-11-02"])  # fmt: skip
    rows.insert(4, ["", "缺公司名", "13913579999", "制造业", "x", "2026-11-02"])  # file row 5
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path = tmp_path / "展会名单.csv"
    path.write_bytes(out.getvalue().encode("gbk"))
    return path


def test_r1_7_upload_mapping_preview_progress_result(page, live_server, tmp_path):
    make_user("browser-support", Role.SUPPORT)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "browser-support")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/intake/queue/")

    page.click("text=批量导入")
    page.set_input_files("#id_file", str(_file(tmp_path)))
    page.select_option("#id_channel", "HZ")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#mapping-form")
    # suggested from the headers; the user confirms and saves the mapping for the channel
    assert page.input_value("select[data-header='手机号码']") == "phone"
    assert page.input_value("select[data-header='留资时间']") == "acquired_at"
    page.fill("#id_save_as", "展会名单")
    page.click("#mapping-form button[type=submit]")

    page.wait_for_selector("#preview")
    bad = page.locator("tr[data-row='5'] td.table-danger")
    assert "必填项" in bad.first.inner_text()
    page.click("#start-import")

    page.wait_for_selector("#import-status .progress-bar")
    assert ImportJob.objects.get().state == ImportJob.State.QUEUED
    call_command("db_worker", "--batch", "--no-startup-delay")  # the worker runs the queue
    # the page polls and shows the result without a reload
    page.wait_for_selector("#result [data-count='created']")
    assert page.inner_text("#result [data-count='created']") == "30"
    assert page.inner_text("#result [data-count='rejected']") == "1"
    assert page.inner_text("#import-state") == "已完成"
    with page.expect_download() as download:
        page.click("#rejected-download")
    assert download.value.suggested_filename.endswith(".xlsx")
    assert Lead.objects.filter(channel__code="HZ").count() == 30
