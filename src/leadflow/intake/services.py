"""The one intake door (R1.2–R1.6, R1.8, R2.1): `submit_lead` and the verification steps.

The web form, the API and the importer all call `submit_lead`:
clean and normalise → duplicate check (a repeat of an open lead becomes a touch on it) →
screen → grade → number → save, with its first StageChange, in one transaction.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.assignment.services import assign_lead
from leadflow.core.audit import record_changes, snapshot
from leadflow.leads import catalog
from leadflow.leads.findings import FLAG, finding, has_reject
from leadflow.leads.grading import suggest_grade
from leadflow.leads.models import Lead, LeadTouch, Status
from leadflow.leads.pipeline import MERGEABLE, Evidence, TransitionError
from leadflow.leads.services import blank_lead, move_lead, save_new_lead

from .dedup import Match, block_of, find_duplicate
from .models import excluded_phrases
from .normalize import company_key
from .screening import ContactCheck, screen
from .validation import Submission, clean_submission


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    created: bool  # False: a repeat of an open lead, recorded as a touch on it
    match: Match | None


@transaction.atomic
def submit_lead(*, data: dict[str, Any], by, source: str, now: datetime) -> IntakeResult:
    """Take one lead in through the intake door. Raises IntakeError for bad input."""
    sub = clean_submission(data, now=now)
    key = company_key(sub.company_name)
    phone = _usable_phone(sub)
    match = find_duplicate(
        phone_e164=phone,
        email=sub.email,
        company_key=key,
        customer_type=sub.customer_type,
        lock=True,  # one customer's simultaneous intakes: one lead, the rest touches
    )
    if match and match.open:
        LeadTouch.objects.create(
            lead=match.lead,
            channel=sub.channel,
            at=now,
            by=by,
            matched_on=match.matched_on,
            source=source,
            submitted=_jsonable(data),
        )
        return IntakeResult(lead=match.lead, created=False, match=match)

    lead = blank_lead(created_by=by, created_at=now, updated_at=now, channel=sub.channel)
    _apply(lead, sub, key)
    _link(lead, match)  # a closed lead with the same contact: history, not a repeat
    lead.status = _entry_status(lead)
    save_new_lead(lead, day=_local_day(sub.acquired_at), by=by, at=now, reason=source)
    # creation is recorded by the row itself and its first StageChange; the audit trail
    # records what changes after
    if lead.status == Status.UNASSIGNED:  # a trusted channel: straight on to a rep
        assign_lead(lead=lead, now=now)
        lead.refresh_from_db()
    return IntakeResult(lead=lead, created=True, match=match)


@transaction.atomic
def approve_lead(*, lead: Lead, by, now: datetime, note: str = "") -> Lead:
    """Support confirms a lead is complete and correct (R1.8): it goes on to assignment."""
    lead = _locked(lead)
    if lead.status != Status.PENDING_REVIEW:  # 待分配 is also reached from 待确认 (a decline)
        raise TransitionError(
            "transition_not_allowed",
            _("只有待核对的线索可以核对通过（当前：%(s)s）") % {"s": lead.get_status_display()},
        )
    move_lead(lead=lead, to=Status.UNASSIGNED, by=by, at=now, evidence=Evidence(reason=note))
    _stamp_verified(lead, by, now)
    assign_lead(lead=lead, now=now)  # at once, not by a nightly job (R2.2)
    lead.refresh_from_db()
    return lead


@transaction.atomic
def return_lead(*, lead: Lead, by, now: datetime, reason: str) -> Lead:
    """Support sends a lead back to whoever entered it, saying what to fix (R1.8)."""
    lead = _locked(lead)
    move_lead(lead=lead, to=Status.RETURNED, by=by, at=now, evidence=Evidence(reason=reason))
    before = snapshot(lead, ["return_reason"])
    lead.return_reason = reason[:500]
    lead.save(update_fields=["return_reason"])
    record_changes(instance=lead, before=before, by=by, at=now, reason=reason)
    return lead


@transaction.atomic
def restore_lead(*, lead: Lead, by, now: datetime, reason: str) -> Lead:
    """Support overrides screening: a screened-out lead goes back to the queue with a reason."""
    lead = _locked(lead)
    move_lead(lead=lead, to=Status.PENDING_REVIEW, by=by, at=now, evidence=Evidence(reason=reason))
    return lead


FILLED_BY_MERGE = (
    "phone_e164",
    "email",
    "wechat",
    "employees",
    "annual_revenue",
    "budget_min",
    "budget_max",
    "purchase_by",
    "current_supplier",
)


class MergeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@transaction.atomic
def merge_lead(*, lead: Lead, into: Lead, by, now: datetime, reason: str) -> Lead:
    """Merge a duplicate found after intake into the lead it repeats (R1.5).

    The duplicate is closed as 无效 (reason: duplicate of …) and linked to `into`; it becomes
    a touch on `into`, its own touches move there, and fields `into` lacks are filled from it
    (each change audited). Returns `into`.
    """
    if lead.pk == into.pk:
        raise MergeError("merge_into_self", _("不能合并到自身"))
    # lock both rows in primary-key order, so two opposite merges cannot deadlock
    list(Lead.objects.select_for_update().filter(pk__in=[lead.pk, into.pk]).order_by("pk"))
    lead, into = _locked(lead), _locked(into)
    if lead.status not in MERGEABLE:
        raise MergeError("merge_too_late", _("只有尚未分配的线索可以合并"))
    if not into.is_open:
        raise MergeError("merge_into_closed", _("只能合并到仍在跟进的线索"))
    before = snapshot(into, list(FILLED_BY_MERGE))
    for name in FILLED_BY_MERGE:
        if getattr(into, name) in (None, "") and getattr(lead, name) not in (None, ""):
            setattr(into, name, getattr(lead, name))
    into.updated_at = now
    into.save()
    record_changes(instance=into, before=before, by=by, at=now, reason=f"merge {lead.number}")
    lead.touches.update(lead=into)
    LeadTouch.objects.create(
        lead=into,
        channel=lead.channel,
        at=lead.acquired_at,
        by=lead.created_by,
        matched_on="merge",
        source="merge",
        submitted={"number": lead.number, "company_name": lead.company_name},
    )
    note = f"{_('重复线索，已合并至')} {into.number}" + (f"：{reason}" if reason else "")
    move_lead(lead=lead, to=Status.INVALID, by=by, at=now, evidence=Evidence(reason=note))
    before = snapshot(lead, ["duplicate_of", "invalid_reason"])
    lead.duplicate_of, lead.invalid_reason = into, str(_("重复线索"))
    lead.save(update_fields=["duplicate_of", "invalid_reason"])
    record_changes(instance=lead, before=before, by=by, at=now, reason=note)
    return into


@transaction.atomic
def update_lead_details(
    *,
    lead: Lead,
    data: dict[str, Any],
    by,
    now: datetime,
    reason: str = "",
    require_contact: bool = True,
) -> Lead:
    """Correct a lead's intake fields: the same cleaning, screening and grading as at intake,
    every change in the audit trail. The number stays."""
    lead = _locked(lead)
    sub = clean_submission(data, now=now, require_contact=require_contact)
    before = snapshot(lead, EDITABLE)
    key = company_key(sub.company_name)
    lead.channel = sub.channel
    _apply(lead, sub, key)
    match = find_duplicate(
        phone_e164=lead.phone_e164,
        email=lead.email,
        company_key=key,
        customer_type=lead.customer_type,
        exclude_pk=lead.pk,
    )
    _link(lead, match)
    lead.updated_at = now
    lead.save()
    record_changes(instance=lead, before=before, by=by, at=now, reason=reason)
    return lead


@transaction.atomic
def resubmit_lead(*, lead: Lead, data: dict[str, Any], by, now: datetime) -> Lead:
    """The person who entered a returned lead fixes it and sends it back to the queue."""
    lead = update_lead_details(lead=lead, data=data, by=by, now=now, reason="resubmit")
    to = Status.SCREENED_OUT if has_reject(lead.screening) else Status.PENDING_REVIEW
    move_lead(lead=lead, to=to, by=by, at=now, evidence=Evidence(reason="resubmit"))
    return lead


EDITABLE = [
    "channel",
    "company_name",
    "contact_name",
    "phone_raw",
    "phone_e164",
    "email",
    "wechat",
    "industry",
    "need",
    "acquired_at",
    "province",
    "city",
    "region",
    "customer_type",
    "employees",
    "annual_revenue",
    "budget_min",
    "budget_max",
    "purchase_by",
    "current_supplier",
    "notes",
    "business_model",
    "decision_maker_role",
    "concerns",
    "personality",
    "consent_source",
    "consent_at",
    "grade",
    "grade_reason",
    "grade_rule",
    "screening",
    "company_key",
    "duplicate_of",
]


def submission_of(lead: Lead) -> dict[str, Any]:
    """A saved lead as the submission that would make it again (for edits and imports)."""
    data = {
        "channel": lead.channel.code,
        "industry": lead.industry.name,
        "province": lead.province.name if lead.province_id else "",
        "phone": lead.phone_raw or lead.phone_e164,
        "email": lead.email or _raw_email(lead),
        "acquired_at": lead.acquired_at,
    }
    for name in SUBMITTED_AS_IS:
        value = getattr(lead, name)
        data[name] = "" if value is None else value
    return data


SUBMITTED_AS_IS = (
    "company_name",
    "contact_name",
    "need",
    "wechat",
    "customer_type",
    "city",
    "employees",
    "annual_revenue",
    "budget_min",
    "budget_max",
    "purchase_by",
    "current_supplier",
    "notes",
    "business_model",
    "decision_maker_role",
    "concerns",
    "personality",
    "consent_source",
    "consent_at",
)


def _raw_email(lead: Lead) -> str:
    """An email that failed the syntax check is kept only in the screening finding."""
    for item in lead.screening:
        if item.get("kind") == "email":
            return item.get("value", "")
    return ""


def _apply(lead: Lead, sub: Submission, key: str) -> None:
    """Copy a clean submission onto `lead`, with screening and the initial grade."""
    phone = sub.phone
    lead.company_name, lead.contact_name = sub.company_name, sub.contact_name
    lead.industry, lead.need, lead.acquired_at = sub.industry, sub.need, sub.acquired_at
    lead.phone_raw, lead.phone_e164 = sub.phone_raw, _usable_phone(sub)
    lead.email = sub.email
    lead.customer_type = sub.customer_type
    for name, value in sub.optional.items():
        setattr(lead, name, value)
    lead.province = sub.province
    if lead.province is None and phone and phone.province:
        lead.province = catalog.province(phone.province)
        lead.city = lead.city or phone.city
    lead.region = lead.province.region if lead.province else ""
    lead.company_key, lead.company_block = key, block_of(key)
    lead.screening = screen(
        contact=ContactCheck(sub.phone_raw, phone, sub.email_raw, bool(sub.email)),
        industry_name=sub.industry.name,
        industry_is_target=sub.industry.is_target,
        need=sub.need,
        excluded_phrases=excluded_phrases(),
    )
    grade = suggest_grade(
        screened_out=has_reject(lead.screening),
        need=sub.need,
        budget_min=lead.budget_min,
        budget_max=lead.budget_max,
        purchase_by=lead.purchase_by,
        acquired_on=_local_day(sub.acquired_at),
    )
    lead.grade, lead.grade_rule, lead.grade_reason = grade.grade, grade.rule, grade.reason


def _link(lead: Lead, match: Match | None) -> None:
    """Link a lead to the one it matches, with a warning for the verifier: an earlier, closed
    lead (a returning customer?), or — after a correction — an open one to merge into."""
    lead.duplicate_of = match.lead if match else None
    if match:
        code = "duplicate_open" if match.open else "seen_before"
        lead.screening.append(finding(code, FLAG, match.lead.number))


def _entry_status(lead: Lead) -> str:
    if has_reject(lead.screening):
        return Status.SCREENED_OUT
    if lead.channel.requires_verification and lead.channel.root.requires_verification:
        return Status.PENDING_REVIEW
    return Status.UNASSIGNED  # a trusted channel skips verification (R1.8)


def _usable_phone(sub: Submission) -> str:
    return sub.phone.e164 if sub.phone and sub.phone.valid and not sub.phone.fake else ""


def _local_day(moment: datetime) -> date:
    """The day in the company's zone (TIME_ZONE, Asia/Shanghai): numbers and grades count
    by it (`timezone.localtime` would look the current zone up in a context-local each time;
    LeadFlow never activates another)."""
    return moment.astimezone(timezone.get_default_timezone()).date()


def _locked(lead: Lead) -> Lead:
    return (
        Lead.objects.select_for_update(of=("self",))
        .select_related("channel", "channel__parent", "industry")
        .get(pk=lead.pk)
    )


def _stamp_verified(lead: Lead, by, now: datetime) -> None:
    lead.verified_by, lead.verified_at = by, now
    lead.save(update_fields=["verified_by", "verified_at"])


def _jsonable(data: dict[str, Any]) -> dict[str, str]:
    return {k: str(v)[:2000] for k, v in data.items() if v not in (None, "")}
