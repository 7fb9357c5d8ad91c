"""Writing notifications (R2.4, R3.8) and lead events for webhooks (R5.4) into the outbox.

Call these inside the transaction of the change they report: the rows commit or roll back
with it, each has a unique dedup key (writing the same event twice writes nothing more),
and delivery starts after commit (outbox.py).
"""

import json
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import translation

from leadflow.core import bulk

from .models import Notification, Robot, WebhookEndpoint

C = Notification.Channel
S = Notification.State


class Text:
    """A line with parameters, translated when written out rather than when made: the
    services build messages during a request in any language, the outbox stores them in
    the site's language."""

    __slots__ = ("params", "template")

    def __init__(self, template, **params) -> None:
        self.template, self.params = template, params

    def __str__(self) -> str:
        return str(self.template) % self.params

    def __repr__(self) -> str:
        return f"Text({str(self)!r})"


@dataclass(frozen=True)
class Message:
    kind: str  # assigned, confirm_reminder, declined, expired, pool_warning, …
    key: str  # the event it reports, unique per event: "assignment:42"
    title: str
    lines: tuple[str, ...] = ()
    public_lines: tuple[str, ...] | None = None  # for group chats: contacts masked (PIPL)
    lead: object | None = None
    link: str = ""  # a path in the web UI
    data: dict = field(default_factory=dict)
    team_robot: bool = True  # False: personal (a rep's own reminders), kept out of group chats

    @cached_property
    def payload(self) -> bulk.EncodedJson:
        """The link and data as JSON, encoded once for all the message's rows."""
        data = {"link": self.link, **self.data}
        return bulk.EncodedJson(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))

    def text(self, channel: str) -> tuple[str, str]:
        """Title and body for `channel` in the active language."""
        lines = self.lines
        if channel == C.ROBOT and self.public_lines is not None:
            lines = self.public_lines
        return str(self.title), "\n".join(str(line) for line in lines)


def notify(message: Message, recipients: Iterable, *, now: datetime) -> int:
    """Tell each recipient in-app, by e-mail (when they have an address) and through the
    group robots of their team and their own; each robot once per message. Returns rows
    written."""
    people = list({r.pk: r for r in recipients if r is not None and r.is_active}.values())
    return notify_many([(message, person) for person in people], now=now)


def notify_many(pairs: Iterable[tuple[Message, object]], *, now: datetime) -> int:
    """`notify` for many (message, recipient) pairs at once (batch assignment). Texts are
    written in the site's language: the rows outlive the request that made them."""
    pairs = [(m, r) for m, r in pairs if r is not None and r.is_active]
    robots = _robots_for([r for _m, r in pairs])
    rows: list[dict] = []
    robots_done: set[tuple[int, int]] = set()
    with translation.override(settings.LANGUAGE_CODE):
        for message, person in pairs:
            text = message.text(C.IN_APP)
            rows.append(_row(message, C.IN_APP, now, text, person, state=S.SENT, sent_at=now))
            if person.email:
                rows.append(_row(message, C.EMAIL, now, text, person))
            mine = [
                r
                for r in robots.get(person.pk, ())
                if (id(message), r.pk) not in robots_done
                and (message.team_robot or r.user_id == person.pk)
            ]
            if mine:
                public = message.text(C.ROBOT)
                for robot in mine:
                    robots_done.add((id(message), robot.pk))
                    rows.append(_row(message, C.ROBOT, now, public, robot))
    return _write(rows)


def lead_event(lead, event: str, *, at: datetime, key: str = "", extra: dict | None = None):
    """Queue `event` about `lead` for every webhook endpoint that subscribes to it."""
    endpoints = [e for e in active_endpoints() if e.wants(event)]
    if not endpoints:
        return 0
    key = key or f"{lead.pk}:{lead.status}:{at.isoformat()}"
    payload = {"event": event, "at": at.isoformat(), "lead": lead_summary(lead), **(extra or {})}
    rows = [
        {
            **ROW_DEFAULTS,
            "kind": event,
            "channel": C.WEBHOOK,
            "webhook_id": endpoint.pk,
            "lead_id": lead.pk,
            "title": event,
            "payload": payload,
            "dedup_key": f"{event}:{key}:wh{endpoint.pk}"[:200],
            "next_attempt_at": at,
            "created_at": at,
        }
        for endpoint in endpoints
    ]
    return _write(rows)


