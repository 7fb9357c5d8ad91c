"""Delivering the outbox: claim due rows, send, record the outcome.

- **Claim**: due rows (pending and due, or sending with a lapsed claim) are taken with
  `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises writers) and a
  conditional UPDATE that stamps them with this worker's claim token and a lease. Two
  workers never send the same row at once.
- **Send** outside any transaction. Success → sent. Failure → pending again after a backoff
  (30 s, 1 min, 2 min … capped at 1 h), failed for good after MAX_ATTEMPTS or when retrying
  cannot help (a refused address).
- **Crash**: a worker that dies mid-send leaves its rows "sending"; when the lease lapses
  they are due again and sent again. That is the only way a message is sent twice, and a
  receiver can tell (webhooks carry the same `X-LeadFlow-Delivery` id).
- **Robots** allow about 20 messages a minute: a fixed one-minute window per robot, counted
  with conditional updates. Rows for one robot claimed together go as one digest message;
  beyond the limit they wait for the next window, and go then as one digest.
"""

import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from leadflow.core.locking import skip_locked

from . import senders
from .models import Notification, Robot

C = Notification.Channel
S = Notification.State
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 10
WINDOW = timedelta(minutes=1)
BATCH = 100


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 30 s doubling, at most an hour."""
    return min(timedelta(seconds=30) * 2 ** max(attempts - 1, 0), timedelta(hours=1))


def due(now: datetime) -> Q:
    return Q(state__in=[S.PENDING, S.SENDING], next_attempt_at__lte=now)


def claim(now: datetime, limit: int = BATCH) -> list[Notification]:
    token = secrets.token_hex(8)
    with transaction.atomic():
        rows = skip_locked(Notification.objects.filter(due(now)).order_by("next_attempt_at"))
        ids = list(rows.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        Notification.objects.filter(due(now), pk__in=ids).update(
            state=S.SENDING, claim=token, next_attempt_at=now + LEASE, attempts=F("attempts") + 1
        )
    return list(
        Notification.objects.filter(claim=token, state=S.SENDING).select_related(
            "recipient", "robot", "webhook"
        )
    )


def deliver_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """Send what is due now; returns how many rows were settled (sent or failed)."""
    now = now or timezone.now()
    rows = claim(now, limit)
    by_robot: dict[int, list[Notification]] = defaultdict(list)
    settled = 0
    for row in rows:
        if row.channel == C.ROBOT:
            by_robot[row.robot_id].append(row)
            continue
        try:
            _send(row)
        except senders.SendError as exc:
            settled += _failed([row], exc, now)
        else:
            settled += _sent([row], now)
    for group in by_robot.values():
        settled += _deliver_robot(group, now)
    return settled


def _send(row: Notification) -> None:
    if row.channel == C.EMAIL:
        senders.send_email(row.recipient.email, row.title, _email_body(row))
    elif row.channel == C.WEBHOOK:
        senders.send_webhook(row.webhook, row.kind, row.dedup_key, row.payload)
    # in-app rows are delivered when written


def _deliver_robot(rows: list[Notification], now: datetime) -> int:
    robot = rows[0].robot
    if not robot.active:
        return _failed(rows, senders.SendError("robot disabled", permanent=True), now)
    opens = take_slot(robot.pk, now)
    if opens is not None:  # over the limit: wait for the next window, not an attempt
        Notification.objects.filter(pk__in=[r.pk for r in rows], claim=rows[0].claim).update(
            state=S.PENDING, next_attempt_at=opens, attempts=F("attempts") - 1
        )
        return 0
    if len(rows) == 1:
        title, lines = rows[0].title, _lines(rows[0])
    else:
        title = f"LeadFlow：{len(rows)} 条通知"
        lines = [f"- **{r.title}**" + (f"：{_lines(r)[0]}" if _lines(r) else "") for r in rows]
    try:
        senders.send_robot(robot, title, senders.robot_text(title, lines))
    except senders.SendError as exc:
        return _failed(rows, exc, now)
    if len(rows) > 1:
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(digest=rows[0].pk)
    return _sent(rows, now)


def take_slot(robot_id: int, now: datetime) -> datetime | None:
    """Count one message against the robot's current minute. None when it may go now;
    otherwise when the next window opens."""
    for _ in range(10):
        robot = Robot.objects.filter(pk=robot_id).values(
            "window_start", "window_count", "per_minute"
        )[0]
        start, count = robot["window_start"], robot["window_count"]
        same = Robot.objects.filter(pk=robot_id, window_start=start, window_count=count)
        if start is None or start <= now - WINDOW:
            if same.update(window_start=now, window_count=1):
                return None
        elif count < robot["per_minute"]:
            if same.update(window_count=count + 1):
                return None
        else:
            return start + WINDOW
    return now + WINDOW  # heavy contention: try in the next window


def _sent(rows: list[Notification], now: datetime) -> int:
    return Notification.objects.filter(
        pk__in=[r.pk for r in rows], claim=rows[0].claim, state=S.SENDING
    ).update(state=S.SENT, sent_at=now, last_error="", next_attempt_at=None)


def _failed(rows: list[Notification], exc: senders.SendError, now: datetime) -> int:
    settled = 0
    for row in rows:
        mine = Notification.objects.filter(pk=row.pk, claim=row.claim, state=S.SENDING)
        if exc.permanent or row.attempts >= MAX_ATTEMPTS:
            settled += mine.update(state=S.FAILED, last_error=str(exc)[:500], next_attempt_at=None)
        else:
            mine.update(
                state=S.PENDING,
                last_error=str(exc)[:500],
                next_attempt_at=now + backoff(row.attempts),
            )
    return settled


def _lines(row: Notification) -> list[str]:
    return [line for line in row.body.splitlines() if line.strip()]


def _email_body(row: Notification) -> str:
    link = row.payload.get("link", "")
    url = settings.LEADFLOW_BASE_URL.rstrip("/") + link if link else ""
    return row.body + (f"\n\n{url}" if url else "") + "\n\n— LeadFlow"
