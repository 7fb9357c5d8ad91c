"""Assignment, confirmation and manual adjustment (R2.2–R2.5, R3.8).

- `assign_lead`: a verified lead goes to the best rep at once (called by intake when a lead
  becomes 待分配), with the explanation stored on its `Assignment`.
- `assign_batch`: the same rules for many leads at once (managers' "assign all", the
  sweeper's retry, imports), with boards cached per kind of lead and writes in bulk.
- `accept` / `decline`: the rep's answer. A decline within the window moves the lead on at
  once to the next best rep (never the decliner); the manager is told.
- `expire_due` / `remind_due`: the sweeper's part — confirmations about to lapse, and
  lapsed ones escalated to the manager and reassigned. Rows are claimed with
  `SELECT … FOR UPDATE SKIP LOCKED` plus a conditional update, so two sweepers never act
  twice, and each is handled in its own transaction, so a crash loses nothing.
- `assign_manually`: a manager assigns or reassigns with a reason (R2.3).
"""

import gc
import queue
import threading
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from leadflow.accounts import loads
from leadflow.accounts.models import RepProfile, Role, User, is_away
from leadflow.core import bulk
from leadflow.core.audit import record_changes, snapshot
from leadflow.core.locking import skip_locked
from leadflow.core.masking import mask_phone
from leadflow.leads.models import OPEN_STATUSES, WORKING_STATUSES, Lead, Status
from leadflow.leads.pipeline import Evidence
from leadflow.leads.services import move_lead
from leadflow.notifications.services import Message, Text, lead_event, notify

from . import scoring
from .models import Assignment, AssignmentPolicy, AssignmentRule
from .scoring import LeadFacts, Live, Router, Routing

A = Assignment
WORKING = WORKING_STATUSES  # a lead being worked by its owner (after acceptance)


class AssignmentError(Exception):
    def __init__(self, code: str, message) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


# --- what matching sees ------------------------------------------------------------------


def weights_of(policy: AssignmentPolicy) -> scoring.Weights:
    return scoring.Weights(
        region=policy.weight_region,
        industry=policy.weight_industry,
        grade=policy.weight_grade,
        customer_type=policy.weight_customer_type,
    )


def facts(lead: Lead) -> LeadFacts:
    return LeadFacts(
        region=lead.region,
        province=lead.province_id or "",
        industry=lead.industry_id,
        grade=lead.grade,
        customer_type=lead.customer_type,
        channel=lead.channel_id,
        channel_parent=lead.channel.parent_id,
    )


def reps() -> list[scoring.Rep]:
    """What each rep handles (cached with the rules: it changes rarely)."""
    industries: dict[int, set[int]] = defaultdict(set)
    through = RepProfile.industries.through
    for user_id, industry_id in through.objects.values_list("repprofile__user_id", "industry_id"):
        industries[user_id].add(industry_id)
    rows = (
        RepProfile.objects.filter(user__groups__name=Role.REP)
        .order_by("user_id")
        .values_list(
            "user_id",
            "user__display_name",
            "user__username",
            "user__team_id",
            "regions",
            "grades",
            "customer_types",
        )
    )
    return [
        scoring.Rep(
            id=uid,
            name=display or username,
            regions=frozenset(regions),
            industries=frozenset(industries.get(uid, ())),
            grades=frozenset(grades),
            customer_types=frozenset(types),
            team=team,
        )
        for uid, display, username, team, regions, grades, types in rows
    ]


def live(now: datetime, rep_ids=None) -> Live:
    """Each rep's state now — workload, capacity, leave, active — read in plain columns
    (these change all day, so they are never cached): for `rep_ids`, or lazily for the
    reps a routing looks at (`Live.ensure`)."""
    state = Live(loader=lambda state, ids: _read_state(state, ids, timezone.localdate(now)))
    if rep_ids is not None:
        state.ensure(rep_ids)
    return state


STATE_SQL = """
    SELECT p.user_id, u.is_active, p.capacity, p.active, p.on_leave, p.on_leave_until,
           p.open_leads, p.last_assigned_at
      FROM accounts_repprofile p JOIN accounts_user u ON u.id = p.user_id
     WHERE p.user_id IN ({ids})
"""  # raw: read on every assignment, and the ORM's compiling cost more than the query


