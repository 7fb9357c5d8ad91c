import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Region
from leadflow.leads.models import CustomerType, Grade


def new_version() -> str:
    return secrets.token_hex(8)


class AssignmentPolicy(models.Model):
    """The one row of assignment, confirmation and pool settings, edited by managers."""

    weight_region = models.PositiveSmallIntegerField(
        _("区域权重"), default=40, validators=[MaxValueValidator(100)]
    )
    weight_industry = models.PositiveSmallIntegerField(
        _("行业权重"), default=30, validators=[MaxValueValidator(100)]
    )
    weight_grade = models.PositiveSmallIntegerField(
        _("等级权重"), default=30, validators=[MaxValueValidator(100)]
    )
    weight_customer_type = models.PositiveSmallIntegerField(
        _("客户类型权重"), default=0, validators=[MaxValueValidator(100)]
    )
    confirm_hours = models.PositiveSmallIntegerField(
        _("确认时限(小时)"), default=24, validators=[MinValueValidator(1), MaxValueValidator(168)]
    )
    decline_hours = models.PositiveSmallIntegerField(
        _("可拒绝时限(小时)"), default=2, validators=[MinValueValidator(1), MaxValueValidator(48)]
    )
    remind_hours = models.PositiveSmallIntegerField(
        _("确认截止前提醒(小时)"), default=2, validators=[MaxValueValidator(48)]
    )
    pool_days_a = models.PositiveSmallIntegerField(
        _("A 级无跟进退回公海(天)"), default=7, validators=[MinValueValidator(1)]
    )
    pool_days_b = models.PositiveSmallIntegerField(
        _("B 级无跟进退回公海(天)"), default=15, validators=[MinValueValidator(1)]
    )
    pool_days_c = models.PositiveSmallIntegerField(
        _("C 级无跟进退回公海(天)"), default=30, validators=[MinValueValidator(1)]
    )
    pool_warn_hours = models.PositiveSmallIntegerField(_("退回前提醒(小时)"), default=24)
    claim_daily_limit = models.PositiveSmallIntegerField(_("每人每日领取上限"), default=5)
    pool_holding_cap = models.PositiveSmallIntegerField(
        _("公海领取持有上限"), default=20, help_text=_("从公海领取且仍在跟进的线索最多几条")
    )
    reclaim_cooldown_days = models.PositiveSmallIntegerField(
        _("原负责人重新领取冷却期(天)"), default=7
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A new random token whenever rules or reps' industries change (signals.py): every
    # process keeps the rules it loaded until the token moves. Random, not a counter, so a
    # rolled-back or restored value can never match a cache of something else.
    version = models.CharField(max_length=16, default=new_version, editable=False)

    class Meta:
        verbose_name = _("分配与公海设置")
        verbose_name_plural = _("分配与公海设置")

    def __str__(self) -> str:
        return str(_("分配与公海设置"))

    def clean(self) -> None:
        total = (
            self.weight_region
            + self.weight_industry
            + self.weight_grade
            + self.weight_customer_type
        )
        if total <= 0:
            raise ValidationError(_("权重之和必须大于 0"))
        if self.decline_hours > self.confirm_hours:
            raise ValidationError(_("可拒绝时限不能长于确认时限"))

    @classmethod
    def current(cls) -> "AssignmentPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def pool_after(self, grade: str) -> timedelta:
        days = {"A": self.pool_days_a, "B": self.pool_days_b}.get(grade, self.pool_days_c)
        return timedelta(days=days)

    def pool_deadline(self, lead, *, now: datetime, restart: bool = False) -> datetime:
        """When `lead` returns to the pool if nobody contacts it (R2.6): its grade's
        allowance after the last contact — or after `now` when its owner starts afresh
        (a reopened lead) or that moment has already passed (a claim, a late record)."""
        allowance = self.pool_after(lead.grade)
        due = (lead.last_contact_at or now) + allowance
        return now + allowance if restart or due < now else due


class AssignmentRule(models.Model):
    """Where leads of a kind go (R2.2): conditions (empty = any) and a team or a named rep."""

    name = models.CharField(_("规则名称"), max_length=60)
    order = models.PositiveIntegerField(_("顺序"), default=100, help_text=_("小的先匹配"))
    active = models.BooleanField(_("启用"), default=True)
    regions = models.JSONField(_("大区"), default=list, blank=True)
    provinces = models.ManyToManyField("leads.Province", verbose_name=_("省份"), blank=True)
    industries = models.ManyToManyField("leads.Industry", verbose_name=_("行业"), blank=True)
    grades = models.JSONField(_("等级"), default=list, blank=True)
    customer_types = models.JSONField(_("客户类型"), default=list, blank=True)
    channels = models.ManyToManyField(
        "leads.Channel", verbose_name=_("渠道"), blank=True, help_text=_("选一级渠道即含其子渠道")
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("分给团队"), on_delete=models.CASCADE, null=True, blank=True
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("指定销售(大客户)"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("分配规则")
        verbose_name_plural = _("分配规则")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False) & Q(rep__isnull=True))
                | (Q(team__isnull=True) & Q(rep__isnull=False)),
                name="rule_targets_team_or_rep",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if bool(self.team_id) == bool(self.rep_id):
            raise ValidationError(_("请选择分给一个团队，或指定一名销售（二选一）"))
        bad = [r for r in self.regions if r not in Region.values]
        bad += [g for g in self.grades if g not in Grade.values]
        bad += [c for c in self.customer_types if c not in CustomerType.values]
        if bad:
            raise ValidationError(_("无效的条件值：%(v)s") % {"v": "、".join(map(str, bad))})


class Assignment(models.Model):
    """One placing of a lead with a rep, with why (R2.2–R2.6). The confirmation deadline on
    a pending row is what the sweeper claims when it passes (R2.5)."""

    class Kind(models.TextChoices):
        AUTO = "auto", _("自动分配")
        MANUAL = "manual", _("手动分配")
        CLAIM = "claim", _("公海领取")

    class State(models.TextChoices):
        PENDING = "pending", _("待确认")
        ACCEPTED = "accepted", _("已接收")
        DECLINED = "declined", _("已拒绝")
        EXPIRED = "expired", _("超时未确认")
        REPLACED = "replaced", _("已改派")

    lead = models.ForeignKey(  # assignment_lead_idx (lead, at) serves it
        "leads.Lead", on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("销售代表"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("方式"), max_length=10, choices=Kind)
    state = models.CharField(_("状态"), max_length=10, choices=State)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rule = models.ForeignKey(
        AssignmentRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    explanation = models.JSONField(_("分配依据"), default=dict, blank=True)
    at = models.DateTimeField(_("分配时间"))
    accept_due = models.DateTimeField(_("确认截止"), null=True, blank=True)
    decline_due = models.DateTimeField(_("可拒绝截止"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decline_reason = models.CharField(_("拒绝原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("分配记录")
        verbose_name_plural = _("分配记录")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["lead", "at"], name="assignment_lead_idx"),
            # partial: each covers only the rows its query wants (a rep's inbox, the
            # deadlines the sweeper claims, a rep's claims today, recent escalations)
            models.Index(
                fields=["rep", "accept_due"],
                condition=Q(state="pending"),
                name="assignment_inbox_idx",
            ),
            models.Index(
                fields=["accept_due"],
                condition=Q(state="pending"),
                name="assignment_pending_due_idx",
            ),
            models.Index(
                fields=["rep", "at"], condition=Q(kind="claim"), name="assignment_claims_idx"
            ),
            models.Index(
                fields=["answered_at"],
                condition=Q(state__in=["declined", "expired"]),
                name="assignment_escalated_idx",
            ),
            # covering, in rep order: each rep's median response time (R4.5) is read from the
            # index alone, with no sort to group by rep (every assignment there is: 1.03 →
            # 0.31 s on 900,000)
            models.Index(
                fields=["rep", "answered_at", "at", "kind", "lead"],
                condition=Q(answered_at__isnull=False),
                name="assignment_answered_idx",
            ),
        ]
        constraints = [
            # at most one answer awaited per lead
            models.UniqueConstraint(
                fields=["lead"], condition=Q(state="pending"), name="one_pending_per_lead"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.rep_id} ({self.state})"


class PoolReturn(models.Model):
    """A lead that went back to the pool (公海), and whose it was (R2.6)."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="pool_returns")
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("退回时间"))
    reason = models.CharField(_("原因"), max_length=200)

    class Meta:
        verbose_name = _("退回公海记录")
        verbose_name_plural = _("退回公海记录")
        indexes = [models.Index(fields=["lead", "previous_owner", "at"], name="poolreturn_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} → pool @ {self.at:%Y-%m-%d}"
