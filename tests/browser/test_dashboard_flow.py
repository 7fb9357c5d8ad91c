"""R4.1 in a real browser: the funnel renders with ECharts on the dashboard, and clicking a
stage opens the lead list behind it — exactly the leads the stage counted."""

import pytest

from ..analytics.test_dashboards import PERIOD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r4_1_the_funnel_renders_and_a_click_drills_down_to_its_leads(
    page, live_server, five, desk
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", desk.support.username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/dashboard/{PERIOD}")
    page.wait_for_selector("#chart-funnel[data-ready='1'] svg")
    funnel = page.locator("#chart-funnel svg")
    text = funnel.text_content()
    for label in ("线索  5", "核对通过  4", "初步接触  3", "成交  1"):
        assert label in text, text
    assert int(page.get_attribute("body", "data-charts-ready")) >= 5  # every chart drew
    for chart in ("dropouts", "cohorts", "channels", "curves", "losses"):
        assert page.locator(f"#chart-{chart} svg").count() == 1, chart

    funnel.locator("text", has_text="初步接触").first.click()
    page.wait_for_url("**/leads/?*reached=3*")
    rows = page.locator("#results tbody tr td:first-child a")
    assert sorted(rows.all_inner_texts()) == sorted(five[k].number for k in "abe")
    assert "到达「初步接触」及以后" in page.inner_text("#drill")
