from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Team
from leadflow.leads.models import Grade, Lead


class Unit(models.TextChoices):
    HOUR = "hour", _("小时")
    DAY = "day", _("天")
    WEEK = "week", _("周")


class SlaPolicy(models.Model):
    """The follow-up plan of one grade (R3.1): first contact within, then the cadence.

    On business time an hour is a working hour, a day a working day and a week five working
    days of the business calendar; on natural time they are 1 h, 24 h and 7 × 24 h."""

    grade = models.CharField(_("等级"), max_length=1, choices=Grade, unique=True)
    active = models.BooleanField(_("启用"), default=True, help_text=_("停用：该等级不设跟进时限"))
    business_time = models.BooleanField(
        _("按工作时间计"),
        default=True,
        help_text=_("按中国工作日（含法定节假日与调休）和上班时间计算；不勾选则按自然时间"),
    )
    first_contact_within = models.PositiveSmallIntegerField(
        _("首次联系时限"), validators=[MinValueValidator(1), MaxValueValidator(999)]
    )
    first_contact_unit = models.CharField(_("单位"), max_length=4, choices=Unit)
    cadence_min = models.PositiveSmallIntegerField(
        _("跟进间隔(最短)"), validators=[MinValueValidator(1), MaxValueValidator(999)]
    )
    cadence_max = models.PositiveSmallIntegerField(
        _("跟进间隔(最长)"),
        validators=[MinValueValidator(1), MaxValueValidator(999)],
        help_text=_("上次联系后最迟多久须再次跟进；到最短间隔时提醒"),
    )
    cadence_unit = models.CharField(_("间隔单位"), max_length=4, choices=Unit)
    remind_before_hours = models.PositiveSmallIntegerField(
        _("截止前提醒(小时)"), default=1, validators=[MaxValueValidator(168)]
    )

    class Meta:
        verbose_name = _("跟进时限")
        verbose_name_plural = _("跟进时限")
        ordering = ["grade"]

    def __str__(self) -> str:
        return f"{self.grade}"

    def clean(self) -> None:
        if self.cadence_min and self.cadence_max and self.cadence_min > self.cadence_max:
            raise ValidationError(_("最短跟进间隔不能大于最长间隔"))


