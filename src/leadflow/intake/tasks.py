"""Background work of the intake app, run by the task worker (`leadflow worker`)."""

from datetime import datetime, timedelta

from django.tasks import task
from django.utils import timezone

from .importing import dry_run, run_job
from .models import ImportJob

STALLED_AFTER = timedelta(minutes=10)  # a batch commits in seconds; silence means a dead worker


@task
def run_import(job_id: int) -> dict:
    job = run_job(ImportJob.objects.get(pk=job_id))
    return job.counts


@task
def check_import(job_id: int) -> dict:
    return dry_run(ImportJob.objects.get(pk=job_id), now=timezone.now())


def resume_stalled_imports(now: datetime) -> int:
    """The sweeper's part: a queued or running import whose worker went silent is queued
    again (it resumes from its last committed batch). Claimed by a conditional update of
    the heartbeat, so two sweepers never queue it twice."""
    resumed = 0
    stalled = ImportJob.objects.filter(
        state__in=[ImportJob.State.QUEUED, ImportJob.State.RUNNING],
        heartbeat_at__lt=now - STALLED_AFTER,
    ).values_list("pk", "heartbeat_at")
    for pk, heartbeat in stalled:
        if ImportJob.objects.filter(pk=pk, heartbeat_at=heartbeat).update(heartbeat_at=now):
            run_import.enqueue(pk)
            resumed += 1
    return resumed
