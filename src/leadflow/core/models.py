from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One change to one record: which fields went from what to what, by whom (R5.2).

    Append-only. Written by `core.audit.record_changes` in the same transaction as the change.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("创建")
        UPDATE = "update", _("修改")

    model = models.CharField(_("对象类型"), max_length=60)
    object_pk = models.CharField(_("对象"), max_length=40)
    action = models.CharField(_("操作"), max_length=10, choices=Action)
    changes = models.JSONField(_("变更"), default=dict)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["model", "object_pk", "at"])]
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.model}#{self.object_pk} {self.action} @ {self.at:%Y-%m-%d %H:%M}"
