"""The weekly grade review (线索评审会, R3.5): a manager goes through the leads the team
graded that week and confirms or corrects each grade with a note. Corrections change the
lead's grade (and so its follow-up plan) and are kept: they give each rep's grading
accuracy — the share of their reviewed grades the review confirmed.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Role, Team, User
from leadflow.leads.models import Grade, Lead

from .models import GradeReview, Grading, ReviewItem
from .services import FollowUpError, set_grade

V = ReviewItem.Verdict


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def week_bounds(week: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = datetime.combine(week_of(week), time(0), tzinfo=zone)
    return start, start + timedelta(days=7)


def may_review(user: User, team: Team) -> bool:
    return user.has_role(Role.ADMIN) or (user.has_role(Role.MANAGER) and team.manager_id == user.pk)


def reviewable_teams(user: User):
    teams = Team.objects.order_by("name")
    return teams if user.has_role(Role.ADMIN) else teams.filter(manager=user)


@dataclass(frozen=True)
class Entry:
    """A lead graded in the week: its latest grading by a rep, and the verdict if given."""

    lead: Lead
    grading: Grading
    item: ReviewItem | None


def graded_in_week(team: Team, week: date) -> list[Entry]:
    """The team's leads graded by a rep during `week` (the latest grading of each), in the
    order they were graded, with the verdicts already given in the review."""
    start, end = week_bounds(week)
    gradings = (
        Grading.objects.filter(kind=Grading.Kind.REP, at__gte=start, at__lt=end)
        .filter(Q(lead__team=team) | Q(by__team=team))
        .select_related("lead", "lead__owner", "lead__industry", "lead__channel", "by")
        .order_by("lead_id", "-at", "-pk")
    )
    latest: dict[int, Grading] = {}
    for g in gradings:
        latest.setdefault(g.lead_id, g)
    review = GradeReview.objects.filter(team=team, week=week_of(week)).first()
    items = {i.lead_id: i for i in review.items.all()} if review else {}
    entries = [Entry(g.lead, g, items.get(g.lead_id)) for g in latest.values()]
    return sorted(entries, key=lambda e: (e.grading.at, e.lead.pk))


@transaction.atomic
def judge(
    *,
    team: Team,
    week: date,
    lead: Lead,
    by: User,
    verdict: str,
    note: str,
    now: datetime,
    grade: str = "",
) -> ReviewItem:
    """Confirm or correct one lead's grade in the team's review of `week`."""
    if not may_review(by, team):
        raise FollowUpError("forbidden", _("只有团队经理可以主持评审"), status=403)
    if verdict not in V.values:
        raise FollowUpError("bad_verdict", _("请选择确认或修正"), "verdict")
    note = (note or "").strip()
    entry = next((e for e in graded_in_week(team, week) if e.lead.pk == lead.pk), None)
    if entry is None:
        raise FollowUpError("not_in_review", _("该线索不在本周待评审的定级中"), "lead")
    if entry.item is not None:
        raise FollowUpError("already_reviewed", _("该线索本周已评审"), "lead")
    given = entry.grading.to_grade
    if verdict == V.CORRECTED:
        if grade not in Grade.values or grade == given:
            raise FollowUpError("grade_required", _("修正需要选择一个不同的等级"), "grade")
        if not note:
            raise FollowUpError("note_required", _("修正需要填写说明"), "note")
    review, _created = GradeReview.objects.get_or_create(
        team=team, week=week_of(week), defaults={"manager": by, "opened_at": now}
    )
    final = grade if verdict == V.CORRECTED else given
    try:
        with transaction.atomic():
            item = ReviewItem.objects.create(
                review=review,
                lead=lead,
                grading=entry.grading,
                rep=entry.grading.by,
                given=given,
                verdict=verdict,
                final=final,
                note=note[:300],
                by=by,
                at=now,
            )
    except IntegrityError as exc:  # a second manager's click a moment later
        raise FollowUpError("already_reviewed", _("该线索本周已评审")) from exc
    if verdict == V.CORRECTED:
        reason = str(_("评审修正：%(n)s")) % {"n": note}
        set_grade(lead=lead, by=by, grade=final, reason=reason, now=now, review=True)
    return item


@transaction.atomic
def close(*, team: Team, week: date, by: User, summary: str, now: datetime) -> GradeReview:
    if not may_review(by, team):
        raise FollowUpError("forbidden", _("只有团队经理可以主持评审"), status=403)
    review, _created = GradeReview.objects.get_or_create(
        team=team, week=week_of(week), defaults={"manager": by, "opened_at": now}
    )
    review.closed_at, review.summary = now, (summary or "").strip()[:4000]
    review.save(update_fields=["closed_at", "summary"])
    return review


@dataclass(frozen=True)
class Accuracy:
    rep: User
    reviewed: int
    confirmed: int

    @property
    def corrected(self) -> int:
        return self.reviewed - self.confirmed

    @property
    def rate(self) -> float | None:
        """Share of the rep's reviewed grades that the review confirmed (None: none yet)."""
        return self.confirmed / self.reviewed if self.reviewed else None


def accuracy(
    *,
    reps,
    since: datetime | None = None,
    until: datetime | None = None,
    meeting: tuple[Team, date] | None = None,
) -> list[Accuracy]:
    """Grading accuracy per rep from the review verdicts (R3.5, R4.5): all of them, those
    given in a period, or those of one team's review of one week."""
    items = ReviewItem.objects.filter(rep__in=reps)
    if meeting is not None:
        items = items.filter(review__team=meeting[0], review__week=week_of(meeting[1]))
    if since is not None:
        items = items.filter(at__gte=since)
    if until is not None:
        items = items.filter(at__lt=until)
    counts = {
        row["rep"]: row
        for row in items.values("rep").annotate(
            reviewed=Count("pk"), confirmed=Count("pk", filter=Q(verdict=V.CONFIRMED))
        )
    }
    return [
        Accuracy(
            rep,
            counts.get(rep.pk, {}).get("reviewed", 0),
            counts.get(rep.pk, {}).get("confirmed", 0),
        )
        for rep in reps
    ]
