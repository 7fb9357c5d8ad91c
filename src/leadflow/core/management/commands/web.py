import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server (gunicorn, WSGI) for the UI and the API."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("LEADFLOW_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))

    def handle(self, *args, bind, workers, **options):
        argv = [sys.executable, "-m", "gunicorn", "leadflow.wsgi:application"]
        argv += ["--bind", bind, "--workers", str(workers), "--threads", "4"]
        argv += ["--access-logfile", "-", "--graceful-timeout", "5"]
        os.execv(sys.executable, argv)
