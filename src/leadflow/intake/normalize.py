"""Normalisation of what people type (R1.3): pure functions, no ORM.

- text: NFKC folds full-width letters, digits and punctuation (ＡＢＣ１２３，→ ABC123,) and
  white space is collapsed;
- phones: parsed with phonenumbers (default region CN) and stored as E.164, so "138 0013 8000",
  "+86-13800138000" and "8613800138000" are one number; a Chinese mobile tells its province
  and city;
- emails: syntax-checked with email-validator and lower-cased;
- company names: a dedup key without legal-form and place words (R1.5).
"""

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType, geocoder

from leadflow.leads.reference import PROVINCES

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Full-width letters, digits and the ideographic space, folded in free text too; Chinese
# punctuation (，。：（）) is right in prose and stays there.
_WIDE_ALNUM = {
    cp: cp - 0xFEE0
    for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for cp in range(r[0], r[1] + 1)
} | {0x3000: 0x20}


def fold_text(value: str, *, multiline: bool = False) -> str:
    """Trim and fold full-width characters. One-line fields (names, contacts) are NFKC-folded
    whole — （北京） becomes (北京); multi-line prose (needs, notes) keeps its Chinese
    punctuation and line breaks, and only full-width letters, digits and spaces fold."""
    if multiline:
        value = _CONTROL.sub("", value.translate(_WIDE_ALNUM))
        lines = [_SPACES.sub(" ", line).strip() for line in value.splitlines()]
        return "\n".join(line for line in lines if line)
    value = _CONTROL.sub("", unicodedata.normalize("NFKC", value))
    return _SPACES.sub(" ", value).strip()


def has_nul(value: str) -> bool:
    return "\x00" in value


# --- phones ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    e164: str
    valid: bool  # a real, dialable number in its numbering plan
    fake: bool  # obviously invented (13800000000, 11111111111, 13812345678)
    mobile: bool
    province: str  # full name as in PROVINCES ("广东省"), "" when unknown
    city: str


class NotAPhoneNumber(ValueError):
    pass


_PHONE_CHARS = re.compile(r"^[\d\s()+\-.]+$")


def parse_phone(raw: str, region: str = "CN") -> Phone:
    """Parse any way of writing a phone number; raise NotAPhoneNumber for what is not one."""
    text = fold_text(raw)
    if not _PHONE_CHARS.match(text) or not 5 <= sum(ch.isdigit() for ch in text) <= 16:
        raise NotAPhoneNumber(raw)
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and len(digits) == 13 and digits.startswith("86"):
        text = "+" + digits  # 8613800138000: a CN mobile written with its country code
    elif text.startswith("00"):
        text = "+" + digits[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise NotAPhoneNumber(raw) from exc
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    valid = phonenumbers.is_valid_number(number)
    kind = phonenumbers.number_type(number)
    mobile = kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    province, city = ("", "")
    if valid and number.country_code == 86:
        province, city = split_place(geocoder.description_for_number(number, "zh"))
    national = str(number.national_number)
    return Phone(e164, valid, looks_fake(national), mobile, province, city)


def looks_fake(national: str) -> bool:
    """Numbers people invent: one digit repeated, a long run of one digit at the end,
    or a straight run of digits (13812345678, 13898765432)."""
    if len(set(national)) <= 2 and len(national) >= 7:
        return True
    tail = national[3:] if len(national) == 11 else national
    if re.search(r"(\d)\1{6,}$", tail):
        return True
    return any(seq in national[-8:] for seq in ("12345678", "87654321", "01234567", "98765432"))


_PROVINCE_NAMES = sorted(((p[1], p[2]) for p in PROVINCES), key=lambda p: -len(p[0]))


def split_place(description: str) -> tuple[str, str]:
    """'广东省深圳市' → ('广东省', '深圳市'); '北京市' → ('北京市', '北京市'); '中国' → ('', '')."""
    for full, short in _PROVINCE_NAMES:
        for prefix in (full, short):
            if description.startswith(prefix):
                rest = description[len(prefix) :]
                return full, rest or (full if full.endswith("市") else "")
    return "", ""


def province_name(value: str) -> str | None:
    """The full name of a province written as '广东', '广东省' or '广东省深圳市'."""
    value = fold_text(value)
    for full, short in _PROVINCE_NAMES:
        if value in (full, short) or value.startswith(full):
            return full
    return None


# --- emails ---------------------------------------------------------------------------------


class InvalidEmail(ValueError):
    pass


def normalize_email(raw: str) -> str:
    text = fold_text(raw)
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return result.normalized.lower()


# --- company names --------------------------------------------------------------------------

_LEGAL_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "分公司",
    "总公司",
    "公司",
    "集团",
    "股份",
    "有限",
    "科技",
    "技术",
    "信息",
    "网络",
    "实业",
    "控股",
    "贸易",
    "发展",
    "工作室",
    "co., ltd.",
    "co.,ltd.",
    "co. ltd",
    "co ltd",
    "company",
    "limited",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
    "corp.",
    "corp",
    "llc",
    "group",
)
_PLACES = (
    *tuple(sorted({n for p in PROVINCES for n in (p[1], p[2])}, key=len, reverse=True)),
    "深圳",
    "广州",
    "杭州",
    "南京",
    "苏州",
    "成都",
    "武汉",
    "西安",
    "青岛",
    "厦门",
    "宁波",
    "东莞",
    "佛山",
    "合肥",
    "长沙",
    "郑州",
    "济南",
    "无锡",
    "大连",
    "沈阳",
)
_BRACKETED = re.compile(r"[(\[（【][^)\]）】]*[)\]）】]")
_NON_WORD = re.compile(r"[\W_]+")


def company_key(name: str) -> str:
    """A key under which near-identical company names meet (R1.5):
    '北京字节跳动科技有限公司', '字节跳动(北京)科技有限公司' and '字节跳动' all give '字节跳动'."""
    key = _BRACKETED.sub("", fold_text(name).lower())
    changed = True
    while changed:
        changed = False
        key = _NON_WORD.sub("", key) if key else key
        for suffix in _LEGAL_SUFFIXES:
            bare = _NON_WORD.sub("", suffix)
            if bare and key.endswith(bare) and len(key) > len(bare):
                key, changed = key[: -len(bare)], True
        for place in _PLACES:
            if key.startswith(place) and len(key) > len(place) + 1:
                key, changed = key[len(place) :].removeprefix("市").removeprefix("省"), True
    return key
