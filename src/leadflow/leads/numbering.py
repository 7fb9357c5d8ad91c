"""Lead numbers (线索编号, R1.6): channel code + acquisition day + per-channel-day serial.

G20231028001 is the first lead of 官网 (code G) acquired on 28 Oct 2023 (Asia/Shanghai).
Sub-channels number under their top-level channel, so every 官网 lead starts with G.
The serial is three digits and widens past 999 (G202310281000) instead of failing.

The counter row is bumped by one upsert statement inside the caller's transaction:
PostgreSQL locks the row until commit, SQLite's IMMEDIATE transactions hold the write lock,
so concurrent writers queue, and a rolled-back intake returns its serial (no gaps).
"""

from datetime import date

from django.db import connection, transaction

from .models import Channel, LeadNumberCounter


def format_number(code: str, day: date, serial: int) -> str:
    return f"{code}{day:%Y%m%d}{serial:03d}"


def format_number_sql(prefix: str, serial: str) -> str:
    """`format_number` as a PostgreSQL expression: `prefix` (code and day) and `serial` are
    SQL; the serial has three digits at least and widens past 999."""
    return f"{prefix} || lpad(({serial})::text, GREATEST(3, length(({serial})::text)), '0')"


def counter_upsert_sql() -> str:
    """Bump a channel-day's counter by a count; parameters: root channel id, day, count,
    count. Returns the last serial reserved. The row stays locked until commit."""
    table = connection.ops.quote_name(LeadNumberCounter._meta.db_table)
    return (
        f"INSERT INTO {table} (channel_id, day, last) VALUES (%s, %s, %s) "
        f"ON CONFLICT (channel_id, day) DO UPDATE SET last = {table}.last + %s "
        "RETURNING last"
    )


def next_number(*, channel: Channel, day: date) -> str:
    return reserve_numbers(channel=channel, day=day, count=1)[0]


def reserve_numbers(*, channel: Channel, day: date, count: int) -> list[str]:
    """`count` consecutive numbers of `channel`'s root for `day`, in one statement (the
    importer reserves a whole batch's numbers per channel-day at once)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers must be reserved inside the transaction that saves the leads")
    root = channel.root
    with connection.cursor() as cursor:
        cursor.execute(counter_upsert_sql(), [root.pk, day, count, count])
        (last,) = cursor.fetchone()
    return [format_number(root.code, day, serial) for serial in range(last - count + 1, last + 1)]


def reserve_many(counts: dict[tuple[Channel, date], int]) -> dict[tuple[int, date], int]:
    """Serials for many channel-days in one statement: {(root channel, day): how many} →
    {(root channel id, day): the last serial reserved}; the first is last − count + 1."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers must be reserved inside the transaction that saves the leads")
    if not counts:
        return {}
    table = connection.ops.quote_name(LeadNumberCounter._meta.db_table)
    values = ", ".join(["(%s, %s, %s)"] * len(counts))
    params = [p for (channel, day), n in counts.items() for p in (channel.pk, day, n)]
    sql = (
        f"INSERT INTO {table} (channel_id, day, last) VALUES {values} "
        f"ON CONFLICT (channel_id, day) DO UPDATE SET last = {table}.last + excluded.last "
        "RETURNING channel_id, day, last"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {(channel_id, _as_date(day)): last for channel_id, day, last in rows}


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
