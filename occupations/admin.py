from django.contrib import admin

from core.admin_mixins import AuditedAdmin
from core.signals import certificate_facts_changed

from .models import (
    CalendarDay,
    CatalogueChange,
    ClassificationEdition,
    EquivalenceRule,
    Level,
    LicensingOverlap,
    Occupation,
    OccupationCategory,
    OccupationCodeMapping,
    Qualification,
    Region,
    Standard,
    StandardLevel,
    WorkType,
)


class VerificationJoinedAdmin(AuditedAdmin):
    """Levels, occupations and catalogue entries are read with each certificate a scan verifies and remembered
    with it (certificates.verification_cache): an edit here must not leave any web node answering from before."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            certificate_facts_changed.send(sender=type(obj))


@admin.register(Region)
class RegionAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "active", "edition", "signature_algorithm"]
    list_filter = ["kind", "active", "edition"]
    search_fields = ["code", "name", "initials"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(Level)
class LevelAdmin(VerificationJoinedAdmin, admin.ModelAdmin):
    list_display = [
        "code",
        "rank",
        "name",
        "title",
        "number_digit",
        "number_format",
        "organisation_kinds",
        "is_standard",
    ]


@admin.register(Qualification)
class QualificationAdmin(VerificationJoinedAdmin, admin.ModelAdmin):
    list_display = [
        "name",
        "category",
        "kind",
        "status",
        "scope",
        "effective_from",
        "cancelled_on",
        "evaluation_from",
        "category_confirmed",
        "authority_confirmed",
    ]
    list_filter = ["kind", "status", "category", "category_confirmed", "authority_confirmed"]
    search_fields = ["name", "authority"]

    def get_readonly_fields(self, request, obj=None):
        """An entry's status, kind and dates change only through a catalogue change (/reference/changes/), which
        shows the impact first, opens the candidates' choices and notifies those concerned; not by editing the
        row. The basis (文件依据) may be corrected here."""
        from .services import DATED_FIELDS

        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        return readonly + [f for f in DATED_FIELDS if f != "cancellation_basis"]


@admin.register(CatalogueChange)
class CatalogueChangeAdmin(admin.ModelAdmin):
    """Read-only: a change is recorded, previewed and confirmed at /reference/changes/, which notifies and audits."""

    list_display = ["qualification", "kind", "effective_on", "status", "basis", "confirmed_at"]
    list_filter = ["kind", "status"]
    search_fields = ["qualification__name", "basis"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LicensingOverlapInline(admin.TabularInline):
    model = LicensingOverlap
    extra = 0


class WorkTypeInline(admin.TabularInline):
    model = WorkType
    extra = 0


@admin.register(Occupation)
class OccupationAdmin(VerificationJoinedAdmin, admin.ModelAdmin):
    list_display = ["code", "name", "category", "edition", "source", "qualification", "active"]
    list_filter = ["active", "source", "announced_year"]
    search_fields = ["code", "name", "initials"]
    raw_id_fields = ["category"]
    list_select_related = ["category", "qualification"]
    inlines = [LicensingOverlapInline, WorkTypeInline]


@admin.register(OccupationCategory)
class OccupationCategoryAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "edition", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


@admin.register(ClassificationEdition)
class ClassificationEditionAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["code", "title", "published_on", "is_current"]


@admin.register(OccupationCodeMapping)
class OccupationCodeMappingAdmin(AuditedAdmin, admin.ModelAdmin):
    """Where operators add an earlier edition's code and the 2022 occupation it is, with the basis."""

    list_display = ["edition", "old_code", "old_name", "occupation", "relation", "basis"]
    list_filter = ["edition", "relation"]
    search_fields = ["old_code", "old_name", "occupation__code", "occupation__name"]
    raw_id_fields = ["occupation"]


class StandardLevelInline(admin.StackedInline):
    model = StandardLevel
    extra = 0


@admin.register(Standard)
class StandardAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "title",
        "occupation",
        "edition_year",
        "classification_edition",
        "template",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["template", "edition_year"]
    search_fields = ["title", "occupation__name", "occupation__code"]
    inlines = [StandardLevelInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin, admin.ModelAdmin):
    """Where operators enter the State Council's holiday notice for a year the calendar library lacks."""

    list_display = ["date", "name", "is_workday", "year", "source"]
    list_filter = ["year", "is_workday"]
    search_fields = ["name", "source"]
    date_hierarchy = "date"
    readonly_fields = ["year"]


@admin.register(EquivalenceRule)
class EquivalenceRuleAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["code", "label", "source", "target", "min_years", "scope", "effective_from", "effective_to"]
    list_filter = ["target", "source", "scope"]
    search_fields = ["code", "label", "basis", "target_title"]
