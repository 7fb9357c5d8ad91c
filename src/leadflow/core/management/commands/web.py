import os
import sys

from django.core.management.base import BaseCommand
from django.db import connection


def default_workers() -> int:
    """Two processes on PostgreSQL; one (with threads) on SQLite, whose single writer makes
    a second process wait in SQLite's sleeping busy handler (bench/intake.py)."""
    if os.environ.get("WEB_WORKERS"):
        return int(os.environ["WEB_WORKERS"])
    return 1 if connection.vendor == "sqlite" else 2


class Command(BaseCommand):
    help = "Run the web server (gunicorn, WSGI) for the UI and the API."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("LEADFLOW_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=None, help="default: see WEB_WORKERS")
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))

    def handle(self, *args, bind, workers, threads, **options):
        workers = workers or default_workers()
        argv = [sys.executable, "-m", "gunicorn", "leadflow.wsgi:application"]
        argv += ["--bind", bind, "--workers", str(workers), "--threads", str(threads)]
        argv += ["--access-logfile", "-", "--graceful-timeout", "5"]
        os.execv(sys.executable, argv)
