"""Role groups and their permissions, created (and kept in step) after every migrate."""

from django.contrib.auth.models import Group, Permission

from .models import Role

# app_label.codename for each role; admin gets every LeadFlow permission.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.REP: ["leads.view_lead", "leads.add_lead", "leads.change_lead"],
    Role.MANAGER: [
        "leads.view_lead",
        "leads.add_lead",
        "leads.change_lead",
        "leads.view_channel",
        "leads.view_industry",
        "accounts.view_repprofile",
        "accounts.change_repprofile",
        "leads.export_lead",
    ],
    Role.SUPPORT: [
        "leads.view_lead",
        "leads.add_lead",
        "leads.change_lead",
        "leads.verify_lead",
        "leads.view_channel",
        "leads.export_lead",
    ],
    Role.MARKETING: [
        "leads.view_lead",
        "leads.add_lead",
        "leads.view_channel",
        "leads.add_channel",
        "leads.change_channel",
        "leads.view_industry",
        "leads.export_lead",
        "analytics.view_channelcost",
        "analytics.add_channelcost",
        "analytics.change_channelcost",
    ],
}
LEADFLOW_APPS = (
    "leads",
    "accounts",
    "intake",
    "core",
    "assignment",
    "notifications",
    "followups",
    "analytics",
)


def ensure_role_groups(**_kwargs) -> None:
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        if role == Role.ADMIN:
            perms = Permission.objects.filter(content_type__app_label__in=LEADFLOW_APPS)
        else:
            wanted = ROLE_PERMISSIONS[role]
            perms = [p for p in _lookup(wanted)]
        group.permissions.set(perms)


def _lookup(names: list[str]) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".")
        perm = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if perm is not None:
            found.append(perm)
    return found
