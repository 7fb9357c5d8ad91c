from django.contrib import admin

from .models import Channel, Industry, Lead, Province, StageChange
from .reference import default_channel_code


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "__str__",
        "category",
        "requires_verification",
        "monthly_cost",
        "active",
    )
    list_filter = ("category", "requires_verification", "active")
    search_fields = ("code", "name")

    def get_changeform_initial_data(self, request):
        return {**super().get_changeform_initial_data(request), "category": "online"}

    def save_model(self, request, obj, form, change):
        if not obj.code:
            obj.code = default_channel_code(
                obj.name, set(Channel.objects.values_list("code", flat=True))
            )
        super().save_model(request, obj, form, change)


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ("name", "is_target", "active")
    list_editable = ("is_target", "active")


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "short_name", "region")
    list_filter = ("region",)


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "at", "by", "reason", "evidence")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    """Read-only here: leads change through the intake door and the pipeline services."""

    list_display = ("number", "company_name", "status", "grade", "channel", "owner", "acquired_at")
    list_filter = ("status", "grade", "channel")
    search_fields = ("number", "company_name", "phone_e164", "email")
    inlines = [StageChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
