"""A lead's timeline: status changes, field changes and repeat touches, oldest first."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from leadflow.core.audit import history
from leadflow.core.masking import mask_email, mask_phone

from .findings import MATCHED_ON, SOURCES, label
from .models import Lead, Status

CONTACT_FIELDS = {"phone_e164": mask_phone, "phone_raw": mask_phone, "email": mask_email}


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # stage | change | touch
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
    for entry in history(lead).filter(action="update"):
        changed = [name for name in entry.changes if name != "status"]
        if not changed:
            continue
        events.append(
            Event(
                entry.at,
                "change",
                _("修改了 %(n)s") % {"n": _field_labels(changed)},
                _describe(entry.changes, changed, masked),
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


def _describe(changes: dict, names: list[str], masked: bool) -> str:
    parts = []
    for name in names:
        old, new = changes[name]
        if name == "screening":
            continue
        if masked and name in CONTACT_FIELDS:
            old, new = CONTACT_FIELDS[name](old or ""), CONTACT_FIELDS[name](new or "")
        parts.append(f"{old or '∅'} → {new or '∅'}")
    return "；".join(parts)
