from django.db import transaction
from django.forms.models import model_to_dict

from accounts.actors import Actor

from .audit import audit_record


class AuditedAdmin:
    """Admin edits are state changes too: each save and delete is written to the audit log."""

    def save_model(self, request, obj, form, change):
        before = model_to_dict(type(obj).objects.get(pk=obj.pk), fields=form.changed_data) if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=Actor.for_user(request.user),
                action=f"admin.{'change' if change else 'add'}",
                obj=obj,
                before=before,
                after=model_to_dict(obj, fields=form.changed_data),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(actor=Actor.for_user(request.user), action="admin.delete", obj=obj, before={"repr": str(obj)})
            super().delete_model(request, obj)
