"""The business calendar (R3.1): working hours on Chinese working days, 调休 included."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core.workcalendar import SHANGHAI, WorkCalendar, due, measure

CAL = WorkCalendar()


def at(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def test_r3_1_a_lead_assigned_friday_1750_is_due_monday_1250():
    assert local(CAL.add(at(2026, 11, 20, 17, 50), timedelta(hours=4))) == at(2026, 11, 23, 12, 50)


def test_r3_1_a_start_before_opening_counts_from_nine():
    assert local(CAL.add(at(2026, 11, 23, 7, 0), timedelta(hours=4))) == at(2026, 11, 23, 13, 0)


def test_r3_1_a_start_after_closing_counts_from_the_next_working_morning():
    assert local(CAL.add(at(2026, 11, 23, 19, 0), timedelta(hours=1))) == at(2026, 11, 24, 10, 0)


def test_r3_1_a_deadline_may_fall_exactly_at_closing_time():
    assert local(CAL.add(at(2026, 11, 23, 9, 0), timedelta(hours=9))) == at(2026, 11, 23, 18, 0)


def test_r3_1_the_make_up_saturday_before_the_spring_festival_is_worked():
    assert CAL.is_workday(date(2026, 2, 14))  # 调休: a Saturday worked
    assert local(CAL.add(at(2026, 2, 13, 17, 0), timedelta(hours=4))) == at(2026, 2, 14, 12, 0)


def test_r3_1_the_spring_festival_is_skipped():
    assert not any(CAL.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert local(CAL.add(at(2026, 2, 14, 17, 0), timedelta(hours=4))) == at(2026, 2, 24, 12, 0)


def test_r3_1_the_national_day_week_is_skipped_and_its_make_up_saturday_worked():
    assert local(CAL.add(at(2026, 9, 30, 17, 0), timedelta(hours=4))) == at(2026, 10, 8, 12, 0)
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday worked in lieu
    assert local(CAL.add(at(2026, 10, 9, 17, 0), timedelta(hours=4))) == at(2026, 10, 10, 12, 0)


def test_r3_1_a_make_up_sunday_counts_too():
    assert date(2026, 9, 20).weekday() == 6 and CAL.is_workday(date(2026, 9, 20))
    assert local(CAL.add(at(2026, 9, 19, 12, 0), timedelta(hours=2))) == at(2026, 9, 20, 11, 0)


def test_r3_1_a_company_day_off_overrides_the_statutory_calendar():
    offsite = WorkCalendar(overrides={date(2026, 11, 23): False})
    assert local(offsite.add(at(2026, 11, 20, 17, 50), timedelta(hours=4))) == at(
        2026, 11, 24, 12, 50
    )


def test_r3_1_a_company_working_saturday_counts():
    busy = WorkCalendar(overrides={date(2026, 11, 21): True})
    assert local(busy.add(at(2026, 11, 20, 17, 50), timedelta(hours=4))) == at(2026, 11, 21, 12, 50)


def test_r3_1_a_lunch_break_is_not_working_time():
    lunch = WorkCalendar(breaks=((time(12), time(13, 30)),))
    assert lunch.day_length == timedelta(hours=7, minutes=30)
    assert local(lunch.add(at(2026, 11, 23, 11, 0), timedelta(hours=2))) == at(2026, 11, 23, 14, 30)


def test_r3_1_years_the_calendar_does_not_know_fall_back_to_monday_to_friday():
    far = date(2040, 1, 2)
    assert not CAL.knows(far)
    assert CAL.is_workday(far) == (far.weekday() < 5)
    saturday = date(2040, 1, 7)
    assert saturday.weekday() == 5 and not CAL.is_workday(saturday)


def test_r3_1_working_time_between_two_moments():
    assert CAL.between(at(2026, 11, 20, 17, 50), at(2026, 11, 23, 12, 50)) == timedelta(hours=4)
    assert CAL.between(at(2026, 11, 23, 12, 0), at(2026, 11, 23, 11, 0)) == timedelta(0)


def test_r3_1_units_on_business_and_natural_time():
    assert measure("day", 2, None) == timedelta(days=2)
    assert measure("week", 1, None) == timedelta(days=7)
    assert measure("day", 2, CAL) == timedelta(hours=18)
    assert measure("week", 1, CAL) == timedelta(hours=45)
    friday = at(2026, 11, 20, 15, 0)
    assert local(due(friday, measure("day", 1, CAL), CAL)) == at(2026, 11, 23, 15, 0)
    assert local(due(friday, measure("day", 1, None), None)) == at(2026, 11, 21, 15, 0)


def test_calendar_refuses_naive_times_and_backwards_hours():
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 11, 20, 9), timedelta(hours=1))  # noqa: DTZ001
    with pytest.raises(ValueError):
        WorkCalendar(opens=time(18), closes=time(9))


moments = st.datetimes(  # hypothesis wants naive bounds; the values carry UTC
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001
    max_value=datetime(2026, 12, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=300, deadline=None)
@given(start=moments, minutes=st.integers(min_value=1, max_value=60 * 9 * 15))
def test_r3_1_adding_working_time_lands_in_working_time_and_measures_back(start, minutes):
    amount = timedelta(minutes=minutes)
    end = CAL.add(start, amount)
    assert end > start
    assert CAL.between(start, end) == amount
    local_end = local(end)
    assert CAL.is_workday(local_end.date())
    assert time(9) < local_end.time() <= time(18)
