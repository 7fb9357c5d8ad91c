"""R2.2–R2.5, R3.8: assignment at verification, its explanation, confirmation and its
deadlines, manual adjustment, and the batch path."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from leadflow.accounts import loads
from leadflow.accounts.models import RepProfile
from leadflow.assignment import services
from leadflow.assignment.models import Assignment, AssignmentPolicy, AssignmentRule
from leadflow.assignment.presenters import explain
from leadflow.leads.models import Lead, StageChange, Status
from leadflow.leads.pipeline import Evidence
from leadflow.leads.services import move_lead
from leadflow.notifications.models import Notification

from .conftest import north_phone

pytestmark = pytest.mark.django_db
A = Assignment
T0 = timezone.make_aware(timezone.datetime(2026, 11, 2, 10, 0))  # a Monday, 10:00 Shanghai


def owner_of(lead):
    return Lead.objects.get(pk=lead.pk).owner


def open_leads(user):
    return RepProfile.objects.get(user=user).open_leads


def test_r2_2_a_verified_lead_goes_to_the_best_rep_at_once_with_why(org):
    RepProfile.objects.filter(user=org.east1).update(open_leads=3)
    lead = org.lead(T0)
    assert lead.region == "华东" and lead.status == Status.ASSIGNED
    assert lead.owner == org.east2 and lead.team == org.east  # same score, lighter load
    a = lead.assignments.get()
    assert (a.kind, a.state, a.by, a.at) == (A.Kind.AUTO, A.State.PENDING, None, T0)
    assert a.accept_due == T0 + timedelta(hours=24) and a.decline_due == T0 + timedelta(hours=2)
    why = a.explanation
    assert why["winner"] == org.east2.pk and why["why"] == "lighter_load"
    assert why["dims"] == ["region", "industry", "grade"] and why["weights"] == [40, 30, 30]
    scores = {rep: (total, parts) for rep, total, _load, _skip, parts in why["candidates"]}
    # region 40 (华东) + industry 15 (generalist) + grade 15 (generalist)
    assert scores[org.east2.pk] == (70, [40, 15, 15]) and scores[org.north1.pk][0] == 30
    lines = {c.name: c for c in explain(why).candidates}
    assert lines[str(org.east2)].winner and lines[str(org.east2)].parts[0] == ("区域", 40)
    assert "当前在跟线索更少（0 < 3）" in explain(why).summary
    assert open_leads(org.east2) == 1
    assert StageChange.objects.filter(lead=lead, to_status=Status.ASSIGNED).exists()


def test_r2_2_rules_as_data_send_key_accounts_to_a_named_rep(org, manufacturing):
    AssignmentRule.objects.create(name="华北团队", order=20, regions=["华东"], team=org.north)
    key = AssignmentRule.objects.create(name="大客户：制造业", order=10, rep=org.east1)
    key.industries.add(manufacturing)
    lead = org.lead(T0, industry="制造业")
    assert lead.owner == org.east1
    assert lead.assignments.get().rule == key
    other = org.lead(T0, industry="零售业")
    assert other.owner == org.north1  # the 华北 team rule matched first, region or not
    assert other.assignments.get().explanation["rule"]["name"] == "华北团队"


def test_r2_2_reps_on_leave_at_capacity_or_inactive_are_skipped(org):
    RepProfile.objects.filter(user=org.east1).update(on_leave=True)
    RepProfile.objects.filter(user=org.east2).update(capacity=0)
    assert org.lead(T0).owner == org.north1
    RepProfile.objects.filter(user=org.north1).update(active=False)
    lead = org.lead(T0)
    assert (lead.status, lead.owner) == (Status.UNASSIGNED, None)  # nobody: stays 待分配
    told = Notification.objects.filter(kind="unplaceable", channel="in_app")
    assert {n.recipient for n in told} == {org.m_east, org.m_north}
    RepProfile.objects.filter(user=org.east1).update(on_leave=False)
    assert services.retry_unassigned(T0 + timedelta(minutes=5)) == 1  # the sweeper retries
    assert owner_of(lead) == org.east1


def test_r2_4_the_rep_is_told_number_customer_contact_need_time_and_deadline(org):
    lead = org.lead(T0, need="采购检测设备三台，预算已批")
    rows = Notification.objects.filter(kind="assigned", recipient=lead.owner)
    assert {r.channel for r in rows} == {"in_app", "email"}
    note = rows.get(channel="in_app")
    assert lead.number in note.title and lead.company_name in note.title
    assert lead.phone_e164 in note.body and "采购检测设备三台" in note.body
    assert "2026-11-02 10:00" in note.body and "2026-11-03 10:00" in note.body
    assert rows.get(channel="email").state == "pending"  # for the worker, after commit


def test_r2_5_accept_moves_to_first_contact_and_starts_the_clock(org):
    lead = org.lead(T0, budget_max="500000", purchase_by="2026-11-20")
    assert lead.grade == "A"
    services.accept(lead=lead, rep=lead.owner, now=T0 + timedelta(hours=1))
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTING and lead.accept_due is None
    # A: within 4 working hours of the assignment (R3.1); T0 is a Monday 10:00
    assert lead.first_contact_due == T0 + timedelta(hours=4)
    assert lead.pool_due == T0 + timedelta(hours=1, days=7)
    assert lead.assignments.get().state == A.State.ACCEPTED


def test_r2_5_only_the_assigned_rep_answers(org):
    lead = org.lead(T0)
    other = org.east1 if lead.owner == org.east2 else org.east2
    with pytest.raises(services.AssignmentError) as exc:
        services.accept(lead=lead, rep=other, now=T0)
    assert exc.value.code == "not_pending"
    with pytest.raises(services.AssignmentError) as exc:
        services.decline(lead=lead, rep=lead.owner, now=T0, reason="  ")
    assert exc.value.code == "reason_required"


def test_r2_5_decline_at_1h59_goes_to_the_next_best_rep_and_the_manager_is_told(
    org, client, django_capture_on_commit_callbacks
):
    lead = org.lead(T0)
    first = lead.owner
    client.force_login(first)
    with (
        time_machine.travel(T0 + timedelta(hours=1, minutes=59), tick=False),
        django_capture_on_commit_callbacks(execute=True),  # the decliner's count drops then
    ):
        response = client.post(f"/leads/{lead.number}/decline/", {"reason": "区域冲突"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == Status.ASSIGNED and lead.owner not in (first, None)
    assert lead.owner.team == org.east  # the other 华东 rep, never the decliner
    declined = lead.assignments.get(rep=first)
    assert (declined.state, declined.decline_reason) == (A.State.DECLINED, "区域冲突")
    told = Notification.objects.get(kind="declined", channel="in_app")
    assert told.recipient == org.m_east and "区域冲突" in told.body
    assert f"已改派给 {lead.owner}" in told.body
    assert (open_leads(first), open_leads(lead.owner)) == (0, 1)


def test_r2_5_decline_at_2h01_is_refused(org, client):
    lead = org.lead(T0)
    client.force_login(lead.owner)
    with time_machine.travel(T0 + timedelta(hours=2, minutes=1), tick=False):
        response = client.post(f"/leads/{lead.number}/decline/", {"reason": "太忙"}, follow=True)
    assert "已超过 2 小时的拒绝时限" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == Status.ASSIGNED and lead.assignments.get().state == A.State.PENDING


def test_r2_5_no_answer_by_the_deadline_escalates_and_reassigns_once(org):
    lead = org.lead(T0)
    first = lead.owner
    assert services.expire_due(T0 + timedelta(hours=23, minutes=59)) == 0
    with pytest.raises(services.AssignmentError):
        services.accept(lead=lead, rep=first, now=T0 + timedelta(hours=24, minutes=1))
    later = T0 + timedelta(hours=24, minutes=1)
    assert services.expire_due(later) == 1
    assert services.expire_due(later) == 0  # acted on once
    lead.refresh_from_db()
    assert lead.owner not in (first, None) and lead.status == Status.ASSIGNED
    assert lead.assignments.get(rep=first).state == A.State.EXPIRED
    escalation = Notification.objects.get(kind="expired", recipient=org.m_east, channel="in_app")
    assert lead.number in escalation.title and str(first) in escalation.title
    assert Notification.objects.filter(kind="expired", recipient=first).exists()


def test_r2_5_when_nobody_is_left_the_lead_waits_unassigned_and_never_returns_to_a_decliner(
    org,
):
    RepProfile.objects.filter(user__in=[org.east2, org.north1]).update(active=False)
    lead = org.lead(T0)
    assert lead.owner == org.east1
    services.decline(lead=lead, rep=org.east1, now=T0 + timedelta(minutes=5), reason="冲突")
    lead.refresh_from_db()
    assert (lead.status, lead.owner, lead.team) == (Status.UNASSIGNED, None, None)
    assert services.retry_unassigned(T0 + timedelta(minutes=10)) == 0
    assert owner_of(lead) is None
    RepProfile.objects.filter(user=org.north1).update(active=True)
    assert services.retry_unassigned(T0 + timedelta(minutes=15)) == 1
    assert owner_of(lead) == org.north1


def test_r3_8_a_confirmation_about_to_lapse_is_reminded_once(org):
    lead = org.lead(T0)
    assert services.remind_due(T0 + timedelta(hours=21)) == 0
    assert services.remind_due(T0 + timedelta(hours=22, minutes=1)) == 1
    assert services.remind_due(T0 + timedelta(hours=22, minutes=2)) == 0
    assert Notification.objects.filter(
        kind="confirm_reminder", recipient=lead.owner, channel="in_app"
    ).exists()


def test_r2_3_manual_assignment_needs_a_reason_and_keeps_it(
    org, django_capture_on_commit_callbacks
):
    lead = org.lead(T0)
    first = lead.owner
    with pytest.raises(services.AssignmentError) as exc:
        services.assign_manually(lead=lead, rep=org.north1, by=org.m_north, now=T0, reason="")
    assert exc.value.code == "reason_required"
    with pytest.raises(services.AssignmentError) as exc:  # not the manager's team
        services.assign_manually(lead=lead, rep=org.east1, by=org.m_north, now=T0, reason="x")
    assert exc.value.code in ("forbidden", "same_rep")
    with django_capture_on_commit_callbacks(execute=True):
        a = services.assign_manually(
            lead=lead, rep=org.north1, by=org.m_north, now=T0, reason="客户指定对接销售代表"
        )
    lead.refresh_from_db()
    assert lead.owner == org.north1 and lead.team == org.north
    assert (a.kind, a.by, a.reason) == (A.Kind.MANUAL, org.m_north, "客户指定对接销售代表")
    assert lead.assignments.get(rep=first).state == A.State.REPLACED
    assert StageChange.objects.filter(lead=lead).last().reason == "客户指定对接销售代表"
    assert Notification.objects.filter(kind="reassigned", recipient=first).exists()
    assert (open_leads(first), open_leads(org.north1)) == (0, 1)


def test_r2_3_a_lead_in_progress_changes_hands_without_reconfirmation(org):
    lead = org.lead(T0)
    services.accept(lead=lead, rep=lead.owner, now=T0)
    services.assign_manually(lead=lead, rep=org.north1, by=org.m_north, now=T0, reason="交接")
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Status.CONTACTING, org.north1)
    assert lead.assignments.order_by("-pk")[0].state == A.State.ACCEPTED


def test_r2_2_workload_counters_follow_closing_and_heal(org, django_capture_on_commit_callbacks):
    lead = org.lead(T0)
    owner = lead.owner
    services.accept(lead=lead, rep=owner, now=T0)
    assert open_leads(owner) == 1
    with django_capture_on_commit_callbacks(execute=True):
        move_lead(lead=lead, to=Status.INVALID, by=owner, at=T0, evidence=Evidence(reason="空号"))
    assert open_leads(owner) == 0
    RepProfile.objects.filter(user=owner).update(open_leads=9)  # drift
    assert loads.recount() == 1 and open_leads(owner) == 0


def test_r2_2_batch_assignment_places_every_lead_like_one_by_one(org):
    AssignmentPolicy.objects.update_or_create(pk=1, defaults={"weight_region": 40})
    RepProfile.objects.update(capacity=4)
    leads = [org.unverified(T0) for _ in range(5)]
    leads += [org.unverified(T0, phone=north_phone()) for _ in range(2)]
    Lead.objects.filter(pk__in=[x.pk for x in leads]).update(status=Status.UNASSIGNED)
    result = services.assign_batch(Lead.objects.all(), now=T0, by=org.m_east)
    assert (result.assigned, result.unplaced) == (7, 0)
    owners = dict(Lead.objects.values_list("pk", "owner__username"))
    east = [owners[x.pk] for x in leads[:5]]
    # 华东 leads alternate between the two 华东 reps: equal scores, the lighter load wins,
    # then (equal loads, both waiting since the same moment) the lower id
    assert east == ["east1", "east2", "east1", "east2", "east1"]
    assert [owners[x.pk] for x in leads[5:]] == ["north1", "north1"]
    assert RepProfile.objects.get(user=org.north1).open_leads == 2
    a = A.objects.filter(lead=leads[0]).get()
    assert a.state == A.State.PENDING and a.explanation["candidates"] and a.by == org.m_east
    # north1 got two leads: one digest; the 华东 reps two or three each: one digest each
    assert Notification.objects.filter(kind="assigned_digest", channel="in_app").count() == 3
    assert StageChange.objects.filter(to_status=Status.ASSIGNED).count() == 7


def test_r4_1_batch_assignment_raises_furthest_and_never_lowers_it(org):
    """The batch writes the funnel stage reached with the owner (one UPDATE): a fresh lead
    has now reached 已分配; one reopened to 待分配 after 洽谈中 keeps its furthest stage."""
    from leadflow.leads.models import FUNNEL_RANK

    fresh, reopened = org.unverified(T0), org.unverified(T0)
    Lead.objects.filter(pk__in=[fresh.pk, reopened.pk]).update(status=Status.UNASSIGNED)
    Lead.objects.filter(pk=reopened.pk).update(furthest=FUNNEL_RANK[Status.NEGOTIATING])
    assert services.assign_batch(Lead.objects.all(), now=T0).assigned == 2
    furthest = dict(Lead.objects.values_list("pk", "furthest"))
    assert furthest[fresh.pk] == FUNNEL_RANK[Status.ASSIGNED]
    assert furthest[reopened.pk] == FUNNEL_RANK[Status.NEGOTIATING]


def test_r2_2_batch_respects_capacity(org):
    RepProfile.objects.update(capacity=1)
    leads = [org.unverified(T0) for _ in range(4)]
    Lead.objects.filter(pk__in=[x.pk for x in leads]).update(status=Status.UNASSIGNED)
    result = services.assign_batch(Lead.objects.all(), now=T0)
    assert (result.assigned, result.unplaced) == (3, 1)
    assert set(RepProfile.objects.values_list("open_leads", flat=True)) == {1}


def test_the_batch_writes_name_every_column():
    from leadflow.assignment import bulk as batch
    from leadflow.core import bulk
    from leadflow.core.models import AuditEntry

    assert sorted(batch.ASSIGNMENT_COLUMNS) == sorted(bulk.columns_of(Assignment))
    assert sorted(batch.STAGE_CHANGE_COLUMNS) == sorted(bulk.columns_of(StageChange))
    assert sorted(batch.AUDIT_COLUMNS) == sorted(bulk.columns_of(AuditEntry))


def test_r2_4_a_batch_sends_a_rep_one_digest_for_several_leads_and_a_notice_for_one(org):
    from leadflow.notifications.models import Robot

    Robot.objects.create(
        name="华东群", platform="wecom", url="https://example.com/x", team=org.east
    )
    leads = [org.unverified(T0) for _ in range(4)] + [org.unverified(T0, phone=north_phone())]
    Lead.objects.filter(pk__in=[x.pk for x in leads]).update(status=Status.UNASSIGNED)
    services.assign_batch(Lead.objects.all(), now=T0)
    single = Notification.objects.get(kind="assigned", channel="in_app")
    assert single.recipient == org.north1 and leads[4].number in single.title  # full notice
    assert Notification.objects.filter(kind="assigned").count() == 2  # north1: in-app, e-mail
    digests = Notification.objects.filter(kind="assigned_digest")
    assert digests.filter(channel="in_app").count() == 2
    emails = digests.filter(channel="email")
    assert sorted(e.recipient.username for e in emails) == ["east1", "east2"]
    assert all(e.title == "2 条新线索待确认" for e in emails)
    body = emails[0].body
    assert "请在 2026-11-03 10:00 前确认接收" in body
    assert sum(x.number in body for x in leads) == 2
    robot = digests.filter(channel="robot")
    assert robot.count() == 2  # the team robot: once per rep's digest, not per lead


def test_r2_2_state_is_read_with_the_types_the_orm_gives(org):
    """The state query is raw SQL (hot path): on both engines it must give booleans, dates
    and aware datetimes, or tie-breaks on "waited longest" would compare naive and aware."""
    from datetime import date

    RepProfile.objects.filter(user=org.east1).update(
        last_assigned_at=T0, on_leave_until=date(2026, 11, 5)
    )
    state = services.live(T0, [org.east1.pk, org.east2.pk])
    assert state.last_assigned[org.east1.pk] == T0 and state.last_assigned[org.east2.pk] is None
    assert state.away == {org.east1.pk: "on_leave"}  # until the 5th
    assert services.live(T0 + timedelta(days=4), [org.east1.pk]).away == {}
    assert state.capacity[org.east2.pk] == 50 and state.load[org.east2.pk] == 0


def test_r2_5_a_lapsed_confirmation_of_a_lead_closed_meanwhile_is_only_closed(org):
    lead = org.lead(T0)
    first = lead.owner
    move_lead(lead=lead, to=Status.INVALID, by=org.m_east, at=T0, evidence=Evidence(reason="空号"))
    with pytest.raises(services.AssignmentError) as exc:  # nothing to accept any more
        services.accept(lead=lead, rep=first, now=T0 + timedelta(hours=1))
    assert exc.value.code == "not_pending"
    later = T0 + timedelta(hours=25)
    assert services.expire_due(later) == 0 and services.expire_due(later) == 0
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Status.INVALID, first)
    assert lead.assignments.get().state == A.State.REPLACED


def test_r2_2_the_batch_reads_its_chunks_by_key_lists_whole(org):
    """`__among` (core/lookups.py), which the batch uses for its thousands of ids, finds
    exactly what `__in` finds, on keys and on foreign keys, and takes any number of them
    (one parameter: SQLite refuses more than 32,766 placeholders)."""
    leads = [org.unverified(T0) for _ in range(3)]
    ids = [x.pk for x in leads]
    for wanted in ([], ids[:1], ids[1:], [*ids, 10**9]):
        assert set(Lead.objects.filter(pk__among=wanted)) == set(Lead.objects.filter(pk__in=wanted))
        changes = StageChange.objects.filter(lead_id__among=wanted)
        assert set(changes) == set(StageChange.objects.filter(lead__in=wanted))
    many = [*range(10**9, 10**9 + 40_000), ids[0]]
    assert list(Lead.objects.filter(pk__among=many)) == [leads[0]]
