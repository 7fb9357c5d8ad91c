"""Bulk import (R1.7): a file's rows through the same intake rules as the form and the API.

Every row is cleaned by `clean_submission`, screened and graded by `services._apply`,
checked for duplicates by `dedup.pick` and numbered by `numbering.reserve_many` — the
functions `submit_lead` uses — but a batch at a time: one candidate query per batch, one
number reservation per channel-day, bulk inserts.

Every row ends in exactly one of the outcome counts (`OUTCOMES`); a rejected row is kept as
an `ImportIssue` with its row number, column and reason, for the error workbook.

Runs are resumable: each batch commits its leads, its issues, the running counts and the new
`rows_done` in one transaction, so a run killed half-way continues from the last committed
batch and ends exactly as an uninterrupted run would. Importing the same rows again creates
nothing: each row that made a lead or a touch leaves its fingerprint (`ImportedRow`).
"""

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from leadflow.core import bulk
from leadflow.core.audit import record_changes, snapshot
from leadflow.core.lookups import select_among
from leadflow.leads.models import (
    OPEN_STATUSES,
    Channel,
    Grade,
    Lead,
    LeadTouch,
    StageChange,
    Status,
    reached,
)
from leadflow.leads.numbering import format_number, reserve_many
from leadflow.leads.pipeline import path
from leadflow.leads.queries import visible_leads
from leadflow.leads.services import STAGE_CHANGE_COLUMNS, blank_lead, last_change_at

from .columns import BY_NAME, HISTORY, KEYS, suggest
from .dedup import (
    block_of,
    candidates_for_batch,
    lock_all_intake,
    near_identical_among,
    pick,
    recency,
)
from .models import ImportedRow, ImportIssue, ImportJob, ImportMapping, ImportMode, MatchOn
from .normalize import company_key, excel_serial, fold_text, has_nul
from .services import (
    _apply,
    _entry_status,
    _jsonable,
    _link,
    _local_day,
    _usable_phone,
    submission_of,
    update_lead_details,
)
from .tabular import Table, cell_text, read_table
from .validation import (
    FieldError,
    IntakeError,
    clean_datetime,
    clean_number,
    clean_submission,
    field_error,
)

log = logging.getLogger("leadflow.import")

BATCH = 1000
KEPT_UNLESS_GIVEN = (
    "verified_by_id",
    "verified_at",
    "owner_id",
    "team_id",
    "grade",
    "grade_rule",
    "grade_reason",
    "first_contact_at",
    "last_contact_at",
    "won_at",
    "won_amount",
    "invalid_reason",
)
ISSUE_COLUMNS = ["job_id", "row", "column", "field", "code", "message", "cells"]
OUTCOMES = ("created", "screened_out", "duplicates", "updated", "unchanged", "rejected")

STATUS_WORDS = {
    **{s.value: s.value for s in Status},
    **{str(s.label): s.value for s in Status},
    "新线索": Status.UNASSIGNED,
    "new": Status.UNASSIGNED,
    "open": Status.UNASSIGNED,
    "跟进中": Status.CONTACTING,
    "已联系": Status.CONTACTING,
    "contacted": Status.CONTACTING,
    "working": Status.CONTACTING,
    "qualified": Status.QUALIFIED,
    "proposal": Status.EVALUATING,
    "negotiation": Status.NEGOTIATING,
    "赢单": Status.WON,
    "已成交": Status.WON,
    "签约": Status.WON,
    "closed won": Status.WON,
    "丢单": Status.INVALID,
    "输单": Status.INVALID,
    "流失": Status.INVALID,
    "lost": Status.INVALID,
    "closed lost": Status.INVALID,
    "unqualified": Status.INVALID,
}
GRADE_WORDS = {
    **{g.value.lower(): g.value for g in Grade},
    "高": "A",
    "中": "B",
    "低": "C",
    "无效": "D",
    "high": "A",
    "hot": "A",
    "medium": "B",
    "warm": "B",
    "low": "C",
    "cold": "C",
}

MESSAGES = {
    "unknown_status": _("未知的状态：%(value)s"),
    "unknown_owner": _("系统中没有这个负责人：%(value)s"),
    "unknown_grade": _("未知的等级：%(value)s（应为 A、B、C 或 D）"),
    "won_date_required": _("成交的线索需要成交时间"),
    "not_found": _("没有找到要更新的线索：%(value)s"),
    "key_required": _("更新需要“%(field)s”列"),
    "external_id_taken": _("外部编号已被线索 %(value)s 使用"),
    "repeated_key": _("文件中第 %(row)s 行已有相同的编号"),
    "status_not_allowed": _("不能从“%(from)s”变更为“%(to)s”"),
}


