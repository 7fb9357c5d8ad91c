"""Normalisation of what people type (R1.3): pure functions, no ORM.

- text: NFKC folds full-width letters, digits and punctuation (ＡＢＣ１２３，→ ABC123,) and
  white space is collapsed;
- phones: parsed with phonenumbers (default region CN) and stored as E.164, so "138 0013 8000",
  "+86-13800138000" and "8613800138000" are one number; a Chinese mobile tells its province
  and city;
- emails: syntax-checked with email-validator and lower-cased;
- company names: a dedup key without legal-form and place words (R1.5).
"""

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType, geocoder
from phonenumbers.geodata import GEOCODE_DATA, GEOCODE_LONGEST_PREFIX

from leadflow.leads.reference import CITIES, PROVINCES

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
    punctuation and line breaks, and only full-width letters, digits and spaces fold.
    Cached: an import folds the same industry, date and need thousands of times. The cache
    is small on purpose: what repeats stays in it; the names and phones of a large file, each
    seen once, would only take room there until the process ends."""
    return _fold_prose(value) if multiline else _fold_line(value)


@functools.lru_cache(maxsize=8192)
def _fold_line(value: str) -> str:
    value = _CONTROL.sub("", unicodedata.normalize("NFKC", value))
    return _SPACES.sub(" ", value).strip()


@functools.lru_cache(maxsize=16_384)
def _fold_prose(value: str) -> str:
    value = _CONTROL.sub("", value.translate(_WIDE_ALNUM))
    lines = [_SPACES.sub(" ", line).strip() for line in value.splitlines()]
    return "\n".join(line for line in lines if line)


def has_nul(value: str) -> bool:
    return "\x00" in value


# --- dates ---------------------------------------------------------------------------------

_WRITTEN_DATE = re.compile(
    r"^(?:(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
    r"|(?P<d2>\d{1,2})[-/.](?P<m2>\d{1,2})[-/.](?P<y2>\d{4}))"
    r"(?:(?:[ T]+|(?<=日))(?P<H>\d{1,2})(?:[:时点](?P<M>\d{1,2})分?)?(?::(?P<S>\d{1,2})(?:\.\d+)?)?)?$"
)
EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 — Excel serials are wall-clock days


@functools.lru_cache(maxsize=4096)
def parse_written_datetime(raw: str) -> tuple[datetime, bool] | None:
    """The ways people write a date (and maybe a time): 2023-10-28, 2023/10/28, 2023.10.28,
    2023年10月28日, 28-10-2023, 28/10/2023, each optionally with 14:30 or 14:30:05.
    Returns (naive datetime, whether a time was given), or None."""
    text = fold_text(raw)
    match = _WRITTEN_DATE.match(text)
    if match is None:
        return None
    parts = match.groupdict()
    year, month, day = (
        (parts["y"], parts["m"], parts["d"])
        if parts["y"]
        else (parts["y2"], parts["m2"], parts["d2"])
    )
    hour, minute, second = (int(parts[k] or 0) for k in ("H", "M", "S"))
    try:
        return datetime(int(year), int(month), int(day), hour, minute, second), bool(parts["H"])  # noqa: DTZ001
    except ValueError:
        return None


def excel_serial(value: float) -> datetime | None:
    """An Excel date serial (45227.5 = 2023-10-28 12:00), or None if it cannot be one."""
    if not 1 <= value < 2_958_466:
        return None
    return EXCEL_EPOCH + timedelta(days=value)


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


# The common case — a Chinese mobile written plainly — is read without the full parser
# (phonenumbers takes ~40 µs a number; an import reads 100,000): the national pattern and the
# geocoding prefixes are phonenumbers' own data, and a property test holds the two paths equal.
_CN_MOBILE = re.compile(
    phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern
)
_PLAIN_CN_MOBILE = re.compile(r"(?:\+?86[ -]?)?(1\d\d)[ -]?(\d{4})[ -]?(\d{4})")


def parse_phone(raw: str, region: str = "CN") -> Phone:
    """Parse any way of writing a phone number; raise NotAPhoneNumber for what is not one."""
    text = fold_text(raw)
    if region == "CN" and (plain := _PLAIN_CN_MOBILE.fullmatch(text)):
        national = "".join(plain.groups())
        if _CN_MOBILE.fullmatch(national):
            province, city = _cn_mobile_place(national[:7])
            return Phone(f"+86{national}", True, looks_fake(national), True, province, city)
    if not _PHONE_CHARS.match(text) or not 5 <= sum(ch.isdigit() for ch in text) <= 16:
        raise NotAPhoneNumber(raw)
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and len(digits) == 13 and digits.startswith("86"):
        text = "+" + digits  # 8613800138000: a CN mobile written with its country code
    elif region == "CN" and not text.startswith("+") and len(digits) == 11 and digits[0] == "1":
        # eleven digits from 1: written as a mobile, so read as one (+86), valid or not — else
        # phonenumbers takes 110…/112…/179… for a carrier's international prefix and refuses
        text = "+86" + digits
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


@functools.lru_cache(maxsize=50_000)
def _cn_mobile_place(prefix: str) -> tuple[str, str]:
    """Province and city of a Chinese mobile from its first 7 digits (geocoding prefixes are
    at most 9 digits with the country code), as geocoder.description_for_number finds it."""
    digits = "86" + prefix
    for length in range(GEOCODE_LONGEST_PREFIX, 0, -1):
        entry = GEOCODE_DATA.get(digits[:length])
        if entry and "zh" in entry:
            return split_place(entry["zh"])
    return "", ""


_RUN_AT_END = re.compile(r"(\d)\1{6,}$")


def looks_fake(national: str) -> bool:
    """Numbers people invent: one digit repeated, a long run of one digit at the end,
    or a straight run of digits (13812345678, 13898765432)."""
    if len(set(national)) <= 2 and len(national) >= 7:
        return True
    tail = national[3:] if len(national) == 11 else national
    if _RUN_AT_END.search(tail):
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


# The common case — a plain ASCII address with a real top-level domain — is checked by a
# pattern; everything else goes through email-validator (a property test holds them equal).
_PLAIN_EMAIL = re.compile(
    r"(?=.{6,254}$)(?=[^@]{1,64}@)[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}",
    re.IGNORECASE,
)
_SPECIAL_DOMAINS = tuple("." + d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES)


def normalize_email(raw: str) -> str:
    text = fold_text(raw)
    lowered = text.lower()
    if (
        _PLAIN_EMAIL.fullmatch(text)
        and "--" not in lowered.partition("@")[2]  # punycode labels: the validator's job
        and not ("." + lowered).endswith(_SPECIAL_DOMAINS)
    ):
        return lowered
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
PLACES = tuple(
    sorted({n for p in PROVINCES for n in (p[1], p[2])} | set(CITIES), key=len, reverse=True)
)
_PLACES_BY_INITIAL = {c: tuple(p for p in PLACES if p[0] == c) for c in {p[0] for p in PLACES}}
_BRACKETED = re.compile(r"[(\[（【][^)\]）】]*[)\]）】]")
_NON_WORD = re.compile(r"[\W_]+")
_BARE_SUFFIXES = tuple(b for b in (_NON_WORD.sub("", s) for s in _LEGAL_SUFFIXES) if b)


def company_key(name: str) -> str:
    """A key under which near-identical company names meet (R1.5):
    '北京字节跳动科技有限公司', '字节跳动(北京)科技有限公司' and '字节跳动' all give '字节跳动'."""
    key = _BRACKETED.sub("", fold_text(name).lower())
    changed = True
    while changed:
        changed = False
        key = _NON_WORD.sub("", key) if key else key
        if key.endswith(_BARE_SUFFIXES):
            for bare in _BARE_SUFFIXES:
                if key.endswith(bare) and len(key) > len(bare):
                    key, changed = key[: -len(bare)], True
        for place in _PLACES_BY_INITIAL.get(key[:1], ()):
            if key.startswith(place) and len(key) > len(place) + 1:
                key, changed = key[len(place) :].removeprefix("市").removeprefix("省"), True
    return key
