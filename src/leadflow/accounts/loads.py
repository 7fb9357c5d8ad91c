"""Each rep's workload — open leads owned — as a counter on RepProfile (R2.2).

Assignment reads the counter instead of counting leads, so picking a rep costs the same
with 100 leads as with a million. Every change of owner and every close or reopen of an
owned lead adjusts it (`moved`); `recount` rebuilds it from the leads (the sweeper runs it
hourly, and the importer after writing owners in bulk), so any drift heals.
"""

from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import Greatest

from .models import RepProfile


def adjust(user_id: int | None, delta: int) -> None:
    """Add `delta` to a rep's counter. Decrements wait until the transaction commits: a
    transaction then locks at most one counter row (the new owner's, which it needs to guard
    capacity), so two reassignments in opposite directions cannot deadlock. A crash between
    commit and decrement leaves the counter one high until the next recount."""
    if user_id is None or not delta:
        return
    if delta < 0:
        transaction.on_commit(lambda: _add(user_id, delta), robust=True)
    else:
        _add(user_id, delta)


def _add(user_id: int, delta: int) -> None:
    RepProfile.objects.filter(user_id=user_id).update(
        open_leads=Greatest(F("open_leads") + delta, 0)
    )


def moved(*, old_owner: int | None, new_owner: int | None, was_open: bool, is_open: bool) -> None:
    """A lead changed owner and/or open-ness: move its weight between the counters."""
    if old_owner == new_owner and was_open == is_open:
        return
    if was_open:
        adjust(old_owner, -1)
    if is_open:
        adjust(new_owner, +1)


def recount() -> int:
    """Set every counter from the leads themselves; returns how many were wrong."""
    from leadflow.leads.models import OPEN_STATUSES, Lead

    counted = dict(
        Lead.objects.filter(status__in=OPEN_STATUSES, owner__isnull=False)
        .values_list("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    fixed = 0
    for user_id, stored in RepProfile.objects.values_list("user_id", "open_leads"):
        actual = counted.get(user_id, 0)
        if actual != stored:
            fixed += RepProfile.objects.filter(user_id=user_id).update(open_leads=actual)
    return fixed
