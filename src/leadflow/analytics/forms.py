"""The dashboards' filter bar: the filters of every report (R4.1), limited to what the
user's role may choose."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Region, Role, Team, User
from leadflow.leads.models import Channel, Grade, Industry

from .dashboards import managed_teams, role_of
from .queries import Filters

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)  # beyond: a typo, not a period


class DashboardFilter(forms.Form):
    since = forms.DateField(label=_("获取自"), required=False)
    until = forms.DateField(label=_("至"), required=False)
    channel = forms.ChoiceField(label=_("渠道"), required=False)
    team = forms.ModelChoiceField(
        label=_("团队"), queryset=Team.objects.none(), required=False, empty_label=_("全部")
    )
    rep = forms.ModelChoiceField(
        label=_("销售"), queryset=User.objects.none(), required=False, empty_label=_("全部")
    )
    industry = forms.ModelChoiceField(
        label=_("行业"),
        queryset=Industry.objects.order_by("name"),
        required=False,
        empty_label=_("全部"),
    )
    region = forms.ChoiceField(
        label=_("大区"), choices=[("", _("全部")), *Region.choices], required=False
    )
    grade = forms.ChoiceField(
        label=_("等级"), choices=[("", _("全部")), *Grade.choices], required=False
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        role = role_of(user)
        self.fields["channel"].choices = [("", _("全部"))] + [
            (c.code, f"{c.code} · {c}" if c.parent_id is None else f"— {c.code} · {c}")
            for c in _channel_tree()
        ]
        reps = User.objects.filter(groups__name=Role.REP, is_active=True).order_by("username")
        if role == "rep":
            del self.fields["team"], self.fields["rep"]
        elif role == "manager":
            teams = managed_teams(user)
            self.fields["team"].queryset = teams
            self.fields["team"].empty_label = None  # one of their teams at a time
            self.fields["rep"].queryset = reps.filter(team__in=teams)
        else:
            self.fields["team"].queryset = Team.objects.order_by("name")
            self.fields["rep"].queryset = reps
        for name, f in self.fields.items():
            f.widget.attrs["class"] = "form-select form-select-sm"
            if name in ("since", "until"):
                f.widget.input_type = "date"
                f.widget.attrs["class"] = "form-control form-control-sm"

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            day = data.get(name)
            if day and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("日期须在 2000 年至 2100 年之间"))
                data.pop(name, None)
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("开始日期不能晚于结束日期"), code="period")
        return data

    def filters(self) -> Filters:
        d = self.cleaned_data
        return Filters(
            since=d.get("since"),
            until=d.get("until"),
            channel=d.get("channel") or "",
            team=d["team"].pk if d.get("team") else None,
            rep=d["rep"].pk if d.get("rep") else None,
            industry=d["industry"].pk if d.get("industry") else None,
            region=d.get("region") or "",
            grade=d.get("grade") or "",
        )


def _channel_tree() -> list[Channel]:
    channels = list(Channel.objects.order_by("code"))
    children: dict[int, list[Channel]] = {}
    for c in channels:
        children.setdefault(c.parent_id, []).append(c)
    return [x for top in children.get(None, []) for x in (top, *children.get(top.pk, []))]
