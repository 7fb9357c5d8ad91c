import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from leadflow.core.sweeps import run_due


class Command(BaseCommand):
    help = "Run the sweeper: due reminders, deadlines and housekeeping (see core/sweeps.py)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every sweep once and exit")
        parser.add_argument("--interval", type=float, default=15.0, help="seconds between passes")

    def handle(self, *args, once, interval, **options):
        last_run: dict = {}
        while True:
            close_old_connections()
            done = run_due(timezone.now(), last_run)
            for name, count in done.items():
                if count:
                    self.stdout.write(f"sweep {name}: {count}")
            if once:
                return
            time.sleep(interval)
