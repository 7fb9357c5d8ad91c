"""R1.7 bulk import: formats, mapping, modes, the same intake rules, nothing lost or doubled."""

import csv
import io
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import python_calamine
import xlsxwriter
from django.core.management import call_command
from django.utils import timezone

from leadflow import leadfile
from leadflow.accounts.models import Role, User
from leadflow.core.models import AuditEntry
from leadflow.intake import importing
from leadflow.intake.columns import suggest
from leadflow.intake.importing import create_job, dry_run, run_job, save_mapping
from leadflow.intake.models import ImportedRow, ImportJob
from leadflow.intake.reports import write_error_workbook
from leadflow.intake.tabular import FileRejected, read_table
from leadflow.leads.models import Channel, Lead, LeadTouch, StageChange, Status

from ..factories import make_user, next_phone, submit

HEADERS = ["客户名称", "联系人", "手机", "邮箱", "行业", "初步需求", "获取时间"]


def csv_bytes(rows, headers=HEADERS, encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=HEADERS, *, blank_first_row=False, formats=None):
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("线索")
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    top = 1 if blank_first_row else 0
    sheet.write_row(top, 0, headers)
    for r, row in enumerate(rows, start=top + 1):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, tuple):  # (formula, cached value)
                sheet.write_formula(r, c, value[0], None, value[1])
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def row(**overrides):
    values = {
        "客户名称": "杭州恒远精密机械有限公司",
        "联系人": "王经理",
        "手机": next_phone(),
        "邮箱": "",
        "行业": "制造业",
        "初步需求": "采购设备，用于产线改造",
        "获取时间": "2026-11-02 10:30",
    }
    values.update(overrides)
    return [values[h] for h in HEADERS]


def run(content, by, *, name="leads.csv", channel="G", now=None, **settings):
    job = create_job(
        content=content,
        file_name=name,
        channel=Channel.objects.get(code=channel),
        by=by,
        now=now or timezone.now(),
    )
    for key, value in settings.items():
        setattr(job, key, value)
    job.state = ImportJob.State.READY
    job.save()
    return run_job(job)


# --- formats -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_r1_7_xlsx_typed_cells_dates_numbers_and_formulas(support):
    moment = datetime(2026, 11, 2, 14, 30)  # noqa: DTZ001 — a wall-clock cell
    headers = [*HEADERS, "备注"]
    rows = [[*row(手机=13912340987, 获取时间=moment), ("=1+1", 2)]]
    job = run(xlsx_bytes(rows, headers, blank_first_row=True), support, name="线索.xlsx")
    assert job.counts["created"] == 1, job.counts
    lead = Lead.objects.get(company_name="杭州恒远精密机械有限公司")
    assert lead.phone_e164 == "+8613912340987"  # a number cell, not "13912340987.0"
    assert timezone.localtime(lead.acquired_at).replace(tzinfo=None) == moment
    assert lead.notes == "2"  # a formula gives its value, never runs


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
@pytest.mark.django_db
def test_r1_7_csv_encodings_are_detected(support, encoding):
    content = csv_bytes([row(客户名称="深圳市鑫达电子科技有限公司")], encoding=encoding)
    job = run(content, support)
    assert job.counts["created"] == 1, (job.counts, list(job.issues.values("message")))
    assert Lead.objects.filter(company_name="深圳市鑫达电子科技有限公司").exists()


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2023-10-28", "2023-10-28"),
        ("2023/10/28", "2023-10-28"),
        ("2023年10月28日", "2023-10-28"),
        ("28-10-2023", "2023-10-28"),
        ("２０２３－１０－２８", "2023-10-28"),
    ],
)
@pytest.mark.django_db
def test_r1_7_usual_written_dates(support, written, day):
    job = run(csv_bytes([row(获取时间=written)]), support)
    assert job.counts["created"] == 1, list(job.issues.values("message"))
    lead = Lead.objects.get()
    assert timezone.localtime(lead.acquired_at).date().isoformat() == day
    assert lead.number == f"G{day.replace('-', '')}001"


@pytest.mark.django_db
def test_r1_7_excel_date_serials_in_number_cells(support):
    job = run(xlsx_bytes([row(获取时间=45227)]), support, name="a.xlsx")  # 2023-10-28
    assert job.counts["created"] == 1
    assert timezone.localtime(Lead.objects.get().acquired_at).date().isoformat() == "2023-10-28"


