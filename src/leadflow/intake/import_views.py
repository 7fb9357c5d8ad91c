"""The import flow in the web UI (R1.7): upload → mapping → preview → dry run → run in the
background with a progress bar → result, with the rejected rows as a workbook."""

import io

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leadflow.accounts.models import Role
from leadflow.leads import catalog
from leadflow.leads.models import Channel, CustomerType, Industry
from leadflow.leads.queries import LeadFilter

from .columns import BY_NAME, FIELDS
from .exporting import export_csv, export_xlsx
from .importing import (
    OUTCOMES,
    TRANSLATED,
    create_job,
    preview,
    save_mapping,
    table_of,
    value_maps,
)
from .models import ImportJob, ImportMode, MatchOn
from .reports import write_error_workbook
from .tabular import FileRejected, cell_text
from .tasks import check_import, run_import

OUTCOME_LABELS = {
    "created": gettext_lazy("新建"),
    "screened_out": gettext_lazy("筛除"),
    "duplicates": gettext_lazy("重复（记为再次接触）"),
    "updated": gettext_lazy("更新"),
    "unchanged": gettext_lazy("无变化/已导入过"),
    "rejected": gettext_lazy("拒绝"),
}
DEFAULTABLE = ("industry", "need", "contact_name", "company_name", "customer_type", "province")


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件（.xlsx、.xls、.csv）"))
    channel = forms.ChoiceField(
        label=gettext_lazy("来源渠道（新线索默认）"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        channels = Channel.objects.filter(active=True).select_related("parent")
        self.fields["channel"].choices = sorted(
            ((c.code, f"{c} ({c.code})") for c in channels), key=lambda item: item[1]
        )


class MappingForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("导入方式"), choices=ImportMode.choices)
    match_on = forms.ChoiceField(label=gettext_lazy("更新依据"), choices=MatchOn.choices)
    create_missing_owners = forms.BooleanField(
        label=gettext_lazy("负责人不在系统中时，保留为停用的历史账号"), required=False
    )
    allow_no_contact = forms.BooleanField(
        label=gettext_lazy("允许无联系方式（匿名化的历史数据）"), required=False
    )
    save_as = forms.CharField(label=gettext_lazy("保存映射为"), max_length=60, required=False)

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— 不导入 —"))] + [
            (f.name, f"{f.label}{' · ' + _('历史') if f.history else ''}") for f in FIELDS
        ]
        self.headers = job.headers
        for i, header in enumerate(job.headers):
            self.fields[f"col_{i}"] = forms.ChoiceField(
                label=header or f"({i + 1})",
                choices=choices,
                required=False,
                initial=job.columns.get(header, ""),
            )
        for name in DEFAULTABLE:
            label = str(BY_NAME[name].label)
            initial = job.defaults.get(name, "")
            if name in ("industry", "customer_type"):
                options = (
                    [(i.name, i.name) for i in Industry.objects.filter(active=True)]
                    if name == "industry"
                    else list(CustomerType.choices)
                )
                self.fields[f"default_{name}"] = forms.ChoiceField(
                    label=label, required=False, initial=initial, choices=[("", "—"), *options]
                )
            else:
                self.fields[f"default_{name}"] = forms.CharField(
                    label=label, required=False, max_length=200, initial=initial
                )
        self.fields["mode"].initial = job.mode
        self.fields["match_on"].initial = job.match_on
        self.fields["create_missing_owners"].initial = job.create_missing_owners
        self.fields["allow_no_contact"].initial = job.allow_no_contact

    def clean(self):
        data = super().clean()
        chosen = [data.get(f"col_{i}") for i in range(len(self.headers))]
        picked = [c for c in chosen if c]
        for name in {c for c in picked if picked.count(c) > 1}:
            label = str(BY_NAME[name].label)
            self.add_error(
                None, _("“%(field)s”对应了多列，每个字段只能对应一列") % {"field": label}
            )
        mode = data.get("mode")
        if mode in (ImportMode.UPDATE, ImportMode.UPSERT) and data.get("match_on") not in picked:
            self.add_error("match_on", _("按此依据更新时，需要有一列对应它"))
        return data

    def mapping(self) -> tuple[dict, dict]:
        columns = {
            header: self.cleaned_data[f"col_{i}"]
            for i, header in enumerate(self.headers)
            if header and self.cleaned_data.get(f"col_{i}")
        }
        defaults = {
            name: self.cleaned_data[f"default_{name}"]
            for name in DEFAULTABLE
            if self.cleaned_data.get(f"default_{name}")
        }
        return columns, defaults


def _job(request: HttpRequest, pk: int) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.defer("content").select_related("channel"), pk=pk)
    user = request.user
    if job.created_by_id != user.pk and not (user.has_role(Role.ADMIN) or user.is_superuser):
        raise PermissionDenied
    return job


