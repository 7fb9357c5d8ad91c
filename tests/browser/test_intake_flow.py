"""R1.5, R1.7, R1.8 in a real browser: log in, enter a lead, see the live duplicate warning,
verify the lead."""

import pytest

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead, Status

from ..factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/intake/queue/")


def fill_lead(page, live_server, *, company, phone):
    page.goto(f"{live_server.url}/intake/new/")
    page.select_option("#id_channel", "G")
    page.fill("#id_company_name", company)
    page.fill("#id_contact_name", "周先生")
    page.select_option("#id_industry", "制造业")
    page.fill("#id_need", "采购设备，用于产线自动化改造")
    page.fill("#id_phone", phone)


def test_r1_5_r1_7_r1_8_enter_see_the_duplicate_warning_and_verify(page, live_server):
    make_user("browser-support", Role.SUPPORT)
    log_in(page, live_server, "browser-support")

    fill_lead(page, live_server, company="苏州博远智能装备有限公司", phone="139 1357 2001")
    page.click("button[type=submit]")
    page.wait_for_selector("#lead-status")
    number = Lead.objects.get().number
    assert number in page.inner_text("h1")
    assert page.inner_text("#lead-phone") == "+8613913572001"

    # the same customer again: the warning appears while typing, before submitting
    fill_lead(page, live_server, company="另一家公司", phone="+86 139-1357-2001")
    warning = page.wait_for_selector("#dup-found")
    assert number in warning.inner_text() and "疑似重复" in warning.inner_text()

    # verify the first lead from its page
    page.goto(f"{live_server.url}/leads/{number}/")
    page.click("button[name=approve]")
    page.wait_for_url(f"{live_server.url}/intake/queue/")
    assert "核对通过" in page.inner_text(".alert")
    assert Lead.objects.get(number=number).status == Status.UNASSIGNED


def test_r1_8_return_with_a_reason_in_the_browser(page, live_server):
    rep = make_user("browser-rep", Role.REP)
    make_user("browser-support", Role.SUPPORT)
    from ..factories import submit

    lead = submit(rep, phone="13913572002").lead
    log_in(page, live_server, "browser-support")
    page.goto(f"{live_server.url}/leads/{lead.number}/")
    page.fill("input[name=reason]", "联系人姓名不完整")
    page.click("button[name=return]")
    page.wait_for_url(f"{live_server.url}/intake/queue/")
    lead.refresh_from_db()
    assert (lead.status, lead.return_reason) == (Status.RETURNED, "联系人姓名不完整")
