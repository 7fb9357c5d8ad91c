"""The funnel (R4.1) and channel quality (R4.2), against hand-computed figures, on both
databases; a rep's figures count only what the rep may see (R5.1)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from leadflow.analytics import queries, stats
from leadflow.analytics.models import ChannelCost
from leadflow.followups import services
from leadflow.followups.models import Tally
from leadflow.followups.services import Contact
from leadflow.leads.models import Channel, Lead, Status, reached
from leadflow.leads.queries import visible_leads

from ..assignment.test_screens_and_api import api
from ..followups.conftest import T0, at

pytestmark = pytest.mark.django_db


def test_r4_1_the_funnel_counts_how_far_each_lead_got_and_where_it_dropped_out(five):
    [f] = queries.funnel(Lead.objects.all())
    got = {s.label: (s.reached, s.invalid, s.stalled, s.open, s.won) for s in f.steps}
    assert got == {
        "线索": (5, 0, 0, 1, 0),  # D waits for verification
        "核对通过": (4, 0, 0, 0, 0),
        "已分配": (4, 0, 0, 1, 0),  # C not yet answered
        "初步接触": (3, 1, 1, 0, 0),  # B invalid, E back in the pool
        "需求明确": (1, 0, 0, 0, 0),
        "方案对比": (1, 0, 0, 0, 0),
        "商务谈判": (1, 0, 0, 0, 0),
        "成交": (1, 0, 0, 0, 1),
    }
    conversion = {s.label: s.conversion for s in f.steps}
    assert conversion["核对通过"] == 4 / 5 and conversion["初步接触"] == 3 / 4
    assert conversion["需求明确"] == 1 / 3 and conversion["成交"] == 1.0


def test_r4_1_the_funnel_by_acquisition_month_and_filtered(five, desk):
    cohorts = {f.cohort: f for f in queries.funnel(Lead.objects.all(), by_month=True)}
    assert set(cohorts) == {date(2026, 10, 1), date(2026, 11, 1)}
    assert cohorts[date(2026, 10, 1)].leads == 2 and cohorts[date(2026, 11, 1)].leads == 3
    assert cohorts[date(2026, 11, 1)].steps[-1].reached == 1
    [whole] = queries.funnel(Lead.objects.all())
    assert queries.together(list(cohorts.values())) == whole  # the dashboard adds them up
    fair = queries.Filters(channel="H").apply(Lead.objects.all())  # H and its HY
    [f] = queries.funnel(fair)
    assert [s.reached for s in f.steps][:4] == [2, 2, 2, 1]
    november = queries.Filters(since=date(2026, 11, 1), until=date(2026, 11, 30))
    [f] = queries.funnel(november.apply(Lead.objects.all()))
    assert f.leads == 3


def test_r4_1_a_team_keeps_the_leads_it_let_slip_into_the_pool(five, desk):
    """A lead back in the pool has no owner but stays with the team that held it, so the
    team's funnel (a manager's dashboard) shows it dropping out, until someone claims it."""
    from leadflow.assignment import pool

    e = Lead.objects.get(pk=five["e"].pk)
    assert e.status == Status.POOL and e.owner is None and e.team == desk.east
    [f] = queries.funnel(queries.Filters(team=desk.east.pk).apply(Lead.objects.all()))
    contacted = f.steps[3]
    assert (contacted.label, contacted.reached, contacted.stalled) == ("初步接触", 3, 1)
    pool.claim(lead=e, rep=desk.north1, now=T0 + timedelta(days=1))
    assert Lead.objects.get(pk=e.pk).team == desk.north1.team != desk.east


def test_r4_2_channel_quality_with_costs(five):
    g = Channel.objects.get(code="G")
    ChannelCost.objects.create(channel=g, month=date(2026, 11, 1), amount=Decimal("3000"))
    ChannelCost.objects.create(channel=g, month=date(2026, 9, 1), amount=Decimal("500"))
    november = queries.Filters(since=date(2026, 11, 1), until=date(2026, 11, 30))
    rows = {
        r.code: r for r in queries.channels(november.apply(Lead.objects.all()), filters=november)
    }
    r = rows["G"]  # A won, B invalid, D unverified
    assert (r.leads, r.valid, r.won, r.won_amount, r.cost) == (
        3,
        2,
        1,
        Decimal("90000"),
        Decimal("3000"),
    )
    assert r.valid_rate == 2 / 3 and r.conversion == 1 / 3
    assert r.cost_per_lead == Decimal("1000.00") and r.cost_per_won == Decimal("3000.00")
    assert r.roi == 29.0  # (90,000 − 3,000) ÷ 3,000
    everything = {r.code: r for r in queries.channels(Lead.objects.all())}
    assert everything["G"].cost == Decimal("3500") and everything["H"].cost is None
    assert everything["H"].roi is None and everything["H"].leads == 2


def test_r4_1_each_lead_keeps_the_furthest_stage_its_history_reached(five):
    """`Lead.furthest` is what the funnel counts: raised by every StageChange written
    (intake, assignment, acceptance, stage moves) and never lowered by invalid or the pool."""
    got = {k: Lead.objects.get(pk=lead.pk).furthest for k, lead in five.items()}
    assert got == {"a": 7, "b": 3, "c": 2, "d": 0, "e": 3}
    for lead in Lead.objects.all():
        history = lead.stage_changes.values_list("to_status", flat=True)
        assert lead.furthest == reached(0, *history), lead.number


def test_r4_1_r5_1_a_rep_sees_the_funnel_of_their_own_leads(client, five, desk):
    rep = five["a"].owner
    visible = visible_leads(rep).count()  # their own and the pool's
    body = api(client, "get", "/analytics/funnel", rep).json()
    assert body[0]["leads"] == visible < 5
    mine = Lead.objects.filter(owner=rep).count()
    own = api(client, "get", f"/analytics/funnel?rep={rep.username}", rep).json()
    assert own[0]["leads"] == mine < visible
    everyone = api(client, "get", "/analytics/funnel", desk.support).json()
    assert everyone[0]["leads"] == 5


def test_r4_1_r4_2_the_api_takes_filters_and_refuses_bad_ones(client, five, desk):
    url = "/analytics/funnel?since=2026-11-01&until=2026-11-30&by=month"
    body = api(client, "get", url, desk.support).json()
    assert [f["cohort"] for f in body] == ["2026-11-01"]
    assert body[0]["steps"][3] | {"label": "初步接触"} == body[0]["steps"][3]
    for query, field in [
        ("since=2026-12-01&until=2026-11-01", "since"),
        ("team=nobody", "team"),
        ("rep=nobody", "rep"),
        ("industry=nothing", "industry"),
        ("grade=Z", "grade"),
        ("region=火星", "region"),
        ("by=week", "by"),
    ]:
        bad = api(client, "get", f"/analytics/funnel?{query}", desk.support)
        assert bad.status_code == 400 and bad.json()["detail"][0]["field"] == field, query
    channels = api(client, "get", "/analytics/channels?level=channel", desk.support).json()
    assert {c["code"]: c["leads"] for c in channels} == {"G": 3, "H": 1, "HY": 1}
    assert api(client, "get", "/analytics/channels?level=x", desk.support).status_code == 400
    assert at(2026, 11, 2, 10) == T0


def test_r4_3_the_cycle_report(five, client, desk):
    now = at(2026, 11, 20, 10)
    c = queries.cycle(Lead.objects.all(), now=now)
    # A: acquired T0 − 1 h, won T0 + 3 days
    assert c.to_won.n == 1 and c.to_won.median == pytest.approx(3 + 1 / 24)
    # first contacts: A, B 2 h after acquisition, E 2 h after its own
    assert c.to_first_contact.n == 3 and c.to_first_contact.median == pytest.approx(2)
    # A spent 3 days − 1 h in 初步接触 (accepted T0 + 10 min … moved T0 + 3 d)
    assert c.in_stage["contacting"].n == 3  # A and B left it; E went to the pool
    assert c.still_in_stage["assigned"] == 1  # C is waiting for its rep
    assert set(c.won_curve) == {"G", "H"}
    # G: A won on day 3.04; B (invalid) and D (unverified) stay not won: 1 of 3
    assert c.won_curve["G"] == [(pytest.approx(3.04, abs=0.01), pytest.approx(1 / 3, abs=1e-4))]
    assert c.won_curve["H"] == []
    body = api(client, "get", "/analytics/cycle", desk.support).json()
    assert body["to_won_days"]["n"] == 1 and body["still_in_stage"]["assigned"] == 1


def test_r4_5_reps_assigned_accepted_contacted_won_and_grading(five, client, desk):
    from leadflow.followups import review

    a = five["a"]  # graded A by its rep, won; the review corrects it to B
    review.judge(
        team=desk.east, week=T0.date(), lead=a, by=desk.m_east, verdict="corrected", grade="B",
        note="预算未落实", now=T0 + timedelta(days=4),
    )  # fmt: skip
    rows = {r.rep.username: r for r in queries.reps(Lead.objects.all())}
    rep = rows[a.owner.username]
    mine = Lead.objects.filter(owner=a.owner)
    assert rep.owned == mine.count() and rep.won == 1 and rep.won_amount == Decimal("90000")
    assert rep.win_rate == 1 / mine.count()
    assert rep.assigned >= rep.accepted >= 1 and rep.contacted >= 1
    assert rep.response_hours == pytest.approx(1 / 6)  # every acceptance came 10 minutes later
    assert (rep.reviewed, rep.grading_accuracy) == (1, 0.0)
    assert rep.by_grade["B"][1] == 1  # won, graded B after the review
    body = api(client, "get", "/analytics/reps", desk.m_east).json()
    assert {r["rep"] for r in body} >= {a.owner.username}


def test_r4_5_response_time_is_each_reps_median_interpolated(desk):
    """The median answer time per rep — computed by PostgreSQL, counted out on SQLite —
    as `stats.quantile` gives it over the answers themselves (between the two middle ones)."""
    from leadflow.assignment.models import Assignment

    for minutes in (10, 20, 35, 60, 90, 150, 45, 200):
        desk.working(T0, accept_after=timedelta(minutes=minutes))
    taken: dict[int, list[float]] = {}
    for a in Assignment.objects.filter(answered_at__isnull=False).exclude(kind="claim"):
        taken.setdefault(a.rep_id, []).append(round((a.answered_at - a.at).seconds / 60) / 60)
    assert any(len(v) % 2 == 0 for v in taken.values())  # a median between two answers
    rows = {r.rep.pk: r.response_hours for r in queries.reps(Lead.objects.all())}
    for rep_id, hours in taken.items():
        assert rows[rep_id] == pytest.approx(stats.quantile(sorted(hours), 0.5))


def test_r4_6_losses_by_reason_stage_and_competitor(five, client, desk):
    b = five["b"]
    worked = desk.working(T0)
    services.record_followup(
        lead=worked, by=worked.owner, now=T0 + timedelta(hours=2),
        contact=Contact(contact_at=T0 + timedelta(hours=2), method="visit", feedback="x", competitor=" 汇川 "),
    )  # fmt: skip
    result = queries.losses(Lead.objects.all())
    assert result.reasons == [("预算远低于产品价格", 1)]
    assert result.by_stage == {"初步接触": 1}
    assert result.competitors == [("汇川", 1)]
    body = api(client, "get", "/analytics/losses", desk.support).json()
    assert body["reasons"] == [{"name": "预算远低于产品价格", "leads": 1}]
    assert b.pk in Lead.objects.filter(status=Status.INVALID).values_list("pk", flat=True)


def test_r4_4_follow_up_discipline_per_rep_and_team(five, client, desk):
    missed = desk.working(T0)  # never contacted: its first contact is overdue
    slow = desk.working(T0)
    talked = T0 + timedelta(hours=1)
    services.record_followup(
        lead=slow, by=slow.owner, now=talked + timedelta(hours=2),  # written 2 h later: late
        contact=Contact(contact_at=talked, method="phone", feedback="x"),
    )  # fmt: skip
    now = at(2026, 11, 20, 10)
    rows = queries.discipline(Lead.objects.all(), now=now)
    [team] = queries.by_team(rows).values()
    assert team.team == desk.east.name
    first = team.first_contact  # A, B, E, slow on time; missed overdue
    assert (first.on_time, first.late, first.missed) == (4, 0, 1)
    records = team.records  # A, B, E within the hour; slow's 2 h late
    assert (records.on_time, records.late) == (3, 1)
    assert team.cadence.missed == 1  # slow: no follow-up since, B's 3 working days long gone
    confirm = team.confirmations  # every acceptance 10 minutes after the assignment
    assert (confirm.on_time, confirm.late, confirm.missed) == (5, 0, 0)
    assert team.overdue_now == 2  # missed's first contact, slow's follow-up
    mine = next(r for r in rows if r.rep == missed.owner)
    assert mine.first_contact.missed == 1
    body = api(client, "get", "/analytics/discipline", desk.m_east).json()
    totals = [r for r in body if r["rep"] is None]
    assert totals[0]["first_contact"]["missed"] == 1 and totals[0]["first_contact"]["rate"] == 0.8


def test_r4_4_the_tallies_count_every_record_as_the_records_themselves(five, desk):
    """Discipline over all time reads the tallies kept as records are written; over a
    period it reads the records. Both count the same, and `rebuild` gives the same tallies."""
    lead = desk.working(T0)
    talked = T0 + timedelta(hours=1)
    for when, written in [
        (talked, talked),
        (talked + timedelta(days=9), talked + timedelta(days=10)),
    ]:
        services.record_followup(
            lead=lead, by=lead.owner, now=written,
            contact=Contact(contact_at=when, method="phone", feedback="x"),
        )  # fmt: skip
    services.record_followup(  # the manager calls too: a tally of their own on the lead
        lead=lead, by=desk.m_east, now=talked + timedelta(days=11),
        contact=Contact(contact_at=talked + timedelta(days=11), method="visit", feedback="x"),
    )  # fmt: skip
    mine = Tally.objects.get(lead=lead, by=lead.owner)
    assert [getattr(mine, n) for n in Tally.COUNTS] == [2, 1, 1, 0, 0, 1, 1]

    def tallies():
        return {(t.lead_id, t.by_id): [getattr(t, n) for n in Tally.COUNTS] for t in
                Tally.objects.all()}  # fmt: skip

    kept = tallies()
    assert len(kept) == 5  # A, B, E, this lead by its owner and by the manager
    Tally.rebuild()
    assert tallies() == kept
    now = at(2026, 12, 1, 10)
    always = (at(2020, 1, 1), at(2030, 1, 1))
    fields = ("first_contact", "cadence", "records")
    by_tally = {r.rep: [vars(getattr(r, f)) for f in fields] for r in
                queries.discipline(Lead.objects.all(), now=now)}  # fmt: skip
    by_record = {r.rep: [vars(getattr(r, f)) for f in fields] for r in
                 queries.discipline(Lead.objects.all(), now=now, during=always)}  # fmt: skip
    assert by_tally == by_record
    assert by_tally[desk.m_east][2] == {"on_time": 1, "late": 0, "missed": 0}
    contacted = {r.rep: r.contacted for r in queries.reps(Lead.objects.all())}
    assert contacted[lead.owner] >= 1 and contacted.get(desk.m_east, 0) == 0
    lead.delete()  # the tallies go with their lead
    assert not Tally.objects.filter(lead_id=lead.pk).exists()
