"""The weekly review report (复盘, R4.7): one team, one week (Monday to Sunday, Shanghai).

What the week brought (the leads acquired in it: their funnel and channels), what the team
did in it (assignments answered, first contacts and follow-ups made, deals won, leads moved
on, rules kept, deadlines missed), why leads were lost, how the week's grading review went,
and the eight weeks up to it. On screen (printable) and as an Excel workbook with native
charts; every Monday at 09:00 each team's manager is told through the outbox that last
week's report is ready (`send_due`, a sweep).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from leadflow.accounts.models import Role, Team, User
from leadflow.core.workcalendar import SHANGHAI
from leadflow.followups import review
from leadflow.leads.models import FUNNEL_STEPS, Status
from leadflow.leads.queries import visible_leads

from . import dashboards, queries
from .queries import Filters

TREND_WEEKS = 8
SEND_AT = time(9)  # Monday morning, Shanghai


@dataclass
class WeeklyReport:
    team: Team
    week: date  # its Monday
    filters: Filters  # the team, and the week as the acquisition period
    summary: list[tuple[str, object]]
    funnel: queries.Funnel  # of the leads acquired in the week
    channels: list[queries.ChannelRow]
    moved: list[tuple[str, int]]  # leads moved into each stage during the week
    activity: list[queries.ActivityRow]
    discipline: list[queries.DisciplineRow]
    team_discipline: queries.DisciplineRow | None
    misses: dict  # the heat map's data (dashboards.heat_chart)
    losses: queries.Losses
    accuracy: list  # (rep, reviewed, confirmed) for the week's grading review
    trend: list[tuple[date, int, int]]  # (week, leads acquired, won)

    @property
    def charts(self) -> dict:
        """What the page's ECharts draw: the dashboard's charts, for the week."""
        return {
            "funnel": dashboards.funnel_chart(self.funnel, self.filters),
            "dropouts": dashboards.dropouts_chart(self.funnel, self.filters),
            "channels": dashboards.channels_chart(self.channels, self.filters),
            "heat": self.misses,
            "losses": dashboards.losses_chart(self.losses, self.filters),
        }

    @property
    def trend_chart(self) -> dict:
        return {
            "weeks": [w.strftime("%m-%d") for w, _n, _w in self.trend],
            "leads": [n for _w, n, _x in self.trend],
            "won": [w for _x, _n, w in self.trend],
        }


def report(user: User, team: Team, week: date, *, now: datetime) -> WeeklyReport:
    """The week's report over the team's leads that `user` may see."""
    week = review.week_of(week)
    start, end = review.week_bounds(week)
    team_leads = visible_leads(user, team=team.pk)
    filters = Filters(since=week, until=week + timedelta(days=6), team=team.pk)
    acquired = filters.visible_to(user)
    [funnel] = queries.funnel(acquired)
    moved = queries.moved(team_leads, during=(start, end))
    discipline = queries.discipline(team_leads, now=min(now, end), during=(start, end))
    activity = queries.activity(team_leads, during=(start, end))
    last = min(end, now).astimezone(SHANGHAI).date()
    misses = queries.sla_misses(team_leads, now=min(end, now), since=week, until=last)
    reps = list(User.objects.filter(team=team, groups__name=Role.REP).order_by("username"))
    weeks = [week - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    won = sum(r.won for r in activity)
    amount = sum((r.won_amount for r in activity), start=0)
    team_row = queries.by_team(discipline).get(str(team))
    return WeeklyReport(
        team=team,
        week=week,
        filters=filters,
        summary=[
            (_("新增线索"), funnel.leads),
            (_("本周首次联系"), sum(r.first_contacts for r in activity)),
            (_("本周跟进记录"), sum(r.followups for r in activity)),
            (_("本周成交"), won),
            (_("成交金额(元)"), amount),
            (_("本周转为无效"), moved.get(Status.INVALID, 0)),
            (_("本周退回公海"), moved.get(Status.POOL, 0)),
            (_("首次联系按时率"), _rate(team_row.first_contact.rate if team_row else None)),
            (_("当前逾期"), team_row.overdue_now if team_row else 0),
        ],
        funnel=funnel,
        channels=queries.channels(acquired, filters=filters),
        moved=[(str(label), moved.get(status, 0)) for _r, status, label in FUNNEL_STEPS if status]
        + [(str(Status.INVALID.label), moved.get(Status.INVALID, 0))]
        + [(str(Status.POOL.label), moved.get(Status.POOL, 0))],
        activity=activity,
        discipline=discipline,
        team_discipline=team_row,
        misses=dashboards.heat_chart(misses, week, week + timedelta(days=6), filters),
        losses=queries.losses(team_leads, during=(start, end)),
        accuracy=[
            (a.rep, a.reviewed, a.confirmed)
            for a in review.accuracy(reps=reps, meeting=(team, week))
        ],
        trend=queries.weekly_trend(team_leads, weeks=weeks),
    )


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


# --- the Monday notice -------------------------------------------------------------------------


def send_due(now: datetime) -> int:
    """From Monday 09:00 (Shanghai): tell each team's manager that last week's report is
    ready, with its links. Once per team and week: the outbox's dedup key sees to it, so a
    sweeper that was down sends it late rather than never, and two sweepers send it once."""
    from leadflow.notifications.services import Message, notify, was_told

    local = now.astimezone(SHANGHAI)
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, SEND_AT, SHANGHAI):
        monday -= timedelta(days=7)  # before 09:00 on Monday: last Monday's is the latest due
    week = monday - timedelta(days=7)
    sent = 0
    teams = Team.objects.filter(manager__isnull=False, manager__is_active=True)
    for team in teams.select_related("manager"):
        key = f"weekly-review:{team.pk}:{week.isoformat()}"
        if was_told(key, team.manager):
            continue
        with translation.override(settings.LANGUAGE_CODE):  # the texts outlive this sweep
            link = reverse("analytics:weekly", args=[team.pk, week.isoformat()])
            message = Message(
                kind="weekly_review",
                key=key,
                title=_("%(t)s %(w)s 周复盘报告已生成") % {"t": team.name, "w": week.isoformat()},
                lines=(
                    _("查看报告：%(l)s") % {"l": link},
                    _("下载 Excel：%(l)s") % {"l": link + "report.xlsx"},
                ),
                link=link,
                data={"team": team.pk, "week": week.isoformat()},
                team_robot=False,  # for the manager: the figures name reps
            )
            sent += notify(message, [team.manager], now=now)
    return sent
