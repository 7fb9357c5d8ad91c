"""Turning a submitted lead (form, API or import row) into clean values, or field errors.

Every door calls `clean_submission`, so the rules are the same everywhere: required fields
(R1.2), lengths, NUL bytes, dates, known channel and industry, and normalisation (R1.3).
Structural problems are errors (the request is refused, nothing is written); doubtful
content — a fake number, a bad email — is for screening, which keeps the lead.
"""

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from leadflow.leads import catalog
from leadflow.leads.models import Channel, CustomerType, Industry, Province

from .normalize import (
    InvalidEmail,
    NotAPhoneNumber,
    Phone,
    fold_text,
    has_nul,
    normalize_email,
    parse_phone,
    parse_written_datetime,
    province_name,
)

TEXT_LIMITS = {
    "company_name": 200,
    "contact_name": 60,
    "phone": 40,
    "email": 254,
    "wechat": 60,
    "need": 2000,
    "city": 40,
    "current_supplier": 120,
    "notes": 2000,
    "business_model": 200,
    "decision_maker_role": 60,
    "concerns": 200,
    "personality": 60,
    "consent_source": 200,
    "channel": 60,
    "industry": 40,
    "province": 20,
    "customer_type": 20,
}
MULTILINE = {"need", "notes"}
CUSTOMER_TYPES = frozenset(CustomerType.values)
REQUIRED = ("channel", "company_name", "contact_name", "industry", "need")

MESSAGES = {
    "required": _("必填项"),
    "contact_required": _("手机和邮箱至少填写一项"),
    "too_long": _("过长：最多 %(limit)s 个字符"),
    "nul": _("含有非法的空字符(NUL)"),
    "not_text": _("应为文本"),
    "unknown_channel": _("未知的渠道代码：%(value)s"),
    "inactive_channel": _("渠道已停用：%(value)s"),
    "unknown_industry": _("未知的行业：%(value)s"),
    "unknown_province": _("未知的省份：%(value)s"),
    "unknown_customer_type": _("未知的客户类型：%(value)s"),
    "bad_datetime": _("无法识别的时间：%(value)s（示例：2023-10-28 14:30）"),
    "bad_date": _("无法识别的日期：%(value)s（示例：2023-10-28）"),
    "in_future": _("时间不能晚于现在"),
    "too_old": _("时间早于 2000 年，请检查"),
    "bad_number": _("应为不小于 0 的数字：%(value)s"),
    "budget_order": _("预算下限不能大于上限"),
    "not_a_phone": _("不是电话号码：%(value)s"),
}


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


