"""The dashboards per role (R4.1–R4.6, R5.1): what each role counts, and every number's
drill-down opening exactly the leads it counted — on both databases."""

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.utils import translation

from leadflow.accounts.models import Role
from leadflow.analytics import dashboards, queries
from leadflow.core import parallel
from leadflow.followups import services
from leadflow.followups.models import FollowUp
from leadflow.followups.services import Contact
from leadflow.leads.models import Lead

from ..factories import make_user
from ..followups.conftest import T0, at

pytestmark = pytest.mark.django_db

PERIOD = "?since=2026-10-01&until=2026-11-30"


def board(client, user, query=PERIOD):
    client.force_login(user)
    response = client.get("/dashboard/" + query)
    return response, response.context["board"] if response.context else None


def listed(client, url: str) -> set[str]:
    """The lead numbers the lead list shows at `url` (every page)."""
    numbers, page = set(), 1
    while True:
        response = client.get(url + f"&page={page}")
        assert response.status_code == 200
        numbers |= {row.number for row in response.context["rows"]}
        if not response.context["page"].has_next():
            return numbers
        page += 1


def test_r4_1_every_funnel_stage_and_drop_out_opens_the_leads_it_counts(client, five, desk):
    response, b = board(client, desk.support)  # support and marketing: every lead
    assert response.status_code == 200 and b.role == "marketing"
    funnel = b.charts["funnel"]
    assert [s["value"] for s in funnel] == [5, 4, 4, 3, 1, 1, 1, 1]
    for step in funnel:
        assert len(listed(client, step["url"])) == step["value"], step["name"]
    assert listed(client, funnel[3]["url"]) == {five[k].number for k in "abe"}  # 初步接触
    for name, series in b.charts["dropouts"]["series"].items():
        for cell in series["data"]:
            assert len(listed(client, cell["url"])) == cell["value"], (name, cell["url"])
    assert listed(client, b.charts["dropouts"]["series"]["invalid"]["data"][3]["url"]) == {
        five["b"].number
    }
    for channel in b.charts["channels"]:  # 行业展会 (H) holds C through its sub-channel HY
        assert len(listed(client, channel["url"])) == channel["leads"], channel["code"]
        assert len(listed(client, channel["won_url"])) == channel["won"], channel["code"]
    for month in b.charts["cohorts"]["months"]:
        assert len(listed(client, month["url"])) == month["leads"], month["month"]


def test_r4_1_r5_1_a_rep_counts_their_own_leads_only(client, five, desk):
    rep = five["a"].owner
    _response, b = board(client, rep)
    mine = Lead.objects.filter(owner=rep).count()
    assert b.role == "rep" and b.funnel.leads == mine
    assert b.filters.rep == rep.pk  # the pool's leads (E) are not the rep's numbers
    assert "channels" not in b.charts and "reps" not in b.sections
    for step in b.charts["funnel"]:
        assert len(listed(client, step["url"])) == step["value"]
    response = client.get(f"/dashboard/{PERIOD}&rep={desk.east2.pk}&team={desk.north.pk}")
    assert response.context["board"].filters.rep == rep.pk  # a rep cannot look at another's


def test_r4_5_r5_1_a_manager_sees_their_team_and_not_another(client, five, desk):
    _response, b = board(client, desk.m_east)
    assert b.role == "manager" and b.filters.team == desk.east.pk
    assert b.funnel.leads == Lead.objects.filter(team=desk.east).count()
    assert {r.rep.username for r in b.reps} <= {"east1", "east2"}
    _response, other = board(client, desk.m_north)
    assert other.filters.team == desk.north.pk and other.funnel.leads == 0
    # asking for a team they do not manage falls back to their own
    _response, again = board(client, desk.m_north, f"{PERIOD}&team={desk.east.pk}")
    assert again.filters.team == desk.north.pk and again.funnel.leads == 0


def test_r4_1_bad_filters_are_a_400_with_the_reason_and_the_page_still_shows(client, desk):
    client.force_login(desk.support)
    response = client.get("/dashboard/?since=2026-11-30&until=2026-11-01")
    assert response.status_code == 400
    assert "开始日期不能晚于结束日期" in response.content.decode()
    response = client.get("/dashboard/?since=yesterday")
    assert response.status_code == 400 and "获取自" in response.content.decode()
    response = client.get("/dashboard/?until=9999-12-31")  # a typo, not a 500
    assert response.status_code == 400 and "2000 年至 2100 年" in response.content.decode()