@pytest.mark.django_db
def test_r1_7_placeholders_are_empty_and_full_width_folds(support):
    headers = [*HEADERS, "备注", "微信"]
    rows = [[*row(邮箱="N/A", 联系人="ＬＩ\u3000Ｌｅｉ"), "无", "Select"]]
    job = run(csv_bytes(rows, headers), support)
    assert job.counts["created"] == 1
    lead = Lead.objects.get()
    assert (lead.email, lead.notes, lead.wechat) == ("", "", "")
    assert lead.contact_name == "LI Lei"
    assert lead.screening == []  # "N/A" is no email, not a bad one


# --- mapping ---------------------------------------------------------------------------------


def test_r1_7_mapping_is_suggested_from_chinese_and_english_headers():
    assert suggest(["客户名称", "联系人", "手机号码", "电子邮箱", "所属行业", "需求描述"]) == {
        "客户名称": "company_name",
        "联系人": "contact_name",
        "手机号码": "phone",
        "电子邮箱": "email",
        "所属行业": "industry",
        "需求描述": "need",
    }
    assert suggest(["Company", "Contact Name", "Mobile", "E-mail", "Lead Source", "Created"]) == {
        "Company": "company_name",
        "Contact Name": "contact_name",
        "Mobile": "phone",
        "E-mail": "email",
        "Lead Source": "channel",
        "Created": "acquired_at",
    }
    # a header that contains a synonym; each field once; unknown headers stay unmapped
    assert suggest(["公司*", "联系人手机", "公司名称", "星座"]) == {
        "公司*": "company_name",
        "联系人手机": "phone",
    }


@pytest.mark.django_db
def test_r1_7_a_confirmed_mapping_is_saved_per_channel_and_reused(support):
    headers = ["单位", "姓名", "Tel", "领域", "想要什么", "哪天"]
    content = csv_bytes([row()], headers)
    first = create_job(
        content=content, file_name="a.csv", channel=Channel.objects.get(code="G"), by=support,
        now=timezone.now(),
    )  # fmt: skip
    assert "想要什么" not in first.columns  # not recognised: the user maps it
    first.columns = dict(zip(headers, ["company_name", "contact_name", "phone", "industry",
                                        "need", "acquired_at"], strict=True))  # fmt: skip
    first.save()
    save_mapping(first, "展会名单")
    again = create_job(
        content=content, file_name="b.csv", channel=Channel.objects.get(code="G"), by=support,
        now=timezone.now(),
    )  # fmt: skip
    assert again.mapping.name == "展会名单"
    assert again.columns["想要什么"] == "need"
    other = create_job(
        content=content, file_name="c.csv", channel=Channel.objects.get(code="HZ"), by=support,
        now=timezone.now(),
    )  # fmt: skip
    assert other.mapping is None  # saved per channel


# --- the same rules ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_r1_7_same_rules_screening_dedup_numbering_and_verification(support):
    existing = submit(support, phone="13912345001", company_name="苏州卓越机械有限公司").lead
    rows = [
        row(客户名称="南京天成重工有限公司", 手机="13912345002"),
        row(客户名称="假号码公司", 手机="13800000000"),  # fake: screened out, kept
        row(客户名称="苏州卓越机械", 手机="13912345003"),  # the existing lead by name
        row(客户名称="南京天成重工", 手机="13912345002"),  # repeats row 2 in the file
        row(客户名称="无锡金桥塑胶有限公司", 行业="个人/其他"),  # non-target industry
    ]
    job = run(csv_bytes(rows), support)
    assert job.counts == {
        "created": 1, "screened_out": 2, "duplicates": 2, "updated": 0, "unchanged": 0,
        "rejected": 0,
    }  # fmt: skip
    new = Lead.objects.get(company_name="南京天成重工有限公司")
    assert new.number == "G20261102001" and new.status == Status.PENDING_REVIEW
    assert new.grade and new.grade_rule
    fake = Lead.objects.get(company_name="假号码公司")
    assert fake.status == Status.SCREENED_OUT and fake.screening[0]["code"] == "phone_fake"
    assert fake.number == "G20261102002"
    assert LeadTouch.objects.filter(lead=existing, source="import").count() == 1
    assert LeadTouch.objects.filter(lead=new, source="import").count() == 1
    first = StageChange.objects.get(lead=new)
    assert (first.from_status, first.to_status) == ("", Status.PENDING_REVIEW)


@pytest.mark.django_db
def test_r1_8_imports_into_a_trusted_channel_skip_verification(support):
    Channel.objects.filter(code="G").update(requires_verification=False)
    job = run(csv_bytes([row()]), support)
    assert job.counts["created"] == 1
    assert Lead.objects.get().status == Status.UNASSIGNED


