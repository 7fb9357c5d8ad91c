"""Analytics benchmark (issue: conversion analytics, dashboards and the weekly review).

1,000,000 leads over two years, 10,000,000 follow-up records, 5,000,000 stage changes and
an assignment per assigned lead, 200 reps in 10 teams, on PostgreSQL (and SQLite). For
each dashboard — rep, manager, marketing, admin — every query it runs, timed together
(`analytics.dashboards.build`, the ORM and the Python that shapes the figures), against
hand-written SQL GROUP BYs computing the same figures over the same data in the same run.
Targets: each dashboard ≤ 1 s on PostgreSQL, ≤ 3 s on SQLite, within 1.5× of the SQL.

Each dashboard is measured as it opens (the last 90 days) and over all two years.

    .venv/bin/python bench/analytics.py                          # PostgreSQL and SQLite
    .venv/bin/python bench/analytics.py --engines postgres --leads 100000

Each engine gets a fresh database (PostgreSQL: leadflow_bench_analytics; SQLite:
bench/var/analytics.sqlite3). Seeding writes rows in bulk (they stand for years of use);
the timed part only reads. Times are the median of 3 runs after one warm-up.
"""

import argparse
import json
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as dtime

from harness import database_env, fresh_database, run, settle  # bench/harness.py

REGIONS = ["华北", "华东", "华南", "华中", "西南", "西北", "东北"]
COMPETITORS = ["汇川", "西门子", "某某科技", "本地代理商", "施耐德"]
REASONS = ["预算远低于产品价格", "联系不上", "需求不匹配", "已选竞品", "重复线索"]
# status → share of leads (the rest of the way is in the history)
FATES = [
    ("pending_review", 0.02), ("unassigned", 0.02), ("assigned", 0.04),
    ("contacting", 0.18), ("qualified", 0.09), ("evaluating", 0.05), ("negotiating", 0.04),
    ("won", 0.10), ("invalid", 0.36), ("pool", 0.10),
]  # fmt: skip
PATH = ["unassigned", "assigned", "contacting", "qualified", "evaluating", "negotiating", "won"]
RANK = {s: i + 1 for i, s in enumerate(PATH)}


