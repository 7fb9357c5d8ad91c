from django.contrib import admin

from .models import ExcludedNeed


@admin.register(ExcludedNeed)
class ExcludedNeedAdmin(admin.ModelAdmin):
    list_display = ("phrase", "note", "active")
    list_editable = ("active",)
