"""Web forms for the follow-up screens. They only parse: the services decide (R3.2–R3.5)."""

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.leads.models import Grade, Lead, Status

from . import queries
from .models import FollowUp, InvalidReason, SlaPolicy
from .services import PROFILE_FIELDS

LOCAL_MINUTE = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class Styled:
    """Bootstrap classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = css


def moment(label, required=True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=required, input_formats=LOCAL_MINUTE, widget=LocalDateTimeInput()
    )


class FollowUpForm(Styled, forms.Form):
    contact_at = moment(_("联系时间"))
    method = forms.ChoiceField(label=_("联系方式"), choices=FollowUp.Method.choices)
    contact_person = forms.CharField(label=_("客户对接人"), max_length=60, required=False)
    feedback = forms.CharField(
        label=_("客户反馈"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    intent_change = forms.CharField(
        label=_("意向变化"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如：从观望转为对比3家供应商")}),
    )
    need_change = forms.CharField(
        label=_("需求变化"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如：预算 5万→8万")}),
    )
    next_action = forms.CharField(label=_("下一步行动"), max_length=200, required=False)
    next_action_due = moment(_("下一步截止"), required=False)
    risk_note = forms.CharField(label=_("风险提示"), max_length=500, required=False)
    competitor = forms.CharField(label=_("竞争对手"), max_length=120, required=False)


class GradeForm(Styled, forms.Form):
    grade = forms.ChoiceField(label=_("等级"), choices=Grade.choices)
    reason = forms.CharField(
        label=_("定级依据"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("如：预算50万，两周内确定供应商")}),
    )


class MoveForm(Styled, forms.Form):
    to = forms.ChoiceField(label=_("变更为"), choices=Status.choices)
    need = forms.CharField(
        label=_("客户需求描述"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    won_amount = forms.DecimalField(
        label=_("成交金额(元)"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    won_at = moment(_("成交时间"), required=False)
    invalid_reason = forms.ModelChoiceField(
        label=_("无效原因"),
        queryset=InvalidReason.objects.filter(active=True),
        to_field_name="code",
        required=False,
    )
    reason = forms.CharField(label=_("说明"), max_length=500, required=False)

    def __init__(self, *args, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        if targets is not None:  # the moves this lead allows, for the lead page
            self.fields["to"].choices = [(s, Status(s).label) for s in targets]


class TaskForm(Styled, forms.Form):
    title = forms.CharField(label=_("行动"), max_length=200)
    due = moment(_("截止时间"))


class ProfileForm(Styled, forms.ModelForm):
    class Meta:
        model = Lead
        fields = list(PROFILE_FIELDS)
        labels = {"employees": _("公司规模(人)")}
        widgets = {
            "business_model": forms.TextInput(
                attrs={"placeholder": _("如：K12学校,500名学生,公办")}
            ),
            "concerns": forms.TextInput(attrs={"placeholder": _("价格 / 质量 / 服务")}),
            "personality": forms.TextInput(attrs={"placeholder": _("果断 / 谨慎")}),
        }


class PolicyForm(Styled, forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = [
            "active",
            "business_time",
            "first_contact_within",
            "first_contact_unit",
            "cadence_min",
            "cadence_max",
            "cadence_unit",
            "remind_before_hours",
        ]
        widgets = {
            "active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "business_time": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("active", "business_time"):
            self.fields[name].widget.attrs["class"] = "form-check-input"


PolicyFormSet = forms.modelformset_factory(SlaPolicy, form=PolicyForm, extra=0, can_delete=False)


class VerdictForm(Styled, forms.Form):
    verdict = forms.ChoiceField(
        choices=[("confirmed", _("确认")), ("corrected", _("修正"))], widget=forms.HiddenInput
    )
    grade = forms.ChoiceField(
        label=_("修正为"), choices=[("", "—"), *Grade.choices], required=False
    )
    note = forms.CharField(label=_("说明"), max_length=300, required=False)


def lead_page(lead: Lead, user, now: datetime) -> dict:
    """What the lead page shows of follow-ups: the panel and empty forms."""
    local_now = timezone.localtime(now).replace(second=0, microsecond=0)
    return {
        "fu": queries.panel(lead, user, now),
        "followup_form": FollowUpForm(initial={"contact_at": local_now, "method": "phone"}),
        "grade_form": GradeForm(initial={"grade": lead.grade}),
        "task_form": TaskForm(),
        "profile_form": ProfileForm(instance=lead),
        "move_form": MoveForm(
            targets=queries.targets(lead),
            initial={"won_at": local_now},
        ),
    }
