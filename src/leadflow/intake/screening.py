"""Initial screening (初步筛选, R1.4): every finding with its reason. Pure: no ORM.

A reject finding screens the lead out — it is kept with status 筛除 and its reasons, and
support can restore it. A flag is a warning for the verifier; the lead goes on.
A bad phone or email rejects only when it leaves the lead with no usable contact.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from leadflow.leads.findings import FLAG, REJECT, finding

from .normalize import Phone


@dataclass(frozen=True)
class ContactCheck:
    phone_raw: str
    phone: Phone | None  # None when no phone was given
    email_raw: str
    email_ok: bool  # False when given and invalid


def screen(
    *,
    contact: ContactCheck,
    industry_name: str,
    industry_is_target: bool,
    need: str,
    excluded_phrases: Iterable[str],
) -> list[dict]:
    findings = []
    phone = contact.phone
    phone_bad = phone is not None and (not phone.valid or phone.fake)
    email_bad = bool(contact.email_raw) and not contact.email_ok
    phone_ok = phone is not None and not phone_bad
    email_ok = bool(contact.email_raw) and contact.email_ok
    no_contact_left = not phone_ok and not email_ok
    severity = REJECT if no_contact_left else FLAG
    if phone_bad:
        code = "phone_fake" if phone.fake else "phone_invalid"
        findings.append(finding(code, severity, contact.phone_raw, kind="phone"))
    if email_bad:
        findings.append(finding("email_invalid", severity, contact.email_raw, kind="email"))
    if not industry_is_target:
        findings.append(finding("industry_not_target", REJECT, industry_name))
    lowered = need.lower()
    for phrase in excluded_phrases:
        if phrase and phrase.lower() in lowered:
            findings.append(finding("need_excluded", REJECT, phrase))
            break
    return findings