class IntakeError(Exception):
    """One or more field errors; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def field_error(name: str, code: str, **params: Any) -> FieldError:
    return FieldError(name, code, str(MESSAGES[code] % params) if params else str(MESSAGES[code]))


@dataclass
class Submission:
    channel: Channel
    industry: Industry
    company_name: str
    contact_name: str
    need: str
    acquired_at: datetime
    phone_raw: str = ""
    phone: Phone | None = None
    email_raw: str = ""
    email: str = ""  # normalised; "" when missing or invalid
    province: Province | None = None
    customer_type: str = CustomerType.ENTERPRISE
    optional: dict[str, Any] = field(default_factory=dict)


def clean_submission(
    data: dict[str, Any], *, now: datetime, require_contact: bool = True
) -> Submission:
    """`require_contact=False` only for imported history whose contact details were removed
    (anonymised records): every other rule still applies."""
    errors: list[FieldError] = []
    text = _clean_texts(data, errors)
    for name in REQUIRED:
        if not text.get(name) and not any(e.field == name for e in errors):
            errors.append(field_error(name, "required"))
    no_contact = not text.get("phone") and not text.get("email")
    if require_contact and no_contact and not any(e.field in ("phone", "email") for e in errors):
        errors.append(field_error("phone", "contact_required"))

    channel = _lookup_channel(text.get("channel", ""), errors)
    industry = _lookup_industry(text.get("industry", ""), errors)
    province = _lookup_province(text.get("province", ""), errors)
    customer_type = text.get("customer_type") or CustomerType.ENTERPRISE
    if customer_type not in CUSTOMER_TYPES:
        errors.append(field_error("customer_type", "unknown_customer_type", value=customer_type))

    phone = None
    if text.get("phone"):
        try:
            phone = parse_phone(text["phone"])
        except NotAPhoneNumber:
            errors.append(field_error("phone", "not_a_phone", value=text["phone"]))
    email = ""
    if text.get("email"):
        try:
            email = normalize_email(text["email"])
        except InvalidEmail:
            email = ""  # screening reports it and keeps the lead

    acquired_at = clean_datetime(data.get("acquired_at"), "acquired_at", now, errors) or now
    optional = {
        "consent_at": clean_datetime(data.get("consent_at"), "consent_at", now, errors),
        "purchase_by": clean_date(data.get("purchase_by"), "purchase_by", errors),
        **{k: clean_number(data.get(k), k, errors) for k in ("employees", "annual_revenue")},
        **{k: clean_number(data.get(k), k, errors) for k in ("budget_min", "budget_max")},
    }
    lo, hi = optional["budget_min"], optional["budget_max"]
    if lo is not None and hi is not None and lo > hi:
        errors.append(field_error("budget_min", "budget_order"))
    if errors:
        raise IntakeError(errors)
    if optional["employees"] is not None:
        optional["employees"] = int(optional["employees"])
    for name in ("wechat", "city", "current_supplier", "notes", "business_model"):
        optional[name] = text.get(name, "")
    for name in ("decision_maker_role", "concerns", "personality", "consent_source"):
        optional[name] = text.get(name, "")
    return Submission(
        channel=channel,
        industry=industry,
        company_name=text["company_name"],
        contact_name=text["contact_name"],
        need=text["need"],
        acquired_at=acquired_at,
        phone_raw=text.get("phone", ""),
        phone=phone,
        email_raw=text.get("email", ""),
        email=email,
        province=province,
        customer_type=customer_type,
        optional=optional,
    )


def _clean_texts(data: dict[str, Any], errors: list[FieldError]) -> dict[str, str]:
    text = {}
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            errors.append(field_error(name, "not_text"))
            continue
        if has_nul(value):
            errors.append(field_error(name, "nul"))
            continue
        value = fold_text(value, multiline=name in MULTILINE)
        if len(value) > limit:
            errors.append(field_error(name, "too_long", limit=limit))
            continue
        text[name] = value
    return text


def _lookup_channel(code: str, errors: list[FieldError]) -> Channel | None:
    if not code:
        return None
    channel = catalog.channel(code)
    if channel is None:
        errors.append(field_error("channel", "unknown_channel", value=code))
    elif not channel.active or (channel.parent_id and not channel.parent.active):
        errors.append(field_error("channel", "inactive_channel", value=code))
    return channel


def _lookup_industry(name: str, errors: list[FieldError]) -> Industry | None:
    if not name:
        return None
    industry = catalog.industry(name)
    if industry is None:
        errors.append(field_error("industry", "unknown_industry", value=name))
    return industry


def _lookup_province(value: str, errors: list[FieldError]) -> Province | None:
    if not value:
        return None
    full = province_name(value)
    province = catalog.province(full) if full else None
    if province is None:
        errors.append(field_error("province", "unknown_province", value=value))
    return province


def clean_datetime(
    value: Any, name: str, now: datetime, errors: list[FieldError]
) -> datetime | None:
    if value in (None, ""):
        return None
    # the company's zone (TIME_ZONE); LeadFlow activates no other, and the current zone is
    # a context-local look-up that costs more per imported row than the parsing
    zone = timezone.get_default_timezone()
    if isinstance(value, str):
        parsed, code = _moment_of_text(value, now, zone)  # cached: a file repeats its dates
    else:
        parsed, code = _moment(value, now, zone)
    if code:
        params = {"value": str(value)[:40]} if code == "bad_datetime" else {}
        errors.append(field_error(name, code, **params))
    return None if code == "bad_datetime" else parsed


@functools.lru_cache(maxsize=4096)
def _moment_of_text(value: str, now: datetime, zone) -> tuple[datetime | None, str]:
    parsed = None
    if not has_nul(value):
        raw = fold_text(value)
        if (written := parse_written_datetime(raw)) is not None:
            parsed, _has_time = written  # a day alone is the start of that day
        else:
            try:
                parsed = parse_datetime(raw)
            except ValueError:
                parsed = None
    return _moment(parsed, now, zone)


def _moment(value: Any, now: datetime, zone) -> tuple[datetime | None, str]:
    """(the aware moment, "" or the code of what is wrong with it)."""
    parsed = value if isinstance(value, datetime) else None
    if parsed is None and isinstance(value, date):
        parsed = datetime.combine(value, time(0, 0))
    if parsed is None:
        return None, "bad_datetime"
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, zone)
    if parsed > now + timedelta(minutes=5):
        return parsed, "in_future"
    if parsed.year < 2000:
        return parsed, "too_old"
    return parsed, ""


def clean_date(value: Any, name: str, errors: list[FieldError]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    day = None
    if isinstance(value, str) and not has_nul(value):
        written = parse_written_datetime(value)
        day = written[0].date() if written else None
    if day is None:
        errors.append(field_error(name, "bad_date", value=str(value)[:40]))
    return day


def clean_number(value: Any, name: str, errors: list[FieldError]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(fold_text(str(value)).replace(",", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0 or number >= Decimal("1e12"):
        errors.append(field_error(name, "bad_number", value=str(value)[:40]))
        return None
    return number
