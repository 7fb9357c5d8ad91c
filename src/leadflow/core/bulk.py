"""Fast inserts of many rows for the importer: COPY on PostgreSQL, executemany on SQLite.

`QuerySet.bulk_create` compiles every value of every row through the field machinery
(about 60 % of an import's time when it was used); here each column gets one converter,
chosen once per call. Values must already be clean — these are rows the intake rules made.
"""

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models


def columns_of(model: type[models.Model]) -> list[str]:
    """Every concrete column but the primary key, by attribute name (channel_id, …)."""
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


def rows_of(objects: Iterable[models.Model], columns: Sequence[str]) -> list[tuple]:
    return [tuple(getattr(obj, name) for name in columns) for obj in objects]


class _Plan:
    """Column names and one converter per column, worked out once per call."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        q = connection.ops.quote_name
        self.table = q(model._meta.db_table)
        self.quoted = [q(fields[c].column) for c in columns]
        self.names = ", ".join(self.quoted)
        self.marks = ", ".join(["%s"] * len(columns))
        self.convert = [_converter(fields[c]) for c in columns]
        # only the columns that need converting are touched (on PostgreSQL: JSON alone)
        self.converting = [(i, c) for i, c in enumerate(self.convert) if c is not None]

    def rows(self, rows: Iterable[tuple]) -> list[tuple]:
        converting = self.converting
        if not converting:
            return list(rows)
        out = []
        for row in rows:
            values = list(row)
            for i, convert in converting:
                if values[i] is not None:
                    values[i] = convert(values[i])
            out.append(values)
        return out


def insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    table: str | None = None,
) -> None:
    """Insert `rows` (tuples in `columns` order) into the model's table, or into `table`."""
    if not rows:
        return
    plan = _Plan(model, columns)
    target = connection.ops.quote_name(table) if table else plan.table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {target} ({plan.names}) FROM STDIN") as copy:
                for row in plan.rows(rows):
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {target} ({plan.names}) VALUES ({plan.marks})", plan.rows(rows)
            )


def insert_one(obj: models.Model) -> int:
    """Insert one object — every column but the primary key — and return its primary key:
    one plain statement, without `save()`'s compilation of every field."""
    model = type(obj)
    plan = _plan_of(model, connection.vendor)
    pk = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {plan.table} ({plan.names}) VALUES ({plan.marks}) RETURNING {pk}",
            plan.rows(rows_of([obj], columns_of(model)))[0],
        )
        return cursor.fetchone()[0]


@functools.cache
def _plan_of(model: type[models.Model], vendor: str) -> _Plan:
    """A plan of every column but the key, kept per engine (`vendor` is part of the key)."""
    return _Plan(model, columns_of(model))


def update(
    model: type[models.Model],
    key: str,
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    rising: Sequence[str] = (),
) -> None:
    """`UPDATE … SET columns WHERE key = …` for each row (values of `columns`, then the
    key): on PostgreSQL one statement joining the rows COPYed into a temporary table, on
    SQLite one executemany (in-process, no round trips). A column named in `rising` only
    ever goes up: it takes the greater of its value and the row's."""
    if not rows:
        return
    plan = _Plan(model, [*columns, key])
    *sets, k = plan.quoted
    up = {plan.quoted[columns.index(c)] for c in rising}
    if connection.vendor == "postgresql":
        staging = _staging(model, plan, [*columns, key], rows)
        assignments = ", ".join(
            f"{n} = GREATEST(t.{n}, s.{n})" if n in up else f"{n} = s.{n}" for n in sets
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {plan.table} AS t SET {assignments} FROM {staging} AS s "
                f"WHERE t.{k} = s.{k}"
            )
            cursor.execute(f"DELETE FROM {staging}")
        return
    assignments = ", ".join(f"{n} = MAX({n}, %s)" if n in up else f"{n} = %s" for n in sets)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {plan.table} SET {assignments} WHERE {k} = %s", plan.rows(rows))


SMALL = 50  # fewer rows than this go as one pipelined statement, not through a staging table