def _read_state(state: Live, ids: set[int], today) -> None:
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL.format(ids=", ".join(["%s"] * len(ids))), list(ids))
        rows = [_state_row(row) for row in cursor.fetchall()]
    for uid, user_active, capacity, active, on_leave, until, open_leads, last in rows:
        state.load[uid] = open_leads
        state.last_assigned[uid] = last
        state.capacity[uid] = capacity
        if not (active and user_active):
            state.away[uid] = scoring.INACTIVE
        elif is_away(on_leave, until, today):
            state.away[uid] = scoring.ON_LEAVE


def rules() -> list[scoring.Rule]:
    found = AssignmentRule.objects.filter(active=True).prefetch_related(
        "provinces", "industries", "channels"
    )
    return [
        scoring.Rule(
            id=r.pk,
            name=r.name,
            regions=frozenset(r.regions),
            provinces=frozenset(p.pk for p in r.provinces.all()),
            industries=frozenset(i.pk for i in r.industries.all()),
            grades=frozenset(r.grades),
            customer_types=frozenset(r.customer_types),
            channels=frozenset(c.pk for c in r.channels.all()),
            team=r.team_id,
            rep=r.rep_id,
        )
        for r in found
    ]


@dataclass
class Setup:
    policy: AssignmentPolicy
    router: Router
    live: Live


def _state_row(row: tuple) -> tuple:
    """SQLite hands back booleans as 0/1 and times as text: the types the ORM would give."""
    if connection.vendor != "sqlite":
        return row
    uid, user_active, capacity, active, on_leave, until, open_leads, last = row
    return (
        uid,
        bool(user_active),
        capacity,
        bool(active),
        bool(on_leave),
        date.fromisoformat(until) if isinstance(until, str) else until,
        open_leads,
        _sqlite_time(last),
    )


def _sqlite_time(value) -> datetime | None:
    """Naive UTC (as Django stores it on SQLite, parsed or not) → aware."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# per database: the policy version, and the policy and router as they were at it
_routers: dict[str, tuple[str, AssignmentPolicy, Router]] = {}


def setup(now: datetime) -> Setup:
    """What matching needs now. The policy and the router — rules, what reps handle,
    weights, and the score boards it has worked out — are kept until the policy version
    moves (signals.py); workloads and availability are read every time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM assignment_assignmentpolicy WHERE id = 1")
        found = cursor.fetchone()
    cached = _routers.get(connection.alias)
    if found is None or cached is None or cached[0] != found[0]:
        policy = AssignmentPolicy.current()
        cached = (policy.version, policy, Router(rules(), reps(), weights_of(policy)))
        _routers[connection.alias] = cached
    _version, policy, router = cached
    return Setup(policy, router, live(now))


def explanation(routing: Routing, weights: scoring.Weights) -> dict:
    """What an Assignment stores about why (R2.2), rendered by presenters.explain. Compact,
    since every assignment keeps one: each candidate is [rep id, total, open leads, why
    skipped or null, points per dimension in the order of "dims"]."""
    d = routing.decision
    dims = [k for k in scoring.DIMENSIONS if weights.of(k)]
    return {
        "dims": dims,
        "weights": [weights.of(k) for k in dims],
        "rule": {"id": routing.rule.id, "name": routing.rule.name} if routing.rule else None,
        "passed": [{"id": p.rule.id, "name": p.rule.name, "why": p.why} for p in routing.passed],
        "winner": d.winner.scored.rep.id if d.winner else None,
        "runner_up": d.runner_up.scored.rep.id if d.runner_up else None,
        "why": d.why,
        "considered": d.considered,
        "eligible": d.eligible,
        "candidates": [
            [c.scored.rep.id, c.scored.total, c.load, c.skipped, [p for _d, p in c.scored.parts]]
            for c in d.candidates
        ],
    }


