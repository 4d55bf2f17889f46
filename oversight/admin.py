"""Oversight records: read-only here (every change goes through a service and its audit entry), except the
complaint-deadline policy, which is reference data operators maintain."""

from django.contrib import admin

from core.admin_mixins import AuditedAdmin

from .models import (
    Complaint,
    ComplaintPolicy,
    Exposure,
    GuazhengFlag,
    Inspection,
    InsuranceImport,
    Rectification,
    Sanction,
)


@admin.register(ComplaintPolicy)
class ComplaintPolicyAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["region_prefix", "kind", "response_working_days", "effective_from", "notes"]
    list_filter = ["kind"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "status", "region", "received_on", "due_on", "assigned_to"]
    list_filter = ["status", "kind", "source"]
    search_fields = ["number", "certificate_number", "subject_name"]
    # The reporter's identity stays out of the list and the search: it is for the handling bureau only.
    exclude = ["tracking_hash", "reporter", "reporter_name", "reporter_contact"]


@admin.register(Exposure)
class ExposureAdmin(ReadOnlyAdmin):
    list_display = ["reference", "subject", "region", "published_on", "withdrawn_at"]


@admin.register(Sanction)
class SanctionAdmin(ReadOnlyAdmin):
    list_display = ["kind", "organisation", "certificate", "complaint", "inspection", "decided_at"]
    list_filter = ["kind"]


@admin.register(GuazhengFlag)
class GuazhengFlagAdmin(ReadOnlyAdmin):
    list_display = ["rule", "status", "certificate", "employer", "other_employer", "period_start", "period_end"]
    list_filter = ["rule", "status"]


@admin.register(InsuranceImport)
class InsuranceImportAdmin(ReadOnlyAdmin):
    list_display = ["region", "period_from", "period_to", "rows", "imported_by", "imported_at"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["number", "organisation", "kind", "status", "scheduled_on", "conducted_on"]
    list_filter = ["status", "kind"]


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ["inspection", "item", "status", "ordered_on", "due_on", "due_provisional"]
    list_filter = ["status"]
