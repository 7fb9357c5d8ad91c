from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leadflow.leads"
    label = "leads"
    verbose_name = _("线索")

    def ready(self) -> None:
        from . import catalog  # noqa: F401  (connects its cache-clearing signals)
