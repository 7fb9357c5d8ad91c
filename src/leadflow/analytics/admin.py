from django.contrib import admin

from .models import ChannelCost


@admin.register(ChannelCost)
class ChannelCostAdmin(admin.ModelAdmin):
    list_display = ("month", "channel", "amount", "note")
    list_filter = ("channel",)
    date_hierarchy = "month"

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)
