from django import forms
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Region, Role, Team, User
from leadflow.leads.models import CustomerType, Grade

from .models import AssignmentPolicy, AssignmentRule

GRADES = [(g, g) for g in Grade.values]


class AssignmentRuleForm(forms.ModelForm):
    regions = forms.MultipleChoiceField(
        label=_("大区"), choices=Region.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    grades = forms.MultipleChoiceField(
        label=_("等级"), choices=GRADES, required=False, widget=forms.CheckboxSelectMultiple
    )
    customer_types = forms.MultipleChoiceField(
        label=_("客户类型"),
        choices=CustomerType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = AssignmentRule
        fields = [
            "name",
            "order",
            "active",
            "regions",
            "provinces",
            "industries",
            "grades",
            "customer_types",
            "channels",
            "team",
            "rep",
            "note",
        ]
        widgets = {
            "provinces": forms.SelectMultiple(attrs={"size": 6}),
            "industries": forms.SelectMultiple(attrs={"size": 6}),
            "channels": forms.SelectMultiple(attrs={"size": 6}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        reps = User.objects.filter(groups__name=Role.REP, is_active=True).order_by("username")
        teams = Team.objects.all()
        if user is not None and not user.has_role(Role.ADMIN):
            teams = teams.filter(manager=user)
            reps = reps.filter(team__manager=user)
        self.fields["team"].queryset = teams
        self.fields["rep"].queryset = reps
        for name, field in self.fields.items():
            if not isinstance(field.widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                field.widget.attrs.setdefault(
                    "class",
                    "form-select"
                    if name in ("provinces", "industries", "channels", "team", "rep")
                    else "form-control",
                )


class PolicyForm(forms.ModelForm):
    class Meta:
        model = AssignmentPolicy
        fields = [
            "weight_region",
            "weight_industry",
            "weight_grade",
            "weight_customer_type",
            "confirm_hours",
            "decline_hours",
            "remind_hours",
            "pool_days_a",
            "pool_days_b",
            "pool_days_c",
            "pool_warn_hours",
            "claim_daily_limit",
            "pool_holding_cap",
            "reclaim_cooldown_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")
