"""R1.5, R1.6: the intake's hot statements go through `prepared_cursor` — on PostgreSQL bound
server-side and prepared once per connection (the server no longer plans them on every
intake); on SQLite the plain cursor. Either way the results are the ORM's."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leadflow.core.statements import prepared_cursor
from leadflow.leads.models import Lead

from ..factories import submit

pytestmark = pytest.mark.django_db


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_r1_5_a_statement_reads_the_same_rows_through_the_prepared_cursor(support):
    lead = submit(support).lead
    sql = f"SELECT id, number FROM {Lead._meta.db_table} WHERE number = %s AND id > %s"
    for _ in range(3):
        with prepared_cursor() as cursor:
            cursor.execute(sql, [lead.number, 0])
            assert cursor.fetchall() == [(lead.pk, lead.number)]
        with prepared_cursor() as cursor:
            cursor.execute(sql, ["G00000000000", 0])
            assert cursor.fetchall() == []


def test_r1_5_the_queries_are_logged_like_any_other(support):
    with CaptureQueriesContext(connection) as queries, prepared_cursor() as cursor:
        cursor.execute("SELECT %s + 1", [41])
        assert cursor.fetchone() == (42,)
    assert len(queries) == 1


def test_r1_6_an_intake_prepares_its_statements_once_and_the_orm_none(support):
    if connection.vendor != "postgresql":  # SQLite runs in-process: the plain cursor
        with prepared_cursor() as cursor, connection.cursor() as plain:
            assert type(cursor.cursor) is type(plain.cursor)
        return
    submit(support)
    before = prepared()
    assert any("leads_leadnumbercounter" in s for s in before)  # the numbering insert
    assert any("pg_advisory_xact_lock" in s for s in before)  # the customer's locks
    assert any(s.startswith("SELECT id, status, phone_e164") for s in before)  # candidates
    assert not any("auth_user" in s or "django_" in s for s in before)
    with transaction.atomic():
        for _ in range(3):
            submit(support)
    assert sorted(prepared()) == sorted(before)  # reused, not prepared again
    # outside those cursors psycopg prepares (and counts) nothing, as Django configures it:
    # counted, the ORM's statements would be kept by their full text, values and all
    assert connection.connection.prepare_threshold is None
