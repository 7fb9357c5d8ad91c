"""The error workbook of an import (R1.7): every rejected row as it was in the file, with its
row number, the column(s) at fault and the reason(s), ready to fix and import again."""

from itertools import groupby
from typing import BinaryIO

import xlsxwriter
from django.utils.translation import gettext as _

from .models import ImportJob


def write_error_workbook(job: ImportJob, out: BinaryIO) -> int:
    """Write the workbook to `out`; return how many rows it lists. Cells are written as
    text, never as formulas, whatever they begin with."""
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(_("被拒绝的行")[:31])
    bold = book.add_format({"bold": True, "bg_color": "#F2F2F2"})
    header = [_("行号"), _("列"), _("原因"), *job.headers]
    sheet.write_row(0, 0, header, bold)
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 14)
    sheet.set_column(2, 2, 40)
    sheet.set_column(3, 2 + len(job.headers), 16)
    issues = job.issues.order_by("row", "pk").values_list("row", "column", "message", "cells")
    count = 0
    for row_number, group in groupby(issues.iterator(chunk_size=2000), key=lambda i: i[0]):
        group = list(group)
        columns = "、".join(dict.fromkeys(c for _r, c, _m, _cells in group if c))
        reasons = "；".join(dict.fromkeys(m for _r, _c, m, _cells in group))
        count += 1
        sheet.write_number(count, 0, row_number)
        sheet.write_string(count, 1, columns)
        sheet.write_string(count, 2, reasons)
        for i, cell in enumerate(group[0][3]):
            sheet.write_string(count, 3 + i, str(cell))
    sheet.freeze_panes(1, 3)
    book.close()
    return count
