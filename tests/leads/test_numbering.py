"""R1.6 lead numbers under concurrent entry, on SQLite and PostgreSQL."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from leadflow.leads.models import Lead
from leadflow.leads.numbering import format_number, next_number

from ..factories import lead_data, submit

WRITERS, EACH = 8, 100


def test_r1_6_format_widens_instead_of_failing():
    from datetime import date

    assert format_number("G", date(2023, 10, 28), 1) == "G20231028001"
    assert format_number("HZ", date(2023, 10, 28), 999) == "HZ20231028999"
    assert format_number("G", date(2023, 10, 28), 1000) == "G202310281000"


@pytest.mark.django_db(transaction=True)
def test_r1_6_numbering_outside_a_transaction_is_refused():
    from leadflow.leads.models import Channel

    with pytest.raises(RuntimeError):
        next_number(channel=Channel.objects.get(code="G"), day=timezone.localdate())


@pytest.mark.django_db(transaction=True)
def test_r1_6_parallel_writers_get_001_to_800_with_no_gap_and_no_duplicate(support):
    acquired = datetime(2023, 10, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    batches = [
        [lead_data(acquired_at=acquired.isoformat()) for _ in range(EACH)] for _ in range(WRITERS)
    ]
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(batch):
        try:
            start.wait()
            for data in batch:
                data.pop("acquired_at")
                submit(support, acquired_at=acquired.isoformat(), **data)
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    numbers = sorted(Lead.objects.values_list("number", flat=True))
    assert numbers == [f"G20231028{n:03d}" for n in range(1, WRITERS * EACH + 1)]


@pytest.mark.django_db(transaction=True)
def test_r1_5_simultaneous_first_submissions_of_one_customer_make_one_lead(support):
    """Eight people enter the same new customer at the same moment: one lead, seven touches."""
    from leadflow.leads.models import LeadTouch

    same = lead_data(phone="13913574321")
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n):
        try:
            start.wait()
            submit(support, **{**same, "contact_name": f"录入人{n}"})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert Lead.objects.count() == 1
    assert LeadTouch.objects.filter(lead=Lead.objects.get()).count() == WRITERS - 1


@pytest.mark.django_db
def test_r1_6_a_batch_reserves_many_channel_days_at_once_after_what_exists():
    from datetime import date

    from django.db import transaction

    from leadflow.leads.models import Channel, LeadNumberCounter
    from leadflow.leads.numbering import reserve_many

    g, hz = Channel.objects.get(code="G"), Channel.objects.get(code="HZ")
    day, other = date(2023, 10, 28), date(2023, 10, 29)
    LeadNumberCounter.objects.create(channel=g, day=day, last=7)
    with transaction.atomic():
        last = reserve_many({(g, day): 3, (hz, day): 2, (g, other): 1})
    assert last == {(g.pk, day): 10, (hz.pk, day): 2, (g.pk, other): 1}
    with transaction.atomic():
        assert next_number(channel=g, day=day) == "G20231028011"
