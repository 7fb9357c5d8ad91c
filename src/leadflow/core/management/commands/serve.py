"""`leadflow serve`: the whole system in one command — web (UI + API), a task worker and the
sweeper, as child processes that stop together."""

import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve LeadFlow: web server, task worker and sweeper together."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("LEADFLOW_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=None, help="web processes (see `web`)")

    def handle(self, *args, bind, workers, **options):
        call_command("migrate", interactive=False, verbosity=0)
        leadflow = [sys.executable, "-m", "leadflow"]
        web = [*leadflow, "web", "--bind", bind] + (["--workers", str(workers)] if workers else [])
        children = [
            subprocess.Popen(web),
            subprocess.Popen([*leadflow, "worker"]),
            subprocess.Popen([*leadflow, "sweep"]),
        ]
        self.stdout.write(f"LeadFlow at http://{bind}/  (web, worker, sweeper; Ctrl-C stops)")

        def stop(*_args, code: int = 0):
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            sys.exit(code)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        self.stderr.write("A LeadFlow process exited; stopping the others.")
        stop(code=1)
