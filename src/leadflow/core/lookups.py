"""`field__among=ids`: membership in a long list of integer keys as one parameter.

`__in` writes one placeholder per value and prepares each value through the field — for
the thousands of ids a batch works on, most of a query's time is spent there (and SQLite
caps the number of placeholders). `__among` sends the list whole: an array on PostgreSQL
(`= ANY(%s)`), a JSON array on SQLite (`IN (SELECT value FROM json_each(%s))`).
`among_sql` does the same for raw SQL over any column."""

import json

from django.db import connection, models


class Among(models.Lookup):
    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*params, self.rhs]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(self.rhs)]


def among_sql(column: str, values: list, chunk: int = 500):
    """The same for raw SQL: (condition, parameters) pairs that together select the rows
    whose `column` is one of `values` — one array parameter on PostgreSQL (psycopg parses a
    statement of more than 50 parameters anew each time), placeholders on SQLite in chunks
    (it caps their number)."""
    if connection.vendor == "postgresql":
        if values:
            yield f"{column} = ANY(%s)", [list(values)]
        return
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        yield f"{column} IN ({', '.join(['%s'] * len(part))})", part


def register() -> None:
    models.Field.register_lookup(Among)
    models.ForeignObject.register_lookup(Among)  # lead_id__among=…
