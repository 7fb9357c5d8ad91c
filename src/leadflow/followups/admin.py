from django.contrib import admin

from .models import (
    FollowUp,
    GradeReview,
    Grading,
    InvalidReason,
    LeadEvent,
    PlaybookStep,
    ReviewItem,
    SlaPolicy,
    Task,
)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "grade",
        "active",
        "business_time",
        "first_contact_within",
        "first_contact_unit",
        "cadence_min",
        "cadence_max",
        "cadence_unit",
        "remind_before_hours",
    )
    list_editable = ("active", "business_time")


@admin.register(InvalidReason)
class InvalidReasonAdmin(admin.ModelAdmin):
    list_display = ("label", "code", "order", "active")
    list_editable = ("order", "active")


@admin.register(PlaybookStep)
class PlaybookStepAdmin(admin.ModelAdmin):
    list_display = ("grade", "order", "title", "due_in", "due_unit", "active")
    list_filter = ("grade", "active")
    list_editable = ("order", "active")


class ReadOnly(admin.ModelAdmin):
    """History: kept as written."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnly):
    list_display = ("lead", "by", "contact_at", "method", "late", "first")
    list_filter = ("method", "late", "first")
    raw_id_fields = ("lead",)

    def has_delete_permission(self, request, obj=None):
        return False  # a record stays: the discipline figures count it (`Tally`)


@admin.register(Task)
class TaskAdmin(ReadOnly):
    list_display = ("title", "lead", "owner", "due", "done_at", "source")
    list_filter = ("source",)
    raw_id_fields = ("lead",)


@admin.register(Grading)
class GradingAdmin(ReadOnly):
    list_display = ("lead", "from_grade", "to_grade", "by", "at", "kind")
    list_filter = ("kind", "to_grade")
    raw_id_fields = ("lead",)


@admin.register(GradeReview)
class GradeReviewAdmin(ReadOnly):
    list_display = ("team", "week", "manager", "opened_at", "closed_at")


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnly):
    list_display = ("lead", "rep", "given", "verdict", "final", "by", "at")
    list_filter = ("verdict",)


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnly):
    list_display = ("lead", "kind", "at", "source")
    list_filter = ("kind",)
    raw_id_fields = ("lead",)
