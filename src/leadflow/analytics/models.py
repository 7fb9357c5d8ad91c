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
