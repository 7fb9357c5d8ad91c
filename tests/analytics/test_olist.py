"""R4.1, R4.2 on real data: LeadFlow's own reports reproduce ../shared/data/olist/REFERENCE.md
(O0 overall conversion, O1 leads by origin, O2 won and conversion by origin, O3 median days
to won overall and by origin, O5 won deals per rep, O6 conversion by first-contact month) after importing the files as docs/olist/ describes. Skipped without
the data."""

import json
from collections import defaultdict
from datetime import date

import pytest
from django.core.management import call_command
from django.utils import timezone

from leadflow.accounts.models import Role, User
from leadflow.analytics import queries, rollups
from leadflow.leads.models import Lead, StageChange, reached

from ..factories import make_user
from ..intake.test_olist import DEALS, LEADS, ROOT

pytestmark = pytest.mark.skipif(
    not LEADS.exists(), reason=f"Olist data not found in {LEADS.parent}"
)

# REFERENCE.md O2: origin → (MQLs, won)
O2 = {
    "organic_search": (2296, 271),
    "paid_search": (1586, 195),
    "social": (1350, 75),
    "unknown": (1099, 179),
    "direct_traffic": (499, 56),
    "email": (493, 15),
    "referral": (284, 24),
    "other": (150, 4),
    "display": (118, 6),
    "other_publicities": (65, 3),
    "(missing)": (60, 14),
}
# REFERENCE.md O3: origin → (won, median days from first contact to won, fractional)
O3 = {
    "organic_search": (271, 14.9094),
    "paid_search": (195, 15.6746),
    "unknown": (179, 11.8273),
    "social": (75, 30.5564),
    "direct_traffic": (56, 10.5762),
    "referral": (24, 19.3708),
    "email": (15, 21.1250),
    "(missing)": (14, 8.0840),
    "display": (6, 9.1690),
    "other": (4, 9.5574),
    "other_publicities": (3, 35.7917),
}
# REFERENCE.md O6: first-contact month → (MQLs, won)
O6 = {
    date(2017, 6, 1): (4, 0),
    date(2017, 7, 1): (239, 2),
    date(2017, 8, 1): (386, 9),
    date(2017, 9, 1): (312, 7),
    date(2017, 10, 1): (416, 14),
    date(2017, 11, 1): (445, 18),
    date(2017, 12, 1): (200, 11),
    date(2018, 1, 1): (1141, 152),
    date(2018, 2, 1): (1028, 149),
    date(2018, 3, 1): (1174, 167),
    date(2018, 4, 1): (1352, 183),
    date(2018, 5, 1): (1303, 130),
}


@pytest.mark.django_db
def test_r4_1_r4_2_olist_figures_reproduced_by_leadflows_reports(tmp_path):
    admin = make_user("admin1", Role.ADMIN)
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    call_command("loaddata", str(ROOT / "docs" / "olist" / "channels.json"), verbosity=0)
    for path, mapping in ((LEADS, "leads-mapping.json"), (DEALS, "deals-mapping.json")):
        call_command(
            "import", str(path), channel="OL", mapping=str(ROOT / "docs/olist" / mapping),
            report=str(tmp_path / f"{path.stem}-rejected.xlsx"),
        )  # fmt: skip
    leads = Lead.objects.all()
    history = defaultdict(list)  # the import keeps each lead's furthest stage with its history
    for lead_id, to in StageChange.objects.values_list("lead_id", "to_status"):
        history[lead_id].append(to)
    assert all(f == reached(0, *history[pk]) for pk, f in leads.values_list("pk", "furthest"))

    [whole] = queries.funnel(leads)  # O0
    assert (whole.leads, whole.steps[-1].reached) == (8000, 842)
    assert round(whole.steps[-1].reached / whole.leads, 6) == 0.10525

    codes = json.loads((ROOT / "docs/olist/leads-mapping.json").read_text())["values"]["channel"]
    rows = {r.code: r for r in queries.channels(leads, top_level=False)}  # O1, O2
    for origin, (mqls, won) in O2.items():
        row = rows[codes.get(origin, "OL")]
        assert (row.leads, row.won) == (mqls, won), origin
        assert round(row.conversion, 6) == round(won / mqls, 6)
    [top] = queries.channels(leads)  # every origin under the one Olist channel
    assert (top.leads, top.won) == (8000, 842)

    cycle = queries.cycle(leads, now=timezone.now(), top_level=False)  # O3
    assert (cycle.to_won.n, round(cycle.to_won.median, 4)) == (842, 14.6507)
    assert round(cycle.to_won.min, 2) == -1.18  # the deal won before its first contact (O3b)
    for origin, (won, median) in O3.items():
        s = cycle.to_won_by_channel[codes.get(origin, "OL")]
        assert (s.n, round(s.median, 4)) == (won, median), origin

    closers = [r for r in queries.reps(leads) if r.won]  # O5: won deals per sales rep
    assert len(closers) == 22
    assert [r.won for r in closers[:5]] == [133, 82, 74, 64, 63]
    assert closers[0].rep.display_name == "4ef15afb4b2723d8f3d81e51ec7afefe"

    cohorts = {f.cohort: f for f in queries.funnel(leads, by_month=True)}  # O6
    assert {m: (f.leads, f.steps[-1].reached) for m, f in cohorts.items()} == O6

    # the same figures from the stored months, as an administrator's long view reads them
    assert rollups.refresh() > 0
    stored, now = queries.Filters().visible_to(admin), timezone.now()
    assert stored._rollup is not None and not stored._rollup.rest.exists()
    assert queries.funnel(stored, by_month=True) == queries.funnel(leads, by_month=True)
    assert queries.channels(stored, top_level=False) == queries.channels(leads, top_level=False)
    assert queries.cycle(stored, now=now, top_level=False) == queries.cycle(
        leads, now=now, top_level=False
    )
    assert queries.reps(stored) == queries.reps(leads)
