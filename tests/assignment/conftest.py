import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from leadflow.accounts.models import RepProfile, Role, Team
from leadflow.assignment.signals import bump
from leadflow.intake.services import approve_lead
from leadflow.leads.models import Industry

from ..factories import make_user, submit

_serial = itertools.count(2000)


def east_phone() -> str:
    return f"1391357{next(_serial):04d}"  # 江苏 → 华东


def north_phone() -> str:
    return f"1391123{next(_serial):04d}"  # 北京 → 华北


class Org:
    """Two teams: 华东 (manager m_east; reps east1, east2) and 华北 (m_north; north1)."""

    def __init__(self):
        self.east = Team.objects.create(name="华东一组", region="华东")
        self.north = Team.objects.create(name="华北一组", region="华北")
        self.m_east = make_user("m-east", Role.MANAGER, self.east)
        self.m_north = make_user("m-north", Role.MANAGER, self.north)
        self.east.manager, self.north.manager = self.m_east, self.m_north
        self.east.save()
        self.north.save()
        self.support = make_user("support-a", Role.SUPPORT)
        self.east1 = self.rep("east1", self.east, ["华东"])
        self.east2 = self.rep("east2", self.east, ["华东"])
        self.north1 = self.rep("north1", self.north, ["华北"])

    def rep(self, username, team, regions, **profile):
        user = make_user(username, Role.REP, team)
        user.email = f"{username}@example.cn"
        user.save()
        RepProfile.objects.filter(user=user).update(regions=regions, **profile)
        bump()  # an update() passes no signal: tell cached matching
        return user

    def lead(self, now, **overrides):
        """A lead from Jiangsu (华东: the phone's province), verified and so assigned."""
        overrides.setdefault("phone", east_phone())
        overrides.setdefault("acquired_at", (now - timedelta(hours=1)).isoformat())
        lead = submit(self.support, now=now, **overrides).lead
        return approve_lead(lead=lead, by=self.support, now=now)

    def unverified(self, now, **overrides):
        overrides.setdefault("phone", east_phone())
        overrides.setdefault("acquired_at", (now - timedelta(hours=1)).isoformat())
        return submit(self.support, now=now, **overrides).lead


@pytest.fixture
def org(db):
    assert Group.objects.filter(name=Role.REP).exists()
    return Org()


@pytest.fixture
def manufacturing(db):
    return Industry.objects.get(name="制造业")
