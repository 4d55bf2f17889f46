from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.admin_mixins import AuditedAdmin, audit_password_set
from core.errors import ValidationFailed
from core.images import photo_clean
from core.notifications import notify
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

    def user_change_password(self, request, id, form_url=""):
        """Setting another account's password here is a reset: audited, and the account's owner is told."""
        user = self.get_object(request, unquote(id))
        before_hash = user.password if user is not None else ""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and user is not None:
                user.refresh_from_db(fields=["password"])
                if user.password != before_hash:
                    audit_password_set(request, user, before_hash=before_hash)
                    notify(
                        users=[user],
                        title=_("您的密码已被平台运维人员重置"),
                        body=_("如非本人申请,请立即联系管理员。"),
                    )
        return response


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
class ApiTokenAdmin(AuditedAdmin, admin.ModelAdmin):
    """Tokens are created by organisation admins, who see the key once. Here an operator may rename or revoke
    one (audited); a revoked token stays revoked and no token moves to another organisation."""

    list_display = ["name", "organisation", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["organisation", "key_prefix", "created_by", "created_at", "last_used_at"]
        return [*fixed, "revoked_at"] if obj is not None and obj.revoked_at else fixed

    def has_add_permission(self, request):
        return False


class DeviceAdmin(AuditedAdmin, admin.ModelAdmin):
    """Second-factor devices, read only: who has enrolled and when a device was last used. No secrets, no
    adding (an operator planting a device of their own on someone's account), no edits; resets go through
    /accounts/second-factor/staff/, which is audited and tells the account's owner."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for _device in (TOTPDevice, StaticDevice):  # replace django-otp's own admins, which show keys and let one add
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)
    admin.site.register(_device, DeviceAdmin)
