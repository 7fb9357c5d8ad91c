from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssignmentConfig(AppConfig):
    name = "leadflow.assignment"
    label = "assignment"
    verbose_name = _("线索分配")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (cached rules follow every change)