def preview(lead: Lead, now: datetime) -> tuple[Routing, dict]:
    """Who would get `lead` now, and why — changes nothing."""
    s = setup(now)
    routing = s.router.route(facts(lead), s.live, _declined(lead))
    return routing, explanation(routing, s.router.weights)


# --- automatic assignment ----------------------------------------------------------------


@transaction.atomic
def assign_lead(*, lead: Lead, now: datetime, by=None, note: str = "") -> Assignment | None:
    """Place an unassigned lead with the best rep now (R2.2, R2.4). None when nobody can take
    it: the lead stays 待分配, the managers are told, and the sweeper tries again."""
    lead = _locked(lead)
    if lead.status != Status.UNASSIGNED:
        return None
    return _route_and_place(lead, now=now, by=by, note=note, s=setup(now))


def _route_and_place(lead: Lead, *, now: datetime, by, note: str, s: Setup) -> Assignment | None:
    declined = _declined(lead)
    for _attempt in range(5):
        routing = s.router.route(facts(lead), s.live, declined)
        winner = routing.decision.winner
        if winner is None:
            break
        rep_id = winner.scored.rep.id
        if _take_capacity(rep_id, now):
            s.live.took(rep_id, now)
            return _place(
                lead,
                rep=User.objects.get(pk=rep_id),
                kind=A.Kind.AUTO,
                by=by,
                now=now,
                rule_id=routing.rule.id if routing.rule else None,
                reason=note,
                explained=explanation(routing, s.router.weights),
                policy=s.policy,
            )
        # filled up meanwhile (another process): look again without them
        s.live.load[rep_id] = s.live.capacity.get(rep_id, 0)
    # nobody can take it (or everyone filled up under us)
    if lead.status == Status.ASSIGNED:  # the one who had it declined or lapsed
        _release(lead, now=now, by=by, reason=note)
    _tell_unplaceable(lead, routing, now)
    return None


def _take_capacity(rep_id: int, now: datetime) -> bool:
    """Count the lead against the rep's capacity, only if there is room — a conditional
    update, so two concurrent assignments cannot overfill a rep. (Raw: on every assignment.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_repprofile SET open_leads = open_leads + 1, last_assigned_at = %s "
            "WHERE user_id = %s AND open_leads < capacity",
            [bulk.db_datetime(now), rep_id],
        )
        return cursor.rowcount == 1


def _place(
    lead: Lead,
    *,
    rep: User,
    kind: str,
    by,
    now: datetime,
    rule_id: int | None = None,
    reason: str = "",
    explained: dict | None = None,
    policy: AssignmentPolicy | None = None,
) -> Assignment:
    """Make `rep` the owner. Before acceptance (待分配, 公海, 待确认) the lead becomes
    待确认 with a confirmation deadline; a lead already being worked changes hands as it is.
    The caller has counted the lead against the new owner's workload."""
    policy = policy or AssignmentPolicy.current()
    old_owner = lead.owner_id
    was_open = lead.is_open
    if lead.status != Status.UNASSIGNED:  # a 待分配 lead awaits nobody's answer
        lead.assignments.filter(state=A.State.PENDING).update(
            state=A.State.REPLACED, answered_at=now
        )
    pending = kind != A.Kind.CLAIM and lead.status not in WORKING
    accept_due = now + timedelta(hours=policy.confirm_hours) if pending else None
    placing = {"owner": rep.pk, "team": rep.team_id, "accept_due": accept_due}
    if pending:
        move_lead(
            lead=lead,
            to=Status.ASSIGNED,
            by=by,
            at=now,
            evidence=Evidence(reason=_stage_reason(kind, reason, explained)),
            fields=placing,
        )
    else:
        before = snapshot(lead, list(placing))
        lead.owner_id, lead.team_id, lead.accept_due = rep.pk, rep.team_id, accept_due
        lead.updated_at = now
        lead.save(update_fields=["owner", "team", "accept_due", "updated_at"])
        record_changes(instance=lead, before=before, by=by, at=now, reason=reason)
    lead.owner = rep
    if old_owner != rep.pk and was_open:
        loads.adjust(old_owner, -1)
    assignment = Assignment.objects.create(
        lead=lead,
        rep=rep,
        team_id=rep.team_id,
        kind=kind,
        state=A.State.PENDING if pending else A.State.ACCEPTED,
        by=by,
        rule_id=rule_id,
        reason=reason[:500],
        explanation=explained or {},
        at=now,
        accept_due=lead.accept_due,
        decline_due=now + timedelta(hours=policy.decline_hours) if pending else None,
        answered_at=None if pending else now,
    )
    if pending:
        notify(assigned_message(lead, assignment), [rep], now=now)
    lead_event(
        lead,
        "lead.assigned",
        at=now,
        key=f"assignment:{assignment.pk}",
        extra={"rep": rep.username, "kind": kind, "accept_due": _iso(lead.accept_due)},
    )
    return assignment


