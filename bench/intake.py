"""API intake benchmark (issue: foundation).

Measures POST /api/v1/leads end to end — HTTP, auth, validation, normalisation, screening,
duplicate check, numbering, grading, the insert with its history — against a database that
already holds 100,000 leads, on SQLite and on PostgreSQL, and a bare JSON view (/healthz) on
the same server in the same run as the ceiling to compare with.

    .venv/bin/python bench/intake.py                 # both engines
    .venv/bin/python bench/intake.py --engines sqlite --existing 20000 --seconds 10

Reports: closed-loop throughput at N concurrent connections — driven by wrk when it is
installed (`apt-get install wrk`), else by a Python client, which then competes for the same
two cores — and the latency (p50/p99, measured from each request's scheduled send time, so a
stall is not hidden) at 100 requests/s offered by a Python open-loop client.
Targets on a 2-core machine: ≥ 500 intakes/s on PostgreSQL; p99 ≤ 25 ms at 100/s.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "bench" / "var"
PORT = 8765
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
PG_BENCH_DB = "leadflow_bench"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
WORDS = "恒瑞华信博远中星河丰鼎盛海纳众诚天成金桥宏达新元卓越锦程安泰弘毅凯德润和汇通明景同创嘉禾正晟智联云帆青松蓝德鑫"
TRADES = [
    "精密机械",
    "电子",
    "新材料",
    "商贸",
    "教育科技",
    "医疗器械",
    "网络科技",
    "供应链管理",
    "新能源",
    "置业",
]
CITIES = [
    "北京",
    "上海",
    "苏州",
    "杭州",
    "广州",
    "深圳",
    "成都",
    "武汉",
    "西安",
    "南京",
    "青岛",
    "长沙",
]
INDUSTRIES = ["制造业", "零售业", "教育", "医疗健康", "互联网", "物流", "能源", "房地产"]
NEEDS = [
    "采购设备，用于产线自动化改造",
    "需要CRM系统，销售团队约50人",
    "了解一下产品功能和价格",
    "招标：智慧校园平台建设",
    "需要方案报价，对比3家供应商",
    "升级门店收银与会员系统",
]
CHANNELS = ["G", "H", "K", "S", "HZ", "SS", "SJ", "D", "N", "DT", "L"]


PREFIXES = ["139", "158", "186", "177", "133", "150"]


def pick(items, k: int):
    return items[k % len(items)]


def company(n: int) -> str:
    """The n-th bench company; bench/intake.lua builds the same names."""
    brand = pick(WORDS, n) + pick(WORDS, n // 60) + pick(WORDS, n // 3600)
    return f"{pick(CITIES, n)}{brand}{pick(TRADES, n * 3)}{n}号有限公司"


def phone(n: int) -> str:
    """The n-th bench mobile: a bijection of n below 10^8 (so unique), not an invented-looking
    number. bench/intake.lua computes the same."""
    return f"{pick(PREFIXES, n * 31 + 7)}{(n * 7919 + 12345678) % 10**8:08d}"


# --- environment ----------------------------------------------------------------------------


def engine_env(engine: str) -> dict:
    env = dict(os.environ, LEADFLOW_INSECURE_DEV="1", LEADFLOW_VAR_DIR=str(VAR))
    if engine == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{VAR / 'bench.sqlite3'}"
    else:
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        env["DATABASE_URL"] = f"{base}/{PG_BENCH_DB}"
    return env


def leadflow(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "leadflow", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout if capture else ""


def ensure_postgres_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [PG_BENCH_DB]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')


SEED = """
import random, sys
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from leadflow.accounts.models import ApiToken, User
from leadflow.intake.normalize import company_key
from leadflow.leads.models import Channel, Industry, Lead, LeadNumberCounter, StageChange
from leadflow.leads.numbering import format_number
sys.path.insert(0, "bench")
from intake import company, phone, INDUSTRIES, NEEDS, CHANNELS

want = int(sys.argv[1])
user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
have = Lead.objects.count()
channels = {c.code: c for c in Channel.objects.filter(parent=None)}
industries = {i.name: i for i in Industry.objects.all()}
rng = random.Random(1)
now = timezone.now()
serial = {}
for row in LeadNumberCounter.objects.all():
    serial[(row.channel_id, row.day)] = row.last
