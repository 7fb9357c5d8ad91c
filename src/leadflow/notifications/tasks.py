"""The task worker's part of the outbox (`leadflow worker`)."""

from datetime import datetime

from django.tasks import task
from django.utils import timezone

from .models import Notification
from .outbox import deliver_due, due


@task
def deliver_outbox() -> int:
    """Drain what is due, a batch at a time."""
    settled = total = 0
    while True:
        settled = deliver_due(timezone.now())
        total += settled
        if not settled:
            return total


def kick_if_due(now: datetime) -> int:
    """The sweeper's part: retries whose time has come, and rows whose kick was lost."""
    waiting = Notification.objects.filter(due(now)).count()
    if waiting:
        deliver_outbox.enqueue()
    return waiting