def _stage_reason(kind: str, reason: str, explained: dict | None) -> str:
    if kind == A.Kind.AUTO:
        rule = (explained or {}).get("rule")
        text = str(Text(_("自动分配：规则“%(r)s”"), r=rule["name"]) if rule else _("自动分配"))
        return f"{text}；{reason}" if reason else text
    return reason or str(A.Kind(kind).label)


ASSIGNED_DIGEST = {
    "title": _("%(n)s 条新线索待确认"),
    "line": _("%(n)s %(c)s（%(g)s）"),
    "more": _("……另有 %(n)s 条，请到“待我确认”查看"),
    "due": _("请在 %(t)s 前确认接收"),
}
ASSIGNED_TEXT = {
    "title": _("新线索待确认：%(n)s %(c)s"),
    "customer": _("客户：%(c)s"),
    "contact": _("联系人：%(c)s"),
    "need": _("需求：%(n)s"),
    "at": _("分配时间：%(t)s"),
    "due": _("请在 %(t)s 前确认接收"),
}


def assigned_texts() -> dict[str, str]:
    """The assignment notice's lines, translated once (a batch formats thousands)."""
    with translation.override(settings.LANGUAGE_CODE):
        return {k: str(v) for k, v in ASSIGNED_TEXT.items()}


def assigned_message(lead, a, texts: dict[str, str] | None = None) -> Message:
    """R2.4: lead number, customer, contact, need summary, time and the confirm deadline.
    `a` is the Assignment (or anything with its lead_id, rep_id, at and accept_due); a
    batch passes `texts` with the times already written (they are the same for all)."""
    t = texts or assigned_texts()
    need = lead.need if len(lead.need) <= 80 else lead.need[:79] + "…"
    customer = t["customer"] % {"c": lead.company_name}
    at = t["at_local"] if "at_local" in t else local_time(a.at)
    due = t["due"] % {"t": t["due_local"] if "due_local" in t else local_time(a.accept_due)}
    return Message(
        kind="assigned",
        key=f"assigned:{a.lead_id}:{a.rep_id}:{a.at.timestamp()}",
        title=t["title"] % {"n": lead.number, "c": lead.company_name},
        lines=(
            customer,
            t["contact"] % {"c": f"{lead.contact_name} {lead.phone_e164 or lead.email}".strip()},
            t["need"] % {"n": need},
            t["at"] % {"t": at},
            due,
        ),
        public_lines=(  # for group chats: the phone masked
            customer,
            t["contact"] % {"c": f"{lead.contact_name} {mask_phone(lead.phone_e164)}".strip()},
            t["need"] % {"n": need},
            due,
        ),
        lead=lead,
        link=f"/leads/{lead.number}/",
        data={"accept_due": _iso(a.accept_due), "rep": a.rep_id},
    )


# --- the rep's answer ----------------------------------------------------------------------


@transaction.atomic
def accept(*, lead: Lead, rep: User, now: datetime) -> Assignment:
    """The rep takes the lead (R2.5): 初步接触, and the first-contact clock starts."""
    lead = _locked(lead)
    a = _pending_for(lead, rep)
    if now > a.accept_due:
        raise AssignmentError("confirm_deadline_passed", _("确认时限已过，线索将改派"))
    a.state, a.answered_at = A.State.ACCEPTED, now
    a.save(update_fields=["state", "answered_at"])
    move_lead(lead=lead, to=Status.CONTACTING, by=rep, at=now, evidence=Evidence(reason="接收"))
    start_clock(lead, now=now, by=rep, since=a.at)
    return a


