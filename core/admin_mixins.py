from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict

from .audit import audit_record


@dataclass(frozen=True)
class AdminUser:
    """Who made an admin edit, as the audit log names it (the same label an Actor for that user has)."""

    user: Any

    @property
    def label(self) -> str:
        return f"user:{self.user.username}"


class AuditedAdmin:
    """Admin edits are state changes too: each save and delete is written to the audit log."""

    def save_model(self, request, obj, form, change):
        before = model_to_dict(type(obj).objects.get(pk=obj.pk), fields=form.changed_data) if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=AdminUser(request.user),
                action=f"admin.{'change' if change else 'add'}",
                obj=obj,
                before=before,
                after=model_to_dict(obj, fields=form.changed_data),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(actor=AdminUser(request.user), action="admin.delete", obj=obj, before={"repr": str(obj)})
            super().delete_model(request, obj)
