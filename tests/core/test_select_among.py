"""R1.7: `select_among`, how the importer and the batch duplicate check read rows by long
lists of keys — one array parameter on PostgreSQL, chunks of placeholders on SQLite."""

import pytest

from leadflow.core.lookups import select_among
from leadflow.leads.models import Lead

from ..factories import submit

pytestmark = pytest.mark.django_db


def test_r1_7_rows_by_a_long_list_of_keys_are_all_found_and_only_they(support):
    leads = [submit(support).lead for _ in range(3)]
    wanted = [f"X{n:06d}" for n in range(1200)]  # more than one SQLite chunk around them
    wanted[0], wanted[600], wanted[-1] = (lead.number for lead in leads)
    found = select_among(Lead._meta.db_table, "number, id", "number", wanted)
    assert sorted(found) == sorted((lead.number, lead.pk) for lead in leads)
    assert select_among(Lead._meta.db_table, "number, id", "number", []) == []
