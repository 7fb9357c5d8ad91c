"""Test data: users with roles, teams, and lead submissions through the real intake door."""

import itertools

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from leadflow.accounts.models import RepProfile, Role, Team, User
from leadflow.intake.services import submit_lead

_phones = itertools.count(13900000000 + 1357)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"测试团队{n}")
    region = "华东"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")


def make_user(username: str, role: str, team: Team | None = None) -> User:
    user = UserFactory(username=username, team=team)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    if role == Role.REP:
        RepProfile.objects.get_or_create(user=user)
    return User.objects.get(pk=user.pk)  # fresh: no cached roles


def next_phone() -> str:
    """A distinct, plausible mobile number for each call (no invented-looking patterns)."""
    while True:
        number = str(next(_phones))
        if len(set(number[3:])) >= 4 and "1234" not in number:
            return number


_companies = itertools.count(1)
_WORDS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def company_name() -> str:
    n = next(_companies)
    a, b = divmod(n, len(_WORDS))
    return f"{_WORDS[a % len(_WORDS)]}{_WORDS[b]}{n}号精密机械有限公司"


def lead_data(**overrides) -> dict:
    data = {
        "channel": "G",
        "company_name": company_name(),
        "contact_name": "王经理",
        "phone": next_phone(),
        "email": "",
        "industry": "制造业",
        "need": "采购设备，用于产线改造",
        "acquired_at": timezone.now().isoformat(),
    }
    data.update(overrides)
    return data


def submit(by: User, now=None, source: str = "test", **overrides):
    return submit_lead(data=lead_data(**overrides), by=by, source=source, now=now or timezone.now())
