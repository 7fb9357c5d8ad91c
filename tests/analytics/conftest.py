"""The analytics fixtures: the desk organisation, and five leads whose figures are known."""

from datetime import timedelta
from decimal import Decimal

import pytest

from leadflow.assignment.pool import return_to_pool
from leadflow.followups import services
from leadflow.followups.services import Contact, Move
from leadflow.leads.models import Status

from ..followups.conftest import T0, Desk


@pytest.fixture
def desk(db):
    return Desk()


def contact(lead, when):
    services.record_followup(
        lead=lead,
        by=lead.owner,
        now=when,
        contact=Contact(contact_at=when, method="phone", feedback="x"),
    )


@pytest.fixture
def five(desk):
    """A won; B invalid after first contact; C assigned, unanswered; D awaiting verification;
    E back in the pool after first contact. A, B, D acquired in November through 官网注册 (G),
    C and E in October through 行业展会 (H, C through its sub-channel HY)."""
    oct_ = T0 - timedelta(days=20)  # 2026-10-13
    a = desk.working(T0, budget_max="80000")
    contact(a, T0 + timedelta(hours=1))
    rep = a.owner
    services.set_grade(lead=a, by=rep, grade="A", reason="预算足", now=T0 + timedelta(hours=2))
    for to, kw in [
        (Status.QUALIFIED, {"need": "20台"}),
        (Status.EVALUATING, {}),
        (Status.NEGOTIATING, {}),
        (Status.WON, {"won_amount": Decimal("90000"), "won_at": T0 + timedelta(days=3)}),
    ]:
        services.move_stage(lead=a, by=rep, move=Move(to=to, **kw), now=T0 + timedelta(days=3))
    b = desk.working(T0)
    contact(b, T0 + timedelta(hours=1))
    services.move_stage(
        lead=b, by=b.owner, move=Move(to=Status.INVALID, invalid_reason="no_budget", reason="x"),
        now=T0 + timedelta(days=1),
    )  # fmt: skip
    c = desk.lead(oct_, channel="HY")  # a sub-channel of 行业展会 (H)
    d = desk.unverified(T0)
    e = desk.working(oct_, channel="H")
    contact(e, oct_ + timedelta(hours=1))
    return_to_pool(e, now=oct_ + timedelta(days=10), by=None, reason="超时未跟进")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}
