import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are auth groups of these names, each with its permissions (see roles.py)."""

    REP = "rep", _("销售代表")
    MANAGER = "manager", _("销售经理")
    SUPPORT = "support", _("销售支持")
    MARKETING = "marketing", _("市场")
    ADMIN = "admin", _("管理员")


class Region(models.TextChoices):
    NORTH = "华北", _("华北")
    EAST = "华东", _("华东")
    SOUTH = "华南", _("华南")
    CENTRAL = "华中", _("华中")
    SOUTHWEST = "西南", _("西南")
    NORTHWEST = "西北", _("西北")
    NORTHEAST = "东北", _("东北")


class Team(models.Model):
    name = models.CharField(_("团队名称"), max_length=60, unique=True)
    region = models.CharField(_("负责大区"), max_length=4, choices=Region, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("销售经理"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_teams",
    )

    class Meta:
        verbose_name = _("团队")
        verbose_name_plural = _("团队")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A LeadFlow user. Roles are groups; `team` is the sales team a rep belongs to."""

    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("所属团队"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def roles(self) -> frozenset[str]:
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(self.groups.values_list("name", flat=True))
            if self.is_superuser:
                cached |= {Role.ADMIN}
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


class RepProfile(models.Model):
    """What a rep handles and how much (used by assignment, R2.2)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="rep_profile", verbose_name=_("销售代表")
    )
    regions = models.JSONField(_("负责大区"), default=list, blank=True)
    industries = models.ManyToManyField(
        "leads.Industry", verbose_name=_("负责行业"), blank=True, related_name="+"
    )
    grades = models.JSONField(_("负责等级"), default=list, blank=True)
    customer_types = models.JSONField(_("负责客户类型"), default=list, blank=True)
    capacity = models.PositiveIntegerField(_("同时跟进上限"), default=50)
    active = models.BooleanField(_("在岗"), default=True)
    on_leave = models.BooleanField(_("休假中"), default=False)
    on_leave_until = models.DateField(_("休假至"), null=True, blank=True)
    # Kept in step by every owner change and every close or reopen (accounts.loads); the
    # sweeper recounts them hourly. Assignment reads them instead of counting leads.
    open_leads = models.PositiveIntegerField(_("在跟线索数"), default=0, editable=False)
    last_assigned_at = models.DateTimeField(
        _("最近一次分配"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("销售代表档案")
        verbose_name_plural = _("销售代表档案")

    def __str__(self) -> str:
        return str(self.user)

    def away_on(self, day) -> bool:
        return is_away(self.on_leave, self.on_leave_until, day)


def is_away(on_leave: bool, until, day) -> bool:
    """On leave that day: the flag, or a leave that runs until `day` or later."""
    return bool(on_leave) or (until is not None and until >= day)


class ApiToken(models.Model):
    """A bearer token for `/api/v1/` (`Authorization: Bearer <key>`)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_token")
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} token"

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(24)


TOKEN_CACHE_SECONDS = 60


def token_cache_key(key: str) -> str:
    return "leadflow:token:" + hashlib.sha256(key.encode()).hexdigest()


def user_for_token(key: str) -> User | None:
    """The active user a bearer token belongs to. Cached for a minute (with the user's roles)
    because every API call asks; saving the token, the user or their groups clears it."""
    from django.core.cache import cache

    cache_key = token_cache_key(key)
    user = cache.get(cache_key)
    if user is None:
        found = ApiToken.objects.select_related("user").filter(key=key).first()
        if found is None or not found.user.is_active:
            return None
        user = found.user
        _ = user.roles  # cached on the instance, and so in the cache entry
        cache.set(cache_key, user, TOKEN_CACHE_SECONDS)
    return user
