"""Duplicate check (查重, R1.5) against the leads already in the database.

A new intake is a duplicate of an *open* lead with the same E.164 phone, the same email, or
a near-identical company name (same `company_key`, or a rapidfuzz ratio ≥ 85 between keys
that share their first two characters — the `company_block`, which keeps the fuzzy step to a
handful of candidates). A match on a *closed* lead (won, invalid, screened out) is history:
the new lead is created and linked to it.
"""

import re
from dataclasses import dataclass

from django.db.models import Q
from rapidfuzz import fuzz

from leadflow.leads.models import OPEN_STATUSES, CustomerType, Lead

FUZZY_THRESHOLD = 85  # one typo in a key of 7+ characters; short keys must match exactly
MAX_FUZZY_CANDIDATES = 500
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Match:
    lead: Lead
    matched_on: str  # "phone" | "email" | "company"
    open: bool


def block_of(key: str) -> str:
    return key[:2]


def find_duplicate(
    *,
    phone_e164: str,
    email: str,
    company_key: str,
    customer_type: str,
    exclude_pk: int | None = None,
) -> Match | None:
    """The best match: an open lead before a closed one; phone before email before name."""
    exact = Q(pk__in=[])
    if phone_e164:
        exact |= Q(phone_e164=phone_e164)
    if email:
        exact |= Q(email=email)
    use_name = company_key and customer_type != CustomerType.INDIVIDUAL
    if use_name:
        exact |= Q(company_key=company_key)
    rows = list(
        Lead.objects.filter(exact)
        .exclude(pk=exclude_pk)
        .order_by("-acquired_at", "-pk")
        .values_list("pk", "status", "phone_e164", "email")[:50]
    )
    if use_name and not any(status in OPEN_STATUSES for _pk, status, *_ in rows):
        rows += _fuzzy_open(company_key, exclude_pk)
    best = _best(rows, phone_e164, email)
    if best is None:
        return None
    pk, on, is_open = best
    lead = Lead.objects.select_related("owner", "team", "channel", "channel__parent").get(pk=pk)
    return Match(lead=lead, matched_on=on, open=is_open)


def _fuzzy_open(company_key: str, exclude_pk: int | None) -> list[tuple]:
    rows = (
        Lead.objects.filter(company_block=block_of(company_key), status__in=OPEN_STATUSES)
        .exclude(pk=exclude_pk)
        .exclude(customer_type=CustomerType.INDIVIDUAL)
        .order_by("-acquired_at", "-pk")
        .values_list("pk", "status", "phone_e164", "email", "company_key")[:MAX_FUZZY_CANDIDATES]
    )
    return [row[:4] for row in rows if near_identical(company_key, row[4])]


def near_identical(a: str, b: str) -> bool:
    """A typo apart, but never names that differ in a number (一分店/1号店 ≠ 2号店)."""
    return _DIGITS.findall(a) == _DIGITS.findall(b) and fuzz.ratio(a, b) >= FUZZY_THRESHOLD


def _best(rows: list[tuple], phone: str, email: str) -> tuple[int, str, bool] | None:
    """Rank (pk, status, phone, email) rows: open before closed, then phone, email, name."""
    ranked = []
    for pk, status, lead_phone, lead_email in rows:
        if phone and lead_phone == phone:
            on = "phone"
        elif email and lead_email == email:
            on = "email"
        else:
            on = "company"
        is_open = status in OPEN_STATUSES
        ranked.append(((not is_open, ("phone", "email", "company").index(on)), pk, on, is_open))
    if not ranked:
        return None
    _rank, pk, on, is_open = min(ranked, key=lambda item: item[0])
    return pk, on, is_open