@pytest.mark.django_db
def test_r1_7_ten_thousand_rows_with_ten_percent_bad_ones(support, tmp_path):
    now = timezone.now()
    sample = leadfile.build(10_000, now=now, bad_share=0.1)
    path = tmp_path / "leads.xlsx"
    leadfile.write_xlsx(sample, str(path))
    job = run(path.read_bytes(), support, name="leads.xlsx", now=now)
    counts = job.counts
    assert counts["rejected"] == len(sample.bad) > 900
    assert sum(counts.values()) == 10_000
    made = Lead.objects.count()
    assert made == counts["created"] + counts["screened_out"]
    assert LeadTouch.objects.count() == counts["duplicates"]
    reported = {}
    for issue in job.issues.all():
        reported.setdefault(issue.row, set()).add((issue.field, issue.code))
    assert set(reported) == set(sample.bad)  # exactly the bad rows, each by its number
    for number, kind in sample.bad.items():
        assert leadfile.BAD_KINDS[kind] in reported[number], (number, kind, reported[number])
    numbers = list(Lead.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)


@pytest.mark.django_db
def test_r1_7_importing_the_same_file_again_creates_nothing(support):
    content = csv_bytes([row(), row(客户名称="宁波宏达五金有限公司"), row(客户名称="")])
    first = run(content, support)
    assert (first.counts["created"], first.counts["rejected"]) == (2, 1)
    leads, touches = Lead.objects.count(), LeadTouch.objects.count()
    second = run(content, support)
    assert second.counts["unchanged"] == 2 and second.counts["rejected"] == 1
    assert (Lead.objects.count(), LeadTouch.objects.count()) == (leads, touches)


