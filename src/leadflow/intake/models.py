from django.core.cache import cache
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ExcludedNeed(models.Model):
    """A word or phrase that marks a need LeadFlow's company does not serve (R1.4)."""

    phrase = models.CharField(_("排除词"), max_length=60, unique=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("需求排除词")
        verbose_name_plural = _("需求排除词")
        ordering = ["phrase"]

    def __str__(self) -> str:
        return self.phrase


CACHE_KEY = "leadflow:excluded-needs"


def excluded_phrases() -> list[str]:
    """The active exclusion phrases, cached (cleared whenever one is saved or deleted)."""
    phrases = cache.get(CACHE_KEY)
    if phrases is None:
        phrases = list(ExcludedNeed.objects.filter(active=True).values_list("phrase", flat=True))
        cache.set(CACHE_KEY, phrases, 300)
    return phrases


def _forget(**_kwargs) -> None:
    cache.delete(CACHE_KEY)


post_save.connect(_forget, sender=ExcludedNeed, dispatch_uid="excluded-needs-save")
post_delete.connect(_forget, sender=ExcludedNeed, dispatch_uid="excluded-needs-delete")