def seed(leads: int, followups: int, rng) -> dict:
    """People, then `leads` leads with their history, follow-ups and assignments."""
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from leadflow.accounts.models import RepProfile, Role, Team, User
    from leadflow.assignment.models import Assignment
    from leadflow.core import bulk
    from leadflow.followups.models import FollowUp, Tally
    from leadflow.leads.models import Channel, Industry, Lead, StageChange

    now = timezone.now()
    industries = list(Industry.objects.values_list("pk", flat=True))
    channels = list(Channel.objects.values_list("pk", flat=True))
    with transaction.atomic():
        staff = User.objects.create(username="bench-admin", is_superuser=True)
        staff.groups.add(Group.objects.get(name=Role.ADMIN))
        Group.objects.get(name=Role.MARKETING).user_set.add(
            User.objects.create(username="bench-marketing")
        )
        teams, reps = [], []
        for t in range(10):
            manager = User.objects.create(username=f"manager{t}")
            manager.groups.add(Group.objects.get(name=Role.MANAGER))
            teams.append(
                Team.objects.create(name=f"{REGIONS[t % 7]}{t}组", region=REGIONS[t % 7],
                                    manager=manager)
            )  # fmt: skip
        rep_group = Group.objects.get(name=Role.REP)
        for r in range(200):
            rep = User.objects.create(username=f"rep{r}", team=teams[r % 10])
            rep.groups.add(rep_group)
            RepProfile.objects.create(user=rep, regions=[teams[r % 10].region])
            reps.append(rep)

    lead_columns = ["id", *bulk.columns_of(Lead)]
    template = Lead(
        company_name="", contact_name="王经理", need="采购设备", grade_rule="", screening=[],
        created_by=staff, created_at=now, updated_at=now,
    )  # fmt: skip
    base = dict(zip(lead_columns, bulk.rows_of([template], lead_columns)[0], strict=True))
    index = {c: i for i, c in enumerate(lead_columns)}
    change_columns = ["lead_id", "from_status", "to_status", "at", "entered_at", "by_id",
                      "reason", "evidence"]  # fmt: skip
    followup_columns = ["lead_id", "by_id", "contact_at", "recorded_at", "method",
                        "contact_person", "feedback", "intent_change", "need_change",
                        "next_action", "next_action_due", "risk_note", "competitor", "late",
                        "first", "grade", "due"]  # fmt: skip
    assignment_columns = ["lead_id", "rep_id", "team_id", "kind", "state", "by_id", "rule_id",
                          "reason", "explanation", "at", "accept_due", "decline_due",
                          "reminded_at", "answered_at", "decline_reason"]  # fmt: skip
    statuses = [s for s, _p in FATES]
    weights = [p for _s, p in FATES]
    per_lead = followups / max(leads * 0.8, 1)  # contacted leads carry the follow-ups
    counts = {"leads": 0, "changes": 0, "followups": 0, "assignments": 0}
    chunk = 10_000
    for start in range(0, leads, chunk):
        rows, changes, records, offers = [], [], [], []
        for n in range(start, min(start + chunk, leads)):
            pk = n + 1
            status = rng.choices(statuses, weights)[0]
            # leads arrive over two years, in order (as they do: ids follow acquisition)
            acquired = now - timedelta(days=730 * (1 - (n + rng.random()) / leads))
            furthest = {
                "pending_review": 0, "invalid": rng.choice([1, 3, 3, 3, 4, 4, 5, 6]),
                "pool": 3,
            }.get(status, RANK.get(status, 0))  # fmt: skip
            rep = rng.choice(reps) if furthest >= 2 else None
            row = list(base.values())
            fields = {
                "id": pk, "number": f"B{pk:09d}", "channel_id": rng.choice(channels),
                "status": status, "company_name": f"基准客户{pk}有限公司",
                "phone_e164": f"+86139{pk:08d}", "industry_id": rng.choice(industries),
                "acquired_at": acquired, "region": rng.choice(REGIONS),
                "grade": rng.choice("AABBBCCD"), "furthest": furthest,
                "owner_id": rep.pk if rep and status != "pool" else None,
                "team_id": rep.team_id if rep and status != "pool" else None,
            }  # fmt: skip
            t = acquired
            history = [("", "pending_review", t)]
            for step in PATH[:furthest]:
                t = t + timedelta(hours=rng.uniform(0.5, 24 * (6 if RANK[step] > 3 else 1)))
                history.append((history[-1][1], step, t))
            if status in ("invalid", "pool"):
                t = t + timedelta(days=rng.uniform(1, 30))
                history.append((history[-1][1], status, t))
            entered = None
            for src, to, at in history:
                if at > now:
                    break
                changes.append((pk, src, to, at, entered, None, "", {}))
                entered = at
            if furthest >= 2:
                at = history[2][2]
                answered = at + timedelta(minutes=rng.expovariate(1 / 180))
                offers.append(
                    (pk, rep.pk, rep.team_id, "auto", "accepted", None, None, "", {}, at,
                     at + timedelta(hours=24), at + timedelta(hours=2), None, answered, "")
                )  # fmt: skip
            if furthest >= 3:
                first = history[3][2]
                fields["first_contact_at"] = first
                fields["first_contact_due"] = history[2][2] + timedelta(hours=24)
                fields["last_contact_at"] = first
                contact, due = first, fields["first_contact_due"]
                for k in range(max(1, round(rng.expovariate(1 / per_lead)))):
                    if contact > now:
                        break
                    late = rng.random() < 0.15
                    records.append(
                        (pk, rep.pk, contact, contact + timedelta(hours=2 if late else 0.2),
                         "phone", "", "客户反馈", "", "", "", None, "",
                         rng.choice(COMPETITORS) if rng.random() < 0.05 else "", late, k == 0,
                         fields["grade"], due)
                    )  # fmt: skip
                    fields["last_contact_at"] = contact
                    due = contact + timedelta(days=3)
                    contact = contact + timedelta(days=rng.uniform(0.5, 4))
                if status in ("contacting", "qualified", "evaluating", "negotiating"):
                    fields["next_followup_due"] = due
            if status == "won":
                fields["won_at"] = history[-1][2]
                fields["won_amount"] = rng.randrange(5, 120) * 10000
            if status == "invalid":
                fields["invalid_reason"] = f"{rng.choice(REASONS)}：基准"
            for name, value in fields.items():
                row[index[name]] = value
            rows.append(tuple(row))
        with transaction.atomic():
            bulk.insert(Lead, lead_columns, rows)
            bulk.insert(StageChange, change_columns, changes)
            bulk.insert(FollowUp, followup_columns, records)
            bulk.insert(Assignment, assignment_columns, offers)
        counts["leads"] += len(rows)
        counts["changes"] += len(changes)
        counts["followups"] += len(records)
        counts["assignments"] += len(offers)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("leads_lead",):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    Tally.rebuild()  # the follow-ups were written in bulk, not one by one
    settle()
    return counts


