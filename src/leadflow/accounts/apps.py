from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "leadflow.accounts"
    label = "accounts"
    verbose_name = _("账号与团队")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (token cache invalidation)
        from .roles import ensure_role_groups

        post_migrate.connect(ensure_role_groups, dispatch_uid="leadflow-role-groups")