class FollowUp(models.Model):
    """One contact with the customer, recorded by the rep (跟进记录, R3.2)."""

    class Method(models.TextChoices):
        PHONE = "phone", _("电话")
        WECHAT = "wechat", _("微信")
        EMAIL = "email", _("邮件")
        VISIT = "visit", _("上门拜访")
        MEETING = "meeting", _("会议")
        OTHER = "other", _("其他")

    # no index of their own: (lead, contact_at) and (by, contact_at) below serve both
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="followups", db_index=False
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("跟进人"),
        on_delete=models.PROTECT,
        related_name="followups",
        db_index=False,
    )
    contact_at = models.DateTimeField(_("联系时间"))
    recorded_at = models.DateTimeField(_("记录时间"))
    method = models.CharField(_("联系方式"), max_length=10, choices=Method)
    contact_person = models.CharField(_("客户对接人"), max_length=60, blank=True)
    feedback = models.TextField(_("客户反馈"), max_length=2000)
    intent_change = models.CharField(_("意向变化"), max_length=300, blank=True)
    need_change = models.CharField(_("需求变化"), max_length=300, blank=True)
    next_action = models.CharField(_("下一步行动"), max_length=200, blank=True)
    next_action_due = models.DateTimeField(_("下一步截止"), null=True, blank=True)
    risk_note = models.CharField(_("风险提示"), max_length=500, blank=True)
    competitor = models.CharField(_("竞争对手"), max_length=120, blank=True)
    late = models.BooleanField(_("补录"), default=False, help_text=_("联系后超过 1 小时才记录"))
    first = models.BooleanField(_("首次联系"), default=False)
    grade = models.CharField(_("当时等级"), max_length=1, choices=Grade, blank=True)
    due = models.DateTimeField(
        _("应联系截止"),
        null=True,
        blank=True,
        help_text=_("这次联系所对应的时限：首次联系截止，或按等级节奏的下次跟进截止"),
    )

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        ordering = ["-contact_at", "-pk"]
        indexes = [
            models.Index(fields=["lead", "contact_at"]),
            models.Index(fields=["by", "contact_at"]),
            # the few that name a competitor (R4.6), and those made after their deadline
            # (the SLA heat map, R4.4): small, and what their reports read
            models.Index(
                fields=["lead", "competitor"],
                condition=~Q(competitor=""),
                name="followup_competitor_idx",
            ),
            models.Index(  # covering: the heat map counts them without reading the table
                fields=["due"],
                include=["by", "lead"],
                condition=Q(contact_at__gt=F("due")),
                name="followup_late_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.get_method_display()} @ {self.contact_at:%Y-%m-%d %H:%M}"


class Tally(models.Model):
    """The follow-ups one person made on one lead, counted as the discipline report (R4.4)
    and the reps table (R4.5) count them: a lead-sized table for dashboards to read instead
    of every record (1,000,000 leads carry some 10,000,000 follow-ups).

    Follow-up records are written once and never changed (`services.record_followup`
    counts each one here in the same transaction); `rebuild` counts them all anew."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+", db_index=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    made = models.PositiveIntegerField(default=0)
    contacted = models.PositiveIntegerField(default=0)  # made the lead's first contact (0 or 1)
    first_on = models.PositiveIntegerField(default=0)  # … made by its deadline
    first_late = models.PositiveIntegerField(default=0)
    cadence_on = models.PositiveIntegerField(default=0)  # later ones, within the cadence
    cadence_late = models.PositiveIntegerField(default=0)
    records_late = models.PositiveIntegerField(default=0)  # written over 1 h after contact

    COUNTS = ("made", "contacted", "first_on", "first_late", "cadence_on", "cadence_late",
              "records_late")  # fmt: skip

    class Meta:
        verbose_name = _("跟进统计")
        verbose_name_plural = _("跟进统计")
        constraints = [
            models.UniqueConstraint(fields=["lead", "by"], name="followup_tally_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}/{self.by_id}: {self.made}"

    @staticmethod
    def counts() -> dict[str, models.Count]:
        """The tally's counts as aggregates over follow-up records — the one definition the
        writer, `rebuild` and the weekly review's discipline (over a week's records) share.
        A record with no deadline (`due`) is neither on time nor late."""
        first, on_time, late = (
            Q(first=True),
            Q(contact_at__lte=F("due")),
            Q(contact_at__gt=F("due")),
        )
        return {
            "made": models.Count("pk"),
            "contacted": models.Count("pk", filter=first),
            "first_on": models.Count("pk", filter=first & on_time),
            "first_late": models.Count("pk", filter=first & late),
            "cadence_on": models.Count("pk", filter=~first & on_time),
            "cadence_late": models.Count("pk", filter=~first & late),
            "records_late": models.Count("pk", filter=Q(late=True)),
        }

    @classmethod
    def count(cls, lead_id: int, by_id: int) -> None:
        """Count anew what `by` recorded on the lead (a few rows; the caller holds the lead
        locked, so no two writers count the same tally at once)."""
        counts = FollowUp.objects.filter(lead_id=lead_id, by_id=by_id).aggregate(**cls.counts())
        cls.objects.update_or_create(lead_id=lead_id, by_id=by_id, defaults=counts)

    @classmethod
    def rebuild(cls, using: str = "default") -> None:
        """Every tally counted anew from the follow-up records, in the database (after a
        bulk load, and when the table is first made): the ORM's GROUP BY of `counts`,
        inserted as it is selected."""
        counts = cls.counts()
        rows = (
            FollowUp.objects.using(using).order_by().values("lead_id", "by_id").annotate(**counts)
        )
        select, params = rows.query.get_compiler(using).as_sql()
        table, columns = cls._meta.db_table, ", ".join(counts)  # in the SELECT's order
        with connections[using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(f"INSERT INTO {table} (lead_id, by_id, {columns}) {select}", params)


class Task(models.Model):
    """A next action (下一步行动) with its due date: from a follow-up, a playbook or by hand."""

    class Source(models.TextChoices):
        FOLLOWUP = "followup", _("跟进记录")
        PLAYBOOK = "playbook", _("转化策略")
        MANUAL = "manual", _("手动")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="tasks")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    title = models.CharField(_("行动"), max_length=200)
    due = models.DateTimeField(_("截止时间"))
    source = models.CharField(_("来源"), max_length=10, choices=Source)
    followup = models.ForeignKey(
        FollowUp, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    step = models.ForeignKey(
        "PlaybookStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"))
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("结果"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("下一步行动")
        verbose_name_plural = _("下一步行动")
        ordering = ["due", "pk"]
        indexes = [
            models.Index(fields=["owner", "due"], condition=Q(done_at=None), name="task_open_idx"),
            models.Index(fields=["lead", "due"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.done_at is None


class Clock(models.Model):
    """A deadline being watched: the sweeper reminds the rep before it, tells them when it
    is missed, and escalates to the manager when it is missed again (R3.8).

    `fire_at` is the next moment the sweeper acts (NULL when nothing is left to do); each
    act is claimed with SELECT … FOR UPDATE SKIP LOCKED and a conditional UPDATE on `stage`,
    so two sweepers never send the same notice."""

    class Kind(models.TextChoices):
        FIRST_CONTACT = "first_contact", _("首次联系")
        FOLLOWUP = "followup", _("定期跟进")
        NEXT_ACTION = "next_action", _("下一步行动")

    class Stage(models.IntegerChoices):
        REMIND = 0, _("待提醒")
        OVERDUE = 1, _("待逾期通知")
        ESCALATE = 2, _("待上报经理")
        DONE = 3, _("已处理")

    # Every sweep rewrites fire_at, so the table keeps few indexes: the task's is the
    # partial unique one below, and nothing reads clocks by rep.
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="clocks")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, null=True, blank=True, db_index=False)
    kind = models.CharField(max_length=16, choices=Kind)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    due = models.DateTimeField()
    remind_at = models.DateTimeField()
    escalate_at = models.DateTimeField()
    stage = models.PositiveSmallIntegerField(choices=Stage, default=Stage.REMIND)
    fire_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("跟进时钟")
        verbose_name_plural = _("跟进时钟")
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "kind"], condition=Q(task=None), name="one_clock_per_lead_kind"
            ),
            models.UniqueConstraint(
                fields=["task"], condition=Q(task__isnull=False), name="one_clock_per_task"
            ),
        ]
        indexes = [
            models.Index(
                fields=["fire_at"], condition=Q(fire_at__isnull=False), name="clock_fire_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} due {self.due:%Y-%m-%d %H:%M}"


class Grading(models.Model):
    """One line of the grading sheet (线索分级表, R3.4): a grade set or confirmed, why."""

    class Kind(models.TextChoices):
        REP = "rep", _("销售定级")
        REVIEW = "review", _("评审修正")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="gradings")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"))
    from_grade = models.CharField(_("原等级"), max_length=1, choices=Grade, blank=True)
    to_grade = models.CharField(_("新等级"), max_length=1, choices=Grade)
    reason = models.CharField(_("依据"), max_length=300)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind, default=Kind.REP)

    class Meta:
        verbose_name = _("线索定级")
        verbose_name_plural = _("线索分级表")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["lead", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_grade or '∅'} → {self.to_grade}"

    @property
    def confirmed(self) -> bool:
        return self.from_grade == self.to_grade


class GradeReview(models.Model):
    """The weekly grade review of one team (线索评审会, R3.5)."""

    team = models.ForeignKey(Team, verbose_name=_("团队"), on_delete=models.CASCADE)
    week = models.DateField(_("周（周一）"))
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主持人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("开始时间"))
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    summary = models.TextField(_("会议纪要"), max_length=4000, blank=True)

    class Meta:
        verbose_name = _("线索评审会")
        verbose_name_plural = _("线索评审会")
        ordering = ["-week", "team"]
        constraints = [
            models.UniqueConstraint(fields=["team", "week"], name="one_review_per_team_week")
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.week}"


class ReviewItem(models.Model):
    """A lead's grade as reviewed: confirmed or corrected, with a note. Corrections give
    each rep's grading accuracy."""

    class Verdict(models.TextChoices):
        CONFIRMED = "confirmed", _("确认")
        CORRECTED = "corrected", _("修正")

    review = models.ForeignKey(GradeReview, on_delete=models.CASCADE, related_name="items")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    grading = models.ForeignKey(Grading, on_delete=models.CASCADE, related_name="+")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("定级人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    given = models.CharField(_("定级"), max_length=1, choices=Grade)
    verdict = models.CharField(_("结论"), max_length=10, choices=Verdict)
    final = models.CharField(_("评审后等级"), max_length=1, choices=Grade)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("评审结论")
        verbose_name_plural = _("评审结论")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "lead"], name="one_verdict_per_lead")
        ]
        indexes = [models.Index(fields=["rep", "at"])]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.given} {self.verdict} {self.final}"