# --- the hand-written SQL: the same figures, GROUP BY by GROUP BY -----------------------------


class Sql:
    """Dialect pieces for the hand-written queries."""

    def __init__(self, vendor: str):
        self.pg = vendor == "postgresql"

    def secs(self, a: str, b: str) -> str:
        if self.pg:
            return f"EXTRACT(EPOCH FROM ({a} - {b}))"
        return f"((julianday({a}) - julianday({b})) * 86400.0)"

    def month(self, col: str) -> str:
        if self.pg:
            return f"date_trunc('month', {col} AT TIME ZONE 'Asia/Shanghai')"
        return f"strftime('%%Y-%%m', {col}, '+8 hours')"

    def day(self, col: str) -> str:
        if self.pg:
            return f"({col} AT TIME ZONE 'Asia/Shanghai')::date"
        return f"date({col}, '+8 hours')"


WORKED = "('unassigned','assigned','contacting','qualified','evaluating','negotiating')"
WORKING = "('contacting','qualified','evaluating','negotiating')"


def peer(sections, where: str, params: dict) -> int:
    """Run the hand-written queries of `sections`; rows fetched. `where` filters the leads
    (alias l) with named parameters; `params` also holds now, and the heat map's window."""
    from django.db import connection

    q = Sql(connection.vendor)
    lw = f"FROM leads_lead l WHERE {where}"
    fl = f"JOIN leads_lead l ON l.id = f.lead_id WHERE {where}"
    al = f"JOIN leads_lead l ON l.id = a.lead_id WHERE {where}"
    cl = f"FROM leads_lead l JOIN leads_channel c ON c.id = l.channel_id WHERE {where}"
    late_first = "(first_contact_at IS NULL AND first_contact_due < %(now)s)"
    statements = []
    if "funnel" in sections and "cohorts" not in sections:  # else: the months added up
        statements.append(f"SELECT furthest, status, COUNT(*) {lw} GROUP BY furthest, status")
    if "cohorts" in sections:
        m = q.month("l.acquired_at")
        statements.append(f"SELECT {m}, furthest, status, COUNT(*) {lw} GROUP BY 1, 2, 3")
    if "channels" in sections:
        statements.append(
            "SELECT COALESCE(c.parent_id, c.id), COUNT(*), "
            "SUM(CASE WHEN l.furthest >= 1 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN l.status = 'won' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN l.status = 'won' THEN l.won_amount END) {cl} GROUP BY 1"
        )
    if "cycle" in sections or "kpis" in sections:
        fc = q.secs("l.first_contact_at", "l.acquired_at")
        statements += [
            f"SELECT ROUND({fc} / 60.0), COUNT(*) {lw} AND l.first_contact_at IS NOT NULL "
            "GROUP BY 1",
            f"SELECT COALESCE(c.parent_id, c.id), {q.secs('l.won_at', 'l.acquired_at')} {cl} "
            "AND l.status = 'won' AND l.won_at IS NOT NULL",
            f"SELECT COALESCE(c.parent_id, c.id), "
            f"FLOOR({q.secs('%(now)s', 'l.acquired_at')} / 86400.0), COUNT(*) {cl} "
            "AND NOT (l.status = 'won' AND l.won_at IS NOT NULL) GROUP BY 1, 2",
            f"SELECT s.from_status, ROUND({q.secs('s.at', 's.entered_at')} / 3600.0), COUNT(*) "
            f"FROM leads_stagechange s JOIN leads_lead l ON l.id = s.lead_id WHERE {where} "
            f"AND s.from_status IN {WORKED} AND s.entered_at IS NOT NULL GROUP BY 1, 2",
            f"SELECT status, COUNT(*) {lw} AND l.status IN {WORKED} GROUP BY 1",
        ]
    if "reps" in sections or "grades" in sections:
        answer = q.secs("a.answered_at", "a.at")
        statements += [
            "SELECT a.rep_id, COUNT(*), SUM(CASE WHEN a.state = 'accepted' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN a.state = 'declined' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN a.state = 'expired' THEN 1 ELSE 0 END) "
            f"FROM assignment_assignment a {al} GROUP BY 1",
            f"SELECT a.rep_id, ROUND({answer} / 60.0), COUNT(*) FROM assignment_assignment a "
            f"{al} AND a.answered_at IS NOT NULL AND a.kind <> 'claim' GROUP BY 1, 2",
            "SELECT f.by_id, COUNT(DISTINCT f.lead_id) FROM followups_followup f "
            f"{fl} AND f.first GROUP BY 1",
            "SELECT owner_id, grade, COUNT(*), SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN status = 'won' THEN won_amount END) {lw} "
            "AND l.owner_id IS NOT NULL GROUP BY 1, 2",
            "SELECT r.rep_id, COUNT(*) FROM followups_reviewitem r "
            f"JOIN leads_lead l ON l.id = r.lead_id WHERE {where} GROUP BY 1",
        ]
    if "discipline" in sections:
        statements += [
            "SELECT f.by_id, "
            "SUM(CASE WHEN f.first AND f.contact_at <= f.due THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN f.first AND f.contact_at > f.due THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN NOT f.first AND f.contact_at <= f.due THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN NOT f.first AND f.contact_at > f.due THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN f.late THEN 1 ELSE 0 END), COUNT(*) FROM followups_followup f {fl} "
            "GROUP BY 1",
            f"SELECT owner_id, SUM(CASE WHEN {late_first} THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN next_followup_due < %(now)s THEN 1 ELSE 0 END), COUNT(*) "
            f"{lw} AND l.status IN {WORKING} AND l.owner_id IS NOT NULL AND "
            f"({late_first} OR next_followup_due < %(now)s) GROUP BY 1",
            "SELECT a.rep_id, SUM(CASE WHEN a.state IN ('accepted','declined') AND "
            "a.answered_at <= a.accept_due THEN 1 ELSE 0 END), SUM(CASE WHEN a.state IN "
            "('accepted','declined') AND a.answered_at > a.accept_due THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN a.state = 'expired' THEN 1 ELSE 0 END) FROM assignment_assignment a "
            f"{al} AND a.kind <> 'claim' GROUP BY 1",
            "SELECT t.owner_id, COUNT(*) FROM followups_task t JOIN leads_lead l ON "
            f"l.id = t.lead_id WHERE {where} AND l.status IN {WORKING} AND t.done_at IS NULL "
            "AND t.due < %(now)s GROUP BY 1",
        ]
    if "heat" in sections:
        window = "%(heat_from)s AND {c} < %(heat_to)s"
        statements += [
            f"SELECT f.by_id, {q.day('f.due')}, COUNT(*) FROM followups_followup f {fl} "
            f"AND f.due >= {window.format(c='f.due')} AND f.contact_at > f.due GROUP BY 1, 2",
            f"SELECT owner_id, {q.day('first_contact_due')}, COUNT(*) {lw} "
            f"AND l.status IN {WORKING} AND l.owner_id IS NOT NULL AND first_contact_at IS NULL "
            f"AND first_contact_due >= {window.format(c='first_contact_due')} GROUP BY 1, 2",
            f"SELECT owner_id, {q.day('next_followup_due')}, COUNT(*) {lw} "
            f"AND l.status IN {WORKING} AND l.owner_id IS NOT NULL "
            f"AND next_followup_due >= {window.format(c='next_followup_due')} GROUP BY 1, 2",
        ]
    if "losses" in sections:
        cut = "STRPOS" if q.pg else "INSTR"
        statements += [
            f"SELECT CASE WHEN {cut}(invalid_reason, '：') > 0 THEN "
            f"SUBSTR(invalid_reason, 1, {cut}(invalid_reason, '：') - 1) ELSE invalid_reason "
            f"END, furthest, COUNT(*) {lw} AND l.status = 'invalid' GROUP BY 1, 2",
            "SELECT f.competitor, COUNT(DISTINCT f.lead_id) FROM followups_followup f "
            f"{fl} AND f.competitor <> '' GROUP BY 1",
        ]
    fetched = 0
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
            fetched += len(cursor.fetchall())
    return fetched


