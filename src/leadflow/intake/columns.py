"""What a file's columns can mean (R1.7): LeadFlow's import fields, their Chinese and English
synonyms, and the automatic suggestion of a mapping from a file's headers.

A suggestion is only a suggestion: the user confirms or changes it, and the confirmed mapping
is saved per channel and offered first next time.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .normalize import fold_text


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    synonyms: tuple[str, ...]
    kind: str = "text"  # text | datetime | date | number
    history: bool = False  # a migrated lead's state: status, owner, dates, amounts


# fmt: off
FIELDS: tuple[ImportField, ...] = (
    ImportField("company_name", _("客户名称"), ("客户名称", "公司", "公司名称", "企业名称", "单位", "单位名称", "客户", "company", "company name", "account", "account name", "organization")),
    ImportField("contact_name", _("联系人"), ("联系人", "姓名", "联系人姓名", "客户姓名", "contact", "contact name", "name", "full name", "first name")),
    ImportField("phone", _("手机"), ("手机", "手机号", "手机号码", "电话", "联系电话", "电话号码", "联系方式", "mobile", "phone", "phone number", "tel", "telephone", "cell")),
    ImportField("email", _("邮箱"), ("邮箱", "电子邮箱", "邮件", "email", "e-mail", "mail", "email address")),
    ImportField("wechat", _("微信"), ("微信", "微信号", "wechat", "weixin")),
    ImportField("industry", _("行业"), ("行业", "所属行业", "行业类别", "industry", "segment", "business segment", "vertical")),
    ImportField("need", _("初步需求"), ("初步需求", "需求", "需求描述", "客户需求", "咨询内容", "备注需求", "need", "needs", "requirement", "description", "inquiry")),
    ImportField("channel", _("来源渠道"), ("来源渠道", "来源", "渠道", "线索来源", "获客渠道", "lead source", "source", "channel", "origin")),
    ImportField("acquired_at", _("获取时间"), ("获取时间", "获取日期", "创建时间", "录入时间", "留资时间", "日期", "时间", "created", "created date", "create date", "date", "first contact date", "acquired at"), "datetime"),
    ImportField("province", _("省份"), ("省份", "省", "地区", "所在地区", "province", "state", "region")),
    ImportField("city", _("城市"), ("城市", "市", "所在城市", "city")),
    ImportField("customer_type", _("客户类型"), ("客户类型", "客户类别", "customer type", "account type", "lead type")),
    ImportField("employees", _("员工人数"), ("员工人数", "人数", "公司规模", "规模", "employees", "company size", "headcount"), "number"),
    ImportField("annual_revenue", _("年营业额"), ("年营业额", "营业额", "年收入", "annual revenue", "revenue"), "number"),
    ImportField("budget_min", _("预算下限"), ("预算下限", "预算", "预算金额", "最低预算", "budget", "budget min"), "number"),
    ImportField("budget_max", _("预算上限"), ("预算上限", "最高预算", "budget max"), "number"),
    ImportField("purchase_by", _("采购时间节点"), ("采购时间节点", "采购时间", "预计采购时间", "purchase date", "purchase by", "decision date"), "date"),
    ImportField("current_supplier", _("现有供应商"), ("现有供应商", "供应商", "竞品", "current supplier", "competitor")),
    ImportField("notes", _("备注"), ("备注", "说明", "notes", "note", "remarks", "comment", "comments")),
    ImportField("business_model", _("业务模式"), ("业务模式", "商业模式", "business model", "business type")),
    ImportField("decision_maker_role", _("决策人角色"), ("决策人角色", "职位", "职务", "title", "job title", "role")),
    ImportField("concerns", _("关注点"), ("关注点", "关注", "concerns")),
    ImportField("personality", _("性格"), ("性格", "personality", "behaviour profile", "lead behaviour profile")),
    ImportField("consent_source", _("授权来源"), ("授权来源", "consent source")),
    ImportField("consent_at", _("授权时间"), ("授权时间", "consent at", "consent date"), "datetime"),
    ImportField("number", _("线索编号"), ("线索编号", "编号", "lead number", "lead no", "number")),
    ImportField("external_id", _("外部编号"), ("外部编号", "外部id", "原系统编号", "crm编号", "external id", "id", "lead id", "mql id", "record id")),
    ImportField("status", _("状态"), ("状态", "线索状态", "阶段", "销售阶段", "status", "stage", "lead status"), history=True),
    ImportField("owner", _("负责人"), ("负责人", "销售", "跟进人", "归属销售", "所有者", "owner", "lead owner", "sales rep", "sr id", "assigned to"), history=True),
    ImportField("grade", _("等级"), ("等级", "线索等级", "优先级", "评级", "grade", "rating", "priority"), history=True),
    ImportField("first_contact_at", _("首次联系时间"), ("首次联系时间", "首次跟进时间", "首次联系", "first contacted", "first contact at"), "datetime", history=True),
    ImportField("won_at", _("成交时间"), ("成交时间", "成交日期", "签约日期", "赢单日期", "won date", "close date", "closed date", "won at"), "datetime", history=True),
    ImportField("won_amount", _("成交金额"), ("成交金额", "合同金额", "签约金额", "金额", "won amount", "amount", "deal amount", "deal value"), "number", history=True),
    ImportField("invalid_reason", _("无效原因"), ("无效原因", "流失原因", "丢单原因", "invalid reason", "lost reason", "loss reason"), history=True),
    ImportField("status_at", _("状态时间"), ("状态时间", "状态变更时间", "关闭时间", "status date", "status changed at"), "datetime", history=True),
)
# fmt: on

BY_NAME = {f.name: f for f in FIELDS}
HISTORY = frozenset(f.name for f in FIELDS if f.history)
KEYS = ("number", "external_id")

_NOISE = re.compile(r"[\s\-_:：()（）\[\]【】*＊#/\\.]+|必填|选填|optional|required")


def header_key(header: str) -> str:
    return _NOISE.sub("", fold_text(header).lower())


_SYNONYMS: dict[str, str] = {}
for _field in FIELDS:
    for _word in _field.synonyms:
        _SYNONYMS.setdefault(header_key(_word), _field.name)


def suggest(headers: list[str]) -> dict[str, str]:
    """header → field for the headers LeadFlow recognises, each field at most once: exact
    synonyms first, then a header that contains a synonym (联系人手机 → phone)."""
    chosen: dict[str, str] = {}
    taken: set[str] = set()
    keys = [(header, header_key(header)) for header in headers if header]
    for header, key in keys:
        name = _SYNONYMS.get(key)
        if name and name not in taken:
            chosen[header], taken = name, taken | {name}
    for header, key in keys:
        if header in chosen or len(key) < 2:
            continue
        # the synonym that ends last wins: the head noun of a Chinese header is at its end
        # (联系人手机 is a phone), then the longest
        hits = [
            (key.rfind(word) + len(word), len(word), name)
            for word, name in _SYNONYMS.items()
            if len(word) >= 2 and name not in taken and word in key
        ]
        if hits:
            name = max(hits)[2]
            chosen[header], taken = name, taken | {name}
    return chosen
