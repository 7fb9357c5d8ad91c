from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
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


class WorkSchedule(models.Model):
    """The company's working hours (one row), for SLA policies counted in business time."""

    opens = models.TimeField(_("上班时间"), default=time(9))
    closes = models.TimeField(_("下班时间"), default=time(18))
    break_starts = models.TimeField(_("午休开始"), null=True, blank=True)
    break_ends = models.TimeField(_("午休结束"), null=True, blank=True)

    class Meta:
        verbose_name = _("工作时间")
        verbose_name_plural = _("工作时间")

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens >= self.closes:
            raise ValidationError(_("上班时间须早于下班时间"))
        if (self.break_starts is None) != (self.break_ends is None):
            raise ValidationError(_("午休开始与结束须同时填写或同时留空"))
        if self.break_starts and not (
            self.opens <= self.break_starts < self.break_ends <= self.closes
        ):
            raise ValidationError(_("午休须在上班时间之内"))


class CalendarOverride(models.Model):
    """A company's own day off or extra working day; wins over the statutory calendar."""

    day = models.DateField(_("日期"), unique=True)
    working = models.BooleanField(
        _("上班"),
        default=False,
        help_text=_("勾选：这天上班；不勾选：这天休息（如公司年会、团建）"),
    )
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("公司日历调整")
        verbose_name_plural = _("公司日历调整")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {'上班' if self.working else '休息'}"
