"""The weekly review as an Excel workbook (R4.7): one sheet per part of the report, each
table with a native Excel chart beside it (xlsxwriter), so the manager can bring it to the
meeting, filter it and reuse the charts. Text cells are written as strings, never formulas:
a customer's name that begins with "=" stays a name."""

import io
from decimal import Decimal

import xlsxwriter
from django.utils.translation import gettext as _

from .weekly import WeeklyReport


def workbook(r: WeeklyReport) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    f = _Formats(book)
    _summary(book, f, r)
    _funnel(book, f, r)
    _moved(book, f, r)
    _channels(book, f, r)
    _activity(book, f, r)
    _discipline(book, f, r)
    _misses(book, f, r)
    _losses(book, f, r)
    _trend(book, f, r)
    book.close()
    return out.getvalue()


class _Formats:
    def __init__(self, book):
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.head = book.add_format({"bold": True, "bg_color": "#DDE7F0", "border": 1})
        self.cell = book.add_format({"border": 1})
        self.pct = book.add_format({"border": 1, "num_format": "0.0%"})
        self.money = book.add_format({"border": 1, "num_format": "#,##0.00"})
        self.num = book.add_format({"border": 1, "num_format": "0.0"})


def _table(sheet, f, top: int, headers: list[str], rows: list[list], formats=None) -> int:
    """Headers at row `top`, then the rows; returns the last row written."""
    for col, text in enumerate(headers):
        sheet.write_string(top, col, str(text), f.head)
    for i, row in enumerate(rows, start=top + 1):
        for col, value in enumerate(row):
            fmt = (formats or {}).get(col, f.cell)
            if value is None:
                sheet.write_blank(i, col, None, fmt)
            elif isinstance(value, bool):
                sheet.write_boolean(i, col, value, fmt)
            elif isinstance(value, (int, float, Decimal)):
                sheet.write_number(i, col, float(value), fmt)
            else:
                sheet.write_string(i, col, str(value), fmt)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, max(len(headers) - 1, 1), 12)
    return top + len(rows)


def _chart(book, sheet, kind: str, name: str, series: list[tuple], at: str, subtype=None):
    """A native chart: `series` as (title, sheet row/col ranges) over the table."""
    chart = book.add_chart({"type": kind, **({"subtype": subtype} if subtype else {})})
    for title, categories, values in series:
        chart.add_series({"name": title, "categories": categories, "values": values})
    chart.set_title({"name": name})
    chart.set_size({"width": 620, "height": 320})
    sheet.insert_chart(at, chart)
    return chart


def _heading(sheet, f, r: WeeklyReport, title: str) -> None:
    end = r.week.fromordinal(r.week.toordinal() + 6)
    sheet.write_string(
        0, 0, f"{r.team.name} · {title} · {r.week:%Y-%m-%d} — {end:%Y-%m-%d}", f.title
    )


def _summary(book, f, r):
    sheet = book.add_worksheet(_("概览"))
    _heading(sheet, f, r, _("周复盘"))
    rows = [[label, value] for label, value in r.summary]
    _table(sheet, f, 2, [_("指标"), _("数值")], rows, {1: f.cell})
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 16)


def _funnel(book, f, r):
    sheet = book.add_worksheet(_("漏斗"))
    _heading(sheet, f, r, _("本周新线索的转化漏斗"))
    rows = [
        [s.label, s.reached, s.conversion, s.invalid, s.stalled, s.open, s.won]
        for s in r.funnel.steps
    ]
    last = _table(
        sheet, f, 2,
        [_("阶段"), _("到达"), _("转化率"), _("无效"), _("退回公海"), _("仍在跟进"), _("成交")],
        rows, {2: f.pct},
    )  # fmt: skip
    name = sheet.name
    _chart(
        book, sheet, "bar", _("到达各阶段的线索"),
        [(_("到达"), [name, 3, 0, last, 0], [name, 3, 1, last, 1])], "I3",
    ).set_y_axis({"reverse": True})  # fmt: skip
    _chart(
        book, sheet, "column", _("各阶段的去向"),
        [
            (title, [name, 3, 0, last, 0], [name, 3, col, last, col])
            for col, title in ((3, _("无效")), (4, _("退回公海")), (5, _("仍在跟进")), (6, _("成交")))
        ],
        "I21", subtype="stacked",
    )  # fmt: skip


def _moved(book, f, r):
    sheet = book.add_worksheet(_("本周推进"))
    _heading(sheet, f, r, _("本周进入各阶段的线索"))
    last = _table(sheet, f, 2, [_("阶段"), _("线索")], [[k, n] for k, n in r.moved])
    name = sheet.name
    _chart(
        book, sheet, "column", _("本周推进"),
        [(_("线索"), [name, 3, 0, last, 0], [name, 3, 1, last, 1])], "E3",
    )  # fmt: skip


def _channels(book, f, r):
    sheet = book.add_worksheet(_("渠道"))
    _heading(sheet, f, r, _("本周新线索的渠道质量"))
    rows = [
        [c.name, c.leads, c.valid_rate, c.won, c.conversion, c.won_amount, c.cost,
         c.cost_per_lead, c.cost_per_won, c.roi]
        for c in r.channels
    ]  # fmt: skip
    last = _table(
        sheet, f, 2,
        [_("渠道"), _("线索"), _("有效率"), _("成交"), _("转化率"), _("成交金额"), _("投入"),
         _("单条线索成本"), _("单笔成交成本"), "ROI"],
        rows, {2: f.pct, 4: f.pct, 5: f.money, 6: f.money, 7: f.money, 8: f.money, 9: f.pct},
    )  # fmt: skip
    if rows:
        name = sheet.name
        _chart(
            book, sheet, "column", _("渠道：线索与成交"),
            [(_("线索"), [name, 3, 0, last, 0], [name, 3, 1, last, 1]),
             (_("成交"), [name, 3, 0, last, 0], [name, 3, 3, last, 3])],
            f"A{last + 4}",
        )  # fmt: skip


