"""R1.5: the choice among duplicate candidates. `pick` scores the fuzzy candidates in one
rapidfuzz call; it must choose exactly what checking each row on its own would choose."""

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from leadflow.intake.dedup import FUZZY_THRESHOLD, near_identical_among, pick
from leadflow.leads.models import OPEN_STATUSES, CustomerType, Status

STATUSES = [Status.PENDING_REVIEW, Status.CONTACTING, Status.WON, Status.INVALID]
KINDS = [CustomerType.ENTERPRISE, CustomerType.INDIVIDUAL]
BASE = "恒瑞精密机械设备"
# keys near the wanted one: typos, a number added or changed, the same key, another company
KEYS = [
    BASE,
    "恒瑞精密机城设备",
    "恒端精密机械设备",
    "恒瑞精密机械设备1号",
    "恒瑞精密机械设备2号",
    "恒瑞精密",
    "远航物流",
]
PHONES = ["", "+8613913572468", "+8613800138001"]


def near_identical(a: str, b: str) -> bool:
    """The rule, pair by pair: a typo apart, and the same numbers in both."""
    same_numbers = re.findall(r"\d+", a) == re.findall(r"\d+", b)
    return fuzz.ratio(a, b) >= FUZZY_THRESHOLD and same_numbers


def plain_pick(rows, *, phone_e164, email, company_key, customer_type):
    """The definition: each row on its own; open before closed, phone before email before
    name, and the most recent (first) row among equals."""
    use_name = bool(company_key) and customer_type != CustomerType.INDIVIDUAL
    ranked = []
    for pk, status, phone, mail, key, kind in rows:
        if phone_e164 and phone == phone_e164:
            on, exact = "phone", True
        elif email and mail == email:
            on, exact = "email", True
        elif use_name and key == company_key:
            on, exact = "company", True
        elif (
            use_name
            and status in OPEN_STATUSES
            and kind != CustomerType.INDIVIDUAL
            and near_identical(company_key, key)
        ):
            on, exact = "company", False
        else:
            continue
        ranked.append((pk, on, status in OPEN_STATUSES, exact))
    if not ranked:
        return None

    def best(items):
        if not items:
            return None
        rank = [
            ((not o, ("phone", "email", "company").index(on)), pk, on, o) for pk, on, o, _ in items
        ]
        _r, pk, on, is_open = min(rank, key=lambda item: item[0])
        return pk, on, is_open

    chosen = best([r for r in ranked if r[3]])
    if chosen is None or not chosen[2]:
        chosen = best([r for r in ranked if not r[3]]) or chosen
    return chosen


row = st.tuples(
    st.sampled_from(STATUSES),
    st.sampled_from(PHONES),
    st.sampled_from(["", "wang@hengrui.cn"]),
    st.sampled_from(KEYS),
    st.sampled_from(KINDS),
)


@settings(max_examples=500)
@given(
    st.lists(row, max_size=12),
    st.sampled_from(PHONES),
    st.sampled_from(["", "wang@hengrui.cn"]),
    st.sampled_from([BASE, BASE, BASE, *KEYS, ""]),  # mostly the key with typo-apart rows
    st.sampled_from(KINDS),
)
@example(  # two open rows a typo apart, equally close: the first (most recent) one
    rows=[
        (Status.WON, "", "", BASE, CustomerType.ENTERPRISE),
        (Status.CONTACTING, "", "", "恒端精密机械设备", CustomerType.ENTERPRISE),
        (Status.CONTACTING, "", "", "恒瑞精密机城设备", CustomerType.ENTERPRISE),
    ],
    phone="",
    email="",
    key=BASE,
    kind=CustomerType.ENTERPRISE,
)
def test_r1_5_pick_chooses_what_each_row_on_its_own_would(rows, phone, email, key, kind):
    rows = [(pk, *r) for pk, r in enumerate(rows, start=1)]
    wanted = dict(phone_e164=phone, email=email, company_key=key, customer_type=kind)
    assert pick(rows, **wanted) == plain_pick(rows, **wanted)


def test_r1_5_a_typo_apart_open_lead_is_found_but_not_one_with_another_number():
    assert near_identical_among(BASE, ["恒瑞精密机城设备"]) == [0]
    assert near_identical_among("恒瑞精密机械设备1号", ["恒瑞精密机械设备2号"]) == []
    assert near_identical_among("恒瑞精密机械", ["恒瑞精密机城"]) == []  # short keys: exact only
    rows = [
        (1, Status.CONTACTING, "", "", "恒瑞精密机械设备2号", CustomerType.ENTERPRISE),
        (2, Status.WON, "", "", "恒瑞精密机城设备", CustomerType.ENTERPRISE),
        (3, Status.CONTACTING, "", "", "恒瑞精密机城设备", CustomerType.ENTERPRISE),
        (4, Status.CONTACTING, "", "", "恒端精密机械设备", CustomerType.ENTERPRISE),
    ]
    found = pick(rows, phone_e164="", email="", company_key=BASE, customer_type=KINDS[0])
    assert found == (3, "company", True)  # the most recent open one of the typo-apart ones
