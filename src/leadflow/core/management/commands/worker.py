from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a background task worker (Django tasks, database backend)."

    def handle(self, *args, **options):
        call_command("db_worker", "--queue-name", "*", "--no-reload")
