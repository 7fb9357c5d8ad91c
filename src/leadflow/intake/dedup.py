"""Duplicate check (查重, R1.5) against the leads already in the database.

A new intake is a duplicate of an *open* lead with the same E.164 phone, the same email, or
a near-identical company name (same `company_key`, or a rapidfuzz ratio ≥ 85 between keys
that share their first two characters — the `company_block`, which keeps the fuzzy step to a
handful of candidates). A match on a *closed* lead (won, invalid, screened out) is history:
the new lead is created and linked to it.
"""

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from rapidfuzz import fuzz, process

from leadflow.core.lookups import select_among
from leadflow.core.statements import prepared_cursor
from leadflow.leads.models import OPEN_STATUSES, CustomerType, Lead

from .normalize import (
    PLACES,
    InvalidEmail,
    NotAPhoneNumber,
    company_key,
    fold_text,
    normalize_email,
    parse_phone,
)

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


def length_window(n: int) -> tuple[int, int]:
    """The key lengths that can be within FUZZY_THRESHOLD of a key of length n: rapidfuzz's
    ratio is 200·matches / (len a + len b), and matches ≤ the shorter length."""
    rest = 200 - FUZZY_THRESHOLD
    return -(-FUZZY_THRESHOLD * n // rest), rest * n // FUZZY_THRESHOLD


def find_duplicate(
    *,
    phone_e164: str,
    email: str,
    company_key: str,
    customer_type: str,
    exclude_pk: int | None = None,
    lock: bool = False,
) -> Match | None:
    """The best match: an open lead before a closed one; phone before email before name.
    `lock=True` (an intake) takes `_identity_locks` first — on PostgreSQL a statement of its
    own, so the candidates are read after the lock is held."""
    use_name = bool(company_key) and customer_type != CustomerType.INDIVIDUAL
    locking = _identity_locks(phone_e164, email, company_key) if lock else None
    rows = _candidates(phone_e164, email, company_key if use_name else "", exclude_pk, locking)
    best = pick(
        rows,
        phone_e164=phone_e164,
        email=email,
        company_key=company_key,
        customer_type=customer_type,
    )
    if best is None:
        return None
    pk, on, is_open = best
    # what the answer shows; PostgreSQL plans a join of eight tables in ~7 ms, of six in ~1.4
    lead = Lead.objects.select_related(
        "channel", "channel__parent", "industry", "province", "owner"
    ).get(pk=pk)
    return Match(lead=lead, matched_on=on, open=is_open)


def pick(
    rows: list[tuple], *, phone_e164: str, email: str, company_key: str, customer_type: str
) -> tuple[int, str, bool] | None:
    """The best of the candidate rows (pk, status, phone, email, key, customer type, …),
    given most recent first: (pk, matched on, open) or None. Pure; the importer calls it
    with the candidates of a whole batch."""
    use_name = bool(company_key) and customer_type != CustomerType.INDIVIDUAL
    exact, others = [], []
    for pk, status, lead_phone, lead_email, key, kind, *_rest in rows:
        row = (pk, status, lead_phone, lead_email)
        if (
            (phone_e164 and lead_phone == phone_e164)
            or (email and lead_email == email)
            or (use_name and key == company_key)
        ):
            exact.append(row)
        elif use_name and status in OPEN_STATUSES and kind != CustomerType.INDIVIDUAL:
            others.append((row, key))
    best = _best(exact, phone_e164, email)
    if others and (best is None or not best[2]):
        # nothing open matched exactly: a typo-apart open lead wins
        near = near_identical_among(company_key, [key for _row, key in others])
        best = _best([others[i][0] for i in near], phone_e164, email) or best
    return best


INTAKE_LOCK = 0x1EAD_F10E  # the advisory lock an import batch holds exclusively


def _identity_locks(phone_e164: str, email: str, company_key: str) -> tuple[str, list] | None:
    """The statement (and its parameters) that serialises intakes of the same customer until
    the transaction ends, so two simultaneous first submissions of one phone make one lead
    and one touch, not two leads; `find_duplicate(lock=True)` sends it.

    PostgreSQL: a transaction-scoped advisory lock per key, taken in sorted order (no
    deadlocks), after a shared hold on INTAKE_LOCK, which an import batch takes exclusively
    (`lock_all_intake`) instead of a lock per row. SQLite needs nothing (None): its IMMEDIATE
    transactions admit one writer at a time.
    """
    if connection.vendor != "postgresql":
        return None
    keys = sorted(
        {
            f"{kind}:{value}"
            for kind, value in (("p", phone_e164), ("e", email), ("c", company_key))
            if value
        }
    )
    locks = ["pg_advisory_xact_lock_shared(%s)"]
    locks += ["pg_advisory_xact_lock(hashtextextended(%s, 0))" for _ in keys]
    return f"SELECT {', '.join(locks)}", [INTAKE_LOCK, *keys]


def lock_all_intake() -> None:
    """Hold every other intake back until the caller's transaction (an import batch) ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INTAKE_LOCK])


def find_duplicate_as_typed(
    *, phone: str, email: str, company_name: str, customer_type: str
) -> Match | None:
    """The duplicate of a lead still being typed (the form's live warning): whatever of it
    can already be read, nothing refused."""
    parsed = None
    with contextlib.suppress(NotAPhoneNumber):
        parsed = parse_phone(phone) if phone else None
    normal_email = ""
    with contextlib.suppress(InvalidEmail):
        normal_email = normalize_email(email) if email else ""
    name = fold_text(company_name[:200])
    return find_duplicate(
        phone_e164=parsed.e164 if parsed and parsed.valid else "",
        email=normal_email,
        company_key=company_key(name) if len(name) >= 2 else "",
        customer_type=customer_type,
    )


# The condition of each identity index (`Lead.Meta.indexes`: only leads that have the value),
# which a query must state for the database to choose that index.
_HAS = {column: f"{column} > ''" for column in ("phone_e164", "email", "company_key")}


def _candidates(
    phone: str, email: str, key: str, exclude_pk: int | None, locking: tuple[str, list] | None
) -> list[tuple]:
    """One indexed query for every candidate: exact phone / email / key matches first, then
    the rest of the key's block. Raw SQL because it runs on every intake (see bench/intake.py
    for the before and after), prepared on PostgreSQL (`core.statements`). `locking`, a
    statement run first: the candidates are read once the locks are held, with a snapshot
    of their own, so they include whatever committed while the locks were awaited."""
    terms, params = [], []
    for column, value in (("phone_e164", phone), ("email", email), ("company_key", key)):
        if value:
            terms.append(f"({column} = %s AND {_HAS[column]})")
            params.append(value)
    if not terms:
        if locking:
            with prepared_cursor() as cursor:
                cursor.execute(*locking)
        return []
    exact = " OR ".join(terms)
    if key:
        where = f"({exact} OR (company_block = %s AND LENGTH(company_key) BETWEEN %s AND %s))"
        where_params = [*params, block_of(key), *length_window(len(key))]
    else:
        where, where_params = f"({exact})", list(params)
    if exclude_pk:
        where += " AND id <> %s"
        where_params.append(exclude_pk)
    sql = (
        "SELECT id, status, phone_e164, email, company_key, customer_type "
        f"FROM {Lead._meta.db_table} WHERE {where} "
        f"ORDER BY CASE WHEN {exact} THEN 0 ELSE 1 END, acquired_at DESC, id DESC "
        f"LIMIT {MAX_FUZZY_CANDIDATES}"
    )
    with prepared_cursor() as cursor:
        if locking:
            cursor.execute(*locking)
        cursor.execute(sql, [*where_params, *params])
        return cursor.fetchall()


def candidates_for_batch(phones: set[str], emails: set[str], keys: set[str]) -> list[tuple]:
    """The leads a batch of intakes could repeat, in `pick`'s row shape and then the lead's
    number: exact phone / email / key matches of any status, and the open leads whose names
    are near-identical (`near_identical_among`) to a key of the batch. The fuzzy step reads only
    ids and keys of the blocks (in their length windows) and fetches whole rows for the few
    that match. Lists of values go as `select_among` sends them."""
    table = Lead._meta.db_table
    columns = "id, status, phone_e164, email, company_key, customer_type, acquired_at, number"
    found: dict[int, tuple] = {}
    for column, values in (("phone_e164", phones), ("email", emails), ("company_key", keys)):
        rows = select_among(
            table, columns, column, sorted(v for v in values if v), also=_HAS[column]
        )
        found.update((row[0], row) for row in rows)
    with connection.cursor() as cursor:
        matched = _fuzzy_ids(cursor, table, {k for k in keys if k}) - found.keys()
    found.update((row[0], row) for row in select_among(table, columns, "id", sorted(matched)))
    return list(found.values())


def _fuzzy_ids(cursor, table: str, keys: set[str]) -> set[int]:
    windows: dict[str, tuple[int, int]] = {}
    for key in keys:
        lo, hi = length_window(len(key))
        was = windows.get(block_of(key), (lo, hi))
        windows[block_of(key)] = (min(lo, was[0]), max(hi, was[1]))
    by_block: dict[str, tuple[list[int], list[str]]] = {}
    # the status is checked here, not in SQL: with it there SQLite's planner reads the
    # status index (every open lead) instead of the block index
    for sql, params in _block_windows(table, sorted(windows.items())):
        cursor.execute(sql, params)
        for pk, status, key, kind in cursor.fetchall():
            if status in OPEN_STATUSES and kind != CustomerType.INDIVIDUAL:
                ids, block_keys = by_block.setdefault(block_of(key), ([], []))
                ids.append(pk)
                block_keys.append(key)
    matched = set()
    for key in keys:
        ids, block_keys = by_block.get(block_of(key), ((), ()))
        matched.update(ids[i] for i in near_identical_among(key, block_keys))
    return matched


def _block_windows(table: str, blocks: list[tuple[str, tuple[int, int]]]):
    """Queries (with their parameters) reading id, status, key and kind of the leads of each
    block whose key length lies in the block's window. PostgreSQL: the windows as three
    arrays, each an index range scan through LATERAL (OFFSET 0 keeps the planner from
    flattening it into a join, for which it hashes the whole table); SQLite: ORed
    conditions, 200 at a time."""
    columns = "id, status, company_key, customer_type"
    if not blocks:
        return
    if connection.vendor == "postgresql":
        yield (
            f"SELECT l.* FROM unnest(%s::text[], %s::int[], %s::int[]) AS w(block, lo, hi) "
            f"CROSS JOIN LATERAL (SELECT {columns} FROM {table} WHERE company_block = w.block "
            "AND LENGTH(company_key) BETWEEN w.lo AND w.hi OFFSET 0) AS l",
            [[b for b, _w in blocks], [w[0] for _b, w in blocks], [w[1] for _b, w in blocks]],
        )
        return
    for start in range(0, len(blocks), 200):
        part = blocks[start : start + 200]
        terms = " OR ".join(
            ["(company_block = %s AND LENGTH(company_key) BETWEEN %s AND %s)"] * len(part)
        )
        yield (
            f"SELECT {columns} FROM {table} WHERE {terms}",
            [v for block, (lo, hi) in part for v in (block, lo, hi)],
        )


def rekey_companies(using: str = "default", batch: int = 2000) -> int:
    """Recompute the stored `company_key` (and block) of the leads whose key still begins
    with a place `company_key` now strips — after its list of places grew. Returns how many
    changed. Reads only the blocks such keys can be in."""
    leads = Lead.objects.using(using)
    blocks = sorted({place[:2] for place in PLACES})
    changed: list[Lead] = []
    count = 0
    rows = leads.filter(company_block__in=blocks).values_list("pk", "company_name", "company_key")
    for pk, name, old in rows.iterator(chunk_size=batch):
        key = company_key(name)
        if key != old:
            changed.append(Lead(pk=pk, company_key=key, company_block=block_of(key)))
        if len(changed) >= batch:
            count += leads.bulk_update(changed, ["company_key", "company_block"])
            changed = []
    if changed:
        count += leads.bulk_update(changed, ["company_key", "company_block"])
    return count


def recency(row: tuple) -> tuple[datetime, int]:
    """A candidate row's sort key, most recent last: (acquisition time, id). SQLite's raw
    rows carry naive UTC datetimes, the ORM's aware ones; both compare here."""
    moment = row[6]
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, row[0]


def near_identical_among(key: str, keys: list[str]) -> list[int]:
    """The positions, in order, of the `keys` near-identical to `key`: a typo apart
    (`FUZZY_THRESHOLD`), but never names that differ in a number (一分店/1号店 ≠ 2号店). The
    ratios in one rapidfuzz call (a popular block holds hundreds of keys), numbers compared
    only for the close ones. An intake's candidates, a batch's blocks and the importer's
    index use it."""
    hits = process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD, limit=None)
    return sorted(i for other, _score, i in hits if _same_numbers(key, other))


def _same_numbers(a: str, b: str) -> bool:
    return _DIGITS.findall(a) == _DIGITS.findall(b)


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
