"""`field__among=ids`: membership in a long list of integer keys as one parameter.

`__in` writes one placeholder per value and prepares each value through the field — for
the thousands of ids a batch works on, most of a query's time is spent there (and SQLite
caps the number of placeholders). `__among` sends the list whole: an array on PostgreSQL
(`= ANY(%s)`), a JSON array on SQLite (`IN (SELECT value FROM json_each(%s))`).
`select_among` does the same for raw SQL over any column."""

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


def select_among(
    table: str, columns: str, column: str, values: list, *, also: str = ""
) -> list[tuple]:
    """The same for raw SQL: `SELECT columns FROM table` for the rows whose `column` is one
    of `values` — one array parameter on PostgreSQL (psycopg parses a statement of more than
    50 parameters anew each time), placeholders in chunks of 500 on SQLite (it caps their
    number). `also`: a further condition (SQL without parameters), such as the one a
    partial index needs to be chosen."""
    if not values:
        return []
    if connection.vendor == "postgresql":
        queries = [(f"{column} = ANY(%s)", [list(values)])]
    else:
        parts = [values[i : i + 500] for i in range(0, len(values), 500)]
        queries = [(f"{column} IN ({', '.join(['%s'] * len(p))})", p) for p in parts]
    found: list[tuple] = []
    with connection.cursor() as cursor:
        for where, params in queries:
            if also:
                where = f"{where} AND {also}"
            cursor.execute(f"SELECT {columns} FROM {table} WHERE {where}", params)
            found += cursor.fetchall()
    return found


def register() -> None:
    models.Field.register_lookup(Among)
    models.ForeignObject.register_lookup(Among)  # lead_id__among=…
