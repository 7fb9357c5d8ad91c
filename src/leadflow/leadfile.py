"""Sample lead files, as a Chinese sales team's spreadsheet would hold them: for trying the
import (`leadflow samplefile`), for the tests and for bench/import.py.

A share of the rows is bad in one known way each (`BAD_KINDS`, with the field and the code
the importer must report), a share repeats leads already in the database, and the rest are
good. Deterministic for a seed.
"""

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import xlsxwriter

from .demo import BRAND_CHARS, CITIES, GIVEN, MOBILE_PREFIXES, NEEDS, SUFFIXES, SURNAMES, TRADES

HEADERS = [
    "客户名称",
    "联系人",
    "手机",
    "邮箱",
    "行业",
    "初步需求",
    "获取时间",
    "省份",
    "预算",
    "备注",
]
INDUSTRIES = ["互联网", "制造业", "金融", "教育", "医疗健康", "零售业", "物流", "能源"]
PROVINCES = ["北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "山东", "", ""]

# kind → (column spoiled, field reported, code reported)
BAD_KINDS: dict[str, tuple[str, str]] = {
    "no_company": ("company_name", "required"),
    "no_contact": ("phone", "contact_required"),
    "not_a_phone": ("phone", "not_a_phone"),
    "unknown_industry": ("industry", "unknown_industry"),
    "bad_date": ("acquired_at", "bad_datetime"),
    "future_date": ("acquired_at", "in_future"),
    "too_long": ("company_name", "too_long"),
    "bad_budget": ("budget_min", "bad_number"),
    "nul": ("need", "nul"),
}


@dataclass
class LeadFile:
    headers: list[str]
    rows: list[list[Any]]
    bad: dict[int, str] = field(default_factory=dict)  # file row number → bad kind
    repeats: set[int] = field(default_factory=set)  # file row numbers repeating a known lead


def build(
    rows: int,
    *,
    now: datetime,
    bad_share: float = 0.1,
    repeat_share: float = 0.0,
    known_phones: Sequence[str] = (),
    seed: int = 7,
) -> LeadFile:
    rng = random.Random(seed)
    result = LeadFile(headers=list(HEADERS), rows=[])
    used_phones: set[str] = set(known_phones)
    kinds = list(BAD_KINDS)
    for i in range(rows):
        number = i + 2  # the header is row 1
        industry = rng.choice(INDUSTRIES)
        phone = _phone(rng, used_phones)
        row = [
            _company(rng, industry),
            rng.choice(SURNAMES) + rng.choice(GIVEN),
            _written_phone(rng, phone),
            f"{phone[-6:]}{rng.choice(['@qq.com', '@163.com', ''])}" if rng.random() < 0.3 else "",
            industry,
            rng.choice(NEEDS),
            _written_day(rng, now - timedelta(days=rng.randrange(1, 180))),
            rng.choice(PROVINCES),
            _budget(rng),
            rng.choice(["", "", "展会名片", "老客户介绍", "-", "无"]),
        ]
        if row[3] and "@" not in row[3]:
            row[3] = ""
        draw = rng.random()
        if draw < bad_share:
            kind = kinds[i % len(kinds)]
            _spoil(row, kind, now)
            result.bad[number] = kind
        elif draw < bad_share + repeat_share and known_phones:
            row[2] = rng.choice(known_phones)
            result.repeats.add(number)
        result.rows.append(row)
    return result


def _company(rng: random.Random, industry: str) -> str:
    trade = rng.choice(TRADES.get(industry, ["科技"]))
    brand = "".join(rng.sample(BRAND_CHARS, 3))
    return f"{rng.choice(CITIES)}{brand}{trade}{rng.choice(SUFFIXES)}"


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        digits = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if len(set(digits[3:])) >= 5 and digits not in used:
            used.add(digits)
            return digits


def _written_phone(rng: random.Random, digits: str) -> str:
    style = rng.random()
    if style < 0.6:
        return digits
    if style < 0.8:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style < 0.9:
        return f"+86-{digits}"
    return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _written_day(rng: random.Random, moment: datetime) -> str:
    formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%d-%m-%Y", "%Y-%m-%d %H:%M"]
    return moment.strftime(rng.choice(formats))


def _budget(rng: random.Random) -> str:
    return rng.choice(["", "", "", "50000", "120000", "300000", "800000"])


def _spoil(row: list[Any], kind: str, now: datetime) -> None:
    if kind == "no_company":
        row[0] = ""
    elif kind == "no_contact":
        row[2] = row[3] = ""
    elif kind == "not_a_phone":
        row[2] = "请联系前台"
    elif kind == "unknown_industry":
        row[4] = "星际旅行"
    elif kind == "bad_date":
        row[6] = "2023-13-45"
    elif kind == "future_date":
        row[6] = (now + timedelta(days=30)).strftime("%Y-%m-%d")
    elif kind == "too_long":
        row[0] = "长" * 300
    elif kind == "bad_budget":
        row[8] = "-500"
    elif kind == "nul":
        row[5] = "需要\x00报价"


def write_xlsx(lead_file: LeadFile, path: str) -> None:
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("线索")
    sheet.write_row(0, 0, lead_file.headers)
    for r, row in enumerate(lead_file.rows, start=1):
        for c, value in enumerate(row):
            if value != "":
                sheet.write_string(r, c, str(value))
    book.close()


def write_csv(lead_file: LeadFile, path: str, encoding: str = "utf-8-sig") -> None:
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(lead_file.headers)
        writer.writerows(lead_file.rows)
