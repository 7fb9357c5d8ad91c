"""Assignment benchmark (issue: assignment, confirmation, notifications and the pool).

100,000 verified leads, 200 reps in 10 teams, 50 rules, on PostgreSQL (and SQLite):

- **batch**: `assign_batch` over every 待分配 lead — the manager's "assign all" and the
  sweeper's retry — with every write a single assignment makes: the lead, its StageChange,
  its audit entry, the Assignment with its explanation, the workload counters and the
  outbox rows (in-app, e-mail and the team robot) for each rep. Target ≥ 5,000 leads/s.
- **single**: `assign_lead` for one lead in its own transaction, as verification calls it,
  with the 100,000 already placed, in a fresh process (as a web worker would); p50 / p99
  over 1,000 leads. Target p99 ≤ 20 ms.

    .venv/bin/python bench/assign.py                       # PostgreSQL and SQLite
    .venv/bin/python bench/assign.py --engines postgres --leads 20000

Each engine runs in a fresh database (PostgreSQL: leadflow_bench_assign, dropped and made
again; SQLite: bench/var/assign.sqlite3).
"""

import argparse
import json
import time

from harness import fresh_database, run, settle  # bench/harness.py

REGIONS = ["华北", "华东", "华南", "华中", "西南", "西北", "东北"]
PROVINCES = {  # one province per region is enough for the rules' conditions
    "华北": "11",
    "华东": "32",
    "华南": "44",
    "华中": "42",
    "西南": "51",
    "西北": "61",
    "东北": "21",
}


def seed(leads: int, rng) -> dict:
    """Reps, teams, rules and `leads` verified leads (written in bulk: they stand for what
    intake produced; intake itself is measured by bench/intake.py)."""
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from leadflow.accounts.models import RepProfile, Role, Team, User
    from leadflow.assignment.models import AssignmentRule
    from leadflow.core import bulk
    from leadflow.leads.models import Channel, Industry, Lead, Status
    from leadflow.notifications.models import Robot

    now = timezone.now()
    industries = list(Industry.objects.filter(is_target=True))
    channels = list(Channel.objects.all())
    rep_group = Group.objects.get(name=Role.REP)
    with transaction.atomic():
        staff = User.objects.create(username="bench-support", is_superuser=True)
        teams = []
        for t in range(10):
            region = REGIONS[t % len(REGIONS)]
            manager = User.objects.create(username=f"manager{t}", email=f"m{t}@bench.cn")
            team = Team.objects.create(name=f"{region}{t}组", region=region, manager=manager)
            Robot.objects.create(
                name=f"群{t}", platform="wecom", url="https://qyapi.weixin.qq.com/x", team=team
            )
            teams.append(team)
        for r in range(200):
            team = teams[r % 10]
            rep = User.objects.create(
                username=f"rep{r}", email=f"rep{r}@bench.cn", team=team, display_name=f"销售{r}"
            )
            rep.groups.add(rep_group)
            profile = RepProfile.objects.create(
                user=rep,
                regions=[team.region] + ([rng.choice(REGIONS)] if r % 3 == 0 else []),
                grades=rng.sample(["A", "B", "C"], rng.randint(1, 3)),
                capacity=5000,
                on_leave=r % 50 == 7,
            )
            profile.industries.set(rng.sample(industries, rng.randint(0, 4)))
        for n in range(50):
            rule = AssignmentRule.objects.create(
                name=f"规则{n}",
                order=n,
                regions=[rng.choice(REGIONS)] if n % 2 == 0 else [],
                grades=rng.sample(["A", "B", "C"], rng.randint(1, 2)) if n % 3 == 0 else [],
                team=teams[n % 10] if n % 10 else None,
                rep=User.objects.get(username=f"rep{n * 4}") if n % 10 == 0 else None,
            )
            if n % 2 == 1:
                rule.industries.set(rng.sample(industries, 2))
        columns = bulk.columns_of(Lead)
        rows = []
        for n in range(leads):
            region = rng.choice(REGIONS)
            lead = Lead(
                number=f"B{n:09d}",
                channel=rng.choice(channels),
                status=Status.UNASSIGNED,
                company_name=f"基准客户{n}有限公司",
                contact_name="王经理",
                phone_e164=f"+86139{n:08d}",
                industry=rng.choice(industries),
                need="采购设备",
                acquired_at=now,
                province_id=PROVINCES[region],
                region=region,
                grade=rng.choice("ABC"),
                created_by=staff,
                verified_by=staff,
                verified_at=now,
                created_at=now,
                updated_at=now,
            )
            rows.append(lead)
            if len(rows) == 10_000:
                bulk.insert(Lead, columns, bulk.rows_of(rows, columns))
                rows = []
        bulk.insert(Lead, columns, bulk.rows_of(rows, columns))
    settle()
    return {"reps": 200, "rules": 50, "leads": leads}


