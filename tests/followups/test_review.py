"""The weekly grade review (R3.5): confirm or correct each grade; accuracy per rep."""

from datetime import date, timedelta

import pytest

from leadflow.followups import review, services
from leadflow.followups.models import ReviewItem
from leadflow.followups.services import Contact, FollowUpError

from ..assignment.test_screens_and_api import api
from .conftest import B_LEAD, at

WEEK = date(2026, 11, 2)  # Monday


def graded(desk, grade, when):
    lead = desk.working(when - timedelta(hours=2), **B_LEAD)
    services.record_followup(
        lead=lead,
        by=lead.owner,
        now=when,
        contact=Contact(contact_at=when, method="phone", feedback="聊过"),
    )
    services.set_grade(lead=lead, by=lead.owner, grade=grade, reason=f"判断为{grade}", now=when)
    lead.refresh_from_db()
    return lead


def test_r3_5_the_review_lists_the_weeks_graded_leads_and_keeps_corrections(desk):
    first = graded(desk, "A", at(2026, 11, 3, 11))
    second = graded(desk, "B", at(2026, 11, 4, 11))
    graded(desk, "C", at(2026, 11, 10, 11))  # next week: not in this review
    entries = review.graded_in_week(desk.east, WEEK)
    assert [e.lead for e in entries] == [first, second]
    ok = review.judge(
        team=desk.east,
        week=WEEK,
        lead=first,
        by=desk.m_east,
        verdict="confirmed",
        note="",
        now=at(2026, 11, 6, 16),
    )
    fix = review.judge(
        team=desk.east,
        week=WEEK,
        lead=second,
        by=desk.m_east,
        verdict="corrected",
        grade="C",
        note="只是询价，半年后才采购",
        now=at(2026, 11, 6, 16, 5),
    )
    assert (ok.given, ok.final, fix.given, fix.final) == ("A", "A", "B", "C")
    second.refresh_from_db()
    assert second.grade == "C" and second.grade_reason == "评审修正：只是询价，半年后才采购"
    assert second.gradings.last().kind == "review"
    # the corrected grade re-plans the follow-up: C is weekly (5 working days)
    assert second.next_followup_due == at(2026, 11, 11, 11)
    entries = review.graded_in_week(desk.east, WEEK)
    assert [e.item.verdict for e in entries] == ["confirmed", "corrected"]
    scores = {a.rep: a for a in review.accuracy(reps=[first.owner, second.owner])}
    if first.owner == second.owner:
        assert (scores[first.owner].reviewed, scores[first.owner].rate) == (2, 0.5)
    else:
        assert scores[first.owner].rate == 1.0 and scores[second.owner].rate == 0.0


def test_r3_5_verdicts_are_checked(desk):
    lead = graded(desk, "B", at(2026, 11, 3, 11))
    judge = dict(team=desk.east, week=WEEK, lead=lead, now=at(2026, 11, 6, 16))
    cases = [
        (dict(by=desk.m_north, verdict="confirmed", note=""), "forbidden"),
        (dict(by=desk.m_east, verdict="maybe", note=""), "bad_verdict"),
        (dict(by=desk.m_east, verdict="corrected", grade="B", note="x"), "grade_required"),
        (dict(by=desk.m_east, verdict="corrected", grade="A", note=" "), "note_required"),
    ]
    for kw, code in cases:
        with pytest.raises(FollowUpError) as exc:
            review.judge(**judge, **kw)
        assert exc.value.code == code
    review.judge(**judge, by=desk.m_east, verdict="confirmed", note="")
    with pytest.raises(FollowUpError) as exc:
        review.judge(**judge, by=desk.m_east, verdict="confirmed", note="")
    assert exc.value.code == "already_reviewed"
    assert ReviewItem.objects.count() == 1
    other_week = dict(judge, week=date(2026, 11, 9))
    with pytest.raises(FollowUpError) as exc:
        review.judge(**other_week, by=desk.m_east, verdict="confirmed", note="")
    assert exc.value.code == "not_in_review"


def test_r3_5_the_review_through_the_api(client, desk):
    lead = graded(desk, "A", at(2026, 11, 3, 11))
    url = f"/reviews/{desk.east.name}/2026-11-04"  # any day of the week names it
    listed = api(client, "get", url, desk.m_east).json()
    assert [(e["lead"], e["grade"], e["verdict"]) for e in listed] == [(lead.number, "A", None)]
    assert api(client, "get", url, desk.m_north).status_code == 403
    made = api(
        client,
        "post",
        url,
        desk.m_east,
        {"lead": lead.number, "verdict": "corrected", "grade": "b", "note": "预算未落实"},
    )
    assert made.status_code == 201, made.content
    assert made.json()["final"] == "B"
    rates = api(client, "get", f"/review-accuracy/{desk.east.name}", desk.m_east).json()
    mine = next(r for r in rates if r["rep"] == lead.owner.username)
    assert (mine["reviewed"], mine["corrected"], mine["rate"]) == (1, 1, 0.0)
