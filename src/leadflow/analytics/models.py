from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.leads.models import Channel


class ChannelCost(models.Model):
    """What a channel cost in one month (R4.2), entered by marketing: cost per lead, per
    won deal and ROI are computed from these rows."""

    channel = models.ForeignKey(
        Channel, verbose_name=_("渠道"), on_delete=models.PROTECT, related_name="costs"
    )
    month = models.DateField(_("月份"), help_text=_("该月的第一天，如 2026-11-01"))
    amount = models.DecimalField(_("费用(元)"), max_digits=14, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("渠道费用")
        verbose_name_plural = _("渠道费用")
        ordering = ["-month", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "month"], name="one_cost_per_channel_month")
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.month:%Y-%m}: {self.amount}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("请填写月份的第一天")})
        if self.amount is not None and self.amount < 0:
            raise ValidationError({"amount": _("费用不能为负数")})


class StaleDay(models.Model):
    """A day (UTC) of acquisition whose leads changed in a way the stored monthly figures
    count (`rollups`). Written by the database's own triggers on leads, their stage changes
    and the follow-ups that name a competitor (migration 0002), in the writing transaction —
    whatever wrote it: a form, an import's COPY, a bulk update, a shell. Read and cleared by
    `rollups.refresh`."""

    day = models.DateField(db_index=True)

    def __str__(self) -> str:
        return f"{self.day}"


class RollupMonth(models.Model):
    """A local month whose figures are stored (`Rollup`), and when they were computed."""

    month = models.DateField(unique=True)  # its first day
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class Rollup(models.Model):
    """One row of a report part (`queries.PARTS`) over one month's leads — every lead of
    the month (team 0) or one team's: its keys in the columns the part names (text `t`,
    whole number `i`, measure `x`, day `day`; the month itself for the cohorts), its counts
    and sum. A view adds up the rows of its months by key (`rollups.Plan`)."""

    month = models.DateField()
    team = models.IntegerField()  # 0: every lead acquired in the month
    part = models.CharField(max_length=12)
    t = models.CharField(max_length=200, default="")
    i = models.BigIntegerField(null=True)
    x = models.FloatField(null=True)
    day = models.DateField(null=True)
    n = models.BigIntegerField(default=0)
    v1 = models.BigIntegerField(default=0)
    v2 = models.BigIntegerField(default=0)
    v3 = models.BigIntegerField(default=0)
    v4 = models.BigIntegerField(default=0)
    v5 = models.BigIntegerField(default=0)
    v6 = models.BigIntegerField(default=0)
    v7 = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, null=True)

    class Meta:
        indexes = [models.Index(fields=["part", "team", "month"], name="rollup_part_idx")]

    def __str__(self) -> str:
        return f"{self.part} {self.month:%Y-%m} {self.team}"
