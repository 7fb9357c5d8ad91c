from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "leadflow.followups"
    label = "followups"
    verbose_name = _("线索跟进")
