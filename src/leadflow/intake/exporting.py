"""Exports of lead lists (R4.7, R5.1) to .xlsx and .csv.

- Only what `visible_leads` gives, through the one presenter: masked where the UI masks.
- Cells that a spreadsheet would run as a formula (= + - @, tab, carriage return) get a
  leading apostrophe; plain numbers (+86 138…, -500) stay as they are.
- Every export is logged: who, when, the filter, the format and the row count.
- Large exports stream: CSV row by row; .xlsx is written in constant memory to a temporary
  file and then streamed.
"""

import csv
import re
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.leads.models import Lead
from leadflow.leads.presenters import LeadView, present_lead
from leadflow.leads.queries import LeadFilter, filter_leads, visible_leads

from .models import ExportLog

XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, below the header
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d\s.,-]*")

COLUMNS: list[tuple[str, str]] = [
    ("number", "线索编号"),
    ("status_label", "状态"),
    ("channel_name", "来源渠道"),
    ("company_name", "客户名称"),
    ("contact_name", "联系人"),
    ("phone_e164", "手机"),
    ("email", "邮箱"),
    ("wechat", "微信"),
    ("industry", "行业"),
    ("province", "省份"),
    ("city", "城市"),
    ("region", "大区"),
    ("customer_type", "客户类型"),
    ("grade", "等级"),
    ("grade_reason", "定级依据"),
    ("need", "初步需求"),
    ("acquired_at", "获取时间"),
    ("owner", "负责人"),
    ("budget_min", "预算下限"),
    ("budget_max", "预算上限"),
    ("purchase_by", "采购时间节点"),
    ("won_amount", "成交金额"),
    ("won_at", "成交时间"),
    ("invalid_reason", "无效原因"),
    ("created_by", "录入人"),
    ("created_at", "录入时间"),
]


def neutralise(value: str) -> str:
    """'=HYPERLINK(…)' → "'=HYPERLINK(…)"; '+8613800138000' stays (a number, not a formula)."""
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return neutralise(str(value))


def headers() -> list[str]:
    return [_(label) for _name, label in COLUMNS]


def row_of(view: LeadView) -> list[str]:
    return [cell(getattr(view, name)) for name, _label in COLUMNS]


def leads_for_export(user, f: LeadFilter) -> QuerySet[Lead]:
    return filter_leads(visible_leads(user), f).select_related(
        "channel", "channel__parent", "industry", "province", "owner", "team", "created_by",
        "duplicate_of",
    )  # fmt: skip


def _rows(user, leads: QuerySet[Lead], log: ExportLog, limit: int | None = None) -> Iterator:
    count = 0
    try:
        for lead in leads.iterator(chunk_size=2000):
            if limit is not None and count >= limit:
                break
            count += 1
            yield row_of(present_lead(lead, user))
    finally:
        ExportLog.objects.filter(pk=log.pk).update(rows=count)


def _log(user, f: LeadFilter, file_format: str) -> ExportLog:
    return ExportLog.objects.create(
        by=user, at=timezone.now(), kind="leads", file_format=file_format, filters=f.as_dict()
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(user, f: LeadFilter) -> StreamingHttpResponse:
    """UTF-8 with a BOM, which Excel on Chinese Windows opens without garbling."""
    log = _log(user, f, "csv")
    writer = csv.writer(_Echo())

    def stream() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(headers())
        for values in _rows(user, leads_for_export(user, f), log):
            yield writer.writerow(values)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _disposition("csv")
    return response


def export_xlsx(user, f: LeadFilter) -> FileResponse:
    log = _log(user, f, "xlsx")
    out = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it when sent
    book = xlsxwriter.Workbook(
        out, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = book.add_worksheet(_("线索"))
    bold = book.add_format({"bold": True, "bg_color": "#F2F2F2"})
    sheet.write_row(0, 0, headers(), bold)
    sheet.freeze_panes(1, 1)
    for r, values in enumerate(
        _rows(user, leads_for_export(user, f), log, limit=XLSX_MAX_ROWS), start=1
    ):
        for c, value in enumerate(values):
            sheet.write_string(r, c, value)
    book.close()
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=_filename("xlsx"))


def _filename(extension: str) -> str:
    return f"{_('线索')}-{timezone.localtime():%Y%m%d-%H%M}.{extension}"


def _disposition(extension: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(as_attachment=True, filename=_filename(extension))