batch = 5000
for start in range(have, want, batch):
    leads = []
    for n in range(start, min(want, start + batch)):
        acquired = now - timedelta(days=400) + timedelta(seconds=n * 300)
        if acquired > now:
            acquired = now - timedelta(seconds=n)
        ch = channels[rng.choice(CHANNELS)]
        day = timezone.localtime(acquired).date()
        serial[(ch.pk, day)] = serial.get((ch.pk, day), 0) + 1
        name = company(n)
        key = company_key(name)
        leads.append(Lead(
            number=format_number(ch.code, day, serial[(ch.pk, day)]), channel=ch,
            status=rng.choice(["unassigned", "contacting", "qualified", "won", "invalid", "pending_review"]),
            company_name=name, company_key=key, company_block=key[:2], contact_name="张先生",
            phone_e164="+86" + phone(n), phone_raw=phone(n), industry=industries[rng.choice(INDUSTRIES)],
            need=rng.choice(NEEDS), acquired_at=acquired, grade=rng.choice("ABC"),
            created_by=user, created_at=acquired, updated_at=acquired))
    with transaction.atomic():
        made = Lead.objects.bulk_create(leads)
        StageChange.objects.bulk_create(
            StageChange(lead=l, from_status="", to_status=l.status, at=l.acquired_at, by=user) for l in made)
    print(f"  seeded {min(want, start + batch):,} leads", flush=True)
with transaction.atomic():
    LeadNumberCounter.objects.all().delete()
    LeadNumberCounter.objects.bulk_create(
        LeadNumberCounter(channel_id=channel_id, day=day, last=last) for (channel_id, day), last in serial.items())
token, _ = ApiToken.objects.get_or_create(user=user, defaults={"key": ApiToken.new_key()})
print("TOKEN", token.key)
"""


# --- load ----------------------------------------------------------------------------------


class Client:
    def __init__(self, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: dict | None = None) -> int:
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            return response.status
        except (ConnectionError, http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            return 0


class Bodies:
    """Fresh leads numbered from `start`, with 5% repeats of the seeded leads."""

    def __init__(self, existing: int, start: int) -> None:
        self.rng = random.Random(start)
        self.existing = existing
        self.n = start
        self.lock = threading.Lock()

    def next(self) -> dict:
        with self.lock:
            self.n += 1
            n = self.n
            repeat = self.rng.random() < 0.05
            old = self.rng.randrange(self.existing) if repeat else None
        return {
            "channel": pick(CHANNELS, n),
            "company_name": company(n),
            "contact_name": pick(SURNAMES, n) + "经理",
            "phone": phone(old if repeat else n),
            "email": f"buyer{n}@example.cn" if n % 3 == 0 else "",
            "industry": pick(INDUSTRIES, n * 3),
            "need": pick(NEEDS, n * 5),
        }


def fresh_range(engine: str, size: int = 5_000_000) -> int:
    """A block of lead numbers n no earlier run has used against this database."""
    path = VAR / f"next-n-{engine}.txt"
    start = int(path.read_text()) if path.exists() else 10_000_000
    path.write_text(str(start + size))
    return start


def wrk_closed_loop(token: str, existing: int, start: int, clients: int, seconds: float) -> dict:
    """The same closed loop driven by wrk (C, epoll), so the load generator is not the limit."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "-s",
            str(ROOT / "bench/intake.lua"),
            f"http://127.0.0.1:{PORT}",
            "--",
            token,
            str(existing),
            str(start),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(row for row in out.splitlines() if row.startswith("RESULT"))
    f = dict(item.split("=") for item in line.split()[1:])
    requests, errors = int(f["requests"]), int(f["errors"]) + int(f["non2xx"])
    return {
        "rps": (requests - errors) / (int(f["duration_us"]) / 1e6),
        "n": requests,
        "p50": int(f["p50_us"]) / 1000,
        "p99": int(f["p99_us"]) / 1000,
        "statuses": {"2xx": requests - errors, "errors": errors},
    }