# --- the timed part ---------------------------------------------------------------------------


def timed(fn, repeats: int = 3) -> float:
    fn()  # warm-up: caches and plans, as a dashboard opened before
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def child_measure() -> dict:
    from django.db import connection
    from django.utils import timezone

    from leadflow.accounts.models import Team, User
    from leadflow.analytics import dashboards, rollups
    from leadflow.analytics.queries import Filters

    now = timezone.now()
    today = timezone.localdate()
    since, until = dashboards.default_period(today)
    admin = User.objects.get(username="bench-admin")
    marketing = User.objects.get(username="bench-marketing")
    manager = User.objects.get(username="manager0")
    team = Team.objects.get(manager=manager)
    rep = User.objects.get(username="rep0")
    zone = timezone.get_default_timezone()
    start = datetime.combine(since, dtime(), zone)
    end = datetime.combine(until + timedelta(days=1), dtime(), zone)
    cases = {
        "rep": (rep, "l.owner_id = %(who)s", rep.pk),
        "manager": (manager, "l.team_id = %(who)s", team.pk),
        "marketing": (marketing, "1 = 1", None),
        "admin": (admin, "1 = 1", None),
    }
    results = {"engine": connection.vendor}
    # the sweeper's job: the months not stored yet (every one, after seeding) computed
    t0 = time.perf_counter()
    months = rollups.refresh(now)
    results["refresh"] = {"months": months, "seconds": round(time.perf_counter() - t0, 1)}
    t0 = time.perf_counter()
    rollups.refresh(now)
    results["refresh_again"] = round(time.perf_counter() - t0, 3)
    for name, (user, where, who) in cases.items():
        sections = dashboards.SECTIONS[name]
        for period in ("90d", "all"):
            f = Filters(since=since, until=until) if period == "90d" else Filters()
            heat_since = max(f.since or today - timedelta(days=27), today - timedelta(days=41))
            params = {
                "who": who, "now": now, "since": start, "until": end,
                "heat_from": datetime.combine(heat_since, dtime(), zone), "heat_to": min(end, now),
            }  # fmt: skip
            w = where
            if period == "90d":
                w += " AND l.acquired_at >= %(since)s AND l.acquired_at < %(until)s"
            orm = timed(lambda u=user, f=f: dashboards.build(u, f, now=now))
            sql = timed(lambda s=sections, w=w, p=params: peer(s, w, p))
            results[f"{name}_{period}"] = {"orm": round(orm, 3), "sql": round(sql, 3)}
    return results


