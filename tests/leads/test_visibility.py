"""R5.1 visibility and masking: one query, one presenter."""

import pytest

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead, Status
from leadflow.leads.presenters import present_lead
from leadflow.leads.queries import visible_leads

from ..factories import TeamFactory, make_user, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    east, south = TeamFactory(name="华东组"), TeamFactory(name="华南组", region="华南")
    org = {
        "m_east": make_user("m-east", Role.MANAGER, east),
        "m_south": make_user("m-south", Role.MANAGER, south),
        "rep1": make_user("rep1", Role.REP, east),
        "rep2": make_user("rep2", Role.REP, east),
        "rep3": make_user("rep3", Role.REP, south),
        "support": make_user("sup", Role.SUPPORT),
        "marketing": make_user("mkt", Role.MARKETING),
        "admin": make_user("adm", Role.ADMIN),
    }
    east.manager, south.manager = org["m_east"], org["m_south"]
    east.save()
    south.save()
    return org


def own(lead: Lead, rep, status=Status.CONTACTING) -> Lead:
    Lead.objects.filter(pk=lead.pk).update(owner=rep, team=rep.team, status=status)
    return Lead.objects.get(pk=lead.pk)


def test_r5_1_each_role_sees_its_scope(org):
    support = org["support"]
    a = own(submit(support, phone="13912340001").lead, org["rep1"])
    b = own(submit(support, phone="13912340002").lead, org["rep3"])
    pooled = own(submit(support, phone="13912340003").lead, org["rep2"], Status.POOL)
    Lead.objects.filter(pk=pooled.pk).update(owner=None)

    def seen(user):
        return set(visible_leads(user).values_list("pk", flat=True))

    everything = set(Lead.objects.values_list("pk", flat=True))
    assert seen(org["rep1"]) == {a.pk, pooled.pk}
    assert seen(org["rep3"]) == {b.pk, pooled.pk}
    assert seen(org["m_east"]) == {a.pk, pooled.pk}  # the pooled lead was the team's
    # every manager sees the pool and the leads awaiting assignment, to assign them (R2.3)
    assert seen(org["m_south"]) == {b.pk, pooled.pk}
    assert seen(org["admin"]) == seen(support) == seen(org["marketing"]) == everything


def test_r5_1_one_teams_leads_are_what_the_user_sees_of_that_team(org):
    """`visible_leads(user, team=…)` is the user's view narrowed to the team, for every role
    and team; for the team's own manager without the visibility condition (no join to the
    team, no OR), as every lead of the team is theirs to see."""
    support, east, south = org["support"], org["rep1"].team, org["rep3"].team
    own(submit(support, phone="13912340011").lead, org["rep1"])
    own(submit(support, phone="13912340012").lead, org["rep2"], Status.WON)
    own(submit(support, phone="13912340013").lead, org["rep3"])
    pooled = own(submit(support, phone="13912340014").lead, org["rep3"], Status.POOL)
    Lead.objects.filter(pk=pooled.pk).update(owner=None)
    submit(org["rep2"], phone="13912340015")  # entered by a rep, in no team yet
    for user in org.values():
        for team in (east, south):
            narrowed = set(visible_leads(user, team=team.pk).values_list("pk", flat=True))
            expected = set(visible_leads(user).filter(team=team).values_list("pk", flat=True))
            assert narrowed == expected, (user.username, team.name)
    assert len(visible_leads(org["m_east"], team=east.pk)) == 2
    assert [lead.pk for lead in visible_leads(org["m_east"], team=south.pk)] == [pooled.pk]
    mine = str(visible_leads(org["m_east"], team=east.pk).query)
    others = str(visible_leads(org["m_east"], team=south.pk).query)
    assert " OR " not in mine and "accounts_team" not in mine
    assert " OR " in others


def test_r5_1_a_rep_sees_what_they_entered(org):
    lead = submit(org["rep2"]).lead
    assert list(visible_leads(org["rep2"])) == [lead]
    assert not visible_leads(org["rep1"]).exists()


def test_r5_1_contacts_outside_scope_are_masked_by_the_one_presenter(org):
    lead = own(
        submit(org["support"], phone="13800138000", email="buyer@example.com", wechat="wx123").lead,
        org["rep1"],
    )
    view = present_lead(lead, org["marketing"])
    assert (view.phone_e164, view.email, view.wechat) == ("138****8000", "b***@example.com", "w**")
    assert view.contact_masked
    for who in ("rep1", "m_east", "admin"):
        assert present_lead(lead, org[who]).phone_e164 == "+8613800138000", who
    # support sees contacts while verifying, not after the lead has moved on
    assert present_lead(lead, org["support"]).contact_masked is False  # support entered it
    other = own(submit(org["rep2"], phone="13912340009").lead, org["rep2"])
    assert present_lead(other, org["support"]).contact_masked is True


def test_r5_1_support_sees_contacts_of_leads_in_verification(org):
    lead = submit(org["rep1"], phone="13912340010").lead
    assert present_lead(lead, org["support"]).phone_e164 == "+8613912340010"


def test_r5_1_inactive_or_anonymous_users_see_nothing(org, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    submit(org["support"])
    assert not visible_leads(AnonymousUser()).exists()
    org["admin"].is_active = False
    assert not visible_leads(org["admin"]).exists()


def test_r5_1_masked_contacts_in_the_web_list_and_detail(client, org):
    lead = own(submit(org["support"], phone="13800138000").lead, org["rep1"])
    client.force_login(org["marketing"])
    listing = client.get("/leads/").content.decode()
    detail = client.get(f"/leads/{lead.number}/").content.decode()
    for page in (listing, detail):
        assert "138****8000" in page and "+8613800138000" not in page
    client.force_login(org["rep3"])
    assert client.get(f"/leads/{lead.number}/").status_code == 404
