from django.contrib import admin

from core.admin_mixins import AuditedAdmin

from .models import Organisation


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "kind", "credit_code", "region", "number_prefix", "provides_training", "school_kind"]
    list_filter = ["kind", "provides_training", "school_kind"]
    search_fields = ["name", "credit_code", "number_prefix"]
    raw_id_fields = ["region"]
