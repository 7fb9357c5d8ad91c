"""`leadflow import FILE --channel CODE …`: the web import flow from the command line."""

import json
import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leadflow.intake.importing import OUTCOMES, create_job, dry_run, run_job, save_mapping
from leadflow.intake.models import ImportJob, ImportMode, MatchOn
from leadflow.intake.reports import write_error_workbook
from leadflow.intake.tabular import FileRejected
from leadflow.leads import catalog


class Command(BaseCommand):
    help = "Import leads from an .xlsx, .xls or .csv file (R1.7)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?")
        parser.add_argument("--channel", help="channel code for new leads (required with FILE)")
        parser.add_argument(
            "--resume", type=int, metavar="ID", help="continue an interrupted import"
        )
        parser.add_argument(
            "--mapping", help="a mapping saved for the channel, or a JSON file (docs/import.md)"
        )
        parser.add_argument("--mode", choices=ImportMode.values)
        parser.add_argument("--match-on", choices=MatchOn.values)
        parser.add_argument("--dry-run", action="store_true", help="count, write nothing")
        parser.add_argument("--user", help="who imports (default: the first administrator)")
        parser.add_argument("--report", help="where to write the error workbook (.xlsx)")
        parser.add_argument("--save-mapping", metavar="NAME", help="save the mapping used")

    def handle(self, *args, **opts):
        if opts["resume"]:
            job = ImportJob.objects.filter(pk=opts["resume"]).first()
            if job is None:
                raise CommandError(f"No import #{opts['resume']}")
            if job.state == ImportJob.State.DONE:
                raise CommandError(f"Import #{job.pk} is done already")
            ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
            self.stdout.write(f"Resuming import #{job.pk} at row {job.rows_done + 1}")
            self._run(job, opts)
            return
        if not opts["file"] or not opts["channel"]:
            raise CommandError("Give FILE and --channel CODE (or --resume ID)")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        channel = catalog.channel(opts["channel"])
        if channel is None:
            raise CommandError(f"Unknown channel code: {opts['channel']}")
        user = self._user(opts["user"])
        try:
            job = create_job(
                content=path.read_bytes(),
                file_name=path.name,
                channel=channel,
                by=user,
                now=timezone.now(),
            )
        except FileRejected as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from exc
        self._configure(job, opts)
        self.stdout.write(f"Import #{job.pk}: {job.total_rows} rows from {path.name}")
        for header, field in job.columns.items():
            self.stdout.write(f"  {header} → {field}")
        if opts["dry_run"]:
            counts = dry_run(job, now=timezone.now())
            self._counts("Dry run", counts)
            return
        job.state = ImportJob.State.READY
        job.save(update_fields=["state"])
        self._run(job, opts)

    def _run(self, job: ImportJob, opts) -> None:
        bar = _ProgressBar(job.total_rows, self.stderr)
        try:
            job = run_job(job, progress=bar.update)
        except KeyboardInterrupt:
            job.refresh_from_db()
            message = f"interrupted after row {job.rows_done}"
            ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.FAILED, error=message)
            raise CommandError(
                f"Import #{job.pk} {message}; what was committed is kept. "
                f"Continue with: leadflow import --resume {job.pk}"
            ) from None
        bar.done()
        self._counts("Result", job.counts)
        if job.counts.get("rejected"):
            report = Path(opts["report"] or f"import-{job.pk}-rejected.xlsx")
            with report.open("wb") as out:
                listed = write_error_workbook(job, out)
            self.stdout.write(f"Rejected rows ({listed}) with their reasons: {report}")

    def _user(self, username):
        users = get_user_model().objects.filter(is_active=True)
        user = (
            users.filter(username=username).first()
            if username
            else users.filter(is_superuser=True).order_by("pk").first()
        )
        if user is None:
            raise CommandError(f"No such active user: {username or '(an administrator)'}")
        if not user.has_perm("leads.add_lead"):
            raise CommandError(f"{user.username} may not enter leads")
        return user

    def _configure(self, job: ImportJob, opts) -> None:
        name = opts["mapping"]
        if name and name.endswith(".json"):
            try:
                spec = json.loads(Path(name).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read the mapping {name}: {exc}") from exc
            shapes = {"columns": dict, "defaults": dict, "values": dict}
            if not isinstance(spec, dict) or any(
                not isinstance(spec.get(key, {}), kind) for key, kind in shapes.items()
            ):
                raise CommandError(f"{name}: columns, defaults and values must be JSON objects")
            job.take_settings(spec)
        elif name:
            saved = job.channel.import_mappings.filter(name=name).first()
            if saved is None:
                raise CommandError(f"No mapping named {name!r} for channel {job.channel.code}")
            job.mapping = saved
            job.take_settings(saved.settings())
        missing = set(job.columns) - set(job.headers)
        if missing:
            raise CommandError(f"Columns not in the file: {', '.join(sorted(missing))}")
        job.mode = opts["mode"] or job.mode
        job.match_on = opts["match_on"] or job.match_on
        job.save()
        if opts["save_mapping"]:
            save_mapping(job, opts["save_mapping"])

    def _counts(self, title: str, counts: dict) -> None:
        parts = ", ".join(f"{k} {counts.get(k, 0)}" for k in OUTCOMES)
        self.stdout.write(f"{title}: {parts} (total {sum(counts.get(k, 0) for k in OUTCOMES)})")


class _ProgressBar:
    def __init__(self, total: int, out) -> None:
        self.total, self.out, self.started = max(total, 1), out, time.monotonic()
        self.tty = (hasattr(out, "isatty") and out.isatty()) or sys.stderr.isatty()

    def update(self, done: int) -> None:
        share = done / self.total
        rate = done / max(time.monotonic() - self.started, 1e-6)
        bar = "#" * int(30 * share) + "-" * (30 - int(30 * share))
        line = f"[{bar}] {share:4.0%} {done}/{self.total} rows, {rate:,.0f} rows/s"
        if self.tty:
            self.out.write("\r" + line, ending="")
            self.out.flush()
        else:
            self.out.write(line)

    def done(self) -> None:
        if self.tty:
            self.out.write("")
