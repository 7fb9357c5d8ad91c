from datetime import datetime, timedelta

import pytest

from leadflow.assignment import services as assignment
from leadflow.core.workcalendar import SHANGHAI

from ..assignment.conftest import Org


def at(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


# Monday 2026-11-02 10:00 in Shanghai: an ordinary working morning
T0 = at(2026, 11, 2, 10)
A_LEAD = {"budget_max": "500000", "purchase_by": "2026-11-20"}  # graded A at intake
B_LEAD = {"budget_max": "80000"}  # budget stated, no date: B


class Desk(Org):
    """The assignment organisation, with leads its reps have accepted."""

    def working(self, now, *, accept_after=timedelta(minutes=10), **overrides):
        lead = self.lead(now, **overrides)
        assignment.accept(lead=lead, rep=lead.owner, now=now + accept_after)
        lead.refresh_from_db()
        return lead


@pytest.fixture
def desk(db):
    return Desk()
