"""What the benchmarks share: a fresh database per engine, statistics and a checkpoint
before timing, and each phase run in a fresh process that prints one RESULT line."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "bench" / "var"
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


def database_env(engine: str, name: str) -> dict:
    """The environment of a child process on the benchmark database `name` as it is:
    PostgreSQL database `leadflow_bench_<name>` or `bench/var/<name>.sqlite3`."""
    VAR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, LEADFLOW_INSECURE_DEV="1", LEADFLOW_VAR_DIR=str(VAR))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src")])
    env["DJANGO_SETTINGS_MODULE"] = "leadflow.settings"
    if engine == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{VAR / f'{name}.sqlite3'}"
    else:
        env["DATABASE_URL"] = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/leadflow_bench_{name}"
    return env


def fresh_database(engine: str, name: str) -> dict:
    """`database_env` on a new, empty database (the old one dropped)."""
    env = database_env(engine, name)
    if engine == "sqlite":
        path = VAR / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return env
    import psycopg

    database = f"leadflow_bench_{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    return env


def settle() -> None:
    """Statistics up to date and the writes so far on disk, so that the timed phase does
    not pay for the seeding (PostgreSQL: VACUUM ANALYZE and CHECKPOINT; SQLite: ANALYZE and
    a WAL checkpoint)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            previous = connection.connection.autocommit
            connection.connection.autocommit = True
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
            connection.connection.autocommit = previous
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run(script: str, env: dict, *args: str) -> dict:
    """Run `script --child args` in a fresh process; its RESULT line, parsed."""
    out = subprocess.run(
        [sys.executable, script, "--child", *args], env=env, cwd=ROOT, capture_output=True,
        text=True,
    )  # fmt: skip
    if out.returncode:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-6000:])
        raise SystemExit("benchmark failed")
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[7:])
