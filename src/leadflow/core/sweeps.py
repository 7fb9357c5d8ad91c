"""The sweeper: periodic jobs that find due rows and act on them.

Each sweep is a function `(now) -> int` (how many rows it acted on) that claims its rows
with a conditional UPDATE or SELECT … FOR UPDATE SKIP LOCKED, so two sweepers never act
twice. Apps add theirs to SWEEPS; `leadflow sweep` runs them.
"""

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


SWEEPS: list[Sweep] = [
    Sweep("expired-sessions", timedelta(hours=1), clear_expired_sessions),
    Sweep("stalled-imports", timedelta(minutes=2), resume_stalled_imports),
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
