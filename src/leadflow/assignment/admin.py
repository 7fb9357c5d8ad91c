from django.contrib import admin

from .models import Assignment, AssignmentPolicy, AssignmentRule, PoolReturn


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ("order", "name", "team", "rep", "active")
    list_display_links = ("name",)
    list_editable = ("order", "active")
    filter_horizontal = ("provinces", "industries", "channels")


@admin.register(AssignmentPolicy)
class AssignmentPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "weight_region", "weight_industry", "weight_grade", "updated_at")

    def has_add_permission(self, request):
        return not AssignmentPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Read-only: assignments are history, written by the services."""

    list_display = ("lead", "rep", "kind", "state", "at", "accept_due")
    list_filter = ("kind", "state")
    search_fields = ("lead__number", "rep__username")
    raw_id_fields = ("lead",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PoolReturn)
class PoolReturnAdmin(AssignmentAdmin):
    list_display = ("lead", "previous_owner", "at", "reason")
    list_filter = ()
    search_fields = ("lead__number",)