def insert_ignoring(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple], *, unique: str
) -> None:
    """`insert`, skipping rows whose `unique` column already holds the value (the outbox's
    dedup keys): INSERT … ON CONFLICT DO NOTHING on PostgreSQL — many rows COPYed into a
    temporary table first —, INSERT OR IGNORE on SQLite."""
    if not rows:
        return
    plan = _Plan(model, columns)
    key = connection.ops.quote_name(model._meta.get_field(unique).column)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(
                f"INSERT OR IGNORE INTO {plan.table} ({plan.names}) VALUES ({plan.marks})",
                plan.rows(rows),
            )
        elif len(rows) < SMALL:  # one statement, one round trip
            values = ", ".join([f"({plan.marks})"] * len(rows))
            cursor.execute(
                f"INSERT INTO {plan.table} ({plan.names}) VALUES {values} "
                f"ON CONFLICT ({key}) DO NOTHING",
                [v for row in plan.rows(rows) for v in row],
            )
        else:
            staging = _staging(model, plan, columns, rows)
            cursor.execute(
                f"INSERT INTO {plan.table} ({plan.names}) SELECT {plan.names} FROM {staging} "
                f"ON CONFLICT ({key}) DO NOTHING"
            )
            cursor.execute(f"DELETE FROM {staging}")


def _staging(
    model: type[models.Model], plan: _Plan, columns: Sequence[str], rows: Sequence[tuple]
) -> str:
    """A temporary table (PostgreSQL) with `plan`'s columns, holding `rows` (by COPY)."""
    digest = hashlib.sha1(plan.names.encode()).hexdigest()[:8]  # one table per column set
    name = f"staging_{model._meta.db_table}_{digest}"
    staging = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
            f"AS SELECT {plan.names} FROM {plan.table} WITH NO DATA"
        )
    insert(model, columns, rows, table=name)
    return staging


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    ops = connection.ops
    if kind == "JSONField":
        return _json
    if connection.vendor == "postgresql":
        return None  # psycopg writes datetimes, dates and decimals itself
    if kind == "DateTimeField":
        return sqlite_datetime
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DecimalField":
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    return None


@functools.cache
def _record_plan(model: type[models.Model]) -> tuple[tuple[str, str, Callable | None], ...]:
    convert = {
        "DateTimeField": datetime.isoformat,
        "DateField": date.isoformat,
        "DecimalField": str,
    }
    return tuple(
        (f.column, f.attname, convert.get(f.get_internal_type()))
        for f in model._meta.concrete_fields
        if not f.primary_key
    )


def record_columns(model: type[models.Model]) -> list[str]:
    """The keys of `as_record`'s document: every column but the primary key."""
    return [column for column, _attname, _convert in _record_plan(model)]


def as_record(obj: models.Model) -> str:
    """One row as a single JSON document for PostgreSQL's `jsonb_populate_record`: a
    60-column insert then goes as one parameter, its statement the same every time (psycopg
    caches the parsing of statements with at most 50 parameters; Django compiles every field
    of `save()` anew). Every column but the primary key; values must be clean."""
    row = {}
    for column, attname, convert in _record_plan(type(obj)):
        value = getattr(obj, attname)
        row[column] = convert(value) if convert is not None and value is not None else value
    return json.dumps(row, ensure_ascii=False, cls=DjangoJSONEncoder)


class EncodedJson(str):
    """A JSON value encoded already: rows that share one (a message's payload on each of
    its channels) are encoded once."""


def _json(value: Any) -> str:
    if isinstance(value, EncodedJson):
        return value
    if not value and isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"  # most rows: no findings, no evidence
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def db_datetime(value: datetime):
    """A moment as a raw query parameter: psycopg takes it as it is; SQLite stores what
    Django would (`sqlite_datetime`)."""
    return value if connection.vendor == "postgresql" else sqlite_datetime(value)


def sqlite_datetime(value: datetime) -> str:
    """What Django stores on SQLite with USE_TZ: naive UTC in ISO form."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")
