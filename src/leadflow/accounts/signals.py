"""Forget cached token lookups when a token, its user or the user's groups change."""

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import ApiToken, User, token_cache_key


def _forget_user(user_id: int) -> None:
    for key in ApiToken.objects.filter(user_id=user_id).values_list("key", flat=True):
        cache.delete(token_cache_key(key))


@receiver(pre_save, sender=ApiToken, dispatch_uid="token-cache-rotate")
def _token_rotating(sender, instance: ApiToken, **kwargs) -> None:
    if instance.pk:  # forget the key being replaced
        _forget_user(instance.user_id)


@receiver([post_save, post_delete], sender=ApiToken, dispatch_uid="token-cache-token")
def _token_changed(sender, instance: ApiToken, **kwargs) -> None:
    cache.delete(token_cache_key(instance.key))


@receiver(post_save, sender=User, dispatch_uid="token-cache-user")
def _user_changed(sender, instance: User, **kwargs) -> None:
    _forget_user(instance.pk)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="token-cache-groups")
def _groups_changed(sender, instance, **kwargs) -> None:
    if isinstance(instance, User):
        _forget_user(instance.pk)
