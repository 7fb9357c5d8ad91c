"""R3.2 and R3.3 in a real browser: a rep records a follow-up on the lead page, then drags
the lead on the kanban board — a column that needs evidence asks for it, and refuses
without it; a column that needs none takes the card at once."""

import pytest
from django.utils import timezone

from leadflow.accounts.models import Role, Team
from leadflow.assignment.services import accept
from leadflow.followups.models import FollowUp
from leadflow.intake.services import approve_lead
from leadflow.leads.models import Lead, StageChange, Status

from ..factories import make_user, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r3_2_r3_3_follow_up_then_kanban_moves_in_the_browser(page, live_server):
    team = Team.objects.create(name="华东一组", region="华东")
    rep = make_user("k-rep", Role.REP, team)
    support = make_user("k-support", Role.SUPPORT)
    lead = submit(support, phone="13913572202", budget_max="80000").lead
    now = timezone.now()
    lead = approve_lead(lead=lead, by=support, now=now)
    assert lead.owner == rep
    accept(lead=lead, rep=rep, now=now)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", rep.username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/my-day/")

    page.goto(f"{live_server.url}/leads/{lead.number}/")
    form = page.locator("#followup-form")
    form.locator("select[name=method]").select_option("wechat")
    form.locator("textarea[name=feedback]").fill("客户想看同行业案例")
    form.locator("input[name=competitor]").fill("某某科技")
    form.locator("button[name=record]").click()
    page.wait_for_selector(".alert-success")
    assert "微信跟进" in page.inner_text("#timeline")
    assert FollowUp.objects.filter(lead=lead, method="wechat").count() == 1

    page.goto(f"{live_server.url}/board/")
    card = page.locator(f".lf-kard[data-number='{lead.number}']")
    qualified = page.locator(".lf-column[data-status='qualified']")
    card.drag_to(qualified)
    dialog = page.locator("#move-dialog")
    dialog.locator("textarea[name=need]").wait_for()
    assert dialog.locator("[data-field=won_amount]").is_hidden()  # only what this move needs
    dialog.locator("button[name=move]").click()  # no need given: refused, in the dialog
    dialog.locator(".invalid-feedback").wait_for()
    assert "需要填写客户需求描述" in dialog.inner_text()
    assert Lead.objects.get(pk=lead.pk).status == Status.CONTACTING
    dialog.locator("textarea[name=need]").fill("20台检测设备，预算8万")
    dialog.locator("button[name=move]").click()
    page.wait_for_selector(
        f".lf-column[data-status='qualified'] .lf-kard[data-number='{lead.number}']"
    )
    change = StageChange.objects.filter(lead=lead).last()
    assert (change.to_status, change.evidence["need"]) == ("qualified", "20台检测设备，预算8万")

    card = page.locator(f".lf-kard[data-number='{lead.number}']")
    card.drag_to(page.locator(".lf-column[data-status='evaluating']"))  # needs nothing
    page.wait_for_selector(
        f".lf-column[data-status='evaluating'] .lf-kard[data-number='{lead.number}']"
    )
    assert Lead.objects.get(pk=lead.pk).status == Status.EVALUATING