def closed_loop(token: str, make_body, path: str, clients: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def run():
        client = Client(token)
        mine, codes = [], {}
        while time.monotonic() < stop:
            body = make_body()
            t0 = time.perf_counter()
            status = client.request("POST" if body is not None else "GET", path, body)
            mine.append(time.perf_counter() - t0)
            codes[status] = codes.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=run) for _ in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    return summary(latencies, statuses, elapsed)


def open_loop(token: str, bodies: Bodies, rate: float, seconds: float) -> dict:
    """Send at a fixed rate; latency counts from the scheduled time (no coordinated omission)."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    index = iter(range(total))
    workers = 16

    def run():
        client = Client(token)
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                return
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            status = client.request("POST", "/api/v1/leads", bodies.next())
            done = time.perf_counter()
            with lock:
                latencies.append(done - due)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summary(latencies, statuses, seconds)


def summary(latencies: list[float], statuses: dict, elapsed: float) -> dict:
    latencies.sort()
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)

    def pct(p):
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    return {
        "rps": ok / elapsed,
        "n": len(latencies),
        "p50": pct(0.50),
        "p99": pct(0.99),
        "mean": statistics.fmean(latencies) * 1000 if latencies else 0,
        "statuses": statuses,
    }


def wait_ready(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not come up")


def bench_engine(engine: str, args) -> list[tuple]:
    env = engine_env(engine)
    if engine == "postgres":
        ensure_postgres_database()
    print(f"\n== {engine}: migrate and seed {args.existing:,} leads", flush=True)
    leadflow(env, "migrate", "-v", "0")
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SEED, str(args.existing)],
        env=dict(env, DJANGO_SETTINGS_MODULE="leadflow.settings"),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    token = out.strip().splitlines()[-1].split()[-1]
    server = subprocess.Popen(
        [sys.executable, "-m", "leadflow", "web", "--bind", f"127.0.0.1:{PORT}"]
        + (["--workers", str(args.workers)] if args.workers else []),
        env=dict(env, LOG_LEVEL="WARNING"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        wait_ready()
        bodies = Bodies(args.existing, fresh_range(engine))
        closed_loop(token, bodies.next, "/api/v1/leads", args.clients, 3)  # warm up
        use_wrk = shutil.which("wrk") is not None and not args.python_client
        driver = "wrk" if use_wrk else "python"
        if use_wrk:
            bare = wrk_plain(args.clients, args.seconds)
            intake = wrk_closed_loop(
                token, args.existing, fresh_range(engine), args.clients, args.seconds
            )
        else:
            bare = closed_loop(token, lambda: None, "/healthz", args.clients, args.seconds)
            intake = closed_loop(token, bodies.next, "/api/v1/leads", args.clients, args.seconds)
        rows.append((engine, f"GET /healthz (bare view), {args.clients} conns, {driver}", bare))
        rows.append((engine, f"POST /api/v1/leads, {args.clients} conns, {driver}", intake))
        paced = open_loop(token, bodies, 100, args.seconds)
        rows.append((engine, "POST /api/v1/leads at 100/s offered", paced))
    finally:
        server.terminate()
        server.wait(10)
    return rows


def wrk_plain(clients: int, seconds: float) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "--latency",
            f"http://127.0.0.1:{PORT}/healthz",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    rps = float(next(line for line in out if line.startswith("Requests/sec")).split()[1])

    def percentile(label: str) -> float:
        return _ms(next(line for line in out if line.strip().startswith(label)).split()[1])

    return {"rps": rps, "p50": percentile("50%"), "p99": percentile("99%"), "statuses": {}}


def _ms(value: str) -> float:
    """wrk's '812.00us', '5.79ms' or '1.02s' in milliseconds."""
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=None, help="web processes (default: leadflow web's)"
    )
    parser.add_argument(
        "--python-client", action="store_true", help="do not use wrk even if installed"
    )
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    rows = []
    for engine in args.engines.split(","):
        rows += bench_engine(engine.strip(), args)
    print(f"\n{'engine':<9} {'measurement':<48} {'ok/s':>7} {'p50 ms':>7} {'p99 ms':>7}  statuses")
    for engine, name, r in rows:
        print(
            f"{engine:<9} {name:<48} {r['rps']:>7.0f} {r['p50']:>7.1f} {r['p99']:>7.1f}  {r['statuses']}"
        )


if __name__ == "__main__":
    main()
