"""R2.5, R2.6, R2.4 under concurrency: claims, sweepers and delivery workers racing on real
connections (row locks and SKIP LOCKED on PostgreSQL; SQLite serialises writers)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from leadflow.accounts.models import RepProfile
from leadflow.assignment import pool, services
from leadflow.assignment.models import Assignment
from leadflow.leads.models import Lead, StageChange, Status
from leadflow.notifications import outbox
from leadflow.notifications.models import AllowedHost, Notification, WebhookEndpoint
from leadflow.notifications.services import lead_event

from ..notifications.conftest import Receiver

T0 = timezone.make_aware(timezone.datetime(2026, 11, 2, 10, 0))
N = 6


def race(worker, n: int) -> tuple[list, list]:
    start = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            start.wait()
            results.append(worker(i))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_r2_6_reps_claiming_one_lead_at_once_exactly_one_wins(org):
    reps = [org.rep(f"claimer{i}", org.east, ["华东"]) for i in range(N)]
    lead = org.lead(T0)
    Lead.objects.filter(pk=lead.pk).update(status=Status.POOL, owner=None, team=None)
    now = T0 + timedelta(days=1)
    won, errors = race(lambda i: pool.claim(lead=lead, rep=reps[i], now=now), N)
    assert len(won) == 1
    assert len(errors) == N - 1
    assert {e.code for e in errors} == {"already_claimed"}, errors
    lead.refresh_from_db()
    assert lead.owner == won[0].rep and lead.status == Status.CONTACTING
    assert Assignment.objects.filter(lead=lead, kind="claim").count() == 1


@pytest.mark.django_db(transaction=True)
def test_r2_5_concurrent_sweepers_expire_each_confirmation_once(org):
    leads = [org.lead(T0) for _ in range(12)]
    later = T0 + timedelta(hours=25)
    done, errors = race(lambda i: services.expire_due(later), 4)
    assert not errors, errors[:2]
    assert sum(done) == 12
    assert Assignment.objects.filter(state="expired").count() == 12
    for lead in leads:  # one reassignment each, never two
        moves = StageChange.objects.filter(
            lead=lead, from_status=Status.ASSIGNED, to_status=Status.ASSIGNED
        )
        assert moves.count() == 1
    assert Assignment.objects.filter(state="pending").count() == 12


@pytest.mark.django_db(transaction=True)
def test_r2_4_concurrent_delivery_workers_send_each_message_once(org):
    receiver = Receiver()
    try:
        AllowedHost.objects.create(host="127.0.0.1")
        WebhookEndpoint.objects.create(name="crm", url=receiver.url, secret="k")
        lead = org.unverified(T0)
        for n in range(30):
            lead_event(lead, "lead.assigned", at=T0, key=f"k{n}")
        _settled, errors = race(lambda i: outbox.deliver_due(T0, limit=7), 4)
        while outbox.deliver_due(T0):
            pass
        assert not errors, errors[:2]
        assert Notification.objects.filter(state="sent", channel="webhook").count() == 30
        deliveries = [r["headers"]["X-LeadFlow-Delivery"] for r in receiver.requests]
        assert len(deliveries) == len(set(deliveries)) == 30
    finally:
        receiver.close()


@pytest.mark.django_db(transaction=True)
def test_r2_2_a_batch_of_several_chunks_writes_in_a_second_thread(org, monkeypatch):
    from leadflow.assignment import services as assignment

    monkeypatch.setattr(assignment, "CHUNK", 3)
    leads = [org.unverified(T0) for _ in range(8)]
    Lead.objects.filter(pk__in=[x.pk for x in leads]).update(status=Status.UNASSIGNED)
    taken = leads[4]  # placed by someone else between planning and writing
    original = assignment._write_chunk

    def write(placed, *args):
        Lead.objects.filter(pk=taken.pk).update(status=Status.INVALID)
        return original(placed, *args)

    monkeypatch.setattr(assignment, "_write_chunk", write)
    result = assignment.assign_batch(Lead.objects.all(), now=T0)
    assert (result.assigned, result.unplaced) == (7, 0)
    assert Lead.objects.filter(status=Status.ASSIGNED).count() == 7
    assert Assignment.objects.filter(state="pending").count() == 7
    assert not Assignment.objects.filter(lead=taken).exists()
    assert sum(RepProfile.objects.values_list("open_leads", flat=True)) == 7


@pytest.mark.django_db(transaction=True)
def test_r2_2_a_failing_writer_stops_the_batch_and_reports(org, monkeypatch):
    from leadflow.assignment import services as assignment

    monkeypatch.setattr(assignment, "CHUNK", 2)
    leads = [org.unverified(T0) for _ in range(6)]
    Lead.objects.filter(pk__in=[x.pk for x in leads]).update(status=Status.UNASSIGNED)
    original, calls, failed = assignment._write_chunk, [], []

    def write(placed, *args):
        calls.append(len(placed))
        if len(calls) == 2:
            failed.extend(lead.pk for lead, _rep, _routing in placed)
            raise RuntimeError("disk full")
        return original(placed, *args)

    monkeypatch.setattr(assignment, "_write_chunk", write)
    with pytest.raises(RuntimeError, match="disk full"):
        assignment.assign_batch(Lead.objects.all(), now=T0)
    # each chunk is its own transaction: the failed one rolled back whole, the ones other
    # writers had under way committed whole, and nothing was planned after the failure
    assigned = Lead.objects.filter(status=Status.ASSIGNED)
    assert assigned.count() in (2, 4)
    assert set(Lead.objects.filter(pk__in=failed).values_list("status", flat=True)) == {
        Status.UNASSIGNED
    }
    assert Assignment.objects.count() == assigned.count()
    assert sum(RepProfile.objects.values_list("open_leads", flat=True)) == assigned.count()
