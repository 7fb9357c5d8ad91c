"""The sweeper's part of the follow-up rhythm (R3.8): reminders before a deadline, a notice
to the rep when it is missed, the manager told when it is missed again.

A clock's `fire_at` is the next moment it needs the sweeper (indexed; NULL when nothing is
left), so finding what is due is one index range scan however many leads are open. Due
clocks are claimed in batches with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite
serialises writers), advanced to their next stage and their notices written to the outbox
in the same transaction: two sweepers never send a notice twice, and a crash loses none.
"""

from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Role, Team, User
from leadflow.assignment.services import local_time
from leadflow.core import bulk
from leadflow.core.locking import skip_locked
from leadflow.notifications.services import Message, notify_many

from . import sla
from .models import Clock

BATCH = 5000
K = Clock.Kind

TITLES = {
    (K.FIRST_CONTACT, sla.REMIND): _("线索 %(n)s（%(c)s）须在 %(t)s 前完成首次联系"),
    (K.FIRST_CONTACT, sla.OVERDUE): _("线索 %(n)s（%(c)s）首次联系已逾期（截止 %(t)s）"),
    (K.FIRST_CONTACT, sla.ESCALATE): _("%(r)s 的线索 %(n)s（%(c)s）首次联系仍未完成（截止 %(t)s）"),
    (K.FOLLOWUP, sla.REMIND): _("线索 %(n)s（%(c)s）该跟进了：最迟 %(t)s"),
    (K.FOLLOWUP, sla.OVERDUE): _("线索 %(n)s（%(c)s）跟进已逾期（截止 %(t)s）"),
    (K.FOLLOWUP, sla.ESCALATE): _("%(r)s 的线索 %(n)s（%(c)s）跟进仍逾期（截止 %(t)s）"),
    (K.NEXT_ACTION, sla.REMIND): _("线索 %(n)s 的下一步行动“%(a)s”将于 %(t)s 到期"),
    (K.NEXT_ACTION, sla.OVERDUE): _("线索 %(n)s 的下一步行动“%(a)s”已逾期（截止 %(t)s）"),
    (K.NEXT_ACTION, sla.ESCALATE): _("%(r)s 的线索 %(n)s 下一步行动“%(a)s”仍未完成（截止 %(t)s）"),
}
LINES = {
    sla.REMIND: _("请按时联系客户，并在联系后 1 小时内填写跟进记录"),
    sla.OVERDUE: _("已超过时限：请尽快联系客户并记录；再次逾期将通知经理"),
    sla.ESCALATE: _("负责人再次错过时限，请跟进督促或改派"),
}
KINDS = {sla.REMIND: "sla_reminder", sla.OVERDUE: "sla_overdue", sla.ESCALATE: "sla_escalated"}

COLUMNS = (
    "id",
    "kind",
    "stage",
    "due",
    "escalate_at",
    "rep_id",
    "lead_id",
    "lead__number",
    "lead__company_name",
    "lead__team_id",
    "task__title",
)


def sweep(now: datetime) -> int:
    """Act on every clock due by `now`, a batch per transaction. Returns notices sent."""
    sent = 0
    while True:
        with transaction.atomic():
            _relaxed_commit()
            # the claim is a subquery on the clock table alone, and the outer query reads
            # what the notices need of the claimed clocks, in one round trip. Unordered: a
            # sweep works until nothing is due, and sorting every due clock once per batch
            # made a backlog of 50,000 cost seconds
            due = Clock.objects.filter(fire_at__lte=now).order_by()
            claimed = skip_locked(due).values("id")[:BATCH]
            rows = list(Clock.objects.filter(pk__in=claimed).values_list(*COLUMNS))
            if not rows:
                return sent
            sent += _act(rows, now)
        if len(rows) < BATCH:
            return sent


def _act(rows: list[tuple], now: datetime) -> int:
    people = _people({r[5] for r in rows})
    managers = _managers({r[9] for r in rows} | {p.team_id for p in people.values()})
    pairs, updates = [], []
    # the texts in the site's language, rendered once per batch (the outbox keeps them so)
    with translation.override(settings.LANGUAGE_CODE):
        titles = {key: str(text) for key, text in TITLES.items()}
        lines = {stage: (str(text),) for stage, text in LINES.items()}
    for pk, kind, stage, due, escalate_at, rep_id, lead_id, number, company, team_id, task in rows:
        acting = sla.act(stage, due_at=due, escalate_at=escalate_at, now=now)
        after = acting + 1
        updates.append((after, {sla.OVERDUE: due, sla.ESCALATE: escalate_at}.get(after), pk))
        rep = people.get(rep_id)
        params = {"n": number, "c": company, "t": local_time(due), "a": task or "", "r": rep}
        message = Message(
            kind=KINDS[acting],
            key=f"clock:{pk}:{acting}:{int(due.timestamp())}",
            title=titles[(kind, acting)] % params,
            lines=lines[acting],
            public_lines=lines[acting],
            lead=_LeadRef(lead_id),
            link=f"/leads/{number}/",
            team_robot=acting == sla.ESCALATE,  # the team's chat hears of escalations only
        )
        pairs.append((message, rep))
        if acting == sla.ESCALATE:
            bosses = managers.get(team_id) or managers.get(getattr(rep, "team_id", None))
            for boss in bosses or _admins(managers):
                pairs.append((message, boss))
    bulk.update(Clock, "id", ("stage", "fire_at"), updates)
    notify_many(pairs, now=now)
    return len(rows)


def _relaxed_commit() -> None:
    """PostgreSQL: this transaction need not wait for its WAL to reach the disk. A crash
    may then lose the last such transactions whole — the clocks' advance together with
    their notices — and the next sweep sends them again: nothing is lost or doubled, and
    the sweep no longer waits on a disk flush per batch."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class _LeadRef:
    """What a Message needs of a lead: its id (the sweeper does not load leads)."""

    __slots__ = ("pk",)

    def __init__(self, pk: int) -> None:
        self.pk = pk


def _people(ids: set[int]) -> dict[int, User]:
    fields = (
        "is_active",
        "email",
        "team_id",
        "username",
        "display_name",
        "first_name",
        "last_name",
    )
    return {u.pk: u for u in User.objects.filter(pk__in=ids).only(*fields)}


def _managers(team_ids: set) -> dict:
    """Each team's manager (by team id)."""
    found: dict = defaultdict(list)
    for team in Team.objects.filter(pk__in={t for t in team_ids if t}).select_related("manager"):
        if team.manager_id and team.manager.is_active:
            found[team.pk].append(team.manager)
    return found


def _admins(found: dict) -> list[User]:
    """Who hears of a lead whose team has no manager: the administrators (read once)."""
    if "admins" not in found:
        found["admins"] = list(User.objects.filter(groups__name=Role.ADMIN, is_active=True))
    return found["admins"]
