"""Screening findings stored on a lead (R1.4): a code, a severity and the facts, rendered in
the reader's language. `intake.screening` decides them; this module names and explains them."""

from django.utils.translation import gettext_lazy as _

from leadflow.core.masking import mask_email, mask_phone

REJECT = "reject"  # the lead is screened out (kept, with this reason)
FLAG = "flag"  # the lead goes on, with a warning for the verifier

MESSAGES = {
    "phone_fake": _("手机号疑似虚假号码：%(value)s"),
    "phone_invalid": _("手机号无效（号段或位数不对）：%(value)s"),
    "email_invalid": _("邮箱格式无效：%(value)s"),
    "industry_not_target": _("非目标行业：%(value)s"),
    "need_excluded": _("需求命中排除词“%(value)s”"),
    "seen_before": _("曾有历史线索 %(value)s（已关闭），请核对是否为老客户"),
    "duplicate_open": _("与在跟线索 %(value)s 重复，可合并"),
}


def finding(code: str, severity: str, value: str = "", kind: str = "") -> dict:
    """A finding as stored in `Lead.screening`. `kind` marks values that are contact details."""
    return {"code": code, "severity": severity, "value": value, "kind": kind}


def finding_message(item: dict, *, masked: bool = False) -> str:
    value = item.get("value", "")
    if masked and item.get("kind") == "phone":
        value = mask_phone(value)
    elif masked and item.get("kind") == "email":
        value = mask_email(value)
    template = MESSAGES.get(item["code"])
    return str(template % {"value": value}) if template else item["code"]


def has_reject(findings: list[dict]) -> bool:
    return any(f["severity"] == REJECT for f in findings)


MATCHED_ON = {
    "phone": _("手机号相同"),
    "email": _("邮箱相同"),
    "company": _("客户名称相近"),
    "merge": _("人工合并"),
}
SOURCES = {
    "web": _("网页表单"),
    "api": _("API"),
    "import": _("批量导入"),
    "demo": _("演示数据"),
    "merge": _("合并"),
}


def label(table: dict, key: str) -> str:
    return str(table.get(key, key))
