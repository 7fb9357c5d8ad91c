"""Small helpers for the dashboards' and the weekly review's tables."""

from dataclasses import replace

from django import template

from leadflow.leads.models import Status

from ..dashboards import drill as drill_url
from ..queries import Filters

register = template.Library()


@register.simple_tag
def drill(filters: Filters, **extra) -> str:
    """The lead list behind a number (`dashboards.drill`); `channel` and `rep` narrow the
    filters, anything else (reached, stop, outcome, missed) is added to them."""
    changes = {k: extra.pop(k) for k in ("channel", "rep", "grade") if k in extra}
    return drill_url(replace(filters, **changes), **extra)


@register.filter
def pct(value) -> str:
    return "—" if value is None else f"{value:.1%}"


@register.filter
def kept(row) -> list:
    """A discipline row's four rules, in the table's order."""
    return [row.first_contact, row.cadence, row.records, row.confirmations]


@register.filter
def status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value