def _activity(book, f, r):
    sheet = book.add_worksheet(_("销售"))
    _heading(sheet, f, r, _("本周每位销售做了什么"))
    rows = [
        [str(a.rep), a.offered, a.accepted, a.declined, a.first_contacts, a.followups, a.won,
         a.won_amount]
        for a in r.activity
    ]  # fmt: skip
    accuracy = {rep.pk: (n, ok) for rep, n, ok in r.accuracy}
    for row, a in zip(rows, r.activity, strict=True):
        n, ok = accuracy.get(a.rep.pk, (0, 0))
        row += [n, ok / n if n else None]
    last = _table(
        sheet, f, 2,
        [_("销售"), _("分配"), _("接受"), _("拒绝"), _("首次联系"), _("跟进记录"), _("成交"),
         _("成交金额"), _("评审定级"), _("定级准确率")],
        rows, {7: f.money, 9: f.pct},
    )  # fmt: skip
    if rows:
        name = sheet.name
        _chart(
            book, sheet, "column", _("跟进与成交"),
            [(_("跟进记录"), [name, 3, 0, last, 0], [name, 3, 5, last, 5]),
             (_("成交"), [name, 3, 0, last, 0], [name, 3, 6, last, 6])],
            f"A{last + 4}",
        )  # fmt: skip


def _discipline(book, f, r):
    sheet = book.add_worksheet(_("跟进纪律"))
    _heading(sheet, f, r, _("本周的时限与节奏"))
    rules = (_("首次联系按时"), _("节奏保持"), _("1 小时内记录"), _("24 小时内确认"))
    headers = [_("销售")]
    for rule in rules:
        headers += [f"{rule} · {_('按时')}", f"{rule} · {_('迟')}", f"{rule} · {_('漏')}", rule]
    headers.append(_("当前逾期"))
    rows = []
    every = [*r.discipline, *([r.team_discipline] if r.team_discipline else [])]
    for i, d in enumerate(every):
        who = str(d.rep) if i < len(r.discipline) else _("团队合计")
        row = [who]
        for k in (d.first_contact, d.cadence, d.records, d.confirmations):
            row += [k.on_time, k.late, k.missed, k.rate]
        rows.append([*row, d.overdue_now])
    last = _table(sheet, f, 2, headers, rows, {4: f.pct, 8: f.pct, 12: f.pct, 16: f.pct})
    if r.discipline:
        name = sheet.name
        _chart(
            book, sheet, "bar", _("按时率"),
            [(rule, [name, 3, 0, last, 0], [name, 3, 4 * i + 4, last, 4 * i + 4])
             for i, rule in enumerate(rules)],
            f"A{last + 4}",
        ).set_x_axis({"num_format": "0%", "max": 1})  # fmt: skip


def _misses(book, f, r):
    sheet = book.add_worksheet(_("错过时限"))
    _heading(sheet, f, r, _("错过跟进时限（销售 × 日）"))
    grid = {(c["value"][1], c["value"][0]): c["value"][2] for c in r.misses["cells"]}
    rows = [
        [rep] + [grid.get((y, x), 0) for x in range(len(r.misses["days"]))]
        for y, rep in enumerate(r.misses["reps"])
    ]
    last = _table(sheet, f, 2, [_("销售"), *r.misses["days"]], rows)
    if rows:  # Excel's own colour scale: the heat map
        sheet.conditional_format(
            3, 1, last, len(r.misses["days"]),
            {"type": "3_color_scale", "min_color": "#FFFFFF", "mid_color": "#F5B041",
             "max_color": "#C0392B"},
        )  # fmt: skip


def _losses(book, f, r):
    sheet = book.add_worksheet(_("流失原因"))
    _heading(sheet, f, r, _("本周转为无效的原因与提到的竞争对手"))
    last = _table(sheet, f, 2, [_("无效原因"), _("线索")], [list(x) for x in r.losses.reasons])
    if r.losses.reasons:
        name = sheet.name
        _chart(
            book, sheet, "pie", _("无效原因"),
            [(_("线索"), [name, 3, 0, last, 0], [name, 3, 1, last, 1])], "E3",
        )  # fmt: skip
    _table(sheet, f, last + 3, [_("竞争对手"), _("线索")], [list(x) for x in r.losses.competitors])


def _trend(book, f, r):
    sheet = book.add_worksheet(_("近8周"))
    _heading(sheet, f, r, _("近 8 周的新增与成交"))
    rows = [[w.isoformat(), new, won] for w, new, won in r.trend]
    last = _table(sheet, f, 2, [_("周（周一）"), _("新增线索"), _("成交")], rows)
    name = sheet.name
    _chart(
        book, sheet, "line", _("近 8 周"),
        [(_("新增线索"), [name, 3, 0, last, 0], [name, 3, 1, last, 1]),
         (_("成交"), [name, 3, 0, last, 0], [name, 3, 2, last, 2])],
        "E3",
    )  # fmt: skip
