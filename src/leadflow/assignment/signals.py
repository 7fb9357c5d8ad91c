"""Keep every process's cached rules in step: any change to a rule or its conditions, to
what a rep handles, to a user (name, team, roles) moves `AssignmentPolicy.version`
(services.setup reads it). Changes made with queryset.update() bypass these signals: call
`bump()` after them."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from leadflow.accounts.models import RepProfile, Team, User

from .models import AssignmentPolicy, AssignmentRule, new_version


def bump(update_fields=None, **_kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login changes nothing matching reads
    AssignmentPolicy.current()
    AssignmentPolicy.objects.filter(pk=1).update(version=new_version())


def policy_saved(update_fields=None, **_kwargs) -> None:
    bump()  # new weights: the cached boards are scored with the old ones


post_save.connect(policy_saved, sender=AssignmentPolicy, dispatch_uid="lf-bump-policy")
for model in (AssignmentRule, RepProfile, User, Team):
    post_save.connect(bump, sender=model, dispatch_uid=f"lf-bump-save-{model.__name__}")
    post_delete.connect(bump, sender=model, dispatch_uid=f"lf-bump-delete-{model.__name__}")
for through in (
    AssignmentRule.provinces.through,
    AssignmentRule.industries.through,
    AssignmentRule.channels.through,
    RepProfile.industries.through,
    User.groups.through,
):
    m2m_changed.connect(bump, sender=through, dispatch_uid=f"lf-m2m-{through.__name__}")
