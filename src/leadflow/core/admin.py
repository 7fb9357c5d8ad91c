from django.contrib import admin

from .models import AuditEntry, CalendarOverride, WorkSchedule


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "model", "object_pk", "action", "by")
    list_filter = ("model", "action")
    search_fields = ("object_pk",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkSchedule)
class WorkScheduleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "break_starts", "break_ends")

    def has_add_permission(self, request):
        return not WorkSchedule.objects.exists()


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ("day", "working", "note")
    list_filter = ("working",)
    date_hierarchy = "day"
