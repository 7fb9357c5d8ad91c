"""The lead pool 公海 (R2.6): neglected leads return to it, reps claim from it.

- A lead being worked has `pool_due`: its last contact (or acceptance) plus the grade's
  allowance (default A 7 days, B 15, C 30). The owner is warned `pool_warn_hours` before;
  at `pool_due` the lead returns to the pool without an owner. Follow-up records move
  `pool_due` on (`note_contact`).
- A claim is limited per rep per day, by how many claimed leads a rep may hold open, by
  capacity, and by a cool-down for the rep whose lead it was. Claims are race-safe: the lead
  row is locked and its status re-read, so of two reps claiming at once exactly one wins.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.accounts import loads
from leadflow.accounts.models import RepProfile, Role, User
from leadflow.core.locking import skip_locked
from leadflow.leads.models import Lead, Status
from leadflow.leads.pipeline import Evidence
from leadflow.leads.services import move_lead
from leadflow.notifications.services import Message, Text, notify

from .models import Assignment, AssignmentPolicy, PoolReturn
from .services import (
    WORKING,
    AssignmentError,
    _locked,
    _place,
    local_time,
    managers_of,
    start_clock,
)

A = Assignment


def note_contact(lead: Lead, at: datetime, *, now: datetime | None = None) -> None:
    """A follow-up happened at `at` (recorded at `now`): the pool deadline runs from it."""
    lead.last_contact_at = max(lead.last_contact_at or at, at)
    lead.pool_due = AssignmentPolicy.current().pool_deadline(lead, now=now or at)
    lead.pool_warned_at = None
    lead.save(update_fields=["last_contact_at", "pool_due", "pool_warned_at"])


def warn_due(now: datetime) -> int:
    """Tell owners whose leads will return to the pool soon (once per deadline)."""
    policy = AssignmentPolicy.current()
    soon = now + timedelta(hours=policy.pool_warn_hours)
    due = Lead.objects.filter(
        pool_due__lte=soon, pool_due__gt=now, pool_warned_at=None, status__in=WORKING
    ).select_related("owner")
    done = 0
    for lead in due[:500]:
        with transaction.atomic():
            claimed = Lead.objects.filter(pk=lead.pk, pool_warned_at=None, pool_due=lead.pool_due)
            if not claimed.update(pool_warned_at=now):
                continue
            notify(
                Message(
                    kind="pool_warning",
                    key=f"pool-warn:{lead.pk}:{lead.pool_due.timestamp()}",
                    title=Text(
                        _("线索 %(n)s 将于 %(t)s 退回公海"),
                        n=lead.number,
                        t=local_time(lead.pool_due),
                    ),
                    lines=(_("请尽快跟进并记录；之后无跟进将自动退回公海"),),
                    lead=lead,
                    link=f"/leads/{lead.number}/",
                ),
                [lead.owner],
                now=now,
            )
            done += 1
    return done


def return_due(now: datetime) -> int:
    """Leads with no follow-up in time go back to the pool."""
    done = 0
    while True:
        with transaction.atomic():
            rows = Lead.objects.filter(pool_due__lte=now, status__in=WORKING).order_by("pool_due")
            lead = skip_locked(rows).first()
            if lead is None:
                return done
            return_to_pool(lead, now=now, by=None, reason=str(_("超时未跟进")))
            done += 1


@transaction.atomic
def return_to_pool(lead: Lead, *, now: datetime, by, reason: str) -> Lead:
    """Back to the pool, its owner's load and the pool record with it, all or nothing."""
    lead = _locked(lead)
    owner = lead.owner
    PoolReturn.objects.create(lead=lead, previous_owner=owner, at=now, reason=reason[:200])
    loads.adjust(lead.owner_id, -1)
    move_lead(
        lead=lead,
        to=Status.POOL,
        by=by,
        at=now,
        evidence=Evidence(reason=reason),
        # the first-contact deadline stays: it is history the discipline report reads, and
        # whoever claims the lead gets a new one if the first contact is still to be made;
        # the team stays too: the team's reports count the lead it let slip (R4.1), until a
        # claim makes it the claimer's team's
        fields=dict.fromkeys(("owner", "pool_due", "pool_warned_at")),
    )
    from leadflow.followups.services import replan  # follow-ups build on the pool

    replan(lead, now=now, by=by)  # no owner: no clocks
    if owner is not None:
        notify(
            Message(
                kind="returned_to_pool",
                key=f"pool-return:{lead.pk}:{now.timestamp()}",
                title=Text(_("线索 %(n)s 已退回公海"), n=lead.number),
                lines=(Text(_("原因：%(r)s"), r=reason),),
                lead=lead,
            ),
            [owner, *managers_of(lead, owner)],
            now=now,
        )
    return lead


