from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Region, Team


class Province(models.Model):
    """One of China's 34 provincial divisions, in one of the seven sales regions."""

    code = models.CharField(_("行政区划代码"), max_length=2, primary_key=True)
    name = models.CharField(_("全称"), max_length=20, unique=True)
    short_name = models.CharField(_("简称"), max_length=10, unique=True)
    region = models.CharField(_("大区"), max_length=4, choices=Region)

    class Meta:
        verbose_name = _("省份")
        verbose_name_plural = _("省份")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Industry(models.Model):
    name = models.CharField(_("行业"), max_length=40, unique=True)
    is_target = models.BooleanField(
        _("目标行业"), default=True, help_text=_("非目标行业的线索在初步筛选时被剔除")
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("行业")
        verbose_name_plural = _("行业")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChannelManager(models.Manager):
    def get_by_natural_key(self, code: str) -> "Channel":
        return self.get(code=code)


class Channel(models.Model):
    """A lead source (来源渠道), two levels: channel → sub-channel (R1.1)."""

    class Category(models.TextChoices):
        ONLINE = "online", _("线上")
        OFFLINE = "offline", _("线下")
        INTERNAL = "internal", _("内部")

    code = models.CharField(
        _("渠道代码"),
        max_length=12,
        unique=True,
        blank=True,
        help_text=_("线索编号前缀；留空则取渠道名称的拼音首字母"),
    )
    name = models.CharField(_("渠道名称"), max_length=60)
    category = models.CharField(_("类别"), max_length=10, choices=Category)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级渠道"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    monthly_cost = models.DecimalField(
        _("月度成本(元)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    requires_verification = models.BooleanField(
        _("需要销售支持核对"),
        default=True,
        help_text=_("关闭即为可信渠道：线索跳过核对，直接进入待分配"),
    )
    active = models.BooleanField(_("启用"), default=True)

    objects = ChannelManager()

    class Meta:
        verbose_name = _("渠道")
        verbose_name_plural = _("渠道")
        ordering = ["parent_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="channel_unique_name_in_parent"
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent=None), name="channel_unique_root_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name}-{self.name}" if self.parent_id else self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    @property
    def root(self) -> "Channel":
        return self.parent if self.parent_id else self


class Grade(models.TextChoices):
    A = "A", _("A 高优先级")
    B = "B", _("B 中优先级")
    C = "C", _("C 低优先级")
    D = "D", _("D 无效")


class CustomerType(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业客户")
    INDIVIDUAL = "individual", _("个人客户")
    GOVERNMENT = "government", _("政府/事业单位")
    EDUCATION = "education", _("教育机构")
    PARTNER = "partner", _("渠道/代理商")


class Status(models.TextChoices):
    """The lead lifecycle (DESIGN.md); allowed moves are data in pipeline.py."""

    PENDING_REVIEW = "pending_review", _("待核对")
    RETURNED = "returned", _("已退回")
    SCREENED_OUT = "screened_out", _("筛除")
    UNASSIGNED = "unassigned", _("待分配")
    ASSIGNED = "assigned", _("待确认")
    CONTACTING = "contacting", _("初步接触")
    QUALIFIED = "qualified", _("需求明确")
    EVALUATING = "evaluating", _("方案对比")
    NEGOTIATING = "negotiating", _("商务谈判")
    WON = "won", _("成交")
    INVALID = "invalid", _("无效")
    POOL = "pool", _("公海")


# What the reports count a period's leads by (analytics.queries: the funnel, channels, cycle,
# reps, discipline, SLA misses) and the filters they take, kept in the period's index after
# the time acquired. Key columns, not PostgreSQL's INCLUDE, so that SQLite's index covers
# them too (SQLite has no INCLUDE, and keeps the row id in every index entry).
REPORTED = [
    "status", "furthest", "channel", "owner", "team", "grade", "industry", "region",
    "first_contact_at", "first_contact_due", "next_followup_due", "won_at", "won_amount", "id",
]  # fmt: skip


class Lead(models.Model):
    number = models.CharField(_("线索编号"), max_length=24)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("来源渠道"),
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,  # (channel, acquired_at) below serves it
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status, default=Status.PENDING_REVIEW
    )

    # Required at intake (R1.2)
    company_name = models.CharField(_("客户名称"), max_length=200)
    contact_name = models.CharField(_("联系人"), max_length=60)
    phone_e164 = models.CharField(_("手机"), max_length=20, blank=True)
    phone_raw = models.CharField(_("手机(原始输入)"), max_length=40, blank=True)
    email = models.EmailField(_("邮箱"), max_length=254, blank=True)
    industry = models.ForeignKey(
        Industry, verbose_name=_("行业"), on_delete=models.PROTECT, related_name="leads"
    )
    need = models.TextField(_("初步需求"), max_length=2000)
    acquired_at = models.DateTimeField(_("获取时间"))

    # Optional (补充)
    wechat = models.CharField(_("微信"), max_length=60, blank=True)
    province = models.ForeignKey(  # nothing looks leads up by province alone
        Province,
        verbose_name=_("省份"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
    )
    city = models.CharField(_("城市"), max_length=40, blank=True)
    region = models.CharField(_("大区"), max_length=4, choices=Region, blank=True)
    customer_type = models.CharField(
        _("客户类型"), max_length=12, choices=CustomerType, default=CustomerType.ENTERPRISE
    )
    employees = models.PositiveIntegerField(_("员工人数"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("年营收(万元)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    budget_min = models.DecimalField(
        _("预算下限(元)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    budget_max = models.DecimalField(
        _("预算上限(元)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    purchase_by = models.DateField(_("采购时间节点"), null=True, blank=True)
    current_supplier = models.CharField(_("现有供应商"), max_length=120, blank=True)
    notes = models.TextField(_("备注"), max_length=2000, blank=True)

    # Customer profile (客户画像, R3.6)
    business_model = models.CharField(_("业务模式"), max_length=200, blank=True)
    decision_maker_role = models.CharField(_("决策人角色"), max_length=60, blank=True)
    concerns = models.CharField(_("关注点"), max_length=200, blank=True)
    personality = models.CharField(_("性格"), max_length=60, blank=True)

    # Grade (R2.1) and screening (R1.4)
    grade = models.CharField(_("等级"), max_length=1, choices=Grade, blank=True)
    grade_reason = models.CharField(_("定级依据"), max_length=300, blank=True)
    grade_rule = models.CharField(_("定级规则"), max_length=40, blank=True)
    screening = models.JSONField(_("筛查结果"), default=list, blank=True)
    company_key = models.CharField(_("查重名称"), max_length=200, blank=True)
    company_block = models.CharField(max_length=2, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("疑似重复"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
    )

    # Ownership and clocks (assignment and follow-up issues fill these)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
        db_index=False,  # (owner, status) below serves it
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("团队"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # (team, status) below serves it
    )
    accept_due = models.DateTimeField(_("确认截止"), null=True, blank=True)
    first_contact_due = models.DateTimeField(_("首次联系截止"), null=True, blank=True)
    next_followup_due = models.DateTimeField(_("下次跟进截止"), null=True, blank=True)
    next_action_due = models.DateTimeField(_("下一步行动截止"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("最近联系时间"), null=True, blank=True)
    won_amount = models.DecimalField(
        _("成交金额(元)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    won_at = models.DateTimeField(_("成交时间"), null=True, blank=True)
    furthest = models.PositiveSmallIntegerField(
        _("最远阶段"),
        default=0,
        editable=False,
        help_text=_("历史上到达过的最远漏斗阶段（FUNNEL_RANK），随每次状态变更更新"),
    )
    pool_due = models.DateTimeField(
        _("退回公海时间"), null=True, blank=True, help_text=_("此时仍无跟进，线索退回公海")
    )
    pool_warned_at = models.DateTimeField(_("公海预警时间"), null=True, blank=True)
    invalid_reason = models.CharField(_("无效原因"), max_length=200, blank=True)
    return_reason = models.CharField(_("退回原因"), max_length=500, blank=True)

    # Consent and provenance (PIPL, R5.3)
    external_id = models.CharField(
        _("外部编号"),
        max_length=100,
        blank=True,
        help_text=_("来源系统（旧 CRM、表格）中的编号，导入时据此更新"),
    )
    consent_source = models.CharField(_("授权来源"), max_length=200, blank=True)
    consent_at = models.DateTimeField(_("授权时间"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        related_name="entered_leads",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核对人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="verified_leads",
    )
    verified_at = models.DateTimeField(_("核对时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("录入时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-acquired_at", "-pk"]
        permissions = [("verify_lead", _("核对线索")), ("export_lead", _("导出线索"))]
        # Declared here rather than with db_index/unique on the fields: on PostgreSQL those
        # add a second, LIKE-pattern index per column that nothing here queries, and every
        # intake pays for it. A foreign key that leads a composite index below has no index
        # of its own: every index takes an entry at each insert and each change of status.
        constraints = [
            models.UniqueConstraint(fields=["number"], name="lead_number_unique"),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="lead_external_id_unique",
            ),
        ]
        indexes = [
            # the duplicate check's exact matches (R1.5), over the leads that have the value:
            # where most leads lack one (no e-mail given), an index holding them all tells
            # SQLite's statistics that an e-mail matches every lead, and its planner then
            # scans the table for each intake; the queries say `> ''` to use these
            models.Index(
                fields=["phone_e164"], condition=Q(phone_e164__gt=""), name="lead_phone_idx"
            ),
            models.Index(fields=["email"], condition=Q(email__gt=""), name="lead_email_idx"),
            models.Index(
                fields=["company_key"],
                condition=Q(company_key__gt=""),
                name="lead_company_key_idx",
            ),
            # the fuzzy name step reads a block's keys of a plausible length (dedup.py)
            models.Index(
                F("company_block"), Length("company_key"), name="lead_company_block_len_idx"
            ),
            models.Index(fields=["status", "-acquired_at"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["channel", "acquired_at"]),
            # the dashboards' period, over everyone or one team (R4.1); covering: the
            # reports over everyone's period read what they count from the index alone
            # (`REPORTED`), not from the rows
            models.Index(fields=["acquired_at", *REPORTED], name="lead_acquired_idx"),
            # and a team's, covering too: a manager's two years are 80,000 leads scattered
            # over the table, read from the rows once for each report (3.5 → 2.1 s)
            models.Index(
                fields=["team", "acquired_at", *(c for c in REPORTED if c != "team")],
                name="lead_team_acquired_idx",
            ),
            models.Index(
                fields=["pool_due"], condition=Q(pool_due__isnull=False), name="lead_pool_due_idx"
            ),
            # the follow-up deadlines (R3.1): "my day", overdue lists, SLA reports
            models.Index(
                fields=["owner", "first_contact_due"],
                condition=Q(first_contact_at=None, first_contact_due__isnull=False),
                name="lead_first_contact_due_idx",
            ),
            models.Index(
                fields=["owner", "next_followup_due"],
                condition=Q(next_followup_due__isnull=False),
                name="lead_next_followup_due_idx",
            ),
            models.Index(
                fields=["owner", "next_action_due"],
                condition=Q(next_action_due__isnull=False),
                name="lead_next_action_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.company_name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


# Statuses in which the owner works the lead (after accepting it): the follow-up clocks run.
WORKING_STATUSES = frozenset(
    {Status.CONTACTING, Status.QUALIFIED, Status.EVALUATING, Status.NEGOTIATING}
)

# The funnel's order (R4.1): how far a status is along the way from entry to won. A lead's
# `furthest` is the highest rank its history reached, kept with every StageChange written,
# so the funnel counts leads in one pass instead of searching each lead's history.
FUNNEL_STEPS = (  # rank, the status whose history marks it, the funnel's name for it
    (0, "", _("线索")),
    (1, Status.UNASSIGNED, _("核对通过")),
    (2, Status.ASSIGNED, _("已分配")),
    (3, Status.CONTACTING, _("初步接触")),
    (4, Status.QUALIFIED, _("需求明确")),
    (5, Status.EVALUATING, _("方案对比")),
    (6, Status.NEGOTIATING, _("商务谈判")),
    (7, Status.WON, _("成交")),
)
FUNNEL_RANK = {status: rank for rank, status, _label in FUNNEL_STEPS if status}


# How a lead's way through the funnel ended, for the drop-out counts (R4.1): won, invalid
# (无效, or screened out at entry), stalled (back in the pool); any other status is open.
OUTCOMES = {
    "won": frozenset({Status.WON}),
    "invalid": frozenset({Status.INVALID, Status.SCREENED_OUT}),
    "stalled": frozenset({Status.POOL}),
}


def outcome(status: str) -> str:
    return next((name for name, statuses in OUTCOMES.items() if status in statuses), "open")


def reached(furthest: int, *statuses: str) -> int:
    """`furthest` raised by the ranks of `statuses` (statuses outside the funnel: 0)."""
    return max(furthest, *(FUNNEL_RANK.get(s, 0) for s in statuses))


OPEN_STATUSES = frozenset(
    {
        Status.PENDING_REVIEW,
        Status.RETURNED,
        Status.UNASSIGNED,
        Status.ASSIGNED,
        Status.CONTACTING,
        Status.QUALIFIED,
        Status.EVALUATING,
        Status.NEGOTIATING,
        Status.POOL,
    }
)


class StageChange(models.Model):
    """Append-only history of every status change; analytics reads this, not `Lead.status`."""

    lead = models.ForeignKey(  # (lead, at) below serves it
        Lead, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_status = models.CharField(_("原状态"), max_length=20, choices=Status, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Status)
    at = models.DateTimeField(_("时间"))
    entered_at = models.DateTimeField(
        _("进入原状态的时间"),
        null=True,
        blank=True,
        help_text=_("线索进入原状态的时间（上一条状态变更的时间），用于计算各阶段停留时长"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    evidence = models.JSONField(_("依据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["lead", "at"]),
            models.Index(fields=["to_status", "at"]),
            # covering: the days spent in each stage (R4.3) are counted from the index alone,
            # the stays out of the worked stages read by status, then by their leads' range
            # (an administrator's last 90 days: 185 → 135 ms on 5,200,000 stage changes)
            models.Index(
                fields=["from_status", "lead", "at", "entered_at"],
                condition=Q(entered_at__isnull=False),
                name="stage_stay_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_status or '∅'} → {self.to_status}"


class LeadTouch(models.Model):
    """A repeat intake of an open lead (R1.5): recorded on it instead of a new lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touches")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    matched_on = models.CharField(_("匹配依据"), max_length=20)
    source = models.CharField(_("入口"), max_length=20)
    submitted = models.JSONField(_("提交内容"), default=dict)

    class Meta:
        verbose_name = _("重复接触")
        verbose_name_plural = _("重复接触")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.lead_id} touched via {self.matched_on} @ {self.at:%Y-%m-%d %H:%M}"


class LeadNumberCounter(models.Model):
    """The last serial used for one channel on one day (R1.6). Locked while numbering."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "day"], name="one_counter_per_channel_day")
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.day}: {self.last}"
