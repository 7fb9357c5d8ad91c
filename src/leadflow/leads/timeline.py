"""A lead's timeline: status changes, field changes and repeat touches, oldest first."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.core.audit import history
from leadflow.core.masking import mask_email, mask_phone

from .findings import MATCHED_ON, SOURCES, label
from .models import Lead, Status

# Fields the timeline leaves out of change entries: the status has its own entries, and
# these move with every contact (the contact itself is on the timeline).
QUIET = frozenset(
    {
        "status",
        "pool_due",
        "pool_warned_at",
        "last_contact_at",
        "next_followup_due",
        "next_action_due",
    }
)
CONTACT_FIELDS = {"phone_e164": mask_phone, "phone_raw": mask_phone, "email": mask_email}


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # stage | change | touch (and followup | grade | behaviour | task: followups)
    title: str
    detail: str
    by: str


def lead_timeline(lead: Lead, *, masked: bool) -> list[Event]:
    events = [
        Event(
            sc.at,
            "stage",
            f"{Status(sc.from_status).label} → {Status(sc.to_status).label}"
            if sc.from_status
            else _("录入，状态：%(s)s") % {"s": Status(sc.to_status).label},
            sc.reason if sc.from_status else _("来源：%(s)s") % {"s": label(SOURCES, sc.reason)},
            str(sc.by or ""),
        )
        for sc in lead.stage_changes.select_related("by")
    ]
    entries = list(history(lead).filter(action="update"))
    names = _related_names(entries)
    for entry in entries:
        changed = [name for name in entry.changes if name not in QUIET]
        if not changed:
            continue
        events.append(
            Event(
                entry.at,
                "change",
                _("修改了 %(n)s") % {"n": _field_labels(changed)},
                _describe(entry.changes, changed, masked, names),
                str(entry.by or ""),
            )
        )
    for touch in lead.touches.select_related("by", "channel"):
        events.append(
            Event(
                touch.at,
                "touch",
                _("重复录入（%(ch)s）") % {"ch": touch.channel},
                _("匹配依据：%(on)s") % {"on": label(MATCHED_ON, touch.matched_on)},
                str(touch.by or ""),
            )
        )
    return sorted(events, key=lambda e: e.at)


def _field_labels(names: list[str]) -> str:
    labels = []
    for name in names:
        try:
            labels.append(str(Lead._meta.get_field(name).verbose_name))
        except Exception:
            labels.append(name)
    return "、".join(labels)


# fields whose audit values are ids, shown by name
RELATED = {"owner": "accounts.User", "team": "accounts.Team", "duplicate_of": "leads.Lead"}


def _related_names(entries) -> dict[tuple[str, object], str]:
    """The names behind the ids in the entries' changes: one query per kind of object."""
    from django.apps import apps

    wanted: dict[str, set] = {}
    for entry in entries:
        for name, values in entry.changes.items():
            if name in RELATED:
                wanted.setdefault(name, set()).update(v for v in values if v is not None)
    found = {}
    for name, ids in wanted.items():
        for obj in apps.get_model(RELATED[name]).objects.filter(pk__in=ids):
            found[(name, obj.pk)] = obj.number if name == "duplicate_of" else str(obj)
    return found


def _shown(name: str, value, names: dict) -> str:
    if value in (None, ""):
        return "∅"
    if name in RELATED:
        return names.get((name, value), f"#{value}")
    if isinstance(value, str) and ISO_MOMENT.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return str(value)


ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _describe(changes: dict, fields: list[str], masked: bool, names: dict) -> str:
    parts = []
    for name in fields:
        old, new = changes[name]
        if name == "screening":
            continue
        if masked and name in CONTACT_FIELDS:
            old, new = CONTACT_FIELDS[name](old or ""), CONTACT_FIELDS[name](new or "")
        parts.append(f"{_shown(name, old, names)} → {_shown(name, new, names)}")
    return "；".join(parts)
