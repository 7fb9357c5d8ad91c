"""R2.6 the lead pool 公海: warnings, returns, claims with their limits and cool-down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.assignment import pool, services
from leadflow.assignment.models import AssignmentPolicy, PoolReturn
from leadflow.leads.models import Lead, Status
from leadflow.notifications.models import Notification

pytestmark = pytest.mark.django_db
T0 = timezone.make_aware(timezone.datetime(2026, 11, 2, 10, 0))


@pytest.fixture
def worked(org):
    """A grade-C lead accepted by its rep at T0: back to the pool after 30 days."""
    lead = org.lead(T0, need="了解一下产品功能和价格")
    services.accept(lead=lead, rep=lead.owner, now=T0)
    lead.refresh_from_db()
    assert lead.grade == "C" and lead.pool_due == T0 + timedelta(days=30)
    return lead


def test_r2_6_the_owner_is_warned_then_the_lead_returns_to_the_pool(org, worked):
    owner = worked.owner
    assert pool.warn_due(T0 + timedelta(days=28)) == 0
    assert pool.warn_due(T0 + timedelta(days=29, hours=1)) == 1
    assert pool.warn_due(T0 + timedelta(days=29, hours=2)) == 0  # once
    warning = Notification.objects.get(kind="pool_warning", channel="in_app")
    assert warning.recipient == owner and worked.number in warning.title
    assert pool.return_due(T0 + timedelta(days=29, hours=23)) == 0
    assert pool.return_due(T0 + timedelta(days=30, minutes=1)) == 1
    worked.refresh_from_db()
    assert (worked.status, worked.owner, worked.pool_due) == (Status.POOL, None, None)
    assert PoolReturn.objects.get(lead=worked).previous_owner == owner
    assert Notification.objects.filter(kind="returned_to_pool", recipient=owner).exists()


def test_r2_6_a_follow_up_moves_the_pool_deadline(org, worked):
    pool.note_contact(worked, T0 + timedelta(days=20))
    assert pool.return_due(T0 + timedelta(days=31)) == 0
    worked.refresh_from_db()
    assert worked.pool_due == T0 + timedelta(days=50)


def test_r2_6_claim_makes_it_mine_at_once_and_the_previous_owner_waits(org, worked):
    owner = worked.owner
    other = org.east1 if owner == org.east2 else org.east2
    pool.return_due(T0 + timedelta(days=31))
    now = T0 + timedelta(days=31, hours=1)
    with pytest.raises(services.AssignmentError) as exc:
        pool.claim(lead=worked, rep=owner, now=now)
    assert exc.value.code == "cooldown" and "后才能重新领取" in str(exc.value.message)
    a = pool.claim(lead=worked, rep=other, now=now)
    worked.refresh_from_db()
    assert (worked.status, worked.owner, a.kind, a.state) == (
        Status.CONTACTING,
        other,
        "claim",
        "accepted",
    )
    with pytest.raises(services.AssignmentError) as exc:
        pool.claim(lead=worked, rep=org.north1, now=now)
    assert exc.value.code == "already_claimed"


def test_r2_6_daily_claim_limit_and_holding_cap(org):
    AssignmentPolicy.objects.update_or_create(
        pk=1, defaults={"claim_daily_limit": 2, "pool_holding_cap": 3}
    )
    leads = [org.lead(T0) for _ in range(5)]
    Lead.objects.filter(pk__in=[x.pk for x in leads]).update(
        status=Status.POOL, owner=None, team=None
    )
    day1 = T0 + timedelta(days=1)
    for lead in leads[:2]:
        pool.claim(lead=lead, rep=org.north1, now=day1)
    with pytest.raises(services.AssignmentError) as exc:
        pool.claim(lead=leads[2], rep=org.north1, now=day1 + timedelta(hours=1))
    assert exc.value.code == "daily_limit" and "2 条" in str(exc.value.message)
    day2 = day1 + timedelta(days=1)
    pool.claim(lead=leads[2], rep=org.north1, now=day2)
    with pytest.raises(services.AssignmentError) as exc:
        pool.claim(lead=leads[3], rep=org.north1, now=day2)
    assert exc.value.code == "holding_cap"
