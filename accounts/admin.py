from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.files.uploadedfile import UploadedFile

from core.admin_mixins import AuditedAdmin
from core.errors import ValidationFailed
from core.images import photo_clean
from core.signals import certificate_facts_changed

from .models import ApiToken, Bureau, Membership, Person, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    raw_id_fields = ["organisation", "bureau"]


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    inlines = [MembershipInline]
    # An account comes to act as a person only through accounts.binding (a proof, audited), never by an edit here.
    readonly_fields = ["person"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("人员", {"fields": ("person",)}))


class PrivateFileInput(forms.ClearableFileInput):
    """The stored file's name without a link: nothing is served from the media folder (core/files.py)."""

    template_name = "accounts/widgets/private_file_input.html"  # found by the form renderer (app templates)


class PersonAdminForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = "__all__"  # noqa: DJ007 - the admin shows every field, as before; only the photo is special
        widgets = {"photo": PrivateFileInput(attrs={"accept": "image/jpeg,image/png"})}

    def clean_photo(self):
        """A new photo is checked and re-encoded like one uploaded at registration (core/images.py)."""
        photo = self.cleaned_data.get("photo")
        if isinstance(photo, UploadedFile):
            photo.seek(0)
            try:
                clean = photo_clean(photo)
            except ValidationFailed as exc:
                raise forms.ValidationError(exc.message) from None
            clean.name = f"person-{self.instance.pk or 'new'}.jpg"
            return clean
        return photo


@admin.register(Person)
class PersonAdmin(AuditedAdmin, admin.ModelAdmin):
    form = PersonAdminForm
    list_display = ["name", "id_type", "masked_id_number", "masked_phone", "created_at"]
    search_fields = ["name", "=id_number"]

    def save_model(self, request, obj, form, change):
        """Verification shows whether the holder has a photo and the web nodes remember it with the certificate
        (certificates.verification_cache): a changed photo must reach them."""
        super().save_model(request, obj, form, change)
        if change and "photo" in form.changed_data:
            certificate_facts_changed.send(sender=Person, person_ids=[obj.pk])


@admin.register(Bureau)
class BureauAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "region"]
    raw_id_fields = ["region"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_prefix", "key_hash", "created_by", "created_at", "last_used_at"]
    exclude = []

    def has_add_permission(self, request):
        return False  # tokens are created by organisation admins, who see the key once