@pytest.mark.django_db
def test_r1_7_a_killed_import_resumes_to_the_same_result(support, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 40)
    now = timezone.now()
    sample = leadfile.build(300, now=now, bad_share=0.1, seed=11)
    sample.rows[250] = list(sample.rows[20])  # an in-file repeat across batches
    buffer = io.StringIO()
    csv.writer(buffer).writerows([sample.headers, *sample.rows])
    content = buffer.getvalue().encode()
    job = create_job(
        content=content, file_name="a.csv", channel=Channel.objects.get(code="G"), by=support,
        now=now,
    )  # fmt: skip
    expected = dry_run(job, now=now)
    job.state = ImportJob.State.READY
    job.save()

    real = importing.Importer._commit_batch
    calls = {"n": 0}

    def dying(self, batch, *, done):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the worker is killed in the middle of batch 4
        return real(self, batch, done=done)

    monkeypatch.setattr(importing.Importer, "_commit_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        run_job(job)
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING and job.rows_done == 120
    monkeypatch.setattr(importing.Importer, "_commit_batch", real)
    job = run_job(job)  # what the sweeper or `leadflow import --resume` does
    assert job.state == ImportJob.State.DONE
    assert job.counts == expected
    assert Lead.objects.count() == expected["created"] + expected["screened_out"]
    assert job.issues.values("row").distinct().count() == expected["rejected"]
    assert LeadTouch.objects.count() == expected["duplicates"]


# --- modes and history -------------------------------------------------------------------------


@pytest.mark.django_db
def test_r1_7_update_by_lead_number_and_upsert_by_external_id(support):
    lead = submit(support).lead
    headers = ["线索编号", "备注", "城市"]
    job = run(csv_bytes([[lead.number, "展会上再次沟通", "杭州"], ["G19990101001", "x", ""]],
                        headers), support, mode="update", match_on="number")  # fmt: skip
    assert (job.counts["updated"], job.counts["rejected"]) == (1, 1)
    lead.refresh_from_db()
    assert (lead.notes, lead.city) == ("展会上再次沟通", "杭州")
    assert job.issues.get().code == "not_found"
    audit = AuditEntry.objects.get(model="leads.lead", object_pk=str(lead.pk))
    assert audit.changes["notes"] == ["", "展会上再次沟通"] and audit.by == support

    headers = [*HEADERS, "外部编号"]
    first = run(csv_bytes([[*row(客户名称="温州锦程鞋业有限公司"), "CRM-1"]], headers), support,
                mode="upsert", match_on="external_id")  # fmt: skip
    assert first.counts["created"] == 1
    again = run(csv_bytes([[*row(客户名称="温州锦程鞋业有限公司", 初步需求="需要升级方案报价"), "CRM-1"]], headers), support, mode="upsert",
                match_on="external_id")  # fmt: skip
    assert again.counts["updated"] == 1
    assert Lead.objects.get(external_id="CRM-1").need == "需要升级方案报价"


@pytest.mark.django_db
def test_r1_7_historical_import_lands_as_dated_stage_changes(support):
    rep = make_user("liqiang", Role.REP)
    headers = [*HEADERS, "状态", "负责人", "首次联系时间", "成交时间", "成交金额", "等级"]
    rows = [
        [
            *row(客户名称="成都众诚软件有限公司", 获取时间="2025-03-01"),
            "成交",
            "liqiang",
            "2025-03-02 10:00",
            "2025-04-15",
            "120000",
            "A",
        ],
        [
            *row(客户名称="重庆鼎盛建材有限公司", 获取时间="2025-03-05"),
            "丢单",
            "liqiang",
            "",
            "",
            "",
            "",
        ],
        [*row(客户名称="西安安泰仪器有限公司"), "成交", "nobody", "", "2025-01-01", "", ""],
        [*row(客户名称="兰州正晟能源有限公司"), "成交", "", "", "", "", ""],
    ]
    job = run(csv_bytes(rows, headers), support)
    assert (job.counts["created"], job.counts["rejected"]) == (2, 2), job.counts
    codes = set(job.issues.values_list("code", flat=True))
    assert codes == {"unknown_owner", "won_date_required"}
    won = Lead.objects.get(company_name="成都众诚软件有限公司")
    assert (won.status, won.owner, won.grade, won.won_amount) == (
        Status.WON, rep, "A", Decimal("120000"),
    )  # fmt: skip
    steps = list(won.stage_changes.order_by("at", "pk").values_list("to_status", "at", "evidence"))
    assert [s[0] for s in steps] == ["unassigned", "assigned", "contacting", "qualified",
                                     "evaluating", "won"]  # fmt: skip
    local = [timezone.localtime(s[1]).strftime("%Y-%m-%d %H:%M") for s in steps]
    assert local[0] == "2025-03-01 00:00" and local[2] == "2025-03-02 10:00"
    assert local[-1] == "2025-04-15 00:00"
    assert steps[3][2].get("inferred") and not steps[-1][2].get("inferred")
    lost = Lead.objects.get(company_name="重庆鼎盛建材有限公司")
    assert lost.status == Status.INVALID and lost.invalid_reason


@pytest.mark.django_db
def test_r1_7_missing_historical_owners_can_be_kept_as_inactive_accounts(support):
    headers = [*HEADERS, "负责人", "成交时间"]
    job = run(csv_bytes([[*row(), "4ef15afb4b27", "2025-04-01"]], headers), support,
              create_missing_owners=True)  # fmt: skip
    assert job.counts["created"] == 1
    owner = User.objects.get(display_name="4ef15afb4b27")
    assert not owner.is_active and not owner.has_usable_password()
    assert Lead.objects.get().owner == owner


# --- hostile files --------------------------------------------------------------------------------


def _package(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _xlsx_members() -> dict[str, bytes]:
    return dict(
        (m.filename, zipfile.ZipFile(io.BytesIO(xlsx_bytes([row()]))).read(m.filename))
        for m in zipfile.ZipFile(io.BytesIO(xlsx_bytes([row()]))).infolist()
    )


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("leads.pdf", b"%PDF-1.4 ...", "unsupported_type"),
        ("leads.csv", b"%PDF-1.4 ...", "not_a_table"),
        ("leads.xlsx", "客户名称,联系人\n甲,乙\n".encode(), "wrong_format"),
        ("leads.csv", b"PK\x03\x04" + b"\x00" * 100, "wrong_format"),
        ("leads.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_a_table"),
        ("leads.xlsx", b"PK\x03\x04garbage", "bad_workbook"),
        ("leads.xlsx", _package({"word/document.xml": b"<w/>"}), "wrong_format"),
        ("leads.csv", b"", "empty"),
        ("leads.csv", "客户名称,联系人\n".encode(), "no_rows"),
    ],
)
def test_r1_7_wrong_or_broken_files_are_refused_with_a_reason(name, content, code):
    with pytest.raises(FileRejected) as caught:
        read_table(content, name)
    assert caught.value.code == code
    assert caught.value.message