def may_see_pool(user) -> bool:
    """Reps claim from the pool; managers and admins watch it (R2.6, R5.1)."""
    return user.has_role(Role.REP, Role.MANAGER, Role.ADMIN)


def pool_leads():
    return (
        Lead.objects.filter(status=Status.POOL)
        .select_related("channel", "channel__parent", "industry", "province")
        .order_by("-updated_at", "-pk")
    )


def claims_today(rep: User, now: datetime) -> int:
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return A.objects.filter(rep=rep, kind=A.Kind.CLAIM, at__gte=start).count()


def claimed_holding(rep: User) -> int:
    """Leads this rep claimed from the pool and still works."""
    return A.objects.filter(
        rep=rep,
        kind=A.Kind.CLAIM,
        state=A.State.ACCEPTED,
        lead__owner=rep,
        lead__status__in=WORKING,
    ).count()


def cooldown_until(lead: Lead, rep: User, now: datetime) -> datetime | None:
    policy = AssignmentPolicy.current()
    window = timedelta(days=policy.reclaim_cooldown_days)
    last = (
        PoolReturn.objects.filter(lead=lead, previous_owner=rep, at__gt=now - window)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return last + window if last else None


@transaction.atomic
def claim(*, lead: Lead, rep: User, now: datetime) -> Assignment:
    """A rep takes a lead from the pool: it is theirs at once (no confirmation), 初步接触."""
    if not rep.has_role(Role.REP):
        raise AssignmentError("not_a_rep", _("只有销售代表可以领取公海线索"))
    policy = AssignmentPolicy.current()
    lead = _locked(lead)  # a second claimer waits here, then finds the lead taken
    if lead.status != Status.POOL:
        raise AssignmentError("already_claimed", _("该线索已被领取或不在公海中"))
    profile = RepProfile.objects.select_for_update().filter(user=rep).first()
    if profile is None or not profile.active or profile.away_on(timezone.localdate(now)):
        raise AssignmentError("not_available", _("您当前不在岗，不能领取"))
    if claims_today(rep, now) >= policy.claim_daily_limit:
        raise AssignmentError(
            "daily_limit",
            Text(_("今日领取已达上限（%(n)s 条）"), n=policy.claim_daily_limit),
        )
    if claimed_holding(rep) >= policy.pool_holding_cap:
        raise AssignmentError(
            "holding_cap",
            Text(_("您从公海领取且仍在跟进的线索已达上限（%(n)s 条）"), n=policy.pool_holding_cap),
        )
    if profile.open_leads >= profile.capacity:
        raise AssignmentError(
            "at_capacity", Text(_("您的在跟线索已达上限（%(n)s 条）"), n=profile.capacity)
        )
    until = cooldown_until(lead, rep, now)
    if until is not None:
        raise AssignmentError(
            "cooldown",
            Text(
                _("该线索刚从您名下退回公海，%(t)s 后才能重新领取"),
                t=local_time(until),
            ),
        )
    move_lead(lead=lead, to=Status.ASSIGNED, by=rep, at=now, evidence=Evidence(reason="公海领取"))
    loads.adjust(rep.pk, +1)
    RepProfile.objects.filter(user=rep).update(last_assigned_at=now)
    a = _place(lead, rep=rep, kind=A.Kind.CLAIM, by=rep, now=now, reason=str(_("公海领取")))
    move_lead(lead=lead, to=Status.CONTACTING, by=rep, at=now, evidence=Evidence(reason="公海领取"))
    start_clock(lead, now=now, by=rep)
    return a
