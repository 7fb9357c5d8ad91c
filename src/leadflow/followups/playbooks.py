"""Conversion strategy per grade (转化策略, R3.7): the grade's playbook turns into next-action
suggestions on the lead page; one click schedules a suggestion as a next action."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from leadflow.leads.models import Lead

from . import sla
from .models import PlaybookStep, Task
from .services import FollowUpError, add_task, load_plans


@dataclass(frozen=True)
class Suggestion:
    step: PlaybookStep
    due: datetime  # when it would be due if scheduled now


def suggestions(lead: Lead, *, now: datetime, plans: sla.Plans | None = None) -> list[Suggestion]:
    """The steps of the lead's grade not yet scheduled on it, with their suggested due."""
    if not lead.grade:
        return []
    plans = plans or load_plans()
    taken = set(
        Task.objects.filter(lead=lead, step__isnull=False).values_list("step_id", flat=True)
    )
    steps = PlaybookStep.objects.filter(grade=lead.grade, active=True).exclude(pk__in=taken)
    return [
        Suggestion(step, plans.after(lead.grade, now, step.due_in, step.due_unit)) for step in steps
    ]


def schedule(*, lead: Lead, step: PlaybookStep, by, now: datetime) -> Task:
    """Make a suggestion a scheduled next action, due as the playbook suggests."""
    if not step.active or step.grade != lead.grade:
        raise FollowUpError("not_suggested", _("该建议不适用于此线索的等级"), "step")
    if Task.objects.filter(lead=lead, step=step).exists():
        raise FollowUpError("already_scheduled", _("该建议已安排"), "step")
    due = load_plans().after(lead.grade, now, step.due_in, step.due_unit)
    return add_task(lead=lead, by=by, title=step.title, due=due, now=now, step=step)
