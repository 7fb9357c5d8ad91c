"""Bulk import benchmark (issue: import and export).

Generates a realistic Chinese lead workbook (default 100,000 rows; 10% bad rows of every kind,
5% repeating leads already in the database) and imports it end to end — reading, mapping,
the intake rules, numbering, the inserts and their history — with `leadflow import`, into
SQLite and PostgreSQL databases already holding 1,000,000 leads. In the same run, on the same
file and tables, django-import-export (what most Django projects use) imports it in its
default mode and in its bulk mode, as the peer to compare with.

    .venv/bin/python bench/import.py                       # both engines, full size
    .venv/bin/python bench/import.py --engines sqlite --existing 100000 --rows 20000

Every measured import runs in its own process; its wall time and peak memory (max RSS) are
reported, and what it wrote is deleted afterwards, so every run meets the same database.
Targets on a 2-core machine: ≥ 20,000 rows/s on PostgreSQL, ≥ 10,000 rows/s on SQLite, peak
memory ≤ 500 MB, ≥ 20× django-import-export's default mode and ≥ 6× its bulk mode.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "bench" / "var"
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
PG_DB = "leadflow_bench_import"


def engine_env(engine: str) -> dict:
    env = dict(os.environ, LEADFLOW_INSECURE_DEV="1", LEADFLOW_VAR_DIR=str(VAR))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src")])
    env["IMPORT_MAX_ROWS"] = "1000000"
    env["IMPORT_MAX_MB"] = "500"
    if engine == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{VAR / 'import.sqlite3'}"
    else:
        env["DATABASE_URL"] = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{PG_DB}"
    return env


def ensure_postgres_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{PG_DB}"')


def child(env: dict, code: str, *args: str) -> dict:
    """Run `code` in a fresh Django process; it prints one JSON line prefixed RESULT."""
    prelude = textwrap.dedent(
        """
        import json, resource, sys, time
        import django, os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
        django.setup()
        def vacuum_analyze():
            # statistics and visibility as a maintained database has them: autovacuum would
            # catch up later, a benchmark right after a bulk load must not run without them
            from django.db import connection
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    connection.ensure_connection()
                    connection.connection.autocommit = True
                    cursor.execute("VACUUM ANALYZE leads_lead")
                else:
                    cursor.execute("ANALYZE")
        def report(**values):
            values["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print("RESULT " + json.dumps(values), flush=True)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-6000:])
        raise SystemExit(f"benchmark step failed ({out.returncode})")
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {}


SEED = """
from datetime import timedelta
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from leadflow.accounts.models import User
from leadflow.core import bulk
from leadflow.intake.normalize import company_key
from leadflow.leads.models import Channel, Industry, Lead, LeadNumberCounter, StageChange
from leadflow.leads.numbering import format_number
from bench.intake import company, phone, INDUSTRIES, NEEDS, CHANNELS

want = int(sys.argv[1])
user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
user.groups.add(Group.objects.get(name="admin"))
have = Lead.objects.count()
channels = {c.code: c for c in Channel.objects.filter(parent=None)}
industries = {i.name: i.pk for i in Industry.objects.all()}
statuses = ["unassigned", "contacting", "qualified", "won", "invalid", "pending_review"]
columns = bulk.columns_of(Lead)
now = timezone.now()
serial = {(r.channel_id, r.day): r.last for r in LeadNumberCounter.objects.all()}
template = Lead(created_by=user, channel=channels["G"], industry_id=1)
started = time.monotonic()
for start in range(have, want, 20000):
    leads = []
    for n in range(start, min(want, start + 20000)):
        acquired = now - timedelta(days=700) + timedelta(seconds=n * 60)
        if acquired > now:
            acquired = now - timedelta(seconds=n)
        ch = channels[CHANNELS[n % len(CHANNELS)]]
        day = timezone.localtime(acquired).date()
        serial[(ch.pk, day)] = serial.get((ch.pk, day), 0) + 1
        name = company(n)
        key = company_key(name)
        lead = Lead.__new__(Lead)
        lead.__dict__.update(template.__dict__)
        lead.number = format_number(ch.code, day, serial[(ch.pk, day)])
        lead.channel_id, lead.status = ch.pk, statuses[n % len(statuses)]
        lead.company_name, lead.company_key, lead.company_block = name, key, key[:2]
        lead.contact_name, lead.phone_e164, lead.phone_raw = "张先生", "+86" + phone(n), phone(n)
        lead.industry_id = industries[INDUSTRIES[n % len(INDUSTRIES)]]
        lead.need, lead.acquired_at, lead.grade = NEEDS[n % len(NEEDS)], acquired, "ABC"[n % 3]
        lead.created_at = lead.updated_at = acquired
        lead.screening = []
        leads.append(lead)
    with transaction.atomic():
        bulk.insert(Lead, columns, bulk.rows_of(leads, columns))
    print(f"  seeded {min(want, start + 20000):,} leads", file=sys.stderr, flush=True)
with transaction.atomic():
    LeadNumberCounter.objects.all().delete()
    LeadNumberCounter.objects.bulk_create(
        LeadNumberCounter(channel_id=c, day=d, last=last) for (c, d), last in serial.items())
vacuum_analyze()
report(leads=Lead.objects.count(), seconds=time.monotonic() - started)
"""

MARK = """
from django.db.models import Max
from leadflow.core.models import AuditEntry
from leadflow.leads.models import Lead, LeadTouch, StageChange
from leadflow.intake.models import ImportJob
from django.contrib.auth import get_user_model
report(**{name: model.objects.aggregate(m=Max("pk"))["m"] or 0 for name, model in
          [("lead", Lead), ("touch", LeadTouch), ("change", StageChange), ("job", ImportJob),
           ("user", get_user_model())]})
"""

UNDO = """
from django.db import connection, transaction
from leadflow.leads.models import Lead, LeadNumberCounter, LeadTouch, StageChange
from leadflow.intake.models import ImportedRow, ImportIssue, ImportJob
mark = json.loads(sys.argv[1])
with transaction.atomic():
    ImportedRow.objects.filter(lead_id__gt=mark["lead"]).delete()
    ImportedRow.objects.filter(job_id__gt=mark["job"]).delete()
    ImportIssue.objects.filter(job_id__gt=mark["job"]).delete()
    ImportJob.objects.filter(pk__gt=mark["job"]).delete()
    LeadTouch.objects.filter(pk__gt=mark["touch"]).delete()
    StageChange.objects.filter(pk__gt=mark["change"]).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Lead._meta.db_table} WHERE id > %s", [mark["lead"]])
vacuum_analyze()
report(leads=Lead.objects.count())
"""

# Besides the wall time, where it went: this process's own CPU, and — PostgreSQL on this
# machine — the CPU of the server process serving its connection (/proc), so the share
# no faster Python could remove is measured, not guessed.
LEADFLOW_IMPORT = """
from django.core.management import call_command
from django.db import connection

def server_cpu():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:  # the server runs elsewhere
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

server_before, cpu_before = server_cpu(), own_cpu()
started = time.monotonic()
call_command("import", sys.argv[1], channel="G", user="bench", report=sys.argv[2])
seconds = time.monotonic() - started
cpu = own_cpu() - cpu_before
server_after = server_cpu()
server = None if server_before is None or server_after is None else server_after - server_before
from leadflow.intake.models import ImportJob
job = ImportJob.objects.order_by("-pk").first()
report(seconds=seconds, counts=job.counts, cpu_seconds=cpu, server_cpu_seconds=server)
"""

READ_ONLY = """
from leadflow.intake.tabular import read_table
started = time.monotonic()
table = read_table(open(sys.argv[1], "rb").read(), sys.argv[1])
report(seconds=time.monotonic() - started, rows=len(table.rows))
"""

# django-import-export with a resource a Django project would write for this file: the
# columns mapped to the lead's fields, the industry by name, and the fields the model needs
# (number, channel, status, who and when) filled in before each row is saved.
PEER = """
import itertools
import tablib
from django.utils import timezone
from import_export import fields, resources, widgets
from leadflow.accounts.models import User
from leadflow.leads.models import Channel, Industry, Lead

mode = sys.argv[2]
user = User.objects.get(username="bench")
channel = Channel.objects.get(code="G")
numbers = itertools.count(int(time.time() * 1000))
now = timezone.now()

text = widgets.CharWidget(allow_blank=True)


class LeadResource(resources.ModelResource):
    company_name = fields.Field(attribute="company_name", column_name="客户名称", widget=text)
    contact_name = fields.Field(attribute="contact_name", column_name="联系人", widget=text)
    phone_raw = fields.Field(attribute="phone_raw", column_name="手机", widget=text)
    email = fields.Field(attribute="email", column_name="邮箱", widget=text)
    industry = fields.Field(attribute="industry", column_name="行业",
                            widget=widgets.ForeignKeyWidget(Industry, "name"))
    need = fields.Field(attribute="need", column_name="初步需求", widget=text)
    notes = fields.Field(attribute="notes", column_name="备注", widget=text)

    class Meta:
        model = Lead
        fields = ("company_name", "contact_name", "phone_raw", "email", "industry", "need", "notes")
        import_id_fields = []
        use_bulk = mode == "bulk"
        batch_size = 1000
        skip_diff = mode == "bulk"
        force_init_instance = mode == "bulk"

    def before_save_instance(self, instance, row, **kwargs):
        instance.number = f"IE{next(numbers)}"
        instance.channel = channel
        instance.status = "pending_review"
        instance.acquired_at = instance.created_at = instance.updated_at = now
        instance.created_by = user
        instance.company_name = (instance.company_name or "")[:200]
        instance.need = instance.need or ""

started = time.monotonic()
with open(sys.argv[1], "rb") as f:
    dataset = tablib.Dataset().load(f.read(), format="xlsx")
limit = int(sys.argv[3])
if limit and len(dataset) > limit:
    dataset = tablib.Dataset(*dataset[:limit], headers=dataset.headers)
read = time.monotonic() - started
result = LeadResource().import_data(dataset, dry_run=False, raise_errors=False, use_transactions=True)
seconds = time.monotonic() - started
report(seconds=seconds, read_seconds=read, rows=len(dataset),
       new=result.totals.get("new", 0), errors=len(result.row_errors()) + len(result.invalid_rows))
"""


def build_file(path: Path, rows: int, existing: int) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
    os.environ.setdefault("LEADFLOW_INSECURE_DEV", "1")
    os.environ.setdefault("LEADFLOW_VAR_DIR", str(VAR))
    from datetime import UTC, datetime

    import django

    django.setup()
    from bench.intake import phone
    from leadflow import leadfile

    rng = random.Random(5)
    known = [phone(rng.randrange(existing)) for _ in range(5000)]
    sample = leadfile.build(
        rows, now=datetime.now(UTC), bad_share=0.1, repeat_share=0.05, known_phones=known
    )
    leadfile.write_xlsx(sample, str(path))
    print(f"  wrote {path.name}: {rows:,} rows, {len(sample.bad):,} bad, "
          f"{len(sample.repeats):,} repeats, {path.stat().st_size / 1e6:.1f} MB")  # fmt: skip


def run_engine(engine: str, args, workbook: Path) -> dict:
    env = engine_env(engine)
    if engine == "postgres":
        ensure_postgres_database()
    subprocess.run(
        [sys.executable, "-m", "leadflow", "migrate", "--no-input", "-v", "0"],
        env=env, cwd=ROOT, check=True,
    )  # fmt: skip
    seeded = child(env, SEED, str(args.existing))
    print(f"  {engine}: {seeded['leads']:,} leads in the database")
    figures: dict = {"engine": engine, "existing": seeded["leads"]}
    figures["read"] = child(env, READ_ONLY, str(workbook))
    for run in range(args.repeat):
        mark = child(env, MARK)
        result = child(env, LEADFLOW_IMPORT, str(workbook), str(VAR / "rejected.xlsx"))
        child(env, UNDO, json.dumps(mark))
        figures.setdefault("leadflow", []).append(result)
        print(f"  {engine} LeadFlow run {run + 1}: {args.rows / result['seconds']:,.0f} rows/s, "
              f"{result['seconds']:.1f} s, peak {result['peak_mb']:.0f} MB, {result['counts']}")  # fmt: skip
        print(f"    CPU: the importer {result['cpu_seconds']:.1f} s"
              + ("" if result["server_cpu_seconds"] is None else
                 f", its PostgreSQL server process {result['server_cpu_seconds']:.1f} s"))  # fmt: skip
    if not args.skip_peer:
        for mode in ("default", "bulk"):
            mark = child(env, MARK)
            result = child(env, PEER, str(workbook), mode, str(args.peer_rows))
            child(env, UNDO, json.dumps(mark))
            figures[f"peer_{mode}"] = result
            print(f"  {engine} django-import-export {mode}: "
                  f"{result['rows'] / result['seconds']:,.0f} rows/s over {result['rows']:,} rows "
                  f"({result['seconds']:.1f} s, of which reading {result['read_seconds']:.1f} s), "
                  f"peak {result['peak_mb']:.0f} MB")  # fmt: skip
    return figures


def summary(figures: dict, rows: int) -> None:
    best = min(figures["leadflow"], key=lambda r: r["seconds"])
    ours = rows / best["seconds"]
    target = 20_000 if figures["engine"] == "postgres" else 10_000
    print(f"\n{figures['engine']} ({figures['existing']:,} leads before):")
    print(f"  reading the workbook alone: {figures['read']['seconds']:.1f} s")
    print(f"  LeadFlow: {ours:,.0f} rows/s (target ≥ {target:,}), peak {best['peak_mb']:.0f} MB "
          f"(target ≤ 500)")  # fmt: skip
    waited = best["seconds"] - best["cpu_seconds"]
    print(f"  of its {best['seconds']:.1f} s: {best['cpu_seconds']:.1f} s its own CPU, "
          f"{waited:.1f} s waiting (the database, the file)")  # fmt: skip
    if best.get("server_cpu_seconds"):
        print(f"  the PostgreSQL server process's CPU: {best['server_cpu_seconds']:.1f} s — with "
              f"no Python at all, at most {rows / best['server_cpu_seconds']:,.0f} rows/s")  # fmt: skip
    for mode, want in (("default", 20), ("bulk", 6)):
        peer = figures.get(f"peer_{mode}")
        if peer:
            theirs = peer_rate(peer, rows)
            print(f"  vs django-import-export {mode}: {theirs:,.0f} rows/s → {ours / theirs:.1f}× "
                  f"(target ≥ {want}×)")  # fmt: skip


def peer_rate(peer: dict, rows: int) -> float:
    """The peer's rate for the whole file: it reads all of it (openpyxl) but, with
    --peer-rows, imports only part; its import time is scaled to the whole file."""
    importing = (peer["seconds"] - peer["read_seconds"]) * rows / peer["rows"]
    return rows / (peer["read_seconds"] + importing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--peer-rows", type=int, default=0,
                        help="import only this many rows with the peer (0: all)")  # fmt: skip
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    workbook = VAR / f"import-{args.rows}.xlsx"
    if not workbook.exists():
        build_file(workbook, args.rows, args.existing)
    results = [run_engine(e, args, workbook) for e in args.engines.split(",")]
    for figures in results:
        summary(figures, args.rows)
    (VAR / "import-results.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