def start_clock(lead: Lead, *, now: datetime, by, since: datetime | None = None) -> None:
    """Accepted or claimed: the pool deadline set, and the follow-up plan of the lead's
    grade started — first contact due from `since`, the assignment (R3.1)."""
    from leadflow.followups.services import replan  # follow-ups build on assignment

    policy = AssignmentPolicy.current()
    before = snapshot(lead, ["accept_due", "pool_due"])
    lead.accept_due = None
    lead.pool_due = policy.pool_deadline(lead, now=now)
    lead.pool_warned_at = None
    lead.save(update_fields=["accept_due", "pool_due", "pool_warned_at"])
    record_changes(instance=lead, before=before, by=by, at=now)
    replan(lead, now=now, by=by, since=since or now)


@transaction.atomic
def decline(*, lead: Lead, rep: User, now: datetime, reason: str) -> Assignment | None:
    """The rep cannot take the lead (R2.5): within the decline window and with a reason. The
    lead goes at once to the next best rep — never the decliner — and the manager is told.
    Returns the new assignment (None when nobody else can take it)."""
    reason = (reason or "").strip()
    if not reason:
        raise AssignmentError("reason_required", _("拒绝需要填写原因，如：区域冲突、工作量已满"))
    lead = _locked(lead)
    a = _pending_for(lead, rep)
    if now > a.decline_due:
        raise AssignmentError(
            "decline_window_passed",
            Text(
                _("已超过 %(h)s 小时的拒绝时限：请接收，或请经理改派"),
                h=AssignmentPolicy.current().decline_hours,
            ),
        )
    a.state, a.answered_at, a.decline_reason = A.State.DECLINED, now, reason[:500]
    a.save(update_fields=["state", "answered_at", "decline_reason"])
    note = str(Text(_("%(rep)s 拒绝：%(r)s"), rep=rep, r=reason))
    nxt = _route_and_place(lead, now=now, by=None, note=note, s=setup(now))
    _tell_managers(
        lead,
        rep,
        now,
        kind="declined",
        key=f"declined:{a.pk}",
        title=Text(_("%(rep)s 拒绝了线索 %(n)s"), rep=rep, n=lead.number),
        lines=(Text(_("原因：%(r)s"), r=reason), _next_line(nxt)),
    )
    return nxt


def _next_line(nxt: Assignment | None):
    if nxt is None:
        return _("暂无可接手的销售，线索待分配，请手动分配")
    return Text(_("已改派给 %(rep)s"), rep=nxt.rep)


def _pending_for(lead: Lead, rep: User) -> Assignment:
    a = lead.assignments.filter(state=A.State.PENDING).first()
    if a is None or a.rep_id != rep.pk or lead.status != Status.ASSIGNED:
        raise AssignmentError("not_pending", _("这条线索没有等待您确认的分配"))
    return a


def _release(lead: Lead, *, now: datetime, by, reason: str) -> None:
    """Nobody to pass it on to: back to 待分配, without an owner."""
    loads.adjust(lead.owner_id, -1)
    move_lead(
        lead=lead,
        to=Status.UNASSIGNED,
        by=by,
        at=now,
        evidence=Evidence(reason=reason),
        fields={"owner": None, "team": None, "accept_due": None},
    )


# --- the sweeper's part --------------------------------------------------------------------


