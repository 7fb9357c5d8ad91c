"""One presenter for a lead as a user may see it — the web UI and the API both use it, so a
masked phone is masked everywhere (R5.1)."""

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from leadflow.core.masking import mask_email, mask_phone, mask_text

from .findings import finding_message
from .models import Lead, Status
from .queries import can_see_contact


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str


@dataclass(frozen=True)
class LeadView:
    number: str
    status: str
    status_label: str
    channel: str
    channel_name: str
    company_name: str
    contact_name: str
    phone_e164: str
    email: str
    wechat: str
    contact_masked: bool
    industry: str
    need: str
    acquired_at: datetime
    province: str
    city: str
    region: str
    customer_type: str
    grade: str
    grade_reason: str
    grade_rule: str
    screening: list[Finding]
    duplicate_of: str | None
    owner: str | None
    budget_min: Decimal | None
    budget_max: Decimal | None
    purchase_by: str | None
    return_reason: str
    won_amount: Decimal | None
    won_at: datetime | None
    invalid_reason: str
    created_by: str
    created_at: datetime

    def as_dict(self) -> dict:
        # not dataclasses.asdict: it deep-copies every value, on every API answer
        data = dict(vars(self))
        data["screening"] = [asdict(item) for item in self.screening]
        return data


def present_lead(lead: Lead, user) -> LeadView:
    visible = can_see_contact(user, lead)
    return LeadView(
        number=lead.number,
        status=lead.status,
        status_label=str(Status(lead.status).label),  # get_…_display hashes every choice
        channel=lead.channel.code,
        channel_name=str(lead.channel),
        company_name=lead.company_name,
        contact_name=lead.contact_name,
        phone_e164=lead.phone_e164 if visible else mask_phone(lead.phone_e164),
        email=lead.email if visible else mask_email(lead.email),
        wechat=lead.wechat if visible else mask_text(lead.wechat),
        contact_masked=not visible,
        industry=lead.industry.name,
        need=lead.need,
        acquired_at=lead.acquired_at,
        province=lead.province.name if lead.province_id else "",
        city=lead.city,
        region=lead.region,
        customer_type=lead.customer_type,
        grade=lead.grade,
        grade_reason=lead.grade_reason,
        grade_rule=lead.grade_rule,
        screening=[
            Finding(f["code"], f["severity"], finding_message(f, masked=not visible))
            for f in lead.screening
        ],
        duplicate_of=lead.duplicate_of.number if lead.duplicate_of_id else None,
        owner=str(lead.owner) if lead.owner_id else None,
        budget_min=lead.budget_min,
        budget_max=lead.budget_max,
        purchase_by=lead.purchase_by.isoformat() if lead.purchase_by else None,
        return_reason=lead.return_reason,
        won_amount=lead.won_amount,
        won_at=lead.won_at,
        invalid_reason=lead.invalid_reason,
        created_by=str(lead.created_by),
        created_at=lead.created_at,
    )


def owner_label(lead: Lead, user) -> str:
    """The owner of a lead as shown in a duplicate warning: masked outside the user's scope."""
    if lead.owner_id is None:
        return _("暂无负责人")
    return str(lead.owner) if can_see_contact(user, lead) else mask_text(str(lead.owner))