def child(phase: str, leads: int, followups: int) -> dict:
    import random

    import django

    django.setup()
    from django.core.management import call_command

    if phase == "seed":
        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        counts = seed(leads, followups, random.Random(2026))
        counts["seconds"] = round(time.perf_counter() - t0, 1)
        return counts
    return child_measure()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="postgres,sqlite")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--followups", type=int, default=10_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phase", default="seed", help=argparse.SUPPRESS)
    parser.add_argument("--reuse", action="store_true", help="measure the seeded database again")
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.phase, args.leads, args.followups)), flush=True)
        return
    for engine in args.engines.split(","):
        sizes = ["--leads", str(args.leads), "--followups", str(args.followups)]
        if args.reuse:
            env = database_env(engine, "analytics")
        else:
            env = fresh_database(engine, "analytics")
            seeded = run(__file__, env, "--phase", "seed", *sizes)
            print(
                f"{engine:9} seeded {seeded['leads']:,} leads, {seeded['changes']:,} stage "
                f"changes, {seeded['followups']:,} follow-ups, {seeded['assignments']:,} "
                f"assignments in {seeded['seconds']} s"
            )
        r = run(__file__, env, "--phase", "measure", *sizes)
        limit = 1.0 if r["engine"] == "postgresql" else 3.0
        refresh = r.pop("refresh")
        print(
            f"{engine:9} stored months: {refresh['months']} computed in {refresh['seconds']} s"
            f" (the sweeper's refresh); again with nothing changed: "
            f"{r.pop('refresh_again') * 1000:.0f} ms"
        )
        for key, t in r.items():
            if key == "engine":
                continue
            ratio = t["orm"] / t["sql"] if t["sql"] else float("inf")
            verdict = "ok" if t["orm"] <= limit and ratio <= 1.5 else "MISSED"
            print(
                f"{engine:9} {key:14} dashboard {t['orm'] * 1000:7.0f} ms · hand-written SQL "
                f"{t['sql'] * 1000:7.0f} ms · ×{ratio:4.2f}  (≤ {limit:.0f} s, ≤ ×1.5: {verdict})"
            )


if __name__ == "__main__":
    main()
