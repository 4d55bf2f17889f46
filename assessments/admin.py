"""Admin for the assessments rules held as data (every change audited through AuditedAdmin)."""

from django.contrib import admin

from core.admin_mixins import AuditedAdmin

from .evidence.models import EvidenceRetentionPolicy
from .review.models import ResultReviewPolicy


@admin.register(ResultReviewPolicy)
class ResultReviewPolicyAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["region_prefix", "effective_from", "effective_until", "required", "working_days", "basis"]
    list_filter = ["required"]
    search_fields = ["region_prefix", "basis"]


@admin.register(EvidenceRetentionPolicy)
class EvidenceRetentionPolicyAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["region_prefix", "effective_from", "effective_until", "retention_months", "required_kinds", "basis"]
    search_fields = ["region_prefix", "basis"]
