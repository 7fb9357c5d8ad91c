"""Reading lead files (R1.7): .xlsx / .xls through python-calamine, .csv in any encoding a
Chinese office produces. Hostile files are refused with a reason, never a crash.

What is checked before a cell is read:
- the size (IMPORT_MAX_BYTES) and, after reading, the row count (IMPORT_MAX_ROWS);
- the content, not the name: a workbook must be a real OOXML zip or an OLE2 .xls, a CSV must be
  text; a name that promises one and holds the other is refused;
- zip bombs: the declared uncompressed size and the compression ratio of every member;
- XML tricks: the package's own XML is parsed with defusedxml (no DTDs, no entities), and no
  member may declare a DTD or an entity;
- macros are never run (calamine reads values only) and formulas give their last saved value.
"""

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_xml
from django.conf import settings
from django.utils.translation import gettext as _

MAX_COLUMNS = 200
MAX_CELL = 32_767  # Excel's own limit for one cell
ZIP_MAX_RATIO = 200
ZIP_MAX_TOTAL = 1_000_000_000
XLSX_REQUIRED = ("[Content_Types].xml", "xl/workbook.xml")
SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".csv": "csv", ".txt": "csv"}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)

# Cells that mean "nothing here" in exported spreadsheets and CRM dumps.
PLACEHOLDERS = frozenset(
    {"select", "-", "--", "—", "——", "/", "无", "暂无", "空", "n/a", "na", "null", "none", "nil"}
)


class FileRejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Table:
    file_format: str  # "xlsx" | "xls" | "csv"
    sheet: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the user sees it, cells)


def read_table(content: bytes, file_name: str) -> Table:
    """Read the first sheet (or the CSV): the first non-empty row is the header."""
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise FileRejected(
            "too_large",
            _("文件过大：最大 %(mb)s MB") % {"mb": settings.IMPORT_MAX_BYTES // 1_000_000},
        )
    if not content.strip():
        raise FileRejected("empty", _("文件是空的"))
    claimed = _claimed_format(file_name)
    actual = sniff(content)
    if claimed != actual and not (claimed == "xls" and actual == "xlsx"):
        raise FileRejected(
            "wrong_format",
            _("文件内容与扩展名不符：%(name)s 不是有效的 %(kind)s 文件")
            % {"name": file_name, "kind": claimed.upper()},
        )
    if actual == "csv":
        sheet, grid = "", _read_csv(content)
    else:
        if actual == "xlsx":
            _check_package(content)
        sheet, grid = _read_workbook(content)
    return _table(actual, sheet, grid)


def sniff(content: bytes) -> str:
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.startswith(_OLE2):
        return "xls"
    head = content[:8192]
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if head.startswith(_BINARY_MAGIC) or (not utf16 and head.count(b"\x00") > len(head) // 100):
        raise FileRejected("not_a_table", _("无法识别的文件：请上传 .xlsx、.xls 或 .csv"))
    return "csv"


def _claimed_format(file_name: str) -> str:
    lowered = file_name.lower()
    for suffix, kind in SUFFIXES.items():
        if lowered.endswith(suffix):
            return kind
    raise FileRejected(
        "unsupported_type",
        _("不支持的文件类型：%(name)s（请上传 .xlsx、.xls 或 .csv）") % {"name": file_name},
    )


def _check_package(content: bytes) -> None:
    """A real OOXML workbook, no zip bomb, no DTD or entity anywhere."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileRejected("bad_workbook", _("Excel 文件已损坏，无法读取")) from exc
    names = {m.filename for m in members}
    if not all(name in names for name in XLSX_REQUIRED):
        raise FileRejected("wrong_format", _("这个压缩文件不是 Excel 工作簿（.xlsx）"))
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > ZIP_MAX_TOTAL or (member.file_size > 1_000_000 and ratio > ZIP_MAX_RATIO):
            raise FileRejected("zip_bomb", _("Excel 文件解压后过大，疑似压缩炸弹，已拒绝"))
    try:
        for member in members:
            if not member.filename.endswith((".xml", ".rels", ".vml")):
                continue
            with archive.open(member) as stream:
                head = stream.read(4096)
            if _DTD.search(head):
                raise FileRejected("xml_entities", _("Excel 文件含有 DTD 或实体声明，已拒绝"))
        for name in XLSX_REQUIRED:
            safe_xml(archive.read(name))
    except (DefusedXmlException, zipfile.BadZipFile, SyntaxError, RuntimeError) as exc:
        raise FileRejected("bad_workbook", _("Excel 文件已损坏，无法读取")) from exc


def _read_workbook(content: bytes) -> tuple[str, list[list[Any]]]:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not book.sheet_names:
            raise FileRejected("empty", _("工作簿中没有工作表"))
        sheet = book.get_sheet_by_index(0)
        if sheet.height > settings.IMPORT_MAX_ROWS + 50:
            raise _too_many_rows()
        return sheet.name, sheet.to_python(skip_empty_area=False)
    except python_calamine.PasswordError as exc:
        raise FileRejected("encrypted", _("文件有密码保护，请去掉密码后再上传")) from exc
    except (python_calamine.CalamineError, ValueError, OverflowError) as exc:
        raise FileRejected("bad_workbook", _("Excel 文件已损坏，无法读取")) from exc


def decode_text(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030 — detected, not asked."""
    if content.startswith(codecs.BOM_UTF8):
        return content[3:].decode("utf-8", errors="replace")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16", errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileRejected(
            "bad_encoding", _("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV")
        ) from exc


def _read_csv(content: bytes) -> list[list[Any]]:
    text = decode_text(content)
    sample = text[:16384]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL * 4)
    try:
        rows = []
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > settings.IMPORT_MAX_ROWS + 50:
                raise _too_many_rows()
        return rows
    except csv.Error as exc:
        raise FileRejected("bad_csv", _("CSV 格式错误：%(error)s") % {"error": exc}) from exc
    finally:
        csv.field_size_limit(limit)


