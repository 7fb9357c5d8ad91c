from django.core.management.base import BaseCommand
from django.db.models import Count

from leadflow.leads.models import Lead


class Command(BaseCommand):
    help = "Load the demo organisation and about 2,000 leads (see leadflow/demo.py)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="only when there are no leads")
        parser.add_argument("--leads", type=int, default=2000)

    def handle(self, *args, if_empty, leads, **options):
        from leadflow import demo

        if if_empty and Lead.objects.exists():
            self.stdout.write("Leads exist already: demo data not loaded.")
        else:
            made = demo.build(leads=leads)
            self.stdout.write(
                f"Demo data: {made['created']} leads, {made['repeats']} repeat touches."
            )
            by_status = Lead.objects.values("status").annotate(n=Count("pk")).order_by("status")
            self.stdout.write(", ".join(f"{row['status']} {row['n']}" for row in by_status))
        self.stdout.write(f"\nDemo logins (password for all: {demo.PASSWORD}):")
        for username, name, role in demo.logins():
            self.stdout.write(f"  {username:<10} {role:<6} {name}")
