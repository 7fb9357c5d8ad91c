from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import RepProfile, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("LeadFlow"), {"fields": ("display_name", "phone", "team")}),
    )
    list_display = ("username", "display_name", "team", "is_active", "is_staff")
    list_filter = ("groups", "team", "is_active")


class MemberInline(admin.TabularInline):
    model = User
    fields = ("username", "display_name")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "manager")
    inlines = [MemberInline]


@admin.register(RepProfile)
class RepProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "regions", "capacity", "active", "on_leave")
    list_filter = ("active", "on_leave")
    filter_horizontal = ("industries",)
