"""The audit trail (R5.2): every field change of a tracked record, kept forever."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from .models import AuditEntry


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields`, JSON-ready, for a later `record_changes`."""
    return {name: _plain(getattr(instance, _attname(instance, name))) for name in fields}


def record_changes(
    *,
    instance: models.Model,
    before: dict[str, Any],
    by: Any,
    at: datetime,
    reason: str = "",
) -> AuditEntry | None:
    """Write one AuditEntry with every field that differs from `before` (a `snapshot` taken
    before the change); nothing when nothing changed."""
    after = snapshot(instance, before)
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if not changes:
        return None
    return AuditEntry.objects.create(
        model=instance._meta.label_lower,
        object_pk=str(instance.pk),
        action=AuditEntry.Action.UPDATE,
        changes=changes,
        reason=reason[:500],
        by=by if getattr(by, "pk", None) else None,
        at=at,
    )


def history(instance: models.Model) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        model=instance._meta.label_lower, object_pk=str(instance.pk)
    ).select_related("by")


def _attname(instance: models.Model, name: str) -> str:
    field = instance._meta.get_field(name)
    return field.attname if isinstance(field, models.ForeignKey) else name


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | dict | str | int | float | bool) or value is None:
        return value
    return str(value)
