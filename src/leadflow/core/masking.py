"""Masking of contact details outside a user's scope (R5.1): 13800138000 → 138****8000."""


def mask_phone(value: str) -> str:
    if not value:
        return ""
    digits = value[3:] if value.startswith("+86") else value.lstrip("+")
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 7 else 1
    return digits[:keep_head] + "****" + digits[-4:]


def mask_email(value: str) -> str:
    if not value or "@" not in value:
        return "****" if value else ""
    local, domain = value.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_text(value: str) -> str:
    """Free-text contact handles (WeChat ID, a person's name): first character only."""
    if not value:
        return ""
    return value[:1] + "**"
