"""The sweeper: periodic jobs that find due rows and act on them.

Each sweep is a function `(now) -> int` (how many rows it acted on) that claims its rows
with a conditional UPDATE or SELECT … FOR UPDATE SKIP LOCKED, so two sweepers never act
twice. Apps add theirs to SWEEPS; `leadflow sweep` runs them.
"""

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.sessions.models import Session

log = logging.getLogger("leadflow.sweep")


@dataclass(frozen=True)
class Sweep:
    name: str
    every: timedelta
    run: Callable[[datetime], int]


def clear_expired_sessions(now: datetime) -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return deleted


def resume_stalled_imports(now: datetime) -> int:
    from leadflow.intake.tasks import resume_stalled_imports as resume

    return resume(now)


def _later(path: str) -> Callable[[datetime], int]:
    """A sweep function of another app, imported when first run (apps load after core)."""
    module, name = path.rsplit(".", 1)

    def run(now: datetime) -> int:
        return getattr(importlib.import_module(module), name)(now)

    run.__name__ = name
    return run


def kick_outbox(now: datetime) -> int:
    from leadflow.notifications.tasks import kick_if_due

    return kick_if_due(now)


def recount_loads(now: datetime) -> int:
    from leadflow.accounts.loads import recount

    return recount()


SWEEPS: list[Sweep] = [
    Sweep("expired-sessions", timedelta(hours=1), clear_expired_sessions),
    Sweep("stalled-imports", timedelta(minutes=2), resume_stalled_imports),
    # confirmations (R2.5, R3.8) and the pool (R2.6)
    Sweep(
        "confirm-reminders", timedelta(minutes=1), _later("leadflow.assignment.services.remind_due")
    ),
    Sweep(
        "confirm-deadlines", timedelta(minutes=1), _later("leadflow.assignment.services.expire_due")
    ),
    Sweep(
        "retry-unassigned",
        timedelta(minutes=5),
        _later("leadflow.assignment.services.retry_unassigned"),
    ),
    Sweep("pool-warnings", timedelta(minutes=5), _later("leadflow.assignment.pool.warn_due")),
    Sweep("pool-returns", timedelta(minutes=5), _later("leadflow.assignment.pool.return_due")),
    # follow-up deadlines: reminders, overdue notices, escalations (R3.8)
    Sweep("followup-clocks", timedelta(minutes=1), _later("leadflow.followups.sweeps.sweep")),
    # the outbox: retries whose time has come, and deliveries whose kick was lost
    Sweep("outbox", timedelta(seconds=15), kick_outbox),
    Sweep("workloads", timedelta(hours=1), recount_loads),
    # the weekly review report to each team's manager, Mondays from 09:00 (R4.7)
    Sweep("weekly-reviews", timedelta(minutes=5), _later("leadflow.analytics.weekly.send_due")),
    # the stored monthly figures of the long reports: months changed since, computed again
    Sweep("report-rollups", timedelta(minutes=5), _later("leadflow.analytics.rollups.refresh")),
]


def run_due(now: datetime, last_run: dict[str, datetime]) -> dict[str, int]:
    """Run every sweep whose interval has passed since `last_run`; return what each did."""
    done = {}
    for sweep in SWEEPS:
        previous = last_run.get(sweep.name)
        if previous is not None and now - previous < sweep.every:
            continue
        try:
            done[sweep.name] = sweep.run(now)
        except Exception:
            log.exception("sweep %s failed", sweep.name)
        last_run[sweep.name] = now
    return done