def test_r1_7_zip_bombs_are_refused():
    members = _xlsx_members()
    members["xl/worksheets/sheet1.xml"] = b"<a>" + b" " * 60_000_000 + b"</a>"
    with pytest.raises(FileRejected) as caught:
        read_table(_package(members), "bomb.xlsx")
    assert caught.value.code == "zip_bomb"


def test_r1_7_xml_entity_tricks_are_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>&lol2;</t></si></sst>"
    )
    members = _xlsx_members()
    members["xl/sharedStrings.xml"] = laughs
    with pytest.raises(FileRejected) as caught:
        read_table(_package(members), "laughs.xlsx")
    assert caught.value.code == "xml_entities"


def test_r1_7_macros_are_ignored_and_values_read():
    members = _xlsx_members()
    members["xl/vbaProject.bin"] = b'\xd0\xcf\x11\xe0 Sub AutoOpen() Shell("calc") End Sub'
    table = read_table(_package(members), "macro.xlsm")
    assert table.headers == HEADERS and len(table.rows) == 1


def test_r1_7_size_and_row_limits(settings):
    settings.IMPORT_MAX_BYTES = 1000
    with pytest.raises(FileRejected) as caught:
        read_table(b"a,b\n" * 1000, "big.csv")
    assert caught.value.code == "too_large"
    settings.IMPORT_MAX_BYTES = 10_000_000
    settings.IMPORT_MAX_ROWS = 10
    with pytest.raises(FileRejected) as caught:
        read_table(b"a,b\n" + b"1,2\n" * 11, "many.csv")
    assert caught.value.code == "too_many_rows"
    assert "10" in caught.value.message


# --- the report and the command line --------------------------------------------------------------


@pytest.mark.django_db
def test_r1_7_error_workbook_lists_every_rejected_row_as_it_was(support):
    rows = [row(), row(客户名称=""), row(获取时间="昨天", 初步需求='=HYPERLINK("http://x")')]
    job = run(csv_bytes(rows), support)
    out = io.BytesIO()
    assert write_error_workbook(job, out) == 2
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue()))
    grid = sheet.get_sheet_by_index(0).to_python()
    assert grid[0][:4] == ["行号", "列", "原因", "客户名称"]
    assert [int(r[0]) for r in grid[1:]] == [3, 4]
    assert grid[1][1] == "客户名称" and "必填" in grid[1][2]
    assert grid[2][1] == "获取时间" and "昨天" in grid[2][2]
    assert grid[2][3 + HEADERS.index("初步需求")] == '=HYPERLINK("http://x")'  # text, not a formula
    raw = zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in raw


@pytest.mark.django_db
def test_r1_7_command_line_import_dry_run_and_report(support, tmp_path, capsys):
    make_user("admin1", Role.ADMIN)
    User.objects.filter(username="admin1").update(is_superuser=True)
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_bytes([row(), row(客户名称="")]))
    call_command("import", str(path), channel="G", dry_run=True)
    assert "created 1" in capsys.readouterr().out
    assert Lead.objects.count() == 0
    report = tmp_path / "rejected.xlsx"
    call_command("import", str(path), channel="G", report=str(report), user="support1")
    out = capsys.readouterr().out
    assert "created 1" in out and "rejected 1" in out and report.exists()
    assert Lead.objects.get().created_by == support
    assert ImportedRow.objects.count() == 1


def test_r1_7_history_steps_follow_the_pipeline():
    lead = Lead(acquired_at=timezone.now() - timedelta(days=9))
    history = importing.History(status=Status.INVALID, first_contact_at=timezone.now())
    steps = importing.history_steps("", lead, history, 1)
    assert [(s[0], s[1]) for s in steps] == [
        ("", "unassigned"), ("unassigned", "assigned"), ("assigned", "contacting"),
        ("contacting", "invalid"),
    ]  # fmt: skip


