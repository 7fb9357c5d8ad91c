"""Fast inserts of many rows for the importer: COPY on PostgreSQL, executemany on SQLite.

`QuerySet.bulk_create` compiles every value of every row through the field machinery
(about 60 % of an import's time when it was used); here each column gets one converter,
chosen once per call. Values must already be clean — these are rows the intake rules made.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models


def columns_of(model: type[models.Model]) -> list[str]:
    """Every concrete column but the primary key, by attribute name (channel_id, …)."""
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


def rows_of(objects: Iterable[models.Model], columns: Sequence[str]) -> list[tuple]:
    return [tuple(getattr(obj, name) for name in columns) for obj in objects]


def insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    if not rows:
        return
    fields = {f.attname: f for f in model._meta.concrete_fields}
    convert = [_converter(fields[name]) for name in columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(fields[c].column) for c in columns)
    prepared = (
        tuple(v if v is None or c is None else c(v) for c, v in zip(convert, row, strict=True))
        for row in rows
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(prepared))


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    ops = connection.ops
    if kind == "JSONField":
        return _json
    if connection.vendor == "postgresql":
        return None  # psycopg writes datetimes, dates and decimals itself
    if kind == "DateTimeField":
        return _sqlite_datetime
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DecimalField":
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    return None


def _json(value: Any) -> str:
    if not value and isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"  # most rows: no findings, no evidence
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def _sqlite_datetime(value: datetime) -> str:
    """What Django stores on SQLite with USE_TZ: naive UTC in ISO form."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")
