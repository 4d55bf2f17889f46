from django import forms
from django.contrib import admin

from .models import Citizen


class CitizenForm(forms.ModelForm):
    new_password = forms.CharField(label="设置密码", required=False, widget=forms.PasswordInput)

    class Meta:
        model = Citizen
        fields = ["username", "name", "id_type", "id_number", "assurance"]

    def save(self, commit=True):
        citizen = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            citizen.set_password(self.cleaned_data["new_password"])
        elif not citizen.password:
            citizen.set_password(None)  # unusable until a password is set
        if commit:
            citizen.save()
        return citizen


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    """The local provider's citizens (development only): who can sign in at /dev-idp/, as whom, at what level."""

    form = CitizenForm
    list_display = ["username", "name", "id_type", "assurance", "subject", "created_at"]
    search_fields = ["username", "name"]
