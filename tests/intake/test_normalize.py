"""R1.3 normalisation and R1.5 dedup keys: pure functions, examples and properties."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.intake.normalize import (
    InvalidEmail,
    NotAPhoneNumber,
    company_key,
    fold_text,
    normalize_email,
    parse_phone,
    province_name,
    split_place,
)
from leadflow.leads.reference import CITIES


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "138 0013 8000",
        "+86-13800138000",
        "8613800138000",
        "+86 138-0013-8000",
        "(+86) 138 0013 8000",
        "008613800138000",
        "１３８００１３８０００",
    ],
)
def test_r1_3_every_way_of_writing_a_mobile_is_one_e164_number(written):
    phone = parse_phone(written)
    assert phone.e164 == "+8613800138000"
    assert phone.valid and phone.mobile and not phone.fake


def test_r1_3_a_chinese_mobile_tells_its_province_and_city():
    phone = parse_phone("15920001357")
    assert (phone.province, phone.city) == ("广东省", "深圳市")
    assert parse_phone("13800138000").province == "北京市"


def test_r1_3_landlines_normalise_too():
    assert parse_phone("010-62345678").e164 == "+861062345678"
    assert parse_phone("021 6123 4567").province == "上海市"


@pytest.mark.parametrize(
    "junk", ["abc", "电话号码", "1", "12-34", "138001380001380013800", "javascript:alert(1)"]
)
def test_r1_3_what_is_not_a_phone_number_is_refused(junk):
    with pytest.raises(NotAPhoneNumber):
        parse_phone(junk)


@pytest.mark.parametrize(
    "fake", ["13800000000", "11111111111", "13812345678", "13987654321", "15666666666"]
)
def test_r1_4_invented_numbers_are_recognised(fake):
    assert parse_phone(fake).fake


def test_r1_3_wrong_length_is_not_valid():
    assert not parse_phone("1380013800").valid


def test_r1_3_emails_are_lower_cased_and_checked():
    assert normalize_email(" Foo.Bar@Example.COM ") == "foo.bar@example.com"
    assert normalize_email("ｓａｌｅｓ＠ｅｘａｍｐｌｅ．ｃｎ") == "sales@example.cn"
    for bad in ["foo@", "foo bar@example.com", "@example.com", "foo@@example.com", "foo"]:
        with pytest.raises(InvalidEmail):
            normalize_email(bad)


def test_r1_3_full_width_characters_and_white_space_are_folded():
    assert fold_text("　ＡＢＣ公司（上海）　 １２３ ") == "ABC公司(上海) 123"
    assert fold_text("第一行\r\n\r\n  第二行 ", multiline=True) == "第一行\n第二行"


def test_r1_3_province_and_region_names():
    assert province_name("广东") == "广东省"
    assert province_name("广西") == "广西壮族自治区"
    assert province_name("广东省深圳市") == "广东省"
    assert province_name("火星") is None
    assert split_place("中国") == ("", "")


@pytest.mark.parametrize(
    "name",
    [
        "北京字节跳动科技有限公司",
        "字节跳动(北京)科技有限公司",
        "字节跳动",
        "字节跳动集团",
        "字节跳动股份有限公司",
        "  字节跳动（北京）有限公司 ",
        "北京市字节跳动科技有限公司",
        "昆明字节跳动科技有限公司",
        "哈尔滨市字节跳动有限公司",
        "乌鲁木齐字节跳动科技有限公司",
        "字节跳动(石家庄)科技有限公司",
    ],
)
def test_r1_5_near_identical_company_names_share_a_key(name):
    assert company_key(name) == "字节跳动"


def test_r1_5_different_companies_keep_different_keys():
    assert company_key("上海华信电子有限公司") != company_key("上海华信物流有限公司")
    assert company_key("ACME Co., Ltd.") == company_key("acme ltd") == "acme"


def test_r1_5_every_prefecture_city_is_a_place_but_brand_words_stay():
    """Names begin with their registration place (北京/昆明/哈尔滨…): stripped, so a name
    with and without it meet; city names that are everyday brand words are not."""
    for city in CITIES:
        assert company_key(f"{city}信汇通智能装备有限公司") == "信汇通智能装备", city
    assert company_key("中山证券有限公司") == "中山证券"
    assert company_key("大同电器有限公司") == "大同电器"


# --- properties -----------------------------------------------------------------------------

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(texts)
def test_r1_3_folding_is_idempotent(value):
    once = fold_text(value)
    assert fold_text(once) == once
    assert "\x00" not in once


@given(st.text(max_size=80))
def test_r1_5_company_key_is_idempotent_and_never_raises(value):
    key = company_key(value)
    assert company_key(key) == key


@given(
    st.sampled_from(["139", "158", "186", "177", "133"]),
    st.integers(min_value=10_000_000, max_value=99_999_999),
    st.sampled_from(
        ["{p}{s}", "+86{p}{s}", "86{p}{s}", "{p} {a} {b}", "+86-{p}-{a}-{b}", "0086{p}{s}"]
    ),
)
def test_r1_3_the_same_mobile_in_any_layout_gives_the_same_e164(prefix, subscriber, layout):
    s = str(subscriber)
    written = layout.format(p=prefix, s=s, a=s[:4], b=s[4:])
    assert parse_phone(written).e164 == f"+86{prefix}{s}"


@given(
    st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9]{1,10}\.(com|cn|net)", fullmatch=True),
)
def test_r1_3_email_normalisation_is_idempotent_and_lower_case(local, domain):
    if ".." in local:
        return
    email = f"{local.upper()}@{domain.upper()}"
    normal = normalize_email(email)
    assert normal == normal.lower() == normalize_email(normal)


@given(st.text(max_size=40))
def test_r1_3_parse_phone_never_fails_with_anything_but_not_a_phone_number(value):
    with contextlib.suppress(NotAPhoneNumber):
        parse_phone(value)


def test_r1_3_prose_keeps_its_chinese_punctuation_but_folds_wide_letters():
    assert (
        fold_text("采购设备，预算５０万（含税）。ＥＲＰ", multiline=True)
        == "采购设备，预算50万（含税）。ERP"
    )


@given(st.text(max_size=60))
def test_r1_3_folding_prose_is_idempotent(value):
    once = fold_text(value, multiline=True)
    assert fold_text(once, multiline=True) == once


def _parse_phone_slowly(written: str):
    """parse_phone without the fast path for plain Chinese mobiles: the full parser."""
    from leadflow.intake import normalize

    saved = normalize._PLAIN_CN_MOBILE
    normalize._PLAIN_CN_MOBILE = __import__("re").compile(r"(?!)")
    try:
        return parse_phone(written)
    finally:
        normalize._PLAIN_CN_MOBILE = saved


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True), st.sampled_from(["", "+86", "+86 ", "86"]))
def test_r1_3_the_fast_path_for_chinese_mobiles_agrees_with_the_full_parser(digits, prefix):
    written = prefix + digits
    assert _outcome(parse_phone, written) == _outcome(_parse_phone_slowly, written)


@pytest.mark.parametrize("written", ["11000002100", "11200002100", "17900002100", "12345678901"])
def test_r1_3_eleven_digits_from_1_are_read_as_a_chinese_number_valid_or_not(written):
    """Not refused as "not a phone number" (phonenumbers reads 110…, 112…, 179… as a
    carrier's dialling prefix): kept as +86…, invalid, for screening to flag (R1.4)."""
    phone = parse_phone(written)
    assert (phone.e164, phone.valid) == ("+86" + written, False)


def _outcome(parse, written: str):
    try:
        return parse(written)
    except NotAPhoneNumber:
        return "not a phone number"


@pytest.mark.parametrize("digits", ["13800138000", "17400012345", "16101234567", "15920001357"])
def test_r1_3_fast_path_examples_agree_with_the_full_parser(digits):
    assert parse_phone(digits) == _parse_phone_slowly(digits)


def _normalize_email_slowly(written: str) -> str:
    """normalize_email without the pattern for plain addresses: email-validator alone."""
    from leadflow.intake import normalize

    saved = normalize._PLAIN_EMAIL
    normalize._PLAIN_EMAIL = __import__("re").compile(r"(?!)")
    try:
        return normalize_email(written)
    finally:
        normalize._PLAIN_EMAIL = saved


_LOCAL = st.from_regex(r"[A-Za-z0-9_+.-]{1,70}", fullmatch=True)
_DOMAIN = st.from_regex(r"([A-Za-z0-9-]{1,12}\.){1,3}[A-Za-z0-9-]{1,8}", fullmatch=True)


@given(_LOCAL, _DOMAIN | st.sampled_from(["qq.com", "163.COM", "x.test", "a.invalid", "b.cn"]))
def test_r1_3_the_email_pattern_agrees_with_email_validator(local, domain):
    written = f"{local}@{domain}"
    try:
        slow = _normalize_email_slowly(written)
    except InvalidEmail:
        slow = None
    try:
        fast = normalize_email(written)
    except InvalidEmail:
        fast = None
    assert fast == slow
