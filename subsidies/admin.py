from django.contrib import admin

from core.admin_mixins import AuditedAdmin

from .models import (
    BudgetSupplement,
    Claim,
    DeclaredCertificate,
    FundBudget,
    InsuranceRecord,
    MilitaryServiceRecord,
    OtherRegionExtract,
    PaymentBatch,
    PolicyAmount,
    ShortageOccupation,
    SubsidyPolicy,
    TrainingSubsidyRecord,
)


class PolicyAmountInline(admin.TabularInline):
    model = PolicyAmount
    extra = 0


@admin.register(SubsidyPolicy)
class SubsidyPolicyAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "region",
        "effective_from",
        "effective_to",
        "document_number",
        "document_date",
        "is_demonstration",
    ]
    list_filter = ["version_basis", "is_demonstration"]
    search_fields = ["name", "code", "region__name"]
    raw_id_fields = ["region"]
    inlines = [PolicyAmountInline]


@admin.register(ShortageOccupation)
class ShortageOccupationAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["occupation", "region", "year", "source"]
    list_filter = ["year"]
    search_fields = ["occupation__name", "occupation__code", "region__name"]
    raw_id_fields = ["region", "occupation"]


@admin.register(InsuranceRecord)
class InsuranceRecordAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["person", "months", "as_of", "receives_unemployment_benefit", "region", "source"]
    raw_id_fields = ["person", "region", "imported_by"]
    search_fields = ["person__id_number"]


@admin.register(TrainingSubsidyRecord)
class TrainingSubsidyRecordAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["person", "occupation", "level", "granted_on", "amount", "region"]
    raw_id_fields = ["person", "occupation", "region", "imported_by"]
    search_fields = ["person__id_number", "occupation__code"]


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    """Read-only: claims change only through the services (review, approval, payment), which audit each step."""

    list_display = ["id", "person", "occupation", "level", "region", "status", "amount", "claimed_on"]
    list_filter = ["status"]
    search_fields = ["certificate__number", "person__id_number"]
    exclude = ["account_number"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaymentBatch)
class PaymentBatchAdmin(admin.ModelAdmin):
    list_display = ["month", "region", "status", "created_at", "exported_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MilitaryServiceRecord)
class MilitaryServiceRecordAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["person", "months", "discharged_on", "region", "source"]
    raw_id_fields = ["person", "region", "imported_by"]
    search_fields = ["person__id_number"]


@admin.register(OtherRegionExtract)
class OtherRegionExtractAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["source_region", "as_of", "rows", "region", "created_at"]
    raw_id_fields = ["source_region", "region", "imported_by"]


@admin.register(DeclaredCertificate)
class DeclaredCertificateAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["number", "person", "occupation", "level", "issued_on", "status"]
    list_filter = ["status"]
    raw_id_fields = ["person", "occupation", "level", "region", "recorded_by", "verified_by"]
    search_fields = ["number", "person__id_number"]


class BudgetSupplementInline(admin.TabularInline):
    model = BudgetSupplement
    extra = 0
    raw_id_fields = ["recorded_by"]


@admin.register(FundBudget)
class FundBudgetAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["region", "year", "fund", "amount", "warn_percent", "basis"]
    list_filter = ["year"]
    raw_id_fields = ["region", "created_by"]
    inlines = [BudgetSupplementInline]