@pytest.mark.django_db
def test_r1_7_an_interrupted_command_line_import_resumes(support, tmp_path, monkeypatch, capsys):
    from django.core.management.base import CommandError

    monkeypatch.setattr(importing, "BATCH", 2)
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_bytes([row(客户名称=f"无锡第{i}机械有限公司") for i in range(5)]))
    real = importing.Importer._commit_batch
    calls = {"n": 0}

    def interrupted(self, batch, *, done):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # Ctrl-C during the second batch
        return real(self, batch, done=done)

    monkeypatch.setattr(importing.Importer, "_commit_batch", interrupted)
    with pytest.raises(CommandError, match="--resume"):
        call_command("import", str(path), channel="G", user="support1")
    job = ImportJob.objects.get()
    assert (job.state, job.rows_done, Lead.objects.count()) == (ImportJob.State.FAILED, 2, 2)
    monkeypatch.setattr(importing.Importer, "_commit_batch", real)
    call_command("import", resume=job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.counts["created"] == 5
    assert Lead.objects.count() == 5
    assert "Resuming import" in capsys.readouterr().out


@pytest.mark.django_db
def test_r1_5_r1_7_a_typo_apart_name_in_the_database_is_a_duplicate_in_an_import(support):
    existing = submit(support, company_name="宁波恒远精密机械设备有限公司").lead
    closed = submit(support, company_name="宁波恒远精密机械配件有限公司").lead
    Lead.objects.filter(pk=closed.pk).update(status=Status.INVALID)
    rows = [
        row(客户名称="恒远精密机械没备有限公司"),  # one character off an open lead: a repeat
        row(客户名称="恒远精密机械配仵有限公司"),  # one off a closed lead only: a new lead
        row(客户名称="恒远精密机械2号有限公司"),  # differs in a number: never the same
    ]
    job = run(csv_bytes(rows), support)
    assert (job.counts["duplicates"], job.counts["created"]) == (1, 2), job.counts
    touch = LeadTouch.objects.get(source="import")
    assert (touch.lead, touch.matched_on) == (existing, "company")


@pytest.mark.django_db
def test_r1_7_a_history_update_keeps_what_the_file_does_not_say(support):
    rep = make_user("rep3", Role.REP)
    lead = submit(support).lead
    contacted = timezone.now() - timedelta(days=3)
    Lead.objects.filter(pk=lead.pk).update(
        status=Status.CONTACTING, owner=rep, first_contact_at=contacted, grade="B"
    )
    headers = ["线索编号", "成交时间", "成交金额"]
    job = run(csv_bytes([[lead.number, "2026-11-01", "88000"]], headers), support,
              mode="update", match_on="number")  # fmt: skip
    assert job.counts["updated"] == 1, list(job.issues.values("message"))
    lead.refresh_from_db()
    assert (lead.status, lead.owner, lead.grade) == (Status.WON, rep, "B")
    assert lead.first_contact_at == contacted and lead.won_amount == Decimal("88000")
    moves = list(lead.stage_changes.order_by("pk").values_list("from_status", "to_status"))
    assert moves[-1] == ("evaluating", "won") and ("contacting", "qualified") in moves


@pytest.mark.django_db
def test_r1_7_the_sweeper_queues_a_stalled_import_again_once(support):
    from django_tasks_db.models import DBTaskResult

    from leadflow.intake.tasks import STALLED_AFTER, resume_stalled_imports

    job = create_job(
        content=csv_bytes([row()]), file_name="a.csv", channel=Channel.objects.get(code="G"),
        by=support, now=timezone.now(),
    )  # fmt: skip
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.RUNNING, heartbeat_at=now - STALLED_AFTER - timedelta(seconds=1)
    )
    assert resume_stalled_imports(now) == 1
    assert resume_stalled_imports(now) == 0  # claimed: a second sweeper does nothing
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("run_import") and task.args_kwargs["args"] == [job.pk]
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.DONE)
    assert resume_stalled_imports(now + STALLED_AFTER * 2) == 0


@pytest.mark.django_db
def test_r3_1_leads_imported_as_being_worked_get_their_follow_up_clock_from_now(support):
    from leadflow.followups.models import Clock

    make_user("liqiang", Role.REP)
    headers = [*HEADERS, "状态", "负责人", "首次联系时间", "等级"]
    rows = [
        [*row(客户名称="成都众诚软件有限公司", 获取时间="2025-03-01"), "需求明确", "liqiang",
         "2025-03-02 10:00", "B"],
        [*row(客户名称="重庆鼎盛建材有限公司", 获取时间="2025-03-05"), "初步接触", "liqiang", "", "A"],
    ]  # fmt: skip
    before = timezone.now()
    job = run(csv_bytes(rows, headers), support)
    assert job.counts["created"] == 2, list(job.issues.values("message"))
    worked = Lead.objects.get(company_name="成都众诚软件有限公司")
    fresh = Lead.objects.get(company_name="重庆鼎盛建材有限公司")
    # the rhythm starts at the import, not from a contact in 2025
    assert worked.next_followup_due > before
    assert Clock.objects.get(lead=worked, task=None).kind == "followup"
    assert fresh.first_contact_due > before
    assert Clock.objects.get(lead=fresh, task=None).kind == "first_contact"