def lead_summary(lead) -> dict:
    return {
        "number": lead.number,
        "status": lead.status,
        "grade": lead.grade,
        "company_name": lead.company_name,
        "channel": getattr(lead.channel, "code", None),
        "owner": getattr(lead.owner, "username", None) if lead.owner_id else None,
        "team": lead.team_id,
    }


def active_endpoints() -> list[WebhookEndpoint]:
    """The endpoints, read once per transaction: a list kept longer could still name an
    endpoint deleted in another process, and writing rows for it would fail the change."""
    conn = transaction.get_connection()
    outermost = conn.atomic_blocks[0] if conn.in_atomic_block and conn.atomic_blocks else None
    memo = getattr(conn, "_leadflow_endpoints", None)
    if outermost is not None and memo is not None and memo[0] is outermost:
        return memo[1]
    endpoints = list(WebhookEndpoint.objects.filter(active=True))
    if outermost is not None:
        conn._leadflow_endpoints = (outermost, endpoints)
    return endpoints


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, channel=C.IN_APP, read_at=None).count()


def inbox(user):
    return Notification.objects.filter(recipient=user, channel=C.IN_APP).select_related("lead")


def mark_read(user, *, now: datetime, ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, channel=C.IN_APP, read_at=None)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=now)


def _robots_for(people: list) -> dict[int, list[Robot]]:
    people = list({p.pk: p for p in people}.values())  # a batch names the same rep often
    teams = {p.team_id for p in people if p.team_id}
    ids = {p.pk for p in people}
    if not ids:
        return {}
    found = list(Robot.objects.filter(Q(team_id__in=teams) | Q(user_id__in=ids), active=True))
    by_person: dict[int, list[Robot]] = {}
    for person in people:
        mine = [r for r in found if r.user_id == person.pk or r.team_id == person.team_id]
        if mine:
            by_person[person.pk] = mine
    return by_person


COLUMNS = bulk.columns_of(Notification)
ROW_DEFAULTS = {
    "recipient_id": None,
    "robot_id": None,
    "webhook_id": None,
    "lead_id": None,
    "body": "",
    "payload": {},
    "state": S.PENDING,
    "attempts": 0,
    "next_attempt_at": None,
    "claim": "",
    "last_error": "",
    "digest_id": None,
    "sent_at": None,
    "read_at": None,
}


def _dedup_key(key: str, channel: str, target) -> str:
    is_person = channel in (C.IN_APP, C.EMAIL)
    return f"{key}:{channel}:{'u' if is_person else 'r'}{target.pk}"[:200]


def was_told(key: str, person) -> bool:
    """Whether `person` has had the message of event `key` (its in-app row is there)."""
    return Notification.objects.filter(dedup_key=_dedup_key(key, C.IN_APP, person)).exists()


def _row(message: Message, channel: str, now: datetime, text, target, **kw) -> dict:
    is_person = channel in (C.IN_APP, C.EMAIL)
    title, body = text
    return {
        **ROW_DEFAULTS,
        "kind": message.kind,
        "channel": channel,
        "recipient_id" if is_person else "robot_id": target.pk,
        "lead_id": getattr(message.lead, "pk", None),
        "title": title[:200],
        "body": body,
        "payload": message.payload,
        "dedup_key": _dedup_key(message.key, channel, target),
        "next_attempt_at": None if kw.get("state") == S.SENT else now,
        "created_at": now,
        **kw,
    }


def _write(rows: list[dict]) -> int:
    """Insert the rows, skipping any whose dedup key is already there (the same event
    written twice), and start delivery after commit when any is not delivered yet."""
    if not rows:
        return 0
    values = operator.itemgetter(*COLUMNS)
    bulk.insert_ignoring(Notification, COLUMNS, [values(r) for r in rows], unique="dedup_key")
    if any(r["state"] != S.SENT for r in rows):
        _deliver_after_commit()
    return len(rows)


def _deliver_after_commit() -> None:
    """Start delivery once this transaction commits — one kick per transaction however many
    rows it wrote. If the kick is lost (a crash right after commit), the sweeper finds the
    rows due and kicks again."""
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(cb is _kick for _sids, cb, _robust in conn.run_on_commit):
        return
    transaction.on_commit(_kick, robust=True)


def _kick() -> None:
    from .tasks import deliver_outbox

    deliver_outbox.enqueue()
