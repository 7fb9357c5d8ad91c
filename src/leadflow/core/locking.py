"""Claiming rows so that two processes never act on the same one."""

from django.db import connection
from django.db.models import QuerySet


def skip_locked(rows: QuerySet) -> QuerySet:
    """`rows` locked FOR UPDATE SKIP LOCKED (only the queryset's own table) where the database
    can: rows another transaction holds are left to it. SQLite has no row locks; its writers
    are serialised, so the conditional update every caller also makes is the claim there."""
    if connection.features.has_select_for_update_skip_locked:
        return rows.select_for_update(skip_locked=True, of=("self",))
    return rows
