"""R1.1 channels and reference data; R5.1 role groups."""

import pytest
from django.contrib.auth.models import Group

from leadflow.accounts.models import Region, Role
from leadflow.leads.models import Channel, Industry, Province
from leadflow.leads.reference import DEFAULT_CHANNELS, default_channel_code, pinyin_initials

pytestmark = pytest.mark.django_db


def test_all_34_provincial_divisions_map_to_the_seven_regions():
    assert Province.objects.count() == 34
    assert set(Province.objects.values_list("region", flat=True)) == set(Region.values)
    assert Province.objects.get(short_name="广西").region == "华南"
    assert Province.objects.get(short_name="黑龙江").region == "东北"
    assert Province.objects.get(short_name="内蒙古").region == "华北"


def test_r1_1_the_seed_channels_exist_with_unique_pinyin_codes():
    roots = Channel.objects.filter(parent=None)
    assert {c.name for c in roots} == {name for name, _c, _s in DEFAULT_CHANNELS}
    codes = dict(roots.values_list("name", "code"))
    assert codes["官网注册"] == "G"
    assert codes["行业展会"] == "H" and codes["合作伙伴转介绍"] == "HZ"
    assert Channel.objects.values("code").distinct().count() == Channel.objects.count()
    sub = Channel.objects.get(parent__code="G", name="产品页")
    assert str(sub) == "官网注册-产品页" and sub.root.code == "G"


def test_r1_1_default_code_takes_the_shortest_free_prefix():
    assert pinyin_initials("官网注册") == "GWZC"
    assert default_channel_code("官网", set()) == "G"
    assert default_channel_code("官网", {"G"}) == "GW"
    assert default_channel_code("官网", {"G", "GW"}) == "G2"
    assert default_channel_code("webinar 直播", set()) == "W"


def test_r1_1_admin_creates_a_channel_with_a_default_code(admin_client):
    response = admin_client.post(
        "/admin/leads/channel/add/",
        {
            "code": "",
            "name": "视频号直播",
            "category": "online",
            "requires_verification": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Channel.objects.get(name="视频号直播").code == "SP"  # S is 市场活动


def test_industries_carry_a_target_flag():
    assert Industry.objects.get(name="制造业").is_target
    assert not Industry.objects.get(name="餐饮").is_target


def test_r5_1_role_groups_exist_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    support = Group.objects.get(name=Role.SUPPORT)
    assert support.permissions.filter(codename="verify_lead").exists()
    assert not Group.objects.get(name=Role.REP).permissions.filter(codename="verify_lead").exists()
    assert Group.objects.get(name=Role.ADMIN).permissions.count() > 20
