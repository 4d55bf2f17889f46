from django.contrib import admin

from core.admin_mixins import AuditedAdmin

from .models import DeadlineRule, ReportRecord


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["kind", "region_prefix", "organisation_kind", "working_days", "effective_from", "effective_until"]
    list_filter = ["kind", "organisation_kind"]


@admin.register(ReportRecord)
class ReportRecordAdmin(AuditedAdmin, admin.ModelAdmin):
    """Read-only: records change through sending and resending, never by hand."""

    list_display = ["subject", "kind", "event", "status", "attempts", "due_on", "feedback_code", "created_at"]
    list_filter = ["status", "kind", "event"]
    search_fields = ["subject", "record_id", "receipt"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
