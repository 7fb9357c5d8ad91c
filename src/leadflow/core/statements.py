"""Statements that PostgreSQL parses and plans once per connection.

Django's PostgreSQL backend binds parameters on the client (psycopg's `ClientCursor`): every
statement reaches the server as new text, and the server parses and plans it each time.
For the few statements that run on every intake that was most of the server's work — the
duplicate candidates took 0.7 ms to plan and 0.5 ms to run (EXPLAIN ANALYZE, 150,000
leads). `prepared_cursor()` is a cursor on the same connection and transaction that binds
server-side and prepares each statement the first time the connection runs it (psycopg
keeps the last 100 per connection). The server then plans a statement once, or — where its
parameters could change the plan — chooses a generic or a custom plan.

psycopg's preparing is on (`prepare_threshold` 0) only while such a cursor is open. Django
turns it off (None) for good reason: switched on for the whole connection, psycopg counts
every statement it runs, keyed by its full text — and Django's client-side statements carry
their values, an import's id lists among them: the importer's peak memory rose by 26 MB
(bench/import.py, 498 → 524 MB) when it was on for all.

Server-side parameters are typed: a `None` or a string arrives as "unknown" and the server
infers its type from where it stands (a column compared or inserted into); where nothing
says, give it a cast (`%s::bigint`). One statement per `execute`. (psycopg's pipeline mode
would send two in one round trip, but cost the web process more CPU than the round trip:
bench/intake.py, 2.2 against 2.1 ms a request.)

On SQLite (in-process, nothing to plan twice) it is the plain cursor.
"""

import contextlib
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def prepared_cursor() -> Iterator:
    """A Django cursor (query logging and wrappers included) that binds server-side."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()  # as `connection.cursor()` does, with another cursor class
    connection.validate_thread_sharing()
    native = connection.connection
    raw = psycopg.Cursor(native)
    wrapped = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    was, native.prepare_threshold = native.prepare_threshold, 0
    try:
        with wrapped as cursor:
            yield cursor
    finally:
        native.prepare_threshold = was