@login_required
@permission_required("leads.add_lead", raise_exception=True)
def imports(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                content = _read_upload(upload)
                job = create_job(
                    content=content,
                    file_name=upload.name,
                    channel=catalog.channel(form.cleaned_data["channel"]),
                    by=request.user,
                    now=timezone.now(),
                )
            except FileRejected as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("intake:import-mapping", job.pk)
        status = 400
    jobs = ImportJob.objects.defer("content").select_related("channel", "created_by")
    if not request.user.has_role(Role.ADMIN):
        jobs = jobs.filter(created_by=request.user)
    context = {"form": form, "jobs": jobs[:30], "active": "imports", "labels": OUTCOME_LABELS}
    return render(request, "intake/imports.html", context, status=status)


def _read_upload(upload) -> bytes:
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise FileRejected(
            "too_large",
            _("文件过大：最大 %(mb)s MB") % {"mb": settings.IMPORT_MAX_BYTES // 1_000_000},
        )
    return upload.read()


@login_required
@permission_required("leads.add_lead", raise_exception=True)
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.state not in (ImportJob.State.UPLOADED, ImportJob.State.READY):
        return redirect("intake:import-job", job.pk)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST" and form.is_valid():
        job.columns, job.defaults = form.mapping()
        job.mode, job.match_on = form.cleaned_data["mode"], form.cleaned_data["match_on"]
        job.create_missing_owners = form.cleaned_data["create_missing_owners"]
        job.allow_no_contact = form.cleaned_data["allow_no_contact"]
        job.values = _posted_values(request.POST, job)
        job.state, job.dry_run = ImportJob.State.READY, {}
        job.save()
        if form.cleaned_data["save_as"]:
            save_mapping(job, form.cleaned_data["save_as"])
        return redirect("intake:import-preview", job.pk)
    table = table_of(ImportJob.objects.get(pk=job.pk))
    samples = [[cell_text(c) or "" for c in cells] for _n, cells in table.rows[:3]]
    rows = [(form[f"col_{i}"], [s[i] for s in samples]) for i in range(len(job.headers))]
    defaults = [form[f"default_{name}"] for name in DEFAULTABLE]
    context = {
        "job": job,
        "form": form,
        "rows": rows,
        "defaults": defaults,
        "value_maps": value_maps(job, table),
        "active": "imports",
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/import_mapping.html", context, status=status)


def _posted_values(post, job: ImportJob) -> dict[str, dict[str, str]]:
    """The value translations on the form: map_<column>_<k> = LeadFlow value for the file
    value in raw_<column>_<k>; kept for the fields still mapped, left out when empty."""
    by_column = {i: job.columns.get(h) for i, h in enumerate(job.headers)}
    values: dict[str, dict[str, str]] = {}
    for key, raw in post.items():
        if not key.startswith("raw_"):
            continue
        _prefix, column, k = key.split("_", 2)
        name = by_column.get(int(column)) if column.isdigit() else None
        target = post.get(f"map_{column}_{k}", "").strip()[:100]
        if name in TRANSLATED and target and target != raw:
            values.setdefault(name, {})[raw[:200]] = target
    return values


@login_required
@permission_required("leads.add_lead", raise_exception=True)
def preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.state != ImportJob.State.READY:
        return redirect("intake:import-job", job.pk)
    rows = preview(ImportJob.objects.get(pk=job.pk), now=timezone.now())
    mapped = set(job.columns)
    return render(
        request,
        "intake/import_preview.html",
        {
            "job": job,
            "rows": rows,
            "headers": [(h, h in mapped) for h in job.headers],
            "labels": OUTCOME_LABELS,
            "active": "imports",
        },
    )


@require_POST
@login_required
@permission_required("leads.add_lead", raise_exception=True)
def check(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.state == ImportJob.State.READY:
        ImportJob.objects.filter(pk=job.pk).update(dry_run={"pending": True})
        transaction.on_commit(lambda: check_import.enqueue(job.pk))
    return redirect("intake:import-job", job.pk)


@require_POST
@login_required
@permission_required("leads.add_lead", raise_exception=True)
def start(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    retry = job.state == ImportJob.State.FAILED
    if job.state == ImportJob.State.READY or retry:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.QUEUED, heartbeat_at=timezone.now(), error=""
        )
        transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return redirect("intake:import-job", job.pk)


@login_required
@permission_required("leads.add_lead", raise_exception=True)
def job_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    template = "intake/_import_progress.html" if request.htmx else "intake/import_job.html"
    counts = [(OUTCOME_LABELS[k], k, job.counts.get(k, 0)) for k in OUTCOMES]
    checked = [(OUTCOME_LABELS[k], k, job.dry_run.get(k, 0)) for k in OUTCOMES]
    return render(
        request,
        template,
        {
            "job": job,
            "counts": counts,
            "checked": checked if "created" in job.dry_run else None,
            "checking": job.dry_run.get("pending", False),
            "working": job.state in (ImportJob.State.QUEUED, ImportJob.State.RUNNING),
            "active": "imports",
        },
    )


@login_required
@permission_required("leads.add_lead", raise_exception=True)
def rejected(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(request, pk)
    out = io.BytesIO()
    write_error_workbook(job, out)
    out.seek(0)
    stem = job.file_name.rsplit(".", 1)[0]
    return FileResponse(out, as_attachment=True, filename=f"{stem}-{_('被拒绝的行')}.xlsx")


@login_required
@permission_required("leads.export_lead", raise_exception=True)
def export_leads(request: HttpRequest, fmt: str) -> HttpResponse:
    """The lead list as the user filtered it, in .xlsx or .csv (R4.7, R5.1)."""
    f = LeadFilter.from_query(request.GET)
    if fmt == "csv":
        return export_csv(request.user, f)
    return export_xlsx(request.user, f)
