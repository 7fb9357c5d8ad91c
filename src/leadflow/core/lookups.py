"""`field__among=ids`: membership in a long list of integer keys as one parameter.

`__in` writes one placeholder per value and prepares each value through the field — for
the thousands of ids a batch works on, most of a query's time is spent there (and SQLite
caps the number of placeholders). `__among` sends the list whole: an array on PostgreSQL
(`= ANY(%s)`), a JSON array on SQLite (`IN (SELECT value FROM json_each(%s))`)."""

import json

from django.db import models


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


def register() -> None:
    models.Field.register_lookup(Among)
    models.ForeignObject.register_lookup(Among)  # lead_id__among=…