def round_trips_per_second(connection, count: int = 2_000) -> int:
    """`SELECT 1` round trips a second through Django's connection: a figure of this machine
    and database in the same run, to read the others by (machines of one kind differ more
    than the changes being measured)."""
    with connection.cursor() as cursor:
        start = time.perf_counter()
        for _ in range(count):
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return round(count / (time.perf_counter() - start))


def child(phase: str, leads: int, singles: int) -> dict:
    import random

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from leadflow.assignment.services import assign_batch, assign_lead
    from leadflow.leads.models import Lead, Status

    if phase == "batch":
        call_command("migrate", verbosity=0)
        seed(leads + singles, random.Random(2026))
        kept = list(Lead.objects.order_by("-pk").values_list("pk", flat=True)[:singles])
        Lead.objects.filter(pk__in=kept).update(status=Status.PENDING_REVIEW)  # for later
        reference = round_trips_per_second(connection)
        start = time.perf_counter()
        result = assign_batch(Lead.objects.filter(status=Status.UNASSIGNED), now=timezone.now())
        seconds = time.perf_counter() - start
        Lead.objects.filter(pk__in=kept).update(status=Status.UNASSIGNED)
        settle()
        return {
            "engine": connection.vendor,
            "batch_leads": result.assigned,
            "batch_unplaced": result.unplaced,
            "batch_seconds": round(seconds, 2),
            "batch_rate": round(result.assigned / seconds),
            "reference": reference,
        }
    timings = []
    for lead in Lead.objects.filter(status=Status.UNASSIGNED).order_by("pk"):
        t0 = time.perf_counter()
        assign_lead(lead=lead, now=timezone.now())
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    return {
        "single_count": len(timings),
        "single_p50_ms": round(timings[len(timings) // 2], 2),
        "single_p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        "single_max_ms": round(timings[-1], 2),
        "assigned_total": Lead.objects.filter(status=Status.ASSIGNED).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="postgres,sqlite")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=1_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phase", default="batch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.phase, args.leads, args.singles)
        print("RESULT " + json.dumps(result), flush=True)
        return
    for engine in args.engines.split(","):
        env = fresh_database(engine, "assign")
        counts = ["--leads", str(args.leads), "--singles", str(args.singles)]
        r = run(__file__, env, "--phase", "batch", *counts)
        r.update(run(__file__, env, "--phase", "single", *counts))
        print(
            f"{engine:9} batch: {r['batch_leads']:,} leads in {r['batch_seconds']} s = "
            f"{r['batch_rate']:,}/s (target ≥ 5,000/s; {r['batch_unplaced']} unplaced) · "
            f"single ({r['single_count']:,}): p50 {r['single_p50_ms']} ms, "
            f"p99 {r['single_p99_ms']} ms (target ≤ 20 ms), max {r['single_max_ms']} ms · "
            f"reference: {r['reference']:,} SELECT 1/s"
        )


if __name__ == "__main__":
    main()
