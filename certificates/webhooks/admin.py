from django.contrib import admin

from core.admin_mixins import AuditedAdmin

from .models import Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["organisation", "url", "active", "consecutive_failures", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "organisation__name"]
    readonly_fields = ["organisation", "consecutive_failures", "created_by", "secret_rotated_at"]
    exclude = ["secret", "previous_secret"]

    def has_add_permission(self, request) -> bool:
        return False  # made by the organisation, which alone sees the secret once


@admin.register(Delivery)
class DeliveryAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["event", "subscription", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