def _error(name: str, code: str, **params: Any) -> FieldError:
    message = MESSAGES.get(code)
    if message is None:
        return field_error(name, code, **params)
    return FieldError(name, code, str(message % params) if params else str(message))


@dataclass
class History:
    """A migrated lead's state, from the history columns of a row."""

    status: str = ""
    owner: Any = None
    owner_name: str = ""
    grade: str = ""
    first_contact_at: datetime | None = None
    won_at: datetime | None = None
    won_amount: Decimal | None = None
    invalid_reason: str = ""
    status_at: datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.status)


@dataclass
class Row:
    number: int
    cells: list[Any]
    data: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""


class Plan:
    """A job's confirmed mapping: which column feeds which field, fixed values, value maps."""

    def __init__(self, job: ImportJob) -> None:
        self.headers = list(job.headers)
        position = {header: i for i, header in enumerate(self.headers)}
        self.index = {
            name: position[header]
            for header, name in job.columns.items()
            if name in BY_NAME and header in position
        }
        self.column_of = {name: self.headers[i] for name, i in self.index.items()}
        self.defaults = {k: v for k, v in job.defaults.items() if k in BY_NAME and v != ""}
        self.values = {
            name: {str(k).strip().lower(): v for k, v in mapping.items()}
            for name, mapping in job.values.items()
        }
        self.default_channel = job.channel.code

    def read(self, cells: list[Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, i in self.index.items():
            value = _typed(cells[i], BY_NAME[name].kind)
            if isinstance(value, str) and name in self.values:
                value = self.values[name].get(value.strip().lower(), value)
            if value not in (None, ""):
                data[name] = value
        for name, value in self.defaults.items():
            data.setdefault(name, value)
        data.setdefault("channel", self.default_channel)
        return data


def _typed(cell: Any, kind: str) -> Any:
    """A cell for its field: Excel serials in date columns become datetimes, numbers in
    number columns stay numbers, everything else is text (placeholders → None)."""
    if (
        kind in ("datetime", "date")
        and isinstance(cell, int | float)
        and not isinstance(cell, bool)
    ):
        return excel_serial(float(cell)) or cell_text(cell)
    if kind in ("datetime", "date") and isinstance(cell, datetime | date):
        return cell
    if kind == "number" and isinstance(cell, int | float) and not isinstance(cell, bool):
        return None if cell != cell else Decimal(str(cell))
    return cell_text(cell)


def fingerprint(channel_id: int, data: dict[str, Any]) -> str:
    payload = json.dumps([channel_id, sorted((k, str(v)) for k, v in data.items())])
    return hashlib.sha256(payload.encode()).hexdigest()


class Importer:
    """Runs one job's rows; `write=False` is the dry run (same decisions, nothing saved)."""

    def __init__(self, job: ImportJob, *, now: datetime, write: bool = True) -> None:
        self.job, self.now, self.write = job, now, write
        self.by = job.created_by
        self.plan = Plan(job)
        self.require_contact = not job.allow_no_contact
        self.counts: Counter[str] = Counter({k: 0 for k in OUTCOMES})
        self.outcomes: dict[int, str] | None = None  # row → outcome, when asked (preview)
        self.issues: list[tuple] = []
        self._owners: dict[str, Any] = {}
        # leads created earlier in this run, for the duplicate check within the file
        # leads made earlier in this file: the Lead while its batch is open, then only
        # (id, number, status) — a 100,000-row file must not keep 100,000 model instances
        self._fresh: dict[int, Lead | tuple[int, str, str]] = {}
        self._fresh_index = _CandidateIndex()
        self._seen_fingerprints: set[str] = set()
        self._seen_keys: dict[str, int] = {}

    # --- the run -----------------------------------------------------------------------

    def run(
        self,
        rows: list[tuple[int, list[Any]]],
        *,
        start: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> Counter[str]:
        for begin in range(start, len(rows), BATCH):
            batch = [Row(number, cells) for number, cells in rows[begin : begin + BATCH]]
            if self.write:
                self._commit_batch(batch, done=begin + len(batch))
            else:
                self._process(batch)
            if progress:
                progress(begin + len(batch))
        return self.counts

    @transaction.atomic
    def _commit_batch(self, batch: list[Row], *, done: int) -> None:
        lock_all_intake()
        job = ImportJob.objects.select_for_update().defer("content").get(pk=self.job.pk)
        if job.rows_done != done - len(batch):
            raise Overtaken(f"import #{job.pk} advanced elsewhere to row {job.rows_done}")
        self.counts = Counter(job.counts) or self.counts
        self._process(batch)
        bulk.insert(ImportIssue, ISSUE_COLUMNS, self.issues)
        self.issues = []
        job.rows_done, job.counts = done, dict(self.counts)
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["rows_done", "counts", "heartbeat_at"])
        self.job.rows_done, self.job.counts = done, job.counts

    def _process(self, batch: list[Row]) -> None:
        keyed = self.job.mode != ImportMode.CREATE
        key_field = self.job.match_on
        for row in batch:
            row.data = self.plan.read(row.cells)
            row.fingerprint = fingerprint(self.job.channel_id, row.data)
        existing = self._existing(batch, key_field) if keyed else {}
        creates: list[tuple[Row, Any, History]] = []
        for row in batch:
            key = str(row.data.get(key_field, "")).strip()
            if keyed and key and key in existing:
                self._update(row, existing[key])
            elif self.job.mode == ImportMode.UPDATE:
                code = "not_found" if key else "key_required"
                self._reject(
                    row,
                    _error(key_field, code, value=key, field=str(BY_NAME[key_field].label)),
                )
            else:
                cleaned = self._clean(row)
                if cleaned is not None:
                    creates.append((row, *cleaned))
        if creates:
            self._create(creates)

    # --- cleaning --------------------------------------------------------------------------

    def _clean(self, row: Row) -> tuple[Any, History] | None:
        errors: list[FieldError] = []
        try:
            sub = clean_submission(row.data, now=self.now, require_contact=self.require_contact)
        except IntakeError as exc:
            sub, errors = None, list(exc.errors)
        history = self._history(row.data, errors)
        external_id = self._external_id(row, errors)
        if errors:
            self._reject(row, *errors)
            return None
        if external_id:
            self._seen_keys[external_id] = row.number
        return sub, history

    def _external_id(self, row: Row, errors: list[FieldError]) -> str:
        value = str(row.data.get("external_id", "")).strip()
        if not value:
            return ""
        if has_nul(value) or len(value) > 100:
            errors.append(field_error("external_id", "too_long", limit=100))
        elif value in self._seen_keys:
            errors.append(_error("external_id", "repeated_key", row=self._seen_keys[value]))
        return value

    def _history(self, data: dict[str, Any], errors: list[FieldError]) -> History:
        if not any(name in data for name in HISTORY):
            return History()
        history = History(
            first_contact_at=clean_datetime(
                data.get("first_contact_at"), "first_contact_at", self.now, errors
            ),
            won_at=clean_datetime(data.get("won_at"), "won_at", self.now, errors),
            status_at=clean_datetime(data.get("status_at"), "status_at", self.now, errors),
            won_amount=clean_number(data.get("won_amount"), "won_amount", errors),
            invalid_reason=fold_text(str(data.get("invalid_reason", "")))[:200],
        )
        raw = str(data.get("status", "")).strip()
        if raw:
            status = STATUS_WORDS.get(raw) or STATUS_WORDS.get(raw.lower())
            if status is None:
                errors.append(_error("status", "unknown_status", value=raw))
            history.status = status or ""
        raw_grade = str(data.get("grade", "")).strip()
        if raw_grade:
            history.grade = GRADE_WORDS.get(raw_grade.lower(), "")
            if not history.grade:
                errors.append(_error("grade", "unknown_grade", value=raw_grade))
        owner = str(data.get("owner", "")).strip()
        if owner:
            history.owner_name = owner
            history.owner = self._owner(owner)
            if history.owner is None:
                errors.append(_error("owner", "unknown_owner", value=owner))
        if not history.status:  # implied by the columns that are filled
            if history.won_at:
                history.status = Status.WON
            elif data.get("invalid_reason"):
                history.status = Status.INVALID
            elif history.first_contact_at:
                history.status = Status.CONTACTING
            elif owner:
                history.status = Status.ASSIGNED
        if history.status == Status.WON and not (history.won_at or history.status_at):
            errors.append(_error("won_at", "won_date_required"))
        return history

    def _owner(self, name: str):
        if name not in self._owners:
            users = get_user_model().objects
            owner = users.filter(username=name).first() or users.filter(display_name=name).first()
            if owner is None and self.job.create_missing_owners:
                owner = self._placeholder_owner(name)
            self._owners[name] = owner
        return self._owners[name]

    def _placeholder_owner(self, name: str):
        """A migrated lead's former owner who has no account: kept as an inactive user."""
        if not self.write:
            return get_user_model()(username=name[:150], display_name=name[:60], is_active=False)
        username = (slugify(name) or "owner")[:120]
        users = get_user_model().objects
        if users.filter(username=username).exists():
            username = f"{username}-{get_random_string(6).lower()}"
        return users.create(
            username=username, display_name=name[:60], is_active=False, password="!"
        )

    # --- new leads ---------------------------------------------------------------------------

    def _create(self, creates: list[tuple[Row, Any, History]]) -> None:
        prints = [row.fingerprint for row, _sub, _h in creates]
        done_before = set()
        for fp, job_id in select_among(
            ImportedRow._meta.db_table, "fingerprint, job_id", "fingerprint", prints
        ):
            # a row of this very job, committed before a restart, is an in-file repeat
            (self._seen_fingerprints if job_id == self.job.pk else done_before).add(fp)
        fresh_creates = []
        for row, sub, history in creates:
            if row.fingerprint in done_before:
                self._count(row, "unchanged")
            else:
                fresh_creates.append((row, sub, history, company_key(sub.company_name)))
        taken = self._taken_external_ids(fresh_creates)
        rows = candidates_for_batch(
            {_usable_phone(sub) for _r, sub, _h, _k in fresh_creates},
            {sub.email for _r, sub, _h, _k in fresh_creates},
            {key for _r, _s, _h, key in fresh_creates},
        )
        found_in_db = _CandidateIndex()  # this batch's candidates in the database
        for row in rows:
            found_in_db.add(row)
        in_db = {row[0]: row for row in rows}
        fresh = self._fresh_index  # the leads made earlier in this file
        leads: list[Lead] = []
        touches: list[tuple] = []  # (lead, channel id, matched on, submitted)
        made: list[tuple[int, Lead]] = []
        prints_made: list[tuple[str, Lead]] = []
        for row, sub, history, key in fresh_creates:
            external_id = str(row.data.get("external_id", "")).strip()
            if external_id and external_id in taken:
                self._reject(
                    row, _error("external_id", "external_id_taken", value=taken[external_id])
                )
                continue
            phone = _usable_phone(sub)
            found = pick(
                _relevant((found_in_db, fresh), phone, sub.email, key, sub.customer_type),
                phone_e164=phone,
                email=sub.email,
                company_key=key,
                customer_type=sub.customer_type,
            )
            match = self._match(found, in_db)
            if match is not None and match.open and not history:
                touches.append((match.lead, sub.channel.pk, match.matched_on, _jsonable(row.data)))
                self._remember_print(row, match.lead, prints_made)
                self._count(row, "duplicates")
                continue
            lead = self._new_lead()
            lead.channel = sub.channel
            _apply(lead, sub, key)
            _link(lead, match)
            lead.external_id = external_id
            lead.status = _entry_status(lead)
            if history:
                self._apply_history(lead, history)
            leads.append(lead)
            self._remember_print(row, lead, prints_made)
            self._count(row, "screened_out" if lead.status == Status.SCREENED_OUT else "created")
            fresh_id = -(len(self._fresh) + 1)
            self._fresh[fresh_id] = lead
            made.append((fresh_id, lead))
            fresh.add(_row_of(fresh_id, lead))
        if self.write:
            self._save(leads, touches, prints_made)
            for fresh_id, lead in made:
                self._fresh[fresh_id] = (lead.pk, lead.number, lead.status)

    def _new_lead(self) -> Lead:
        return blank_lead(created_by_id=self.by.pk, created_at=self.now, updated_at=self.now)

    def _remember_print(self, row: Row, lead: Lead, made: list[tuple[str, Lead]]) -> None:
        if row.fingerprint not in self._seen_fingerprints:
            self._seen_fingerprints.add(row.fingerprint)
            made.append((row.fingerprint, lead))

    def _taken_external_ids(self, creates: list[tuple]) -> dict[str, str]:
        ids = {str(r.data.get("external_id", "")).strip() for r, *_ in creates} - {""}
        if not ids:
            return {}
        return dict(Lead.objects.filter(external_id__in=ids).values_list("external_id", "number"))

    def _match(self, found: tuple[int, str, bool] | None, in_db: dict[int, tuple]):
        """The lead `pick` found, as far as a touch or a link needs it (id, number, status):
        a lead made earlier in this file, or one of the batch's candidate rows."""
        if found is None:
            return None
        pk, on, is_open = found
        lead = self._fresh.get(pk)
        if isinstance(lead, tuple):
            lead = blank_lead(id=lead[0], number=lead[1], status=lead[2])
        elif lead is None:
            row = in_db[pk]
            lead = blank_lead(id=pk, number=row[7], status=row[1])
        return _Match(lead, on, is_open)

    def _apply_history(self, lead: Lead, history: History) -> None:
        lead.status = history.status
        lead.owner = history.owner
        if history.owner is not None:
            lead.team_id = history.owner.team_id
        if history.grade:
            lead.grade, lead.grade_rule = history.grade, "imported"
            lead.grade_reason = _("导入时沿用原系统的等级")
        lead.first_contact_at = history.first_contact_at
        lead.last_contact_at = history.first_contact_at
        lead.won_at = history.won_at or (
            history.status_at if history.status == Status.WON else None
        )
        lead.won_amount = history.won_amount
        if history.status == Status.INVALID:
            lead.invalid_reason = history.invalid_reason or _("导入时未注明")
        if history.status not in (Status.PENDING_REVIEW, Status.RETURNED, Status.SCREENED_OUT):
            lead.verified_by, lead.verified_at = self.by, self.now
        lead._history = history  # for the StageChanges, written after the insert

    def _save(self, leads: list[Lead], touches: list[tuple], prints) -> None:
        by_day: dict[tuple[Channel, date], list[Lead]] = defaultdict(list)
        for lead in leads:
            by_day[(lead.channel.root, _local_day(lead.acquired_at))].append(lead)
        for start in range(0, len(by_day), 300):  # keeps each statement's parameters few
            part = dict(list(by_day.items())[start : start + 300])
            last = reserve_many({key: len(group) for key, group in part.items()})
            for (root, day), group in part.items():
                first = last[(root.pk, day)] - len(group) + 1
                for serial, lead in enumerate(group, start=first):
                    lead.number = format_number(root.code, day, serial)
        steps = {}  # id(lead) → its StageChanges: entry alone, or the file's history
        for lead in leads:
            history = getattr(lead, "_history", None)
            if history is None:
                steps[id(lead)] = [("", lead.status, self.now, {})]
            else:
                steps[id(lead)] = history_steps("", lead, history, self.job.pk)
            lead.furthest = reached(0, *(to for _src, to, _at, _e in steps[id(lead)]))
        columns = bulk.columns_of(Lead)
        bulk.insert(Lead, columns, bulk.rows_of(leads, columns))
        self._fetch_ids(leads)
        by, reason = self.by.pk, f"import #{self.job.pk}"
        changes = [
            (lead.pk, src, to, at, entered, by, reason, evidence)
            for lead in leads
            for (src, to, at, evidence), entered in _entered(steps[id(lead)], None)
        ]
        bulk.insert(StageChange, STAGE_CHANGE_COLUMNS, changes)
        bulk.insert(
            LeadTouch,
            ["lead_id", "channel_id", "at", "by_id", "matched_on", "source", "submitted"],
            [
                (lead.pk, channel, self.now, by, on, "import", submitted)
                for lead, channel, on, submitted in touches
            ],
        )
        bulk.insert(
            ImportedRow,
            ["fingerprint", "lead_id", "job_id"],
            [(fp, lead.pk, self.job.pk) for fp, lead in prints],
        )

    @staticmethod
    def _fetch_ids(leads: list[Lead]) -> None:
        by_number = {lead.number: lead for lead in leads}
        for number, pk in select_among(Lead._meta.db_table, "number, id", "number", [*by_number]):
            by_number[number].pk = pk
            by_number[number]._state.adding = False

    # --- updates -----------------------------------------------------------------------------

    def _existing(self, batch: list[Row], key_field: str) -> dict[str, Lead]:
        keys = {str(r.data.get(key_field, "")).strip() for r in batch} - {""}
        if not keys:
            return {}
        found = visible_leads(self.by).select_related("channel", "channel__parent", "industry")
        found = found.filter(**{f"{key_field}__in": keys})
        return {getattr(lead, key_field): lead for lead in found}

    def _update(self, row: Row, lead: Lead) -> None:
        errors: list[FieldError] = []
        history = self._history(row.data, errors)
        if errors:
            self._reject(row, *errors)
            return
        given = {k: v for k, v in row.data.items() if k not in HISTORY and k not in KEYS}
        if "channel" not in self.plan.index and "channel" not in self.plan.defaults:
            given.pop("channel", None)  # the job's channel is for new leads, not a move
        try:
            if self.write:
                with transaction.atomic():
                    changed = self._write_update(lead, given, history)
            else:
                clean_submission(
                    {**submission_of(lead), **given},
                    now=self.now,
                    require_contact=self.require_contact,
                )
                changed = bool(given) or bool(history)
        except IntakeError as exc:
            self._reject(row, *exc.errors)
            return
        except _NotAllowed as exc:
            self._reject(row, exc.error)
            return
        self._count(row, "updated" if changed else "unchanged")

    def _write_update(self, lead: Lead, given: dict[str, Any], history: History) -> bool:
        changed = False
        if given:
            current = submission_of(lead)
            merged = {**current, **given}
            if any(str(merged[k]) != str(current.get(k)) for k in given):
                lead = update_lead_details(
                    lead=lead,
                    data=merged,
                    by=self.by,
                    now=self.now,
                    reason=f"import #{self.job.pk}",
                    require_contact=self.require_contact,
                )
                changed = True
        if history:
            changed = self._update_history(lead, history) or changed
        return changed

    def _update_history(self, lead: Lead, history: History) -> bool:
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        fields = [
            "owner",
            "team",
            "grade",
            "grade_rule",
            "grade_reason",
            "first_contact_at",
            "last_contact_at",
            "won_at",
            "won_amount",
            "invalid_reason",
            "verified_by",
            "verified_at",
            "status",
        ]
        before = snapshot(lead, fields)
        start = lead.status
        try:
            steps = history_steps(start, lead, history, self.job.pk)
        except ValueError:
            raise _NotAllowed(
                _error(
                    "status",
                    "status_not_allowed",
                    **{"from": Status(start).label, "to": Status(history.status).label},
                )
            ) from None
        # what the file does not say stays as it was (raw values: `before` is JSON-ready)
        kept = {name: getattr(lead, name) for name in KEPT_UNLESS_GIVEN}
        self._apply_history(lead, history)
        if kept["verified_at"]:
            lead.verified_by_id, lead.verified_at = kept["verified_by_id"], kept["verified_at"]
        if history.owner is None:
            lead.owner_id, lead.team_id = kept["owner_id"], kept["team_id"]
        if not history.grade:
            lead.grade, lead.grade_rule = kept["grade"], kept["grade_rule"]
            lead.grade_reason = kept["grade_reason"]
        for name in ("first_contact_at", "last_contact_at", "won_at", "won_amount"):
            if getattr(lead, name) is None:
                setattr(lead, name, kept[name])
        lead.invalid_reason = lead.invalid_reason or kept["invalid_reason"]
        changes = record_changes(
            instance=lead, before=before, by=self.by, at=self.now, reason=f"import #{self.job.pk}"
        )
        if not changes and not steps:
            return False
        lead.updated_at = self.now
        lead.furthest = reached(lead.furthest, *(to for _src, to, _at, _e in steps))
        lead.save()
        bulk.insert(
            StageChange,
            STAGE_CHANGE_COLUMNS,
            [
                (lead.pk, src, to, at, entered, self.by.pk, f"import #{self.job.pk}", evidence)
                for (src, to, at, evidence), entered in _entered(steps, last_change_at(lead.pk))
            ],
        )
        return True

    # --- rejects -------------------------------------------------------------------------------

    def _count(self, row: Row, outcome: str) -> None:
        self.counts[outcome] += 1
        if self.outcomes is not None:
            self.outcomes[row.number] = outcome

    def _reject(self, row: Row, *errors: FieldError) -> None:
        self._count(row, "rejected")
        # kept as in the file; a NUL (which PostgreSQL cannot store) shows as ␀
        cells = [(cell_text(c) or "").replace("\x00", "\u2400") for c in row.cells]
        for error in errors:
            column = self.plan.column_of.get(error.field, "")
            self.issues.append(
                (self.job.pk, row.number, column, error.field, error.code, error.message[:500],
                 cells)
            )  # fmt: skip


class Overtaken(Exception):
    """Another runner of the same job committed this batch first: this one stops."""


class _NotAllowed(Exception):
    def __init__(self, error: FieldError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class _Match:
    lead: Lead
    matched_on: str
    open: bool


def _row_of(pk: int, lead: Lead) -> tuple:
    """A lead in `dedup.pick`'s candidate-row shape."""
    return (
        pk,
        lead.status,
        lead.phone_e164,
        lead.email,
        lead.company_key,
        lead.customer_type,
        lead.acquired_at,
        lead.number,
    )


class _CandidateIndex:
    """Candidate rows by phone, email, key and block, so each row looks only at the few that
    concern it (what `dedup._candidates` asks the database for one intake)."""

    def __init__(self) -> None:
        self.known: set[int] = set()
        self.by_phone: dict[str, list] = defaultdict(list)
        self.by_email: dict[str, list] = defaultdict(list)
        self.by_key: dict[str, list] = defaultdict(list)
        self.by_block: dict[str, list] = defaultdict(list)
        self.block_keys: dict[str, list[str]] = defaultdict(list)

    def add(self, row: tuple) -> None:
        pk, status, phone, email, key, kind, *_ = row
        if pk in self.known:
            return
        self.known.add(pk)
        if phone:
            self.by_phone[phone].append(row)
        if email:
            self.by_email[email].append(row)
        if key:
            self.by_key[key].append(row)
            if status in OPEN_STATUSES and kind != "individual":
                self.by_block[block_of(key)].append(row)
                self.block_keys[block_of(key)].append(key)

    def relevant(self, phone: str, email: str, key: str, customer_type: str) -> dict[int, tuple]:
        found: dict[int, tuple] = {}
        for row in self.by_phone.get(phone, ()) if phone else ():
            found[row[0]] = row
        for row in self.by_email.get(email, ()) if email else ():
            found[row[0]] = row
        if key and customer_type != "individual":
            for row in self.by_key.get(key, ()):
                found[row[0]] = row
            block = block_of(key)
            if block in self.by_block:
                for i in near_identical_among(key, self.block_keys[block]):
                    row = self.by_block[block][i]
                    found.setdefault(row[0], row)
        return found


def _relevant(indexes, phone: str, email: str, key: str, customer_type: str) -> list[tuple]:
    """The candidates that concern one row, most recent first, as `dedup.pick` expects."""
    found: dict[int, tuple] = {}
    for index in indexes:
        found.update(index.relevant(phone, email, key, customer_type))
    return sorted(found.values(), key=recency, reverse=True)


def _entered(steps: list[tuple], before: datetime | None):
    """Each step with the time the lead entered the status it leaves: the step before's."""
    for step in steps:
        yield step, before
        before = step[2]


def history_steps(start: str, lead: Lead, history: History, job_id: int) -> list[tuple]:
    """The StageChanges that bring `lead` from `start` to the file's status, dated as in the
    file: entry at the acquisition time, 初步接触 at the first contact, the final status at
    its own date (成交 at the won date). A step the file gives no date for takes the date of
    the next dated one and is marked `inferred`."""
    final = history.status
    final_at = history.status_at or (history.won_at if final == Status.WON else None)
    final_at = final_at or history.first_contact_at or lead.acquired_at
    moves = path(start, final)
    if (
        history.first_contact_at
        and final in (Status.INVALID, Status.POOL)
        and start in ("", Status.UNASSIGNED, Status.ASSIGNED, Status.PENDING_REVIEW)
    ):
        moves = path(start, Status.CONTACTING) + path(Status.CONTACTING, final)
    steps = []
    for src, to in moves:
        if src == "":
            at, inferred = lead.acquired_at, False
        elif to == Status.CONTACTING and history.first_contact_at:
            at, inferred = history.first_contact_at, False
        elif to == final:
            at, inferred = final_at, False
        elif to == Status.ASSIGNED and not start:
            at, inferred = lead.acquired_at, True
        else:
            at, inferred = final_at, True
        evidence = {"import": job_id, **({"inferred": True} if inferred else {})}
        if to == Status.WON and history.won_amount is not None:
            evidence["won_amount"] = str(history.won_amount)
        steps.append((src, to, at, evidence))
    return steps


# --- jobs ------------------------------------------------------------------------------------


def create_job(*, content: bytes, file_name: str, channel, by, now: datetime) -> ImportJob:
    """Read the file once (refusing what cannot be read) and keep it with a suggested
    mapping — the channel's saved mapping when one fits the headers."""
    table = read_table(content, file_name)
    saved = _saved_mapping(channel, table.headers)
    job = ImportJob(
        file_name=file_name[:255],
        file_format=table.file_format,
        file_sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        sheet=table.sheet,
        headers=table.headers,
        total_rows=len(table.rows),
        channel=channel,
        created_by=by,
        created_at=now,
    )
    if saved is not None:
        job.mapping = saved
        job.take_settings(saved.settings())
    else:
        job.columns = suggest(table.headers)
        if "external_id" in job.columns.values() and "number" not in job.columns.values():
            job.match_on = MatchOn.EXTERNAL_ID
    job.save()
    job._table = table  # what this process read, for a run that follows in it (the command)
    return job


def _saved_mapping(channel, headers: list[str]):
    """The channel's most recently used mapping whose columns are all in this file."""
    present = set(headers)
    for mapping in channel.import_mappings.order_by("-updated_at"):
        if mapping.columns and set(mapping.columns) <= present:
            return mapping
    return None


def table_of(job: ImportJob) -> Table:
    table = getattr(job, "_table", None)
    return table if table is not None else read_table(bytes(job.content), job.file_name)


def dry_run(job: ImportJob, *, now: datetime) -> dict[str, int]:
    """Every decision of a real run, nothing saved: the counts a run would give."""
    importer = Importer(job, now=now, write=False)
    counts = importer.run(table_of(job).rows)
    job.dry_run = dict(counts)
    job.save(update_fields=["dry_run"])
    return job.dry_run


def run_job(
    job: ImportJob, *, now: datetime | None = None, progress: Callable[[int], None] | None = None
) -> ImportJob:
    """Run (or resume) a job to the end. Safe to call again after a crash: it continues
    from the last committed batch."""
    now = now or timezone.now()
    claimed = ImportJob.objects.filter(
        pk=job.pk,
        state__in=[ImportJob.State.READY, ImportJob.State.QUEUED, ImportJob.State.RUNNING],
    ).update(state=ImportJob.State.RUNNING, heartbeat_at=timezone.now())
    if not claimed:
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    if job.started_at is None:
        job.started_at = now
        job.save(update_fields=["started_at"])
    try:
        importer = Importer(job, now=job.started_at)
        importer.run(table_of(job).rows, start=job.rows_done, progress=progress)
    except Overtaken:
        log.warning("import #%s is run by another worker; this one stops", job.pk)
        job.refresh_from_db()
        return job
    except Exception as exc:
        log.exception("import #%s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED, error=str(exc)[:2000], heartbeat_at=timezone.now()
        )
        raise
    _settle_owners(job)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.DONE, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _settle_owners(job: ImportJob) -> None:
    """After the rows: owners written from history count in the reps' workloads, leads
    being worked get their follow-up clocks (R3.1), and new leads of a trusted channel
    (待分配) go to reps now, in one batch (R2.2)."""
    from leadflow.accounts.loads import recount
    from leadflow.assignment.services import assign_batch
    from leadflow.followups.services import plan_unclocked

    recount()
    now = timezone.now()
    plan_unclocked(Lead.objects.filter(updated_at__gte=job.started_at), now=now)
    created = Lead.objects.filter(
        status=Status.UNASSIGNED, created_at=job.started_at, created_by=job.created_by
    )
    assign_batch(created, now=now)


def save_mapping(job: ImportJob, name: str, *, now: datetime | None = None) -> ImportMapping:
    """Keep the job's mapping under `name` for its channel; the next file from the channel
    with these columns gets it without asking."""
    mapping, _created = ImportMapping.objects.update_or_create(
        channel=job.channel,
        name=name[:60],
        defaults={
            **job.settings(),
            "updated_at": now or timezone.now(),
            "updated_by": job.created_by,
        },
    )
    job.mapping = mapping
    job.save(update_fields=["mapping"])
    return mapping


PREVIEW_ROWS = 20


@dataclass
class PreviewRow:
    number: int
    cells: list[tuple[str, list[str]]]  # (text, problems of this cell)
    outcome: str
    problems: list[str]  # problems that belong to no mapped column


def preview(job: ImportJob, *, now: datetime) -> list[PreviewRow]:
    """The first rows as the run would treat them: each cell with its problems, each row
    with its outcome. Nothing is saved."""
    rows = table_of(job).rows[:PREVIEW_ROWS]
    importer = Importer(job, now=now, write=False)
    importer.outcomes = {}
    importer.run(rows)
    by_cell: dict[tuple[int, str], list[str]] = defaultdict(list)
    for _job, number, column, _field, _code, message, _cells in importer.issues:
        by_cell[(number, column)].append(message)
    result = []
    for number, cells in rows:
        texts = [cell_text(c) or "" for c in cells]
        result.append(
            PreviewRow(
                number=number,
                cells=[
                    (t, by_cell.get((number, h), []))
                    for t, h in zip(texts, job.headers, strict=True)
                ],
                outcome=importer.outcomes.get(number, ""),
                problems=by_cell.get((number, ""), []),
            )
        )
    return result


# Columns whose values name something in LeadFlow; a source system's own words for them
# (origin 'organic_search', stage 'Closed Won', owner 'u123') are translated value by value.
TRANSLATED = ("channel", "industry", "status", "grade", "customer_type", "province", "owner")
MAX_DISTINCT = 60


def value_maps(job: ImportJob, table) -> list[dict]:
    """For each mapped column of a TRANSLATED field: its distinct values (up to MAX_DISTINCT)
    with their current translation, for the mapping page."""
    position = {h: i for i, h in enumerate(job.headers)}
    result = []
    for header, name in job.columns.items():
        if name not in TRANSLATED or header not in position:
            continue
        i = position[header]
        seen: dict[str, None] = {}
        for _n, cells in table.rows:
            text = cell_text(cells[i])
            if text:
                seen.setdefault(text, None)
                if len(seen) >= MAX_DISTINCT:
                    break
        saved = job.values.get(name, {})
        result.append(
            {
                "index": i,
                "header": header,
                "label": str(BY_NAME[name].label),
                "values": [(k, raw, saved.get(raw, "")) for k, raw in enumerate(seen)],
            }
        )
    return result
