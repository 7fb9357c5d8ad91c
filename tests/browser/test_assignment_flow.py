"""R2.4, R2.5 in a real browser: a rep sees the lead in the inbox with its countdown,
declines it with a reason, the next rep accepts it; the lead page says why."""

import pytest
from django.utils import timezone

from leadflow.accounts.models import Role, Team
from leadflow.intake.services import approve_lead
from leadflow.leads.models import Lead, Status

from ..factories import make_user, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/my-day/")  # a rep starts the day there


def test_r2_5_decline_then_accept_in_the_browser(browser, live_server):
    team = Team.objects.create(name="华东一组", region="华东")
    manager = make_user("b-manager", Role.MANAGER, team)
    team.manager = manager
    team.save()
    reps = [make_user("b-rep1", Role.REP, team), make_user("b-rep2", Role.REP, team)]
    support = make_user("b-support", Role.SUPPORT)
    lead = submit(support, phone="13913572101").lead
    lead = approve_lead(lead=lead, by=support, now=timezone.now())
    first = lead.owner
    second = next(r for r in reps if r != first)

    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, first.username)
    assert "1" in page.inner_text("#bell")  # the assignment notification
    page.goto(f"{live_server.url}/inbox/")
    row = page.locator(f"tr[data-number='{lead.number}']")
    page.wait_for_function(
        "document.querySelector('.lf-countdown').textContent.startsWith('剩余 23:')"
    )
    page.click("button[name=decline]")  # no reason: the browser refuses to send
    assert Lead.objects.get(pk=lead.pk).owner == first
    row.locator("input[name=reason]").fill("区域冲突，客户在外省")
    row.locator("button[name=decline]").click()
    page.wait_for_selector(".alert-success")
    assert "已拒绝" in page.inner_text(".alert-success")
    assert "没有待确认的线索" in page.inner_text("#inbox")
    context.close()

    lead.refresh_from_db()
    assert (lead.owner, lead.status) == (second, Status.ASSIGNED)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, second.username)
    page.goto(f"{live_server.url}/leads/{lead.number}/")
    why = page.inner_text("#why")
    assert "为什么分配给这位销售" in why and "已拒绝或超时未确认" in why  # the decliner
    page.click("#answer button[name=accept]")
    page.wait_for_selector(".alert-success")
    assert "已接收" in page.inner_text(".alert-success")
    assert page.inner_text("#lead-status") == "初步接触"
    context.close()
    assert Lead.objects.get(pk=lead.pk).status == Status.CONTACTING
