"""The lead form. It only renders fields and collects what was typed: every rule is applied
by `clean_submission` behind `submit_lead`, so the form and the API agree."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.leads.models import Channel, CustomerType, Industry, Lead, Province

from .services import submission_of
from .validation import REQUIRED, TEXT_LIMITS


def _channel_choices():
    channels = Channel.objects.filter(active=True).select_related("parent").order_by("code")
    return [("", "—"), *sorted(((c.code, f"{c} ({c.code})") for c in channels), key=lambda x: x[1])]


def _industry_choices():
    return [("", "—")] + [(i.name, i.name) for i in Industry.objects.filter(active=True)]


def _province_choices():
    return [("", "—")] + [(p.name, p.name) for p in Province.objects.all()]


class LeadForm(forms.Form):
    channel = forms.ChoiceField(label=_("来源渠道"), choices=_channel_choices)
    company_name = forms.CharField(label=_("客户名称"), help_text=_("个人线索填写姓名"))
    contact_name = forms.CharField(label=_("联系人"))
    phone = forms.CharField(label=_("手机"), help_text=_("手机和邮箱至少填写一项"))
    email = forms.CharField(label=_("邮箱"))
    industry = forms.ChoiceField(label=_("行业"), choices=_industry_choices)
    need = forms.CharField(label=_("初步需求"), widget=forms.Textarea(attrs={"rows": 3}))
    acquired_at = forms.DateTimeField(
        label=_("获取时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    wechat = forms.CharField(label=_("微信"))
    customer_type = forms.ChoiceField(label=_("客户类型"), choices=CustomerType.choices)
    province = forms.ChoiceField(
        label=_("省份"), choices=_province_choices, help_text=_("不填则按手机号归属地")
    )
    city = forms.CharField(label=_("城市"))
    employees = forms.CharField(label=_("员工人数"))
    annual_revenue = forms.CharField(label=_("年营收(万元)"))
    budget_min = forms.CharField(label=_("预算下限(元)"))
    budget_max = forms.CharField(label=_("预算上限(元)"))
    purchase_by = forms.DateField(
        label=_("采购时间节点"), widget=forms.DateInput(attrs={"type": "date"})
    )
    current_supplier = forms.CharField(label=_("现有供应商"))
    notes = forms.CharField(label=_("备注"), widget=forms.Textarea(attrs={"rows": 2}))

    MAIN = (
        "channel",
        "company_name",
        "contact_name",
        "phone",
        "email",
        "industry",
        "need",
        "acquired_at",
    )  # the required block; the rest folds under 补充信息

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = False
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            )
            if name in TEXT_LIMITS:
                field.widget.attrs["maxlength"] = TEXT_LIMITS[name]
            field.is_required_for_intake = name in REQUIRED

    def raw(self) -> dict:
        """What was typed, as strings, for `submit_lead`."""
        return {name: self.data.get(name, "") for name in self.fields}

    def main_fields(self):
        return [self[name] for name in self.MAIN]

    def extra_fields(self):
        return [self[name] for name in self.fields if name not in self.MAIN]


def initial_for(lead: Lead | None) -> dict:
    if lead is None:
        return {"acquired_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    data = submission_of(lead)
    data["acquired_at"] = timezone.localtime(lead.acquired_at).strftime("%Y-%m-%dT%H:%M")
    data["purchase_by"] = lead.purchase_by.isoformat() if lead.purchase_by else ""
    for name in ("employees", "annual_revenue", "budget_min", "budget_max"):
        data[name] = getattr(lead, name) or ""
    return data
