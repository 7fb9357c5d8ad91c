"""`leadflow demo`: an organisation and leads whose history obeys the pipeline."""

import pytest
from django.core.management import call_command

from leadflow.accounts.models import RepProfile, Team, User
from leadflow.followups.models import Clock, FollowUp, Grading
from leadflow.leads.models import WORKING_STATUSES, Lead, StageChange

pytestmark = pytest.mark.django_db


def test_demo_builds_an_organisation_and_leads_with_consistent_history(capsys):
    call_command("demo", leads=250)
    out = capsys.readouterr().out
    assert "support" in out and "leadflow" in out  # the logins are printed
    assert Team.objects.count() == 3 and RepProfile.objects.count() == 12
    assert User.objects.get(username="admin").is_superuser
    statuses = set(Lead.objects.values_list("status", flat=True))
    assert len(statuses) >= 7, statuses
    # the current status of every lead is where its last StageChange went
    last = {}
    for change in StageChange.objects.order_by("at", "pk"):
        last[change.lead_id] = change.to_status
    assert all(last[pk] == status for pk, status in Lead.objects.values_list("pk", "status"))
    # history never runs backwards: written in order, each change no earlier than the last
    times: dict[int, list] = {}
    for lead_id, at in StageChange.objects.order_by("pk").values_list("lead_id", "at"):
        times.setdefault(lead_id, []).append(at)
    assert all(t == sorted(t) for t in times.values())
    assert set(times) == set(Lead.objects.values_list("pk", flat=True))
    # R3.2, R3.4: follow-ups recorded through the service (some late), grades set after them,
    # and every lead being worked has its clock
    assert (
        FollowUp.objects.filter(late=True).exists() and FollowUp.objects.filter(late=False).exists()
    )
    assert Grading.objects.exists()
    working = Lead.objects.filter(status__in=WORKING_STATUSES)
    assert working.exists()
    assert set(working.values_list("pk", flat=True)) <= set(
        Clock.objects.filter(task=None).values_list("lead_id", flat=True)
    )


def test_demo_if_empty_leaves_existing_data_alone(capsys):
    call_command("demo", leads=30)
    count = Lead.objects.count()
    call_command("demo", "--if-empty")
    assert Lead.objects.count() == count
    assert "not loaded" in capsys.readouterr().out
