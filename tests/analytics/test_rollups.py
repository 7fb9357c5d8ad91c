"""Stored monthly figures (R4.1–R4.6 over long periods): a dashboard that adds up stored
months shows exactly what reading every row shows; a change to a lead, its stage changes or
a follow-up naming a competitor — by any path, bulk updates included — marks its month, read
live until the next refresh. On both databases."""

from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F

from leadflow.accounts.models import Role
from leadflow.analytics import dashboards, queries, rollups
from leadflow.analytics.models import Rollup, RollupMonth, StaleDay
from leadflow.assignment import pool
from leadflow.assignment.models import Assignment
from leadflow.core.sweeps import SWEEPS
from leadflow.followups.models import FollowUp, Tally
from leadflow.leads.models import Lead, Status

from ..factories import make_user
from ..followups.conftest import T0

pytestmark = pytest.mark.django_db

NOW = T0 + timedelta(days=20)
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
ALL = queries.Filters()
TWO_MONTHS = queries.Filters(since=OCTOBER, until=date(2026, 11, 30))


def figures(user, filters):
    b = dashboards.build(user, filters, now=NOW)
    return (
        b.funnel, b.charts["cohorts"], b.channels, b.cycle, b.losses, b.reps, b.discipline,
        b.kpis,
    )  # fmt: skip


def live(user, filters):
    """The figures with nothing stored: every row read."""
    with transaction.atomic():
        RollupMonth.objects.all().delete()
        found = figures(user, filters)
        transaction.set_rollback(True)
    return found


def plan(user, filters):
    return rollups.attach(filters.visible_to(user), user, filters)


@pytest.fixture
def named(five):
    """B's follow-up named a competitor (the losses report reads it from stored months)."""
    FollowUp.objects.filter(lead=five["b"]).update(competitor="友商甲")
    return five


def test_r4_1_stored_months_give_every_report_as_reading_every_row_does(named, desk):
    admin = make_user("boss", Role.ADMIN)
    views = [
        (admin, ALL),
        (admin, TWO_MONTHS),
        (desk.support, ALL),
        (desk.m_east, queries.Filters(team=desk.east.pk)),
        (desk.m_north, queries.Filters(team=desk.north.pk)),
    ]
    expected = [live(user, f) for user, f in views]
    assert rollups.refresh(NOW) == 2  # October and November
    assert not StaleDay.objects.exists()
    for (user, f), want in zip(views, expected, strict=True):
        p = plan(user, f)
        assert p is not None and p.months == [OCTOBER, NOVEMBER], (user, f)
        assert not p.rest.exists()  # nothing read from the leads for those reports
        assert figures(user, f) == want, (user, f)
    lost = figures(admin, ALL)[4]
    assert lost.competitors == [("友商甲", 1)] and lost.reasons and lost.by_stage
    # the team's stored rows are its own: 华东 holds the five leads, 华北 none of them
    east = Rollup.objects.filter(team=desk.east.pk, part="cohorts")
    assert sum(r.n for r in east) == Lead.objects.filter(team=desk.east).count()


def test_r4_1_a_change_marks_its_month_read_live_until_the_next_refresh(named, desk):
    admin = make_user("boss", Role.ADMIN)
    rollups.refresh(NOW)
    e = Lead.objects.get(pk=named["e"].pk)  # acquired in October, back in the pool
    pool.claim(lead=e, rep=desk.north1, now=NOW)
    assert StaleDay.objects.exists()
    p = plan(admin, ALL)
    assert p.months == [NOVEMBER]  # October is read from the leads until computed again
    assert set(p.rest.values_list("pk", flat=True)) == set(
        Lead.objects.filter(acquired_at__lt=rollups._start(NOVEMBER)).values_list("pk", flat=True)
    )
    assert figures(admin, ALL) == live(admin, ALL)
    assert figures(desk.m_north, queries.Filters(team=desk.north.pk)) == live(
        desk.m_north, queries.Filters(team=desk.north.pk)
    )
    assert rollups.refresh(NOW) == 1 and not StaleDay.objects.exists()
    assert plan(admin, ALL).months == [OCTOBER, NOVEMBER]
    assert figures(admin, ALL) == live(admin, ALL)
    assert rollups.refresh(NOW) == 0  # nothing changed since