def expire_due(now: datetime) -> int:
    """Confirmations whose deadline passed: escalate to the manager and reassign (R2.5)."""
    done = 0
    while True:
        with transaction.atomic():
            a = _claim_one(
                Assignment.objects.filter(state=A.State.PENDING, accept_due__lte=now),
                "accept_due",
            )
            if a is None:
                return done
            if not A.objects.filter(pk=a.pk, state=A.State.PENDING).update(
                state=A.State.EXPIRED, answered_at=now
            ):
                continue
            lead = _locked(a.lead)
            if lead.status != Status.ASSIGNED or lead.owner_id != a.rep_id:
                # the lead moved on meanwhile (closed, reassigned): nothing to hand on
                A.objects.filter(pk=a.pk).update(state=A.State.REPLACED)
                continue
            note = str(Text(_("%(rep)s 超时未确认"), rep=a.rep))
            nxt = _route_and_place(lead, now=now, by=None, note=note, s=setup(now))
            _tell_managers(
                lead,
                a.rep,
                now,
                kind="expired",
                key=f"expired:{a.pk}",
                title=Text(_("线索 %(n)s 超时未确认（%(rep)s）"), n=lead.number, rep=a.rep),
                lines=(Text(_("确认截止：%(t)s"), t=local_time(a.accept_due)), _next_line(nxt)),
            )
            notify(
                Message(
                    kind="expired",
                    key=f"expired-rep:{a.pk}",
                    title=Text(_("线索 %(n)s 未在时限内确认，已收回"), n=lead.number),
                    lead=lead,
                ),
                [a.rep],
                now=now,
            )
            done += 1


def remind_due(now: datetime) -> int:
    """Confirmations about to lapse: remind the rep once (R3.8)."""
    policy = AssignmentPolicy.current()
    soon = now + timedelta(hours=policy.remind_hours)
    due = Assignment.objects.filter(
        state=A.State.PENDING, accept_due__lte=soon, accept_due__gt=now, reminded_at=None
    ).select_related("lead", "rep")
    done = 0
    for a in due[:500]:
        with transaction.atomic():
            if not A.objects.filter(pk=a.pk, reminded_at=None).update(reminded_at=now):
                continue  # another sweeper reminded
            notify(
                Message(
                    kind="confirm_reminder",
                    key=f"remind:{a.pk}",
                    title=Text(
                        _("请尽快确认线索 %(n)s %(c)s"), n=a.lead.number, c=a.lead.company_name
                    ),
                    lines=(Text(_("确认截止：%(t)s"), t=local_time(a.accept_due)),),
                    lead=a.lead,
                    link=f"/leads/{a.lead.number}/",
                ),
                [a.rep],
                now=now,
            )
            done += 1
    return done


def retry_unassigned(now: datetime) -> int:
    """Leads still 待分配 (nobody could take them before): try again."""
    return assign_batch(Lead.objects.filter(status=Status.UNASSIGNED), now=now).assigned


def _claim_one(rows, order: str):
    return skip_locked(rows.order_by(order, "pk").select_related("lead", "rep")).first()


# --- managers --------------------------------------------------------------------------


def may_assign(user: User, rep: User | None = None) -> bool:
    """Admins assign to anyone; a manager to the reps of the teams they manage."""
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.MANAGER):
        return False
    return rep is None or (rep.team_id is not None and rep.team.manager_id == user.pk)


def assignable_reps(user: User):
    reps = User.objects.filter(groups__name=Role.REP, is_active=True).select_related(
        "team", "rep_profile"
    )
    if not user.has_role(Role.ADMIN):
        reps = reps.filter(team__manager=user)
    return reps.order_by("team__name", "username")


