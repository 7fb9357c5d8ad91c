import time

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ExcludedNeed(models.Model):
    """A word or phrase that marks a need LeadFlow's company does not serve (R1.4)."""

    phrase = models.CharField(_("排除词"), max_length=60, unique=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("需求排除词")
        verbose_name_plural = _("需求排除词")
        ordering = ["phrase"]

    def __str__(self) -> str:
        return self.phrase


CACHE_KEY = "leadflow:excluded-needs"


LOCAL_TTL = 10.0
_local: dict = {"at": -LOCAL_TTL, "phrases": []}


def excluded_phrases() -> list[str]:
    """The active exclusion phrases: from this process's memory for up to LOCAL_TTL seconds,
    else from the shared cache, else from the table (both cleared on every save)."""
    if time.monotonic() - _local["at"] < LOCAL_TTL:
        return _local["phrases"]
    phrases = cache.get(CACHE_KEY)
    if phrases is None:
        phrases = list(ExcludedNeed.objects.filter(active=True).values_list("phrase", flat=True))
        cache.set(CACHE_KEY, phrases, 300)
    _local.update(at=time.monotonic(), phrases=phrases)
    return phrases


def _forget(**_kwargs) -> None:
    _local["at"] = -LOCAL_TTL
    cache.delete(CACHE_KEY)


post_save.connect(_forget, sender=ExcludedNeed, dispatch_uid="excluded-needs-save")
post_delete.connect(_forget, sender=ExcludedNeed, dispatch_uid="excluded-needs-delete")


class ImportMode(models.TextChoices):
    CREATE = "create", _("新建")
    UPDATE = "update", _("更新")
    UPSERT = "upsert", _("新建或更新")


class MatchOn(models.TextChoices):
    NUMBER = "number", _("线索编号")
    EXTERNAL_ID = "external_id", _("外部编号")


class MappingSettings(models.Model):
    """How a file's columns become lead fields; a saved mapping and each job hold one."""

    columns = models.JSONField(_("列对应"), default=dict)
    defaults = models.JSONField(_("固定值"), default=dict, blank=True)
    values = models.JSONField(_("取值对应"), default=dict, blank=True)
    mode = models.CharField(_("方式"), max_length=10, choices=ImportMode, default=ImportMode.CREATE)
    match_on = models.CharField(
        _("更新依据"), max_length=12, choices=MatchOn, default=MatchOn.NUMBER
    )
    create_missing_owners = models.BooleanField(_("创建缺失的历史负责人"), default=False)
    allow_no_contact = models.BooleanField(_("允许无联系方式（匿名化的历史数据）"), default=False)

    SETTINGS = (
        "columns",
        "defaults",
        "values",
        "mode",
        "match_on",
        "create_missing_owners",
        "allow_no_contact",
    )

    class Meta:
        abstract = True

    def settings(self) -> dict:
        return {name: getattr(self, name) for name in self.SETTINGS}

    def take_settings(self, spec: dict) -> None:
        """Copy the settings in `spec` (a saved mapping's, or a mapping file's) onto this."""
        for name in self.SETTINGS:
            if name in spec:
                setattr(self, name, spec[name])


class ImportMapping(MappingSettings):
    """A confirmed column mapping, saved per channel and offered again next time (R1.7).

    `columns` maps a file header to a LeadFlow field; `defaults` gives a field one value for
    every row (e.g. 行业 = 其他 when the file has none); `values` translates a column's values
    (e.g. 来源 'organic_search' → channel code 'SEO')."""

    channel = models.ForeignKey(
        "leads.Channel", on_delete=models.CASCADE, related_name="import_mappings"
    )
    name = models.CharField(_("名称"), max_length=60)
    updated_at = models.DateTimeField(_("更新时间"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("导入映射")
        verbose_name_plural = _("导入映射")
        constraints = [
            models.UniqueConstraint(fields=["channel", "name"], name="import_mapping_unique")
        ]
        ordering = ["channel", "name"]

    def __str__(self) -> str:
        return f"{self.channel} · {self.name}"


class ImportJob(MappingSettings):
    """One uploaded file on its way in: mapping, dry run, the run itself and its outcome.

    The run goes in batches; each batch commits its leads, its rejected rows and the new
    `rows_done` together, so a run killed half-way resumes where it stopped (R1.7)."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("待确认映射")
        READY = "ready", _("待导入")
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    file_name = models.CharField(_("文件名"), max_length=255)
    file_format = models.CharField(_("格式"), max_length=8)
    file_sha256 = models.CharField(max_length=64)
    content = models.BinaryField(editable=False)
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)
    headers = models.JSONField(_("表头"), default=list)
    total_rows = models.PositiveIntegerField(_("行数"), default=0)
    channel = models.ForeignKey("leads.Channel", on_delete=models.PROTECT, related_name="+")
    mapping = models.ForeignKey(
        ImportMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(_("状态"), max_length=10, choices=State, default=State.UPLOADED)
    dry_run = models.JSONField(_("试运行结果"), default=dict, blank=True)
    counts = models.JSONField(_("结果"), default=dict, blank=True)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"))
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def progress(self) -> int:
        return round(100 * self.rows_done / self.total_rows) if self.total_rows else 100


class ImportIssue(models.Model):
    """A rejected row, kept as it was in the file with its row number, column and reason."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(_("行号"))
    column = models.CharField(_("列"), max_length=255, blank=True)
    field = models.CharField(_("字段"), max_length=40, blank=True)
    code = models.CharField(max_length=40)
    message = models.CharField(_("原因"), max_length=500)
    cells = models.JSONField(_("原始内容"), default=list)

    class Meta:
        verbose_name = _("导入问题")
        verbose_name_plural = _("导入问题")
        ordering = ["job", "row", "pk"]
        indexes = [models.Index(fields=["job", "row"])]

    def __str__(self) -> str:
        return f"#{self.job_id} row {self.row}: {self.message}"


class ImportedRow(models.Model):
    """The fingerprint of a file row that made a lead or a touch: importing the same row
    again finds it here and creates nothing new."""

    fingerprint = models.CharField(max_length=64, unique=True)
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.SET_NULL, null=True, related_name="+")

    def __str__(self) -> str:
        return self.fingerprint


class ExportLog(models.Model):
    """Who exported what, when, with which filter and how many rows (R5.1)."""

    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"))
    kind = models.CharField(_("内容"), max_length=20)
    file_format = models.CharField(_("格式"), max_length=8)
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)

    class Meta:
        verbose_name = _("导出记录")
        verbose_name_plural = _("导出记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind}.{self.file_format} × {self.rows}"