def _too_many_rows() -> FileRejected:
    return FileRejected(
        "too_many_rows",
        _("行数过多：一次最多导入 %(rows)s 行，请拆分文件") % {"rows": settings.IMPORT_MAX_ROWS},
    )


def _table(file_format: str, sheet: str, grid: list[list[Any]]) -> Table:
    start = next((i for i, row in enumerate(grid) if any(_filled(c) for c in row)), None)
    if start is None:
        raise FileRejected("empty", _("文件中没有数据"))
    headers = [header_text(c) for c in grid[start]]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise FileRejected("too_many_columns", _("列数过多：最多 %(n)s 列") % {"n": MAX_COLUMNS})
    if not any(headers):
        raise FileRejected("no_header", _("第一行应是表头（列名）"))
    width = len(headers)
    rows = [
        (number, list(row[:width]) + [None] * (width - len(row)))
        for number, row in enumerate(grid[start + 1 :], start=start + 2)
        if any(_filled(c) for c in row[:width])
    ]
    if not rows:
        raise FileRejected("no_rows", _("表头下面没有数据行"))
    if len(rows) > settings.IMPORT_MAX_ROWS:
        raise _too_many_rows()
    return Table(file_format, sheet, headers, rows)


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def header_text(cell: Any) -> str:
    return " ".join(str(cell).split()) if cell is not None else ""


def cell_text(cell: Any) -> str | None:
    """A cell as text: whole floats without '.0' (phone numbers read as numbers), dates in
    ISO form, placeholders (Select, -, 无, N/A, 空 …) as nothing."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, float):
        if cell != cell or cell in (float("inf"), float("-inf")):
            return None
        text = str(int(cell)) if cell.is_integer() and abs(cell) < 1e16 else repr(cell)
    elif isinstance(cell, datetime | date | time):
        text = cell.isoformat(sep=" ") if isinstance(cell, datetime) else cell.isoformat()
    elif isinstance(cell, timedelta):
        text = str(cell)
    else:
        text = str(cell)[:MAX_CELL].strip()
    if not text or text.lower() in PLACEHOLDERS:
        return None
    return text
