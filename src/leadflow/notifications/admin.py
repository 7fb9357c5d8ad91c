from django.contrib import admin

from .models import AllowedHost, Notification, Robot, WebhookEndpoint


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "team", "user", "per_minute", "active")
    list_filter = ("platform", "active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "events", "active")


@admin.register(AllowedHost)
class AllowedHostAdmin(admin.ModelAdmin):
    list_display = ("host", "note")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, for looking into deliveries; rows are written by the services."""

    list_display = ("created_at", "kind", "channel", "recipient", "robot", "webhook", "state")
    list_filter = ("channel", "state", "kind")
    search_fields = ("title", "dedup_key")
    raw_id_fields = ("lead", "recipient")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
