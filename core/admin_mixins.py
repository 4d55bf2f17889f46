"""Admin edits are state changes too: every add, change and delete made through the Django admin is written to
the audit log, in the same transaction as the change. That covers the change form (many-to-many fields such as
groups and permissions included), inline rows (added, changed, deleted), list-editable rows, the bulk delete
action (one entry per object deleted) and password changes made by an administrator (`audit_password_set`).

`core.admin_site.PlatformAdminSite` mixes this into every ModelAdmin registered on the admin, so a new admin
cannot forget it."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction

from .audit import audit_record

# Field values never copied into the audit log (the fact of the change is recorded, not the secret).
REDACTED_FIELDS = frozenset({"password", "key", "key_hash", "token", "token_hash", "code_hash"})
REDACTED = "***"


@dataclass(frozen=True)
class AdminUser:
    """Who made an admin edit, as the audit log names it (the same label an Actor for that user has)."""

    user: Any

    @property
    def label(self) -> str:
        return f"user:{self.user.username}"


def field_values(obj: models.Model, names, form=None) -> dict:
    """The named model fields of `obj` as plain values: foreign keys by id, many-to-many as sorted ids (from the
    form's cleaned data when given, since the admin saves those after the object), secrets redacted. Names that
    are not model fields (a form's password1) are skipped."""
    data = {}
    for name in names:
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if name in REDACTED_FIELDS:
            data[name] = REDACTED
        elif field.many_to_many:
            if form is not None and name in getattr(form, "cleaned_data", {}):
                values = form.cleaned_data[name]
            else:
                values = getattr(obj, name).all() if obj.pk else []
            data[name] = sorted(v.pk for v in values)
        elif field.concrete and not field.auto_created:
            data[name] = getattr(obj, field.attname)
    return data


def all_fields(obj: models.Model) -> list[str]:
    return [f.name for f in obj._meta.get_fields() if getattr(f, "concrete", False) and not f.auto_created]


def _where(obj: models.Model) -> dict:
    """The organisation an edited object belongs to, so that the entry shows up in that organisation's trail."""
    organisation_id = getattr(obj, "organisation_id", None)
    return {"organisation_id": organisation_id} if isinstance(organisation_id, int) else {}


class AuditedAdmin:
    """Mixin for ModelAdmin (and applied to every ModelAdmin by PlatformAdminSite)."""

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            current = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = field_values(current, form.changed_data) if current is not None else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and not form.changed_data:
                return  # saved unchanged (e.g. only inline rows were edited; those are audited row by row)
            audit_record(
                actor=AdminUser(request.user),
                action=f"admin.{'change' if change else 'add'}",
                obj=obj,
                before=before,
                after=field_values(obj, form.changed_data if change else [*all_fields(obj), *form.changed_data], form),
                **_where(obj),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            _audit_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        """The changelist's "delete selected" action: one entry per object, each with what it held."""
        with transaction.atomic():
            for obj in queryset:
                _audit_delete(request, obj, bulk=True)
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        """Inline rows: each added, changed or deleted row is an entry of its own, naming the parent object."""
        parent = {"parent": f"{form.instance._meta.label_lower}:{form.instance.pk}"}
        before = {}
        for row in formset.initial_forms:
            deleted = formset.can_delete and formset._should_delete_form(row)
            if deleted or row.has_changed():
                current = type(row.instance)._default_manager.filter(pk=row.instance.pk).first()
                if current is not None:
                    names = all_fields(current) if deleted else row.changed_data
                    before[id(row.instance)] = (current.pk, field_values(current, names))
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            actor = AdminUser(request.user)
            for obj in formset.new_objects:
                audit_record(
                    actor=actor,
                    action="admin.add",
                    obj=obj,
                    after=field_values(obj, all_fields(obj)) | parent,
                    **_where(obj),
                )
            for obj, changed in formset.changed_objects:
                audit_record(
                    actor=actor,
                    action="admin.change",
                    obj=obj,
                    before=before.get(id(obj), (None, None))[1],
                    after=field_values(obj, changed) | parent,
                    **_where(obj),
                )
            for obj in formset.deleted_objects:
                pk, values = before.get(id(obj), (obj.pk, {}))
                audit_record(
                    actor=actor,
                    action="admin.delete",
                    object_type=obj._meta.label_lower,
                    object_id=pk,
                    before=values | {"repr": str(obj)},
                    after=parent,
                    **_where(obj),
                )


def _audit_delete(request, obj: models.Model, *, bulk: bool = False) -> None:
    audit_record(
        actor=AdminUser(request.user),
        action="admin.delete",
        obj=obj,
        before=field_values(obj, all_fields(obj)) | {"repr": str(obj)},
        reason="bulk" if bulk else "",
        **_where(obj),
    )


def audit_password_set(request, user, *, before_hash: str) -> None:
    """An administrator set another account's password (or disabled password sign-in) in the admin."""
    if user.password == before_hash:
        return
    audit_record(
        actor=AdminUser(request.user),
        action="user.password_reset",
        obj=user,
        after={"via": "admin", "usable": user.has_usable_password()},
    )