class InvalidReason(models.Model):
    """The list 无效 reasons are chosen from (R3.3), configurable by administrators."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    label = models.CharField(_("原因"), max_length=60)
    order = models.PositiveSmallIntegerField(_("顺序"), default=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("无效原因")
        verbose_name_plural = _("无效原因")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label


class LeadEvent(models.Model):
    """Customer behaviour reported by a website, an event tool or marketing (R3.6)."""

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", _("浏览页面")
        EVENT_ATTENDED = "event_attended", _("参加活动")
        INQUIRY = "inquiry", _("咨询提问")
        DOWNLOAD = "download", _("下载资料")
        EMAIL_OPENED = "email_opened", _("打开邮件")
        TRIAL = "trial", _("申请试用")
        OTHER = "other", _("其他")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("行为"), max_length=20, choices=Kind)
    at = models.DateTimeField(_("发生时间"))
    detail = models.CharField(_("内容"), max_length=500, blank=True)
    source = models.CharField(_("来源"), max_length=60, blank=True)
    payload = models.JSONField(_("附加数据"), default=dict, blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("客户行为")
        verbose_name_plural = _("客户行为")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["lead", "at"])]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class PlaybookStep(models.Model):
    """A recommended action of a grade's conversion strategy (转化策略, R3.7)."""

    grade = models.CharField(_("等级"), max_length=1, choices=Grade)
    order = models.PositiveSmallIntegerField(_("顺序"), default=100)
    title = models.CharField(_("行动"), max_length=200)
    detail = models.TextField(_("说明"), max_length=1000, blank=True)
    due_in = models.PositiveSmallIntegerField(
        _("建议完成时限"), default=1, validators=[MinValueValidator(1)]
    )
    due_unit = models.CharField(_("单位"), max_length=4, choices=Unit, default=Unit.DAY)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("转化策略")
        verbose_name_plural = _("转化策略")
        ordering = ["grade", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.grade}: {self.title}"
