"""The weekly review report (R4.7): one team and one week on a page, as an Excel workbook
with native charts, and the Monday 09:00 notice to each team's manager through the outbox."""

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from leadflow.analytics import weekly
from leadflow.analytics.workbook import workbook
from leadflow.notifications.models import Notification

from ..followups.conftest import at

pytestmark = pytest.mark.django_db

WEEK = date(2026, 11, 2)  # the Monday of five's November leads
NOW = at(2026, 11, 20, 10)


def test_r4_7_the_week_of_a_team_hand_computed(five, desk):
    r = weekly.report(desk.m_east, desk.east, date(2026, 11, 4), now=NOW)  # any day: its week
    assert r.week == WEEK
    assert r.funnel.leads == 2  # A and B; D, acquired too, has no team until assigned
    assert dict(r.summary)["本周成交"] == 1 and dict(r.summary)["成交金额(元)"] == 90000
    assert dict(r.summary)["本周转为无效"] == 1 and dict(r.summary)["本周首次联系"] == 2
    assert dict(r.moved) == {
        "核对通过": 2, "已分配": 2, "初步接触": 2, "需求明确": 1, "方案对比": 1,
        "商务谈判": 1, "成交": 1, "无效": 1, "公海": 0,
    }  # fmt: skip
    people = {a.rep.pk: a for a in r.activity}
    a, b = people[five["a"].owner_id], people[five["b"].owner_id]
    assert (a.offered, a.accepted, a.first_contacts, a.won, a.won_amount) == (
        1, 1, 1, 1, Decimal("90000"),
    )  # fmt: skip
    assert (b.offered, b.first_contacts, b.won) == (1, 1, 0)
    assert r.losses.reasons == [("预算远低于产品价格", 1)]
    assert [(w.isoformat(), n, won) for w, n, won in r.trend][-2:] == [
        ("2026-10-26", 0, 0),
        ("2026-11-02", 2, 1),
    ]
    october = weekly.report(desk.m_east, desk.east, date(2026, 10, 12), now=NOW)
    # C, and E: back in the pool, but the team that let it slip keeps it (R4.1)
    assert october.funnel.leads == 2 and dict(october.summary)["本周成交"] == 0
    slipped = weekly.report(desk.m_east, desk.east, date(2026, 10, 23), now=NOW)
    assert dict(slipped.moved)["公海"] == 1


def test_r4_7_the_workbook_has_every_part_and_native_charts(five, desk):
    r = weekly.report(desk.m_east, desk.east, WEEK, now=NOW)
    content = workbook(r)
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert book.sheet_names == [
        "概览", "漏斗", "本周推进", "渠道", "销售", "跟进纪律", "错过时限", "流失原因", "近8周",
    ]  # fmt: skip
    summary = {row[0]: row[1] for row in book.get_sheet_by_name("概览").to_python()[3:]}
    assert summary["新增线索"] == 2 and summary["本周成交"] == 1
    funnel = book.get_sheet_by_name("漏斗").to_python()
    assert [row[1] for row in funnel[3:]] == [2, 2, 2, 2, 1, 1, 1, 1]
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) >= 7  # funnel ×2, moved, channels, reps, discipline, losses, trend
        assert any(b"<c:barChart>" in z.read(n) for n in charts)
        assert any(b"<c:lineChart>" in z.read(n) for n in charts)


def test_r4_7_the_page_and_the_download_for_the_teams_manager_only(client, five, desk):
    client.force_login(desk.m_east)
    page = client.get(f"/weekly/{desk.east.pk}/{WEEK.isoformat()}/")
    assert page.status_code == 200 and "周复盘报告" in page.content.decode()
    assert client.get(f"/weekly/{desk.east.pk}/2026-11-05/").url.endswith("/2026-11-02/")
    xlsx = client.get(f"/weekly/{desk.east.pk}/{WEEK.isoformat()}/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx["Content-Disposition"]
    assert client.get(f"/weekly/{desk.east.pk}/not-a-day/").status_code == 404
    assert client.get(f"/weekly/{desk.east.pk}/9999-12-31/").status_code == 404  # not a 500
    assert client.get(f"/weekly/{desk.north.pk}/{WEEK.isoformat()}/").status_code == 403
    client.force_login(five["a"].owner)
    assert client.get(f"/weekly/{desk.east.pk}/{WEEK.isoformat()}/").status_code == 403


def test_r4_7_monday_nine_oclock_each_manager_is_told_once(desk):
    def told():
        return Notification.objects.filter(kind="weekly_review", channel="in_app")

    weekly.send_due(at(2026, 11, 9, 8, 59))  # Monday before nine: the week before's is due
    assert {n.payload["week"] for n in told()} == {"2026-10-26"}
    assert not told().filter(payload__week="2026-11-02").exists()
    weekly.send_due(at(2026, 11, 9, 9, 0))
    weekly.send_due(at(2026, 11, 9, 9, 5))  # the next sweep: nothing new
    notices = told().filter(payload__week="2026-11-02")
    assert sorted(n.recipient_id for n in notices) == sorted([desk.m_east.pk, desk.m_north.pk])
    mine = notices.get(recipient=desk.m_east)
    assert mine.payload["link"] == f"/weekly/{desk.east.pk}/2026-11-02/"
    assert "周复盘报告已生成" in mine.title
    # a sweeper down all Monday sends it on Wednesday, still once
    weekly.send_due(at(2026, 11, 11, 15))
    assert told().filter(payload__week="2026-11-02").count() == 2
