"""The outbox (R2.4, R3.8, R5.4): one row per message per destination, written in the same
transaction as the change it reports and delivered after commit (see outbox.py)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")
    FEISHU = "feishu", _("飞书群机器人")


class AllowedHost(models.Model):
    """A host an administrator allows outgoing messages to reach although it resolves to a
    loopback, private or link-local address (an intranet robot gateway, a local test
    receiver). Everything else on such addresses is refused (SSRF protection)."""

    host = models.CharField(_("主机名或 IP"), max_length=253, unique=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("允许的内网地址")
        verbose_name_plural = _("允许的内网地址")

    def __str__(self) -> str:
        return self.host

    def save(self, *args, **kwargs):
        self.host = self.host.strip().lower().strip("[]")
        super().save(*args, **kwargs)


def _check_url(value: str) -> None:
    from .safety import UnsafeURL, check_syntax

    try:
        check_syntax(value)
    except UnsafeURL as exc:
        raise ValidationError(exc.message) from exc


class Robot(models.Model):
    """A group robot of WeCom, DingTalk or Feishu, for a team or one user."""

    name = models.CharField(_("名称"), max_length=60)
    platform = models.CharField(_("平台"), max_length=10, choices=Platform)
    url = models.URLField(_("Webhook 地址"), max_length=500, validators=[_check_url])
    secret = models.CharField(
        _("加签密钥"), max_length=200, blank=True, help_text=_("钉钉、飞书机器人开启“加签”时填写")
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("团队"), on_delete=models.CASCADE, null=True, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="robots",
    )
    per_minute = models.PositiveSmallIntegerField(
        _("每分钟上限"), default=20, help_text=_("超出后合并为摘要发送")
    )
    active = models.BooleanField(_("启用"), default=True)
    # the rate window, claimed with conditional updates (outbox.take_slot)
    window_start = models.DateTimeField(null=True, blank=True, editable=False)
    window_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False) | Q(user__isnull=False),
                name="robot_for_team_or_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.name}"

    def clean(self) -> None:
        if not self.team_id and not self.user_id:
            raise ValidationError(_("请选择机器人所属的团队或用户"))


class WebhookEndpoint(models.Model):
    """An outgoing webhook for lead events, signed with HMAC-SHA256 (R5.4)."""

    name = models.CharField(_("名称"), max_length=60)
    url = models.URLField(_("地址"), max_length=500, validators=[_check_url])
    secret = models.CharField(_("签名密钥"), max_length=200)
    events = models.JSONField(
        _("事件"), default=list, blank=True, help_text=_("留空表示全部事件，如 lead.assigned")
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("Webhook")
        verbose_name_plural = _("Webhook")

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class Notification(models.Model):
    class Channel(models.TextChoices):
        IN_APP = "in_app", _("站内")
        EMAIL = "email", _("邮件")
        ROBOT = "robot", _("群机器人")
        WEBHOOK = "webhook", _("Webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已送达")
        FAILED = "failed", _("发送失败")

    kind = models.CharField(_("类型"), max_length=40)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel)
    # Indexes: the outbox takes many rows at once (batch assignment, the sweeper), so it
    # keeps only those its reads need; a recipient's rows are found by notif_inbox_idx, a
    # robot's or webhook's (for a cascade delete) by partial indexes over the few rows
    # that have one.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,
    )
    robot = models.ForeignKey(
        Robot, on_delete=models.CASCADE, null=True, blank=True, db_index=False
    )
    webhook = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, db_index=False
    )
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    payload = models.JSONField(default=dict, blank=True)
    dedup_key = models.CharField(max_length=200)  # unique: see Meta
    state = models.CharField(_("状态"), max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    # pending: when to try; sending: when the claim lapses (a worker died mid-send)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, editable=False)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-pk"]
        constraints = [  # not unique=True: on PostgreSQL that adds a LIKE index nothing uses
            models.UniqueConstraint(fields=["dedup_key"], name="notification_dedup_key_unique")
        ]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"], name="notif_inbox_idx"),
            models.Index(
                fields=["robot"], condition=Q(robot__isnull=False), name="notif_robot_idx"
            ),
            models.Index(
                fields=["webhook"], condition=Q(webhook__isnull=False), name="notif_webhook_idx"
            ),
            models.Index(
                fields=["digest"], condition=Q(digest__isnull=False), name="notif_digest_idx"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="notif_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.channel} ({self.state})"
