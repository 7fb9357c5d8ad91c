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
