"""The pipeline on evidence (R3.3): each move demands its facts; every change is kept."""

from datetime import timedelta
from decimal import Decimal

import pytest

from leadflow.followups import services
from leadflow.followups.models import Clock, Task
from leadflow.followups.services import Contact, FollowUpError, Move
from leadflow.leads.models import StageChange, Status

from .conftest import B_LEAD, T0


def worked(desk):
    lead = desk.working(T0, **B_LEAD)
    talked = T0 + timedelta(hours=1)
    services.record_followup(
        lead=lead,
        by=lead.owner,
        now=talked,
        contact=Contact(contact_at=talked, method="phone", feedback="需求明确"),
    )
    lead.refresh_from_db()
    return lead


def move(lead, by, when=T0 + timedelta(hours=2), **kw):
    return services.move_stage(lead=lead, by=by, move=Move(**kw), now=when)


def test_r3_3_the_whole_way_to_won_with_evidence_and_history(desk):
    lead = worked(desk)
    rep = lead.owner
    move(lead, rep, to=Status.QUALIFIED, need="20台检测设备，预算8万", reason="电话确认")
    move(lead, rep, to=Status.EVALUATING, reason="客户对比三家")
    move(lead, rep, to=Status.NEGOTIATING, reason="进入报价")
    won_at = T0 + timedelta(days=1)
    move(lead, rep, when=won_at, to=Status.WON, won_amount=Decimal("80000"), won_at=won_at)
    lead.refresh_from_db()
    assert lead.status == Status.WON and lead.won_amount == Decimal("80000")
    changes = list(StageChange.objects.filter(lead=lead).order_by("at", "pk"))
    tail = [(c.from_status, c.to_status) for c in changes[-4:]]
    assert tail == [
        ("contacting", "qualified"),
        ("qualified", "evaluating"),
        ("evaluating", "negotiating"),
        ("negotiating", "won"),
    ]
    assert changes[-4].evidence["need"] == "20台检测设备，预算8万"
    assert changes[-4].by == rep and changes[-4].reason == "电话确认"
    assert changes[-1].evidence["won_amount"] == "80000"
    assert not Clock.objects.filter(lead=lead).exists()  # nothing left to chase
    assert lead.pool_due is None


@pytest.mark.parametrize(
    ("to", "kw", "code", "field"),
    [
        (Status.QUALIFIED, {}, "need_required", "need"),
        (Status.WON, {}, "transition_not_allowed", None),  # 初步接触 cannot jump to 成交
        (Status.NEGOTIATING, {}, "transition_not_allowed", None),
        (Status.INVALID, {"reason": "没预算"}, "invalid_reason_required", "invalid_reason"),
        (Status.INVALID, {"invalid_reason": "no_budget"}, "note_required", "reason"),
        (
            Status.INVALID,
            {"invalid_reason": "made_up", "reason": "x"},
            "invalid_reason_required",
            "invalid_reason",
        ),
        (Status.POOL, {}, "transition_not_allowed", None),  # the sweeper's move, not a rep's
        ("nonsense", {}, "bad_status", "to"),
    ],
)
def test_r3_3_every_illegal_or_unsupported_move_is_refused_with_its_reason(
    desk, to, kw, code, field
):
    lead = worked(desk)
    before = StageChange.objects.filter(lead=lead).count()
    with pytest.raises(FollowUpError) as exc:
        move(lead, lead.owner, to=to, **kw)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert str(exc.value.message)
    assert StageChange.objects.filter(lead=lead).count() == before
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTING


def test_r3_3_won_needs_amount_and_date(desk):
    lead = worked(desk)
    move(lead, lead.owner, to=Status.QUALIFIED, need="需求")
    move(lead, lead.owner, to=Status.EVALUATING)
    for kw, code in [
        ({"won_amount": Decimal("1000")}, "won_evidence_required"),
        ({"won_at": T0}, "won_evidence_required"),
        ({"won_amount": Decimal("0"), "won_at": T0}, "bad_amount"),
        ({"won_amount": Decimal("5"), "won_at": T0 + timedelta(days=5)}, "won_in_future"),
    ]:
        with pytest.raises(FollowUpError) as exc:
            move(lead, lead.owner, to=Status.WON, **kw)
        assert exc.value.code == code


def test_r3_3_invalid_takes_a_listed_reason_and_a_note_and_closes_the_tasks(desk):
    lead = worked(desk)
    services.add_task(
        lead=lead,
        by=lead.owner,
        title="回访",
        due=T0 + timedelta(days=2),
        now=T0 + timedelta(hours=1),
    )
    move(lead, lead.owner, to=Status.INVALID, invalid_reason="no_budget", reason="预算只有5千")
    lead.refresh_from_db()
    assert lead.status == Status.INVALID
    assert lead.invalid_reason == "预算远低于产品价格：预算只有5千"
    change = StageChange.objects.filter(lead=lead).last()
    assert change.evidence["invalid_reason"] == "no_budget"
    assert Task.objects.get(lead=lead).done_at is not None
    assert not Clock.objects.filter(lead=lead).exists()


def test_r3_3_reopening_a_won_or_invalid_lead_takes_a_manager_and_a_reason(desk):
    lead = worked(desk)
    move(lead, lead.owner, to=Status.INVALID, invalid_reason="unreachable", reason="三天未接")
    with pytest.raises(FollowUpError) as exc:
        move(lead, lead.owner, to=Status.CONTACTING, reason="客户回电")
    assert (exc.value.code, exc.value.status) == ("manager_required", 403)
    with pytest.raises(FollowUpError) as exc:
        move(lead, desk.m_north, to=Status.CONTACTING, reason="客户回电")  # not their team
    assert exc.value.code == "manager_required"
    with pytest.raises(FollowUpError) as exc:
        move(lead, desk.m_east, to=Status.CONTACTING)
    assert exc.value.code == "reason_required"
    later = T0 + timedelta(days=3)
    move(lead, desk.m_east, when=later, to=Status.CONTACTING, reason="客户回电重新询价")
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTING and lead.invalid_reason == ""
    assert StageChange.objects.filter(lead=lead).last().by == desk.m_east
    followup = Clock.objects.get(lead=lead, kind="followup")
    assert followup.due > later  # the rhythm restarts from the reopening


def test_r3_3_a_rep_of_another_team_cannot_move_the_lead(desk):
    lead = worked(desk)
    with pytest.raises(FollowUpError) as exc:
        move(lead, desk.north1, to=Status.QUALIFIED, need="x")
    assert exc.value.status == 403
