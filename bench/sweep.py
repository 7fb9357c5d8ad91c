"""Follow-up sweep benchmark (issue: follow-up, SLA clocks, the pipeline, grading, review).

1,000,000 open leads being worked by 200 reps in 10 teams, each with its follow-up clock
(first contact or cadence), on PostgreSQL (and SQLite):

- **idle**: one sweep when nothing is due — finding that every clock lies in the future.
  Median and max of 50 sweeps in a fresh process. Target ≤ 100 ms on PostgreSQL.
- **due**: 50,000 clocks due at once (a third reminders, a third overdue notices, a third
  escalations to the manager): one sweep claims them, advances each clock and writes every
  notice to the outbox (in-app, e-mail, the team robot). Target ≥ 5,000 notices/s.

    .venv/bin/python bench/sweep.py                        # PostgreSQL and SQLite
    .venv/bin/python bench/sweep.py --engines postgres --leads 200000 --due 10000

Each engine runs in a fresh database (PostgreSQL: leadflow_bench_sweep, dropped and made
again; SQLite: bench/var/sweep.sqlite3).
"""

import argparse
import json
import time
from datetime import timedelta

from harness import fresh_database, run, settle  # bench/harness.py

CHUNK = 20_000


def seed(leads: int) -> None:
    """Teams, reps and `leads` leads being worked, each with one clock in the future
    (written in bulk: they stand for what acceptance and follow-ups produced)."""
    import random

    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from leadflow.accounts.models import Role, Team, User
    from leadflow.core import bulk
    from leadflow.followups.models import Clock
    from leadflow.leads.models import Channel, Industry, Lead, Status
    from leadflow.notifications.models import Robot

    rng = random.Random(2026)
    now = timezone.now()
    industries = list(Industry.objects.filter(is_target=True))
    channels = list(Channel.objects.all())
    rep_group = Group.objects.get(name=Role.REP)
    with transaction.atomic():
        staff = User.objects.create(username="bench-support", is_superuser=True)
        reps = []
        for t in range(10):
            manager = User.objects.create(username=f"manager{t}", email=f"m{t}@bench.cn")
            team = Team.objects.create(name=f"团队{t}", manager=manager)
            Robot.objects.create(
                name=f"群{t}", platform="wecom", url="https://qyapi.weixin.qq.com/x", team=team
            )
            for r in range(20):
                rep = User.objects.create(
                    username=f"rep{t}-{r}", email=f"rep{t}-{r}@bench.cn", team=team
                )
                rep.groups.add(rep_group)
                reps.append(rep)
        lead_columns = bulk.columns_of(Lead)
        clock_columns = bulk.columns_of(Clock)
        first_id = (Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        for start in range(0, leads, CHUNK):
            batch, clocks = [], []
            for n in range(start, min(start + CHUNK, leads)):
                rep = reps[n % len(reps)]
                due = now + timedelta(minutes=rng.randint(24 * 60, 60 * 24 * 14))
                batch.append(
                    Lead(
                        number=f"S{n:09d}",
                        channel=rng.choice(channels),
                        status=Status.CONTACTING if n % 4 else Status.QUALIFIED,
                        company_name=f"基准客户{n}有限公司",
                        contact_name="王经理",
                        phone_e164=f"+86139{n:08d}",
                        industry=rng.choice(industries),
                        need="采购设备",
                        acquired_at=now,
                        grade=rng.choice("ABC"),
                        owner=rep,
                        team_id=rep.team_id,
                        first_contact_due=due if n % 3 == 0 else None,
                        next_followup_due=None if n % 3 == 0 else due,
                        created_by=staff,
                        created_at=now,
                        updated_at=now,
                    )
                )
                clocks.append(
                    Clock(
                        lead_id=first_id + n,
                        kind="first_contact" if n % 3 == 0 else "followup",
                        rep=rep,
                        due=due,
                        remind_at=due - timedelta(hours=1),
                        escalate_at=due + timedelta(hours=4),
                        stage=0,
                        fire_at=due - timedelta(hours=1),
                    )
                )
            bulk.insert(Lead, lead_columns, bulk.rows_of(batch, lead_columns))
            bulk.insert(Clock, clock_columns, bulk.rows_of(clocks, clock_columns))
    assert Lead.objects.filter(pk=first_id).exists() and Clock.objects.count() == leads
    settle()


def make_due(count: int) -> int:
    """Make `count` clocks due now: a third each at the reminder, the deadline and the
    escalation."""
    from django.db import connection, transaction
    from django.utils import timezone

    from leadflow.core import bulk
    from leadflow.followups.models import Clock

    now = timezone.now()
    total = Clock.objects.count()
    step = max(total // count, 1)
    ids = list(Clock.objects.order_by("pk").values_list("pk", flat=True)[::step][:count])
    rows = []
    for i, pk in enumerate(ids):
        stage = i % 3
        due = now + timedelta(minutes=30) if stage == 0 else now - timedelta(minutes=30)
        escalate = now - timedelta(minutes=5) if stage == 2 else due + timedelta(hours=4)
        fire = {0: due - timedelta(hours=1), 1: due, 2: escalate}[stage]
        rows.append((due, due - timedelta(hours=1), escalate, stage, fire, pk))
    with transaction.atomic():
        bulk.update(Clock, "id", ("due", "remind_at", "escalate_at", "stage", "fire_at"), rows)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return len(rows)


def child(phase: str, leads: int, due: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from leadflow.followups.sweeps import sweep
    from leadflow.notifications.models import Notification

    if phase == "seed":
        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        seed(leads)
        return {"engine": connection.vendor, "seed_seconds": round(time.perf_counter() - t0)}
    if phase == "idle":
        timings = []
        for _ in range(51):
            t0 = time.perf_counter()
            acted = sweep(timezone.now())
            timings.append((time.perf_counter() - t0) * 1000)
            assert acted == 0
        timings = sorted(timings[1:])  # the first opens the connection
        return {
            "idle_median_ms": round(timings[len(timings) // 2], 2),
            "idle_max_ms": round(timings[-1], 2),
        }
    made = make_due(due)
    before = Notification.objects.count()
    t0 = time.perf_counter()
    acted = sweep(timezone.now())
    seconds = time.perf_counter() - t0
    rows = Notification.objects.count() - before
    return {
        "due": made,
        "notices": acted,
        "outbox_rows": rows,
        "due_seconds": round(seconds, 2),
        "notice_rate": round(acted / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="postgres,sqlite")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=50_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phase", default="seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.phase, args.leads, args.due)
        print("RESULT " + json.dumps(result), flush=True)
        return
    for engine in args.engines.split(","):
        env = fresh_database(engine, "sweep")
        counts = ["--leads", str(args.leads), "--due", str(args.due)]
        r = run(__file__, env, "--phase", "seed", *counts)
        r.update(run(__file__, env, "--phase", "idle", *counts))
        r.update(run(__file__, env, "--phase", "due", *counts))
        print(
            f"{engine:9} {args.leads:,} open leads (seeded in {r['seed_seconds']} s) · "
            f"idle sweep: median {r['idle_median_ms']} ms, max {r['idle_max_ms']} ms "
            f"(target ≤ 100 ms on PostgreSQL) · {r['due']:,} due: {r['notices']:,} notices "
            f"({r['outbox_rows']:,} outbox rows) in {r['due_seconds']} s = "
            f"{r['notice_rate']:,}/s (target ≥ 5,000/s)"
        )


if __name__ == "__main__":
    main()
