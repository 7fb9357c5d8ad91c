"""R1.7 real data: the Olist marketing funnel (../shared/data/olist), leads then closed deals,
imported with the mappings in docs/olist/, every row accounted for. Skipped without the data."""

import csv
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from leadflow.accounts.models import Role, User
from leadflow.intake.models import ImportJob
from leadflow.leads.models import Lead, StageChange, Status

from ..factories import make_user

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("LEADFLOW_OLIST_DIR", ROOT.parent / "shared" / "data" / "olist"))
LEADS = DATA / "olist_marketing_qualified_leads_dataset.csv"
DEALS = DATA / "olist_closed_deals_dataset.csv"
pytestmark = pytest.mark.skipif(not LEADS.exists(), reason=f"Olist data not found in {DATA}")


@pytest.mark.django_db
def test_r1_7_olist_leads_then_closed_deals_every_row_accounted_for(tmp_path):
    admin = make_user("admin1", Role.ADMIN)
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    call_command("loaddata", str(ROOT / "docs" / "olist" / "channels.json"), verbosity=0)
    call_command(
        "import", str(LEADS), channel="OL", mapping=str(ROOT / "docs/olist/leads-mapping.json"),
        report=str(tmp_path / "leads-rejected.xlsx"),
    )  # fmt: skip
    leads_job = ImportJob.objects.get(file_name=LEADS.name)
    assert leads_job.counts["created"] == 8000 and sum(leads_job.counts.values()) == 8000

    call_command(
        "import", str(DEALS), channel="OL", mapping=str(ROOT / "docs/olist/deals-mapping.json"),
        report=str(tmp_path / "deals-rejected.xlsx"),
    )  # fmt: skip
    deals_job = ImportJob.objects.get(file_name=DEALS.name)
    assert deals_job.counts["updated"] == 842 and sum(deals_job.counts.values()) == 842

    with LEADS.open(encoding="utf-8") as f:
        origins = Counter(r["origin"] or "(missing)" for r in csv.DictReader(f))
    codes = json.loads((ROOT / "docs/olist/leads-mapping.json").read_text())["values"]["channel"]
    by_channel = Counter(Lead.objects.values_list("channel__code", flat=True).iterator())
    assert by_channel == Counter({codes.get(o, "OL"): n for o, n in origins.items()})
    assert origins["organic_search"] == 2296  # REFERENCE.md O1

    won = Lead.objects.filter(status=Status.WON)
    assert won.count() == 842
    assert won.values("owner").distinct().count() == 22  # distinct sr_id, REFERENCE.md O5
    top = Counter(won.values_list("owner__display_name", flat=True))
    assert top["4ef15afb4b2723d8f3d81e51ec7afefe"] == 133
    assert StageChange.objects.filter(to_status=Status.WON).count() == 842
    negative = Lead.objects.get(external_id="b91cf8812365f50ff4bda4bcd6206b05")
    assert negative.won_at < negative.acquired_at  # dated as in the file, REFERENCE.md O3b

    again = ImportJob.objects.count()
    call_command(
        "import", str(LEADS), channel="OL", mapping=str(ROOT / "docs/olist/leads-mapping.json"),
    )  # fmt: skip
    assert ImportJob.objects.count() == again + 1
    assert Lead.objects.count() == 8000  # re-importing creates nothing


@pytest.mark.django_db(transaction=True)
def test_r1_7_olist_through_the_web_ui(client, settings):
    """The same two files through upload → mapping (with the origin values translated) → run."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    call_command("loaddata", str(ROOT / "docs" / "olist" / "channels.json"), verbosity=0)
    admin = make_user("admin1", Role.ADMIN)
    client.force_login(admin)
    spec = json.loads((ROOT / "docs/olist/leads-mapping.json").read_text())

    def upload_and_map(path: Path, spec: dict) -> ImportJob:
        client.post(
            reverse("intake:imports"),
            {"file": SimpleUploadedFile(path.name, path.read_bytes()), "channel": "OL"},
        )
        job = ImportJob.objects.latest("pk")
        page = client.get(reverse("intake:import-mapping", args=[job.pk])).content.decode()
        form = {f"col_{i}": spec["columns"].get(h, "") for i, h in enumerate(job.headers)}
        form.update({f"default_{k}": v for k, v in spec["defaults"].items()})
        form.update(mode=spec["mode"], match_on=spec["match_on"])
        for flag in ("allow_no_contact", "create_missing_owners"):
            if spec.get(flag):
                form[flag] = "on"
        for field, translations in spec["values"].items():
            column = job.headers.index(next(h for h, f in spec["columns"].items() if f == field))
            assert f'id="values-{column}"' in page  # the origin values are listed to translate
            for k, raw in enumerate(translations):
                form[f"raw_{column}_{k}"] = raw
                form[f"map_{column}_{k}"] = translations[raw]
        response = client.post(reverse("intake:import-mapping", args=[job.pk]), form)
        assert response.status_code == 302, response.content.decode()[:2000]
        client.post(reverse("intake:import-start", args=[job.pk]))
        job.refresh_from_db()
        return job

    leads = upload_and_map(LEADS, spec)
    assert leads.counts["created"] == 8000, leads.counts
    deals = upload_and_map(DEALS, json.loads((ROOT / "docs/olist/deals-mapping.json").read_text()))
    assert deals.counts["updated"] == 842, deals.counts
    assert Lead.objects.filter(status=Status.WON).count() == 842
    assert Lead.objects.filter(channel__code="OLOS").count() == 2296