def test_r4_4_the_heat_map_counts_missed_deadlines_per_rep_and_day(client, five, desk):
    """A follow-up made after its deadline counts on the deadline's day for who made it; a
    deadline passed with no contact counts for the owner; the cells drill down."""
    missed = desk.working(T0)  # B: first contact due one working day on, Tue 10:00
    slow = desk.working(T0)
    late = at(2026, 11, 3, 16)  # Tuesday afternoon: after the deadline
    services.record_followup(
        lead=slow, by=slow.owner, now=late,
        contact=Contact(contact_at=late, method="phone", feedback="x"),
    )  # fmt: skip
    now = at(2026, 11, 5, 12)  # slow's next follow-up is due Friday: not missed yet
    tuesday = at(2026, 11, 3).date()
    misses = queries.sla_misses(Lead.objects.all(), now=now, since=T0.date(), until=now.date())
    assert misses == {(missed.owner_id, tuesday): 1, (slow.owner_id, tuesday): 1}
    with time_machine.travel(now, tick=False):
        _response, b = board(client, desk.m_east, "?since=2026-11-02&until=2026-11-05")
        heat = b.charts["heat"]
        assert heat["days"] == ["11-02", "11-03", "11-04", "11-05"] and heat["max"] == 1
        shown = {}
        for cell in heat["cells"]:
            query = parse_qs(urlsplit(cell["url"]).query)
            assert query["missed"] == ["2026-11-03"]
            shown[int(query["owner"][0])] = listed(client, cell["url"])
    assert shown == {missed.owner_id: {missed.number}, slow.owner_id: {slow.number}}


def test_r4_4_discipline_in_a_week_counts_what_happened_in_it(five, desk):
    week = (at(2026, 11, 2), at(2026, 11, 9))
    rows = queries.discipline(Lead.objects.all(), now=at(2026, 11, 20), during=week)
    team = queries.by_team(rows)[desk.east.name]
    # A and B were contacted in the week (E in October); every one within the hour
    assert (team.first_contact.on_time, team.first_contact.late) == (2, 0)
    assert team.records.on_time == 2
    earlier = (at(2026, 10, 1), at(2026, 11, 1))
    rows = queries.discipline(Lead.objects.all(), now=at(2026, 11, 20), during=earlier)
    team = queries.by_team(rows)[desk.east.name]
    assert (team.first_contact.on_time, team.records.on_time) == (1, 1)  # E


def test_r4_1_the_dashboard_period_defaults_to_the_last_90_days(client, desk):
    client.force_login(desk.support)
    with time_machine.travel(at(2026, 11, 20, 9), tick=False):
        b = client.get("/dashboard/").context["board"]
    assert b.filters.until.isoformat() == "2026-11-20"
    assert (b.filters.until - b.filters.since).days == dashboards.PERIOD_DAYS - 1


def test_r4_1_a_dashboard_asks_for_its_leads_id_range_once(
    five, desk, django_assert_max_num_queries
):
    """The reports read child rows through the leads' id range (`lead_span`); a dashboard
    hands every report the same leads, so the range is asked for once — and a filtered copy
    of the leads, another set, has its own."""
    leads = Lead.objects.all()
    ids = sorted(Lead.objects.values_list("pk", flat=True))
    assert len(ids) >= 5
    with django_assert_max_num_queries(2):  # the range, and the ids: they are few
        assert queries.lead_span(leads) == (ids[0], ids[-1])
        assert queries.lead_span(leads) == (ids[0], ids[-1])
        assert sorted(queries.lead_ids(leads)) == ids
    fewer = leads.exclude(pk=ids[-1])
    assert queries.lead_span(fewer) == (ids[0], ids[-2])
    assert queries.lead_span(leads.none()) is None