@transaction.atomic
def assign_manually(*, lead: Lead, rep: User, by: User, now: datetime, reason: str) -> Assignment:
    """A manager assigns or reassigns a lead, with the reason kept (R2.3)."""
    reason = (reason or "").strip()
    if not reason:
        raise AssignmentError("reason_required", _("手动分配需要填写原因"))
    if not rep.has_role(Role.REP) or not rep.is_active:
        raise AssignmentError("not_a_rep", _("只能分配给在职的销售代表"))
    if not may_assign(by, rep):
        raise AssignmentError("forbidden", _("您只能分配给自己团队的销售代表"))
    lead = _locked(lead)
    if lead.status not in MANUALLY_ASSIGNABLE:
        raise AssignmentError(
            "not_assignable", Text(_("“%(s)s”状态的线索不能分配"), s=lead.get_status_display())
        )
    if lead.owner_id == rep.pk:
        raise AssignmentError("same_rep", Text(_("线索已由 %(rep)s 负责"), rep=rep))
    previous = lead.owner
    loads.adjust(rep.pk, +1)
    RepProfile.objects.filter(user=rep).update(last_assigned_at=now)
    a = _place(
        lead,
        rep=rep,
        kind=A.Kind.MANUAL,
        by=by,
        now=now,
        reason=reason,
        explained={"manual": True, "previous_owner": previous.pk if previous else None},
    )
    if previous is not None:
        notify(
            Message(
                kind="reassigned",
                key=f"reassigned:{a.pk}",
                title=Text(_("线索 %(n)s 已改派给 %(rep)s"), n=lead.number, rep=rep),
                lines=(Text(_("原因：%(r)s"), r=reason),),
                lead=lead,
            ),
            [previous],
            now=now,
        )
    if lead.status in WORKING:
        from leadflow.followups.services import replan

        replan(lead, now=now, by=by, since=now)  # the clocks and next actions change hands
        notify(
            Message(
                kind="handed_over",
                key=f"handed:{a.pk}",
                title=Text(_("%(by)s 将线索 %(n)s 交给您跟进"), by=by, n=lead.number),
                lines=(Text(_("原因：%(r)s"), r=reason),),
                lead=lead,
                link=f"/leads/{lead.number}/",
            ),
            [rep],
            now=now,
        )
    return a


MANUALLY_ASSIGNABLE = OPEN_STATUSES - {Status.PENDING_REVIEW, Status.RETURNED}


# --- batches -------------------------------------------------------------------------------


@dataclass
class BatchResult:
    assigned: int = 0
    unplaced: int = 0


CHUNK = 2000


def assign_batch(leads, *, now: datetime, by=None) -> BatchResult:
    """Assign every 待分配 lead of `leads` (a queryset) with the same rules as `assign_lead`,
    a chunk per transaction, with boards cached per kind of lead and the writes in bulk.

    Each chunk is planned (routed) first and written after: the writer locks the chunk's
    leads that are still 待分配 (skipping any another process holds or took meanwhile) and
    writes only those. With more than one chunk, the writing runs in a second thread on
    its own connection while the next chunk is planned, so the database's work and this
    process's overlap."""
    result = BatchResult()
    s = setup(now)
    s.live.ensure(s.router.reps)  # every rep's state in one read
    s.live.loader = None  # so every rep is known: nothing more to check per lead
    ids = list(leads.filter(status=Status.UNASSIGNED).order_by("pk").values_list("pk", flat=True))
    chunks = [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]
    with _no_cyclic_gc():
        if len(chunks) > 1 and not connection.in_atomic_block:
            _pipelined(chunks, s, now, by, result)
        else:
            for chunk in chunks:
                planned = _plan_chunk(chunk, s, now, result)
                with transaction.atomic():
                    _write_chunk(planned, s, now, by, result)
    return result


WRITERS = 3  # on PostgreSQL; SQLite takes one writer at a time, so it gets one


def _pipelined(chunks: list[list[int]], s: Setup, now: datetime, by, result) -> None:
    """Plan in this thread, write in others, each on its own connection: while one writer
    waits for the database, another encodes its rows (SQLite: one writer). Their
    transactions touch different leads; the reps' counters, which they share, are written
    last (in rep order) so that one writer waits for another only for its commit."""
    writers = WRITERS if connection.vendor == "postgresql" else 1
    planned: queue.Queue = queue.Queue(maxsize=writers)
    failed: list[BaseException] = []
    counting = threading.Lock()

    def writer() -> None:
        try:
            while (item := planned.get()) is not None:
                if not failed:
                    done = BatchResult()
                    with transaction.atomic():
                        _write_chunk(item, s, now, by, done)
                    with counting:
                        result.assigned += done.assigned
        except BaseException as exc:  # reported by the planning thread
            failed.append(exc)
            while planned.get() is not None:  # keep the planner from blocking
                pass
        finally:
            connection.close()

    threads = [
        threading.Thread(target=writer, name=f"assign-batch-writer-{n}") for n in range(writers)
    ]
    for thread in threads:
        thread.start()
    try:
        for chunk in chunks:
            if failed:
                break
            planned.put(_plan_chunk(chunk, s, now, result))
    finally:
        for _thread in threads:
            planned.put(None)
        for thread in threads:
            thread.join()
    if failed:
        raise failed[0]