def test_r4_1_writes_by_any_path_mark_the_month_and_others_do_not(named, desk):
    rollups.refresh(NOW)
    a, c = named["a"], named["c"]
    Lead.objects.filter(pk=a.pk).update(notes="回访记录", next_followup_due=NOW)  # not counted
    assert not StaleDay.objects.exists()
    Lead.objects.filter(pk=c.pk).update(grade="A")  # a bulk update, no save(), no signal
    assert rollups.months_of_days(StaleDay.objects.values_list("day", flat=True)) == {OCTOBER}
    rollups.refresh(NOW)
    a.stage_changes.filter(from_status=Status.CONTACTING).update(at=NOW)  # a stay's length
    assert rollups.months_of_days(StaleDay.objects.values_list("day", flat=True)) == {NOVEMBER}
    rollups.refresh(NOW)
    a.followups.update(competitor="友商乙")  # a competitor named afterwards
    assert StaleDay.objects.exists()
    rollups.refresh(NOW)
    Assignment.objects.filter(lead=c).update(state=Assignment.State.EXPIRED)  # lapsed
    assert rollups.months_of_days(StaleDay.objects.values_list("day", flat=True)) == {OCTOBER}
    rollups.refresh(NOW)
    Tally.objects.filter(lead=a).update(records_late=F("records_late") + 1)
    assert rollups.months_of_days(StaleDay.objects.values_list("day", flat=True)) == {NOVEMBER}
    rollups.refresh(NOW)
    Lead.objects.filter(pk=named["d"].pk).delete()
    assert StaleDay.objects.exists()
    assert rollups.refresh(NOW) == 1
    assert figures(desk.support, ALL) == live(desk.support, ALL)


def test_r4_1_r5_1_stored_months_serve_only_views_of_every_lead_by_period_and_team(named, desk):
    rollups.refresh(NOW)
    admin = make_user("boss", Role.ADMIN)
    assert plan(admin, queries.Filters(channel="G")) is None  # another filter: read live
    assert plan(admin, queries.Filters(rep=desk.east1.pk)) is None
    assert plan(admin, queries.Filters(grade="A")) is None
    assert plan(desk.east1, ALL) is None  # a rep sees part of the leads
    assert plan(desk.m_east, ALL) is None  # a manager, every lead only of their own team
    assert plan(desk.m_east, queries.Filters(team=desk.north.pk)) is None
    assert plan(desk.m_east, queries.Filters(team=desk.east.pk)).team == desk.east.pk
    # whole months only: from 15 October, October is read from the leads
    part = queries.Filters(since=date(2026, 10, 15), until=date(2026, 11, 30))
    assert plan(admin, part).months == [NOVEMBER]
    assert plan(admin, queries.Filters(since=OCTOBER, until=date(2026, 11, 29))).months == [OCTOBER]
    assert figures(admin, part) == live(admin, part)


def test_r4_1_the_sweeper_refreshes_the_stored_months(named):
    [sweep] = [s for s in SWEEPS if s.name == "report-rollups"]
    assert sweep.run(NOW) == 2 and RollupMonth.objects.count() == 2
    assert sweep.every <= timedelta(minutes=5)


def test_r4_1_one_refresh_at_a_time(named):
    """Two sweepers: a refresh that finds another at work leaves it to that one (PostgreSQL;
    SQLite's write transactions run one at a time)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's advisory lock; SQLite serialises its writers")
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
        port=settings["PORT"] or 5432, password=settings["PASSWORD"] or None, autocommit=True,
    )  # fmt: skip
    with other:
        other.execute("SELECT pg_advisory_lock(hashtext('leadflow.rollups'))")
        assert rollups.refresh(NOW) == 0 and not RollupMonth.objects.exists()
        other.execute("SELECT pg_advisory_unlock(hashtext('leadflow.rollups'))")
    assert rollups.refresh(NOW) == 2