@pytest.mark.parametrize("who", ["admin", "m_east", "support", "east1"])
def test_r4_1_r4_4_r4_5_few_leads_by_their_ids_many_by_their_filter_count_the_same(
    five, desk, monkeypatch, who
):
    """Reports read the child rows of a few leads through their ids (`of_leads`), of many
    through the lead filter: both ways give every figure of every dashboard the same."""
    missed = desk.working(T0)
    services.record_followup(
        lead=missed, by=missed.owner, now=at(2026, 11, 4, 16),  # after its deadline
        contact=Contact(contact_at=at(2026, 11, 4, 15), method="phone", feedback="x"),
    )  # fmt: skip
    desk.admin = make_user("boss", Role.ADMIN)
    user, now = getattr(desk, who), at(2026, 11, 20, 9)
    period = queries.Filters(since=at(2026, 10, 1).date(), until=at(2026, 11, 20).date())
    few = dashboards.build(user, period, now=now)
    assert queries.lead_ids(dashboards.scoped(user, period)[0]) is not None
    monkeypatch.setattr(queries, "FEW", 0)
    many = dashboards.build(user, period, now=now)
    assert queries.lead_ids(dashboards.scoped(user, period)[0]) is None
    assert few.kpis and few.charts
    for name in ("kpis", "charts", "reps", "discipline", "teams", "cycle", "losses", "funnel"):
        assert getattr(few, name) == getattr(many, name), name


def test_r4_1_many_leads_filling_their_id_range_read_child_rows_by_the_range_alone(
    five, monkeypatch, django_assert_num_queries
):
    """Many leads (past `FEW`) that are every lead in their id range — everyone's last 90
    days, as ids follow acquisition — choose their child rows by the range alone, with no
    lead filter to join; leads that leave one out inside their range keep the filter, and
    each set counts only its own records."""
    monkeypatch.setattr(queries, "FEW", 0)
    first = min(Lead.objects.values_list("pk", flat=True))
    whole = Lead.objects.filter(pk__gte=first)
    holed = Lead.objects.filter(pk__gte=first).exclude(pk=five["b"].pk)  # B has a record
    assert queries.whole_span(whole) and not queries.whole_span(holed)
    assert queries.lead_span(whole) == queries.lead_span(holed)
    assert "leads_lead" not in str(queries.of_leads(FollowUp.objects.all(), whole).query)

    def made(leads) -> int:
        return sum(t["made"] for t in queries.tallies(leads).values())

    assert made(whole) == FollowUp.objects.filter(lead__in=whole).count()
    assert made(holed) == FollowUp.objects.filter(lead__in=holed).count() < made(whole)
    # two leads of five in their range: not counted through (it would read the range)
    ends = Lead.objects.filter(pk__in=[first, max(Lead.objects.values_list("pk", flat=True))])
    with django_assert_num_queries(1):
        assert not queries.whole_span(ends)


def test_r4_1_every_lead_there_is_reads_every_row_and_counts_as_a_filtered_set(five, desk):
    """All the leads (an administrator over all time) read the child rows without a lead
    filter; the figures are those of the same leads chosen by a filter."""
    now = at(2026, 11, 20, 9)
    every, chosen = Lead.objects.all(), Lead.objects.filter(pk__gt=0)
    assert not every.query.has_filters() and chosen.query.has_filters()
    reports = [
        lambda leads: queries.discipline(leads, now=now),
        lambda leads: queries.cycle(leads, now=now),
        lambda leads: queries.sla_misses(leads, now=now, since=T0.date(), until=now.date()),
        queries.reps,
        queries.losses,
    ]
    for report in reports:
        assert report(every) == report(chosen)
    assert queries.reps(every) and queries.discipline(every, now=now)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["admin", "m_east", "support", "east1"])
def test_r4_1_reports_run_side_by_side_count_as_one_after_the_other(
    five, desk, settings, monkeypatch, who
):
    """Outside a transaction (as a web request reads), a dashboard's reports run on
    `REPORT_THREADS` threads, each on its own connection, in the caller's language: every
    figure is the one they give one after the other."""
    desk.admin = make_user("boss", Role.ADMIN)
    user, now = getattr(desk, who), at(2026, 11, 20, 9)
    period = queries.Filters(since=at(2026, 10, 1).date(), until=at(2026, 11, 20).date())
    ran_on = []
    as_caller = parallel._as_caller
    monkeypatch.setattr(
        parallel,
        "_as_caller",
        lambda *a: ran_on.append(threading.current_thread().name) or as_caller(*a),
    )
    with translation.override("en"):
        settings.REPORT_THREADS = 1
        alone = dashboards.build(user, period, now=now)
        assert ran_on == []
        settings.REPORT_THREADS = 3
        side_by_side = dashboards.build(user, period, now=now)
    assert len(ran_on) >= 4 and all(name.startswith("report") for name in ran_on)
    assert alone.kpis and alone.charts and alone.kpis[0]["label"] == "Leads"
    for name in ("kpis", "charts", "reps", "discipline", "teams", "cycle", "losses", "funnel"):
        assert getattr(side_by_side, name) == getattr(alone, name), name