@contextmanager
def _no_cyclic_gc():
    """A batch allocates millions of short-lived tuples and dicts (freed by reference
    counting); the cycle collector, triggered by the allocations, walked the cached boards
    and the batch again and again — a quarter to a third of the batch's time. It is off
    for the batch and back on (with a collection) afterwards."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
            gc.collect(1)


def _plan_chunk(ids: list[int], s: Setup, now: datetime, result: BatchResult) -> list:
    """Route a chunk's leads (read, not locked) and count them against the reps' state."""
    from .bulk import BatchLead, load_chunk

    leads = load_chunk(ids)
    declined = _declined_many([lead.pk for lead in leads])
    placed: list[tuple[BatchLead, int, Routing]] = []
    for lead in leads:
        routing = s.router.route(lead.facts, s.live, declined.get(lead.pk, frozenset()))
        winner = routing.decision.winner
        if winner is None:
            result.unplaced += 1
            _tell_unplaceable(Lead.objects.select_related("team").get(pk=lead.pk), routing, now)
            continue
        s.live.took(winner.scored.rep.id, now)
        placed.append((lead, winner.scored.rep.id, routing))
    return placed


def _write_chunk(placed: list, s: Setup, now: datetime, by, result: BatchResult) -> None:
    """Write a planned chunk: only its leads still 待分配, which it locks first."""
    from .bulk import lock_unassigned, write_assignments

    still = lock_unassigned([lead.pk for lead, _rep, _routing in placed])
    placed = [p for p in placed if p[0].pk in still]
    write_assignments(placed, s, now=now, by=by)
    result.assigned += len(placed)


def _declined(lead: Lead) -> frozenset[int]:
    """Reps who declined this lead or let it lapse (raw: on every assignment)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rep_id FROM assignment_assignment WHERE lead_id = %s AND state IN (%s, %s)",
            [lead.pk, A.State.DECLINED, A.State.EXPIRED],
        )
        return frozenset(rep for (rep,) in cursor.fetchall())


def _declined_many(ids: Iterable[int]) -> dict[int, frozenset[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    for lead_id, rep_id in Assignment.objects.filter(
        lead_id__among=list(ids), state__in=[A.State.DECLINED, A.State.EXPIRED]
    ).values_list("lead_id", "rep_id"):
        found[lead_id].add(rep_id)
    return {k: frozenset(v) for k, v in found.items()}


# --- telling people ------------------------------------------------------------------------


def managers_of(lead: Lead, rep: User | None = None) -> list[User]:
    """Who hears about declines, lapses and leads nobody can take: the manager of the rep's
    team, else of the lead's team, else every manager; admins when there are none."""
    for team in (getattr(rep, "team", None), lead.team):
        if team is not None and team.manager_id:
            return [team.manager]
    managers = list(User.objects.filter(groups__name=Role.MANAGER, is_active=True))
    return managers or list(User.objects.filter(is_superuser=True, is_active=True))


def _tell_managers(lead, rep, now, *, kind, key, title, lines) -> None:
    message = Message(
        kind=kind, key=key, title=title, lines=lines, lead=lead, link=f"/leads/{lead.number}/"
    )
    notify(message, managers_of(lead, rep), now=now)


def _tell_unplaceable(lead: Lead, routing: Routing, now: datetime) -> None:
    """Once a day per lead: nobody can take it; a manager should assign it by hand."""
    day = timezone.localdate(now).isoformat()
    notify(
        Message(
            kind="unplaceable",
            key=f"unplaceable:{lead.pk}:{day}",
            title=Text(_("线索 %(n)s 暂无可分配的销售"), n=lead.number),
            lines=(_("所有候选销售均已满额、休假或拒绝，请手动分配"),),
            lead=lead,
            link="/assignment/",
        ),
        managers_of(lead),
        now=now,
    )


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update(of=("self",)).select_related("channel").get(pk=lead.pk)


def local_time(moment: datetime | None) -> str:
    """A moment as people here read it: Shanghai time to the minute."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
