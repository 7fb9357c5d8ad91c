"""The initial grade suggested at intake (R2.1), with the rule that fired.

A = 明确需求、预算充足、1个月内确定供应商; B = 有需求但预算或时间未确认; C = 仅咨询、长期潜在;
D = 无效. The rules are tried in order and the first that matches wins; the rep confirms or
changes the grade after the first contact (R3.4).

Example: budget 50万 and purchase by 2023-11-20 for a lead acquired 2023-10-28 → the
purchase is 23 days away with a budget → A by rule `budget_and_deadline_30d`.
"""

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

INQUIRY_WORDS = ("了解一下", "咨询", "看看", "资料", "随便问问", "先了解", "价格表")
INTENT_WORDS = ("采购", "购买", "报价", "招标", "替换", "升级", "方案", "部署", "试用", "上线")


REASONS = {
    "screened_out": _("初步筛选未通过"),
    "budget_and_deadline_30d": _("预算明确且1个月内确定供应商"),
    "deadline_30d_no_budget": _("1个月内采购但预算未确认"),
    "budget_stated": _("预算已给出，采购时间待确认"),
    "concrete_need": _("需求具体，预算与时间待确认"),
    "inquiry_or_long_term": _("仅咨询或长期潜在需求"),
}


@dataclass(frozen=True)
class GradeSuggestion:
    grade: str
    rule: str
    reason: str


def suggest_grade(
    *,
    screened_out: bool,
    need: str,
    budget_min: Decimal | None,
    budget_max: Decimal | None,
    purchase_by: date | None,
    acquired_on: date,
) -> GradeSuggestion:
    has_budget = any(b is not None and b > 0 for b in (budget_min, budget_max))
    days_left = (purchase_by - acquired_on).days if purchase_by else None
    inquiry_only = any(w in need for w in INQUIRY_WORDS) and not any(
        w in need for w in INTENT_WORDS
    )
    if screened_out:
        return _suggestion("D", "screened_out")
    if has_budget and days_left is not None and days_left <= 30:
        return _suggestion("A", "budget_and_deadline_30d")
    if days_left is not None and days_left <= 30:
        return _suggestion("B", "deadline_30d_no_budget")
    if has_budget and (days_left is None or days_left <= 90):
        return _suggestion("B", "budget_stated")
    if not inquiry_only and any(w in need for w in INTENT_WORDS):
        return _suggestion("B", "concrete_need")
    return _suggestion("C", "inquiry_or_long_term")


def _suggestion(grade: str, rule: str) -> GradeSuggestion:
    return GradeSuggestion(grade, rule, _reason(get_language(), rule))


@functools.cache
def _reason(language: str | None, rule: str) -> str:
    """A rule's reason in the active language, translated once (an import grades 100,000
    leads; each lazy string's translation looks its catalog up again)."""
    return str(REASONS[rule])
