"""Follow-up writes (R3.1–R3.7): contact records, next actions, grades, stage moves on
evidence, the customer profile and behaviour — and the clocks that keep the rhythm.

Every write that moves a deadline ends in `replan`, which sets the lead's deadlines
(`first_contact_due`, `next_followup_due`, `next_action_due`) from its state and keeps its
`Clock` rows — what the sweeper watches — in step.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Role, User
from leadflow.assignment.models import Assignment, AssignmentPolicy
from leadflow.assignment.pool import note_contact
from leadflow.core import calendars
from leadflow.core.audit import record_changes, snapshot
from leadflow.leads.models import WORKING_STATUSES, Grade, Lead, Status
from leadflow.leads.pipeline import TRANSITIONS, Evidence, TransitionError
from leadflow.leads.services import move_lead
from leadflow.notifications.services import Text

from . import sla
from .models import (
    Clock,
    FollowUp,
    Grading,
    InvalidReason,
    LeadEvent,
    PlaybookStep,
    SlaPolicy,
    Tally,
    Task,
)

LATE_AFTER = timedelta(hours=1)  # a record entered later than this is marked late (R3.2)
CLOCK_SKEW = timedelta(minutes=5)  # a contact "now" on a phone whose clock runs fast
DEADLINE_FIELDS = ("first_contact_due", "next_followup_due", "next_action_due")


class FollowUpError(Exception):
    """A refused follow-up write: a code, a message for people, the field at fault."""

    def __init__(self, code: str, message, field: str | None = None, status: int = 400) -> None:
        super().__init__(str(message))
        self.code, self.message, self.field, self.status = code, message, field, status


# --- plans and clocks ----------------------------------------------------------------------


def load_plans() -> sla.Plans:
    policies = {
        p.grade: sla.Policy(
            grade=p.grade,
            business_time=p.business_time,
            first_contact=(p.first_contact_within, p.first_contact_unit),
            cadence=(p.cadence_min, p.cadence_max, p.cadence_unit),
            remind_before=timedelta(hours=p.remind_before_hours),
        )
        for p in SlaPolicy.objects.filter(active=True)
    }
    return sla.Plans(policies=policies, calendar=calendars.current())


def owned_since(lead: Lead) -> datetime | None:
    """When the current owner got the lead: the first-contact clock runs from there (R3.1:
    "within 4 h of assignment")."""
    return (
        Assignment.objects.filter(lead=lead, rep_id=lead.owner_id, state=Assignment.State.ACCEPTED)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )


def replan(
    lead: Lead, *, now: datetime, by=None, since: datetime | None = None, plans=None
) -> None:
    """Set the lead's deadlines from its state and keep its clocks in step. `since` is when
    the owner got it (defaults to their accepted assignment): a new owner's first
    follow-up runs from then, not from a contact made before it was theirs. A lead no longer
    worked keeps its first-contact deadline as history and loses its clocks."""
    plans = plans or load_plans()
    working = lead.status in WORKING_STATUSES and lead.owner_id is not None
    wanted: dict[tuple[str, int | None], sla.Timing] = {}
    before = snapshot(lead, DEADLINE_FIELDS)
    next_followup = next_action = None
    if working and lead.first_contact_at is None:
        start = since or owned_since(lead) or now
        timing = plans.first_contact(lead.grade, start)
        lead.first_contact_due = timing.due if timing else None
        if timing:
            wanted[(Clock.Kind.FIRST_CONTACT, None)] = timing
    elif working:
        last = lead.last_contact_at or lead.first_contact_at
        timing = plans.followup(lead.grade, max(last, since) if since else last)
        if timing:
            next_followup = timing.due
            wanted[(Clock.Kind.FOLLOWUP, None)] = timing
    if working:
        tasks = list(lead.tasks.filter(done_at=None))
        handed = [t.pk for t in tasks if t.owner_id != lead.owner_id]
        if handed:  # the lead changed hands: so do its next actions
            Task.objects.filter(pk__in=handed).update(owner_id=lead.owner_id)
        for task in tasks:
            wanted[(Clock.Kind.NEXT_ACTION, task.pk)] = plans.task(
                lead.grade, task.created_at, task.due
            )
        next_action = min((t.due for t in tasks), default=None)
    lead.next_followup_due, lead.next_action_due = next_followup, next_action
    lead.save(update_fields=list(DEADLINE_FIELDS))
    record_changes(instance=lead, before=before, by=by, at=now)
    _sync_clocks(lead, wanted, now)


def plan_unclocked(leads, *, now: datetime) -> int:
    """Start the follow-up plan of leads being worked that have no clock — leads an import
    brought in with an owner and a working status. Their rhythm starts `now`: a migrated
    lead's last contact may be years old, and its owner should not wake up to a flood of
    overdue notices for history. Returns how many were planned."""
    has_clock = Clock.objects.filter(lead=OuterRef("pk"), task=None)
    rows = (
        leads.filter(status__in=WORKING_STATUSES, owner__isnull=False)
        .exclude(Exists(has_clock))
        .select_related("owner")
    )
    plans = load_plans()
    done = 0
    for lead in rows.iterator(chunk_size=500):
        with transaction.atomic():
            replan(lead, now=now, since=now, plans=plans)
        done += 1
    return done


def _sync_clocks(lead: Lead, wanted: dict, now: datetime) -> None:
    existing = {(c.kind, c.task_id): c for c in lead.clocks.all()}
    stale = [c.pk for key, c in existing.items() if key not in wanted]
    if stale:
        Clock.objects.filter(pk__in=stale).delete()
    for (kind, task_id), timing in wanted.items():
        clock = existing.get((kind, task_id))
        if clock is not None and clock.due == timing.due and clock.rep_id == lead.owner_id:
            continue  # unchanged: notices already sent stay sent
        stage = sla.first_stage(timing, now)
        values = {
            "rep_id": lead.owner_id,
            "due": timing.due,
            "remind_at": timing.remind_at or timing.due,
            "escalate_at": timing.escalate_at,
            "stage": stage,
            "fire_at": sla.next_fire(stage, timing),
        }
        if clock is None:
            Clock.objects.create(lead=lead, kind=kind, task_id=task_id, **values)
        else:
            Clock.objects.filter(pk=clock.pk).update(**values)


# --- who may do what -----------------------------------------------------------------------


def may_work(user: User, lead: Lead) -> bool:
    """The owner works the lead; their manager and admins may act for them."""
    if user.pk == lead.owner_id or user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.MANAGER) and _manages(user, lead)


def _manages(user: User, lead: Lead) -> bool:
    if lead.team_id is not None and lead.team.manager_id == user.pk:
        return True
    owner_team = getattr(lead.owner, "team", None) if lead.owner_id else None
    return owner_team is not None and owner_team.manager_id == user.pk


def _require_worker(user: User, lead: Lead) -> None:
    if not may_work(user, lead):
        raise FollowUpError("forbidden", _("只有负责人或其经理可以操作此线索"), status=403)


def _require_working(lead: Lead) -> None:
    if lead.status not in WORKING_STATUSES:
        raise FollowUpError(
            "not_working",
            Text(_("“%(s)s”状态的线索不能记录跟进：请先接收线索"), s=lead.get_status_display()),
        )


def _locked(lead: Lead) -> Lead:
    return (
        Lead.objects.select_for_update(of=("self",))
        .select_related("owner", "owner__team", "team")
        .get(pk=lead.pk)
    )


# --- follow-up records (R3.2) ------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """What a rep writes down about one contact."""

    contact_at: datetime
    method: str
    feedback: str
    contact_person: str = ""
    intent_change: str = ""
    need_change: str = ""
    next_action: str = ""
    next_action_due: datetime | None = None
    risk_note: str = ""
    competitor: str = ""


@transaction.atomic
def record_followup(*, lead: Lead, by: User, contact: Contact, now: datetime) -> FollowUp:
    """Record a contact: late when written more than 1 h after it; the first completes
    the first contact; a next action becomes a task; the cadence clock restarts."""
    lead = _locked(lead)
    _require_worker(by, lead)
    _require_working(lead)
    c = contact
    if c.method not in FollowUp.Method.values:
        raise FollowUpError("bad_method", _("请选择联系方式"), "method")
    if not c.feedback.strip():
        raise FollowUpError("feedback_required", _("请填写客户反馈"), "feedback")
    if c.contact_at > now + CLOCK_SKEW:
        raise FollowUpError("contact_in_future", _("联系时间不能晚于现在"), "contact_at")
    if c.contact_at < lead.acquired_at.replace(second=0, microsecond=0):  # forms give minutes
        raise FollowUpError("contact_before_lead", _("联系时间不能早于线索获取时间"), "contact_at")
    _check_next_action(c.next_action, c.next_action_due, now)
    first = lead.first_contact_at is None
    followup = FollowUp.objects.create(
        lead=lead,
        by=by,
        contact_at=c.contact_at,
        recorded_at=now,
        method=c.method,
        contact_person=c.contact_person.strip()[:60],
        feedback=c.feedback.strip()[:2000],
        intent_change=c.intent_change.strip()[:300],
        need_change=c.need_change.strip()[:300],
        next_action=c.next_action.strip()[:200],
        next_action_due=c.next_action_due if c.next_action.strip() else None,
        risk_note=c.risk_note.strip()[:500],
        competitor=c.competitor.strip()[:120],
        late=now - c.contact_at > LATE_AFTER,
        first=first,
        grade=lead.grade,
        due=lead.first_contact_due if first else lead.next_followup_due,  # kept or missed
    )
    Tally.count(lead.pk, by.pk)
    before = snapshot(lead, ["first_contact_at", "last_contact_at", "pool_due"])
    note_contact(lead, c.contact_at, now=now)  # the pool deadline runs from it (R2.6)
    if first:
        lead.first_contact_at = c.contact_at
    lead.updated_at = now
    lead.save(update_fields=["first_contact_at", "updated_at"])
    record_changes(instance=lead, before=before, by=by, at=now)
    if followup.next_action:
        Task.objects.create(
            lead=lead,
            owner_id=lead.owner_id,
            title=followup.next_action,
            due=followup.next_action_due,
            source=Task.Source.FOLLOWUP,
            followup=followup,
            created_by=by,
            created_at=now,
        )
    replan(lead, now=now, by=by)
    return followup


def _check_next_action(title: str, due: datetime | None, now: datetime) -> None:
    if title.strip() and due is None:
        raise FollowUpError(
            "next_action_due_required", _("下一步行动需要截止时间"), "next_action_due"
        )
    if due is not None and not title.strip():
        raise FollowUpError("next_action_required", _("请填写下一步行动"), "next_action")
    if due is not None and due <= now:
        raise FollowUpError(
            "next_action_due_past", _("下一步行动的截止时间须晚于现在"), "next_action_due"
        )


# --- next actions ------------------------------------------------------------------------------


@transaction.atomic
def add_task(
    *,
    lead: Lead,
    by: User,
    title: str,
    due: datetime,
    now: datetime,
    step: PlaybookStep | None = None,
) -> Task:
    """Schedule a next action by hand or from a playbook suggestion (R3.7)."""
    lead = _locked(lead)
    _require_worker(by, lead)
    _require_working(lead)
    _check_next_action(title, due, now)
    task = Task.objects.create(
        lead=lead,
        owner_id=lead.owner_id,
        title=title.strip()[:200],
        due=due,
        source=Task.Source.PLAYBOOK if step else Task.Source.MANUAL,
        step=step,
        created_by=by,
        created_at=now,
    )
    replan(lead, now=now, by=by)
    return task


@transaction.atomic
def complete_task(*, task: Task, by: User, now: datetime, outcome: str = "") -> Task:
    lead = _locked(task.lead)
    _require_worker(by, lead)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.done_at is not None:
        raise FollowUpError("already_done", _("该行动已完成"))
    task.done_at, task.done_by, task.outcome = now, by, outcome.strip()[:300]
    task.save(update_fields=["done_at", "done_by", "outcome"])
    replan(lead, now=now, by=by)
    return task


# --- grading (R2.1, R3.4) ------------------------------------------------------------------------


@transaction.atomic
def set_grade(
    *, lead: Lead, by: User, grade: str, reason: str, now: datetime, review: bool = False
) -> Grading:
    """The rep sets or confirms the grade after the first contact, with a reason (线索分级表);
    a manager may correct it (in the weekly review). The follow-up plan follows the grade."""
    lead = _locked(lead)
    reason = (reason or "").strip()
    if grade not in Grade.values:
        raise FollowUpError("bad_grade", _("等级须为 A、B、C 或 D"), "grade")
    if not reason:
        raise FollowUpError("reason_required", _("定级需要填写依据"), "reason")
    if not review:
        _require_worker(by, lead)
        _require_working(lead)
        if lead.first_contact_at is None and not by.has_role(Role.MANAGER, Role.ADMIN):
            raise FollowUpError(
                "first_contact_required", _("请先记录首次联系，再根据沟通情况定级"), "grade"
            )
    before = snapshot(lead, ["grade", "grade_reason", "grade_rule"])
    grading = Grading.objects.create(
        lead=lead,
        by=by,
        at=now,
        from_grade=lead.grade,
        to_grade=grade,
        reason=reason[:300],
        kind=Grading.Kind.REVIEW if review else Grading.Kind.REP,
    )
    lead.grade, lead.grade_reason = grade, reason[:300]
    lead.grade_rule = "review" if review else "rep"
    lead.updated_at = now
    lead.save(update_fields=["grade", "grade_reason", "grade_rule", "updated_at"])
    record_changes(instance=lead, before=before, by=by, at=now, reason=reason)
    if grading.from_grade != grade:
        if lead.status in WORKING_STATUSES and lead.pool_due:
            lead.pool_due = AssignmentPolicy.current().pool_deadline(lead, now=now)
            lead.save(update_fields=["pool_due"])
        replan(lead, now=now, by=by)
    return grading


# --- the pipeline on evidence (R3.3) -------------------------------------------------------------

REOPEN = frozenset({(Status.WON, Status.CONTACTING), (Status.INVALID, Status.CONTACTING)})
# Where a person may move a lead on the board; the pool and reassignment have their services.
TARGETS = frozenset(
    {Status.QUALIFIED, Status.EVALUATING, Status.NEGOTIATING, Status.WON, Status.INVALID}
)


@dataclass(frozen=True)
class Move:
    """A requested stage change and the facts it rests on."""

    to: str
    reason: str = ""  # why; for 无效 the note beside the listed reason
    invalid_reason: str = ""  # an InvalidReason code
    need: str = ""
    won_amount: Decimal | None = None
    won_at: datetime | None = None


def allowed_move(current: str, to: str) -> bool:
    """Whether a lead may be moved from `current` to `to` by hand — along the pipeline while
    it is being worked, or reopened when won or invalid — who asks and the evidence aside.
    `move_stage` enforces it; the board and the lead page offer only these moves."""
    if (current, to) in REOPEN:
        return True
    return current in WORKING_STATUSES and to in TARGETS and to in TRANSITIONS.get(current, ())


def needs(current: str, to: str) -> list[str]:
    """The evidence fields a move from `current` to `to` asks for (the kanban's dialog)."""
    if to == Status.QUALIFIED:
        return ["need"]
    if to == Status.WON:
        return ["won_amount", "won_at"]
    if to == Status.INVALID:
        return ["invalid_reason", "reason"]
    if (current, to) in REOPEN:
        return ["reason"]
    return []


@transaction.atomic
def move_stage(*, lead: Lead, by: User, move: Move, now: datetime) -> Lead:
    """Move a lead along the sales pipeline when the evidence is there (R3.3): 需求明确 a need
    description, 成交 amount and date, 无效 a listed reason and a note; reopening a won or
    invalid lead takes a manager and a reason. The StageChange keeps who, when, from, to
    and why; the follow-up clocks follow."""
    lead = _locked(lead)
    current, to = lead.status, move.to
    if to not in Status.values:
        raise FollowUpError("bad_status", _("目标状态无效"), "to")
    reopening = (current, to) in REOPEN
    if reopening:
        if not (by.has_role(Role.ADMIN) or (by.has_role(Role.MANAGER) and _manages(by, lead))):
            raise FollowUpError(
                "manager_required", _("重新打开已成交或无效的线索需要经理操作"), status=403
            )
        if lead.owner_id is None:
            raise FollowUpError("owner_required", _("线索无负责人：请改为重新分配"))
    else:
        _require_worker(by, lead)
        if not allowed_move(current, to):
            raise FollowUpError(
                "transition_not_allowed",
                Text(
                    _("不能从“%(from)s”变更为“%(to)s”"),
                    **{"from": lead.get_status_display(), "to": Status(to).label},
                ),
            )
    extra, fields = {}, {}
    reason = move.reason.strip()
    if to == Status.INVALID:
        listed = InvalidReason.objects.filter(code=move.invalid_reason, active=True).first()
        if listed is None:
            raise FollowUpError(
                "invalid_reason_required", _("请从列表中选择无效原因"), "invalid_reason"
            )
        if not reason:
            raise FollowUpError("note_required", _("无效需要填写说明"), "reason")
        extra = {"invalid_reason": listed.code}
        fields["invalid_reason"] = f"{listed.label}：{reason}"[:200]
        reason = f"{listed.label}：{reason}"
    if to == Status.WON:
        if move.won_amount is not None and move.won_amount <= 0:
            raise FollowUpError("bad_amount", _("成交金额须大于 0"), "won_amount")
        if move.won_at is not None and move.won_at > now + CLOCK_SKEW:
            raise FollowUpError("won_in_future", _("成交日期不能晚于今天"), "won_at")
        fields["won_amount"], fields["won_at"] = move.won_amount, move.won_at
    if reopening:
        fields.update(won_amount=None, won_at=None, invalid_reason="")
    evidence = Evidence(
        reason=reason,
        need=move.need.strip(),
        won_amount=move.won_amount,
        won_at=move.won_at,
        extra=extra,
    )
    try:
        move_lead(lead=lead, to=to, by=by, at=now, evidence=evidence, fields=fields)
    except TransitionError as exc:
        field = {"need_required": "need", "won_evidence_required": "won_amount"}.get(exc.code)
        raise FollowUpError(exc.code, exc.message, field) from exc
    if to in (Status.WON, Status.INVALID):
        lead.tasks.filter(done_at=None).update(done_at=now, outcome=str(Status(to).label))
        lead.pool_due = lead.pool_warned_at = None
        lead.save(update_fields=["pool_due", "pool_warned_at"])
    elif reopening:
        lead.pool_due = AssignmentPolicy.current().pool_deadline(lead, now=now, restart=True)
        lead.save(update_fields=["pool_due"])
    replan(lead, now=now, by=by, since=now if reopening else None)
    return lead


# --- profile and behaviour (R3.6) -----------------------------------------------------------------

PROFILE_FIELDS = ("employees", "business_model", "decision_maker_role", "concerns", "personality")


@transaction.atomic
def update_profile(*, lead: Lead, by: User, values: dict, now: datetime) -> Lead:
    """The customer profile (客户画像): company size and model, the decision maker's role,
    concerns and personality. Every change is audited."""
    lead = _locked(lead)
    _require_worker(by, lead)
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise FollowUpError("unknown_field", _("未知字段"), sorted(unknown)[0])
    before = snapshot(lead, list(values))
    for name, value in values.items():
        if name == "employees":
            if value is not None and (not isinstance(value, int) or value < 0):
                raise FollowUpError("bad_number", _("员工人数应为非负整数"), name)
        else:
            limit = Lead._meta.get_field(name).max_length
            value = (value or "").strip()
            if len(value) > limit:
                raise FollowUpError("too_long", Text(_("最多 %(n)s 个字"), n=limit), name)
        setattr(lead, name, value)
    lead.updated_at = now
    lead.save(update_fields=[*values, "updated_at"])
    record_changes(instance=lead, before=before, by=by, at=now)
    return lead


def record_event(
    *, lead: Lead, kind: str, at: datetime, detail: str, source: str, payload: dict, by, now
) -> LeadEvent:
    """A behaviour event from a website, an event tool or marketing (R3.6)."""
    if kind not in LeadEvent.Kind.values:
        raise FollowUpError(
            "bad_kind",
            Text(_("行为类型须为：%(k)s"), k="、".join(LeadEvent.Kind.values)),
            "kind",
        )
    if at > now + CLOCK_SKEW:
        raise FollowUpError("event_in_future", _("发生时间不能晚于现在"), "at")
    return LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        at=at,
        detail=detail.strip()[:500],
        source=source.strip()[:60],
        payload=payload or {},
        received_at=now,
        by=by if getattr(by, "pk", None) else None,
    )
