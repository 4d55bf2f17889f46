"""Everything an administrator changes through the Django admin is in the audit log: who, what, before, after."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import ApiToken, Membership
from accounts.services import api_token_create
from core.admin_mixins import AuditedAdmin
from core.audit import audit_verify
from core.models import AuditEntry, Notification
from tests.conftest import client_for
from tests.factories import PASSWORD, Role, member

pytestmark = pytest.mark.django_db


def entries(action: str, model: str | None = None):
    qs = AuditEntry.objects.filter(action=action).order_by("seq")
    return qs.filter(object_type=model) if model else qs


def test_every_model_admin_is_audited():
    """Project admins and third-party ones alike (auth's groups, django-otp's devices): the admin site mixes the
    audit in at registration, so a new admin.py cannot forget it."""
    unaudited = [m._meta.label for m, a in admin.site._registry.items() if not isinstance(a, AuditedAdmin)]
    assert not unaudited
    assert {"auth.Group", "otp_totp.TOTPDevice", "accounts.ApiToken"} <= {m._meta.label for m in admin.site._registry}


# --- users, roles and memberships -----------------------------------------------------------------------------


def _user_form(user, rows: list[dict], **overrides) -> dict:
    """The admin's change form for `user`, as the browser posts it, with the memberships inline rows."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": timezone.localtime(user.date_joined).strftime("%Y-%m-%d"),
        "date_joined_1": timezone.localtime(user.date_joined).strftime("%H:%M:%S"),
        # A field with a callable default carries its initial value in hidden inputs, as the admin renders it.
        "initial-date_joined_0": timezone.localtime(user.date_joined).strftime("%Y-%m-%d"),
        "initial-date_joined_1": timezone.localtime(user.date_joined).strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"memberships-{i}-{key}"] = "" if value is None else str(value)
        data[f"memberships-{i}-user"] = str(user.pk)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not False}


def _post_user(client, user, rows, **overrides):
    r = client.post(f"/admin/accounts/user/{user.pk}/change/", _user_form(user, rows, **overrides))
    if r.status_code != 302:  # show the form's errors rather than a bare status
        errors = r.context["adminform"].form.errors if r.context else {}
        inline = [f.errors for fs in (r.context or {}).get("inline_admin_formsets", []) for f in fs.formset.forms]
        pytest.fail(f"admin form refused: {errors} {inline}")
    return r


def test_adding_changing_and_deleting_an_inline_membership_is_each_audited(operator, org, other_org, changchun_bureau):
    user = member(Role.ASSESSOR, organisation=org)
    existing = Membership.objects.get(user=user)
    c = client_for(operator)
    row = {"id": existing.pk, "role": "supervisor", "organisation": org.pk, "bureau": None}
    new = {"id": "", "role": "bureau_staff", "organisation": None, "bureau": changchun_bureau.pk}
    _post_user(c, user, [row, new])

    changed = entries("admin.change", "accounts.membership").get()
    assert changed.object_id == str(existing.pk) and changed.actor_label == "user:operator"
    assert changed.before == {"role": "assessor"}
    assert changed.after == {"role": "supervisor", "parent": f"accounts.user:{user.pk}"}
    added = entries("admin.add", "accounts.membership").get()
    assert added.after["role"] == "bureau_staff" and added.after["bureau"] == changchun_bureau.pk
    assert added.after["parent"] == f"accounts.user:{user.pk}"
    assert changed.organisation_id == org.pk  # in the organisation's own trail too
    assert not entries("admin.change", "accounts.user").exists()  # the user's own fields did not change

    bureau_row = Membership.objects.get(user=user, role="bureau_staff")
    rows = [
        {"id": existing.pk, "role": "supervisor", "organisation": org.pk, "bureau": None, "DELETE": "on"},
        {"id": bureau_row.pk, "role": "bureau_staff", "organisation": None, "bureau": changchun_bureau.pk},
    ]
    _post_user(c, user, rows)
    deleted = entries("admin.delete", "accounts.membership").get()
    assert deleted.object_id == str(existing.pk)
    assert deleted.before["role"] == "supervisor" and deleted.before["organisation"] == org.pk
    assert deleted.after == {"parent": f"accounts.user:{user.pk}"}
    assert list(Membership.objects.filter(user=user).values_list("role", flat=True)) == ["bureau_staff"]
    assert audit_verify().ok


def test_granting_operator_powers_and_groups_is_audited(operator):
    user = member(Role.WORKER)
    group = Group.objects.create(name="审核组")
    row = {"id": Membership.objects.get(user=user).pk, "role": "worker", "organisation": None, "bureau": None}
    _post_user(client_for(operator), user, [row], is_staff="on", is_superuser="on", groups=[str(group.pk)])
    entry = entries("admin.change", "accounts.user").get()
    assert entry.object_id == str(user.pk)
    assert entry.before == {"is_staff": False, "is_superuser": False, "groups": []}
    assert entry.after == {"is_staff": True, "is_superuser": True, "groups": [group.pk]}


def test_an_administrator_setting_a_password_is_audited_and_the_owner_told(operator):
    user = member(Role.WORKER)
    c = client_for(operator)
    r = c.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "Brand-new-2026!", "password2": "Brand-new-2026!", "usable_password": "true"},
    )
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-new-2026!")
    entry = entries("user.password_reset").get()
    assert entry.actor_label == "user:operator" and entry.after == {"via": "admin", "usable": True}
    assert "Brand-new" not in str(entry.after) and user.password not in str(entry.after)
    assert Notification.objects.filter(user=user, title__contains="密码").exists()
    # A refused form (the two do not match) changes and records nothing.
    c.post(f"/admin/accounts/user/{user.pk}/password/", {"password1": "a-Long-one-1", "password2": "b-Long-one-2"})
    assert entries("user.password_reset").count() == 1


# --- API tokens ------------------------------------------------------------------------------------------------


def _token(org_admin, org, name="人事系统"):
    token, _raw = api_token_create(actor=Actor.for_user(org_admin), organisation_id=org.id, name=name)
    return token


def test_an_operator_revoking_a_token_in_the_admin_is_audited_and_final(operator, org_admin, org):
    token = _token(org_admin, org)
    c = client_for(operator)
    url = f"/admin/accounts/apitoken/{token.pk}/change/"
    r = c.post(url, {"name": "人事系统(停用)", "revoked_at_0": "2026-12-01", "revoked_at_1": "10:00:00"})
    assert r.status_code == 302
    entry = entries("admin.change", "accounts.apitoken").get()
    assert entry.before == {"name": "人事系统", "revoked_at": None}
    assert entry.after["name"] == "人事系统(停用)" and entry.after["revoked_at"].startswith("2026-12-01")
    assert entry.organisation_id == org.pk
    assert "key_hash" not in entry.after
    # Revoked stays revoked: the field is no longer editable, an attempt to clear it changes nothing.
    c.post(url, {"name": "人事系统", "revoked_at_0": "", "revoked_at_1": ""})
    token.refresh_from_db()
    assert token.revoked_at is not None and not token.is_active
    assert c.get("/admin/accounts/apitoken/add/").status_code == 403


def test_the_bulk_delete_action_writes_one_entry_per_object(operator, org_admin, org):
    tokens = [_token(org_admin, org, f"系统{i}") for i in range(3)]
    c = client_for(operator)
    r = c.post(
        "/admin/accounts/apitoken/",
        {"action": "delete_selected", "_selected_action": [t.pk for t in tokens[:2]], "post": "yes"},
    )
    assert r.status_code == 302
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [tokens[2].pk]
    deleted = entries("admin.delete", "accounts.apitoken")
    assert sorted(deleted.values_list("object_id", flat=True)) == sorted(str(t.pk) for t in tokens[:2])
    assert {e.reason for e in deleted} == {"bulk"}
    assert {e.before["name"] for e in deleted} == {"系统0", "系统1"}
    assert all(e.before["key_hash"] == "***" for e in deleted)


def test_deleting_one_object_in_the_admin_is_audited(operator, org_admin, org):
    token = _token(org_admin, org)
    r = client_for(operator).post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302 and not ApiToken.objects.exists()
    entry = entries("admin.delete", "accounts.apitoken").get()
    assert entry.object_id == str(token.pk) and entry.before["repr"].startswith("人事系统")


def test_second_factor_devices_are_read_only_in_the_admin(operator, cc_officer):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client_for(cc_officer)  # gives cc_officer a device
    device = TOTPDevice.objects.get(user=cc_officer)
    c = client_for(operator)
    assert c.get("/admin/otp_totp/totpdevice/add/").status_code == 403  # no planting a device on an account
    page = c.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200 and device.key not in page.content.decode()
    assert c.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


# --- passwords on the site ---------------------------------------------------------------------------------------


def test_changing_ones_own_password_is_audited_and_keeps_the_session(cc_officer):
    c = client_for(cc_officer)
    r = c.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Another-pass-2026", "new_password2": "Another-pass-2026"},
    )
    assert r.status_code == 302 and r["Location"] == "/accounts/security/"
    assert c.get("/accreditation/review/").status_code == 200  # still signed in, second factor still passed
    entry = entries("user.password_change").get()
    assert entry.actor_label == f"user:{cc_officer.username}" and entry.object_id == str(cc_officer.pk)
    bad = c.post(
        "/accounts/password/", {"old_password": "wrong", "new_password1": "x-Y-z-123456", "new_password2": "x"}
    )
    assert bad.status_code == 200 and entries("user.password_change").count() == 1


def test_a_password_reset_by_email_is_audited(django_capture_on_commit_callbacks):
    user = member(Role.WORKER)
    user.email = "zhang@example.cn"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        r = Client().post("/accounts/password/reset/", {"email": "zhang@example.cn"})
    assert r.status_code == 302 and len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^\s]+/)", mail.outbox[0].body).group(1)
    c = Client()
    form_url = c.get(link)["Location"]  # Django swaps the token for a session value before showing the form
    r = c.post(form_url, {"new_password1": "Reset-pass-2026", "new_password2": "Reset-pass-2026"})
    assert r.status_code == 302 and r["Location"] == "/accounts/password/reset/done/"
    user.refresh_from_db()
    assert user.check_password("Reset-pass-2026")
    entry = entries("user.password_reset").get()
    assert entry.after == {"via": "email"} and entry.object_id == str(user.pk)
    assert c.get(link).status_code == 200 and "无效" in c.get(link).content.decode()  # the link worked once

    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.cn"})
    assert unknown.status_code == 302 and len(mail.outbox) == 1  # same answer, no mail


def test_password_reset_requests_are_limited_per_address(settings):
    from django.core.cache import cache

    cache.clear()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": (2, 3600)}
    c = Client(REMOTE_ADDR="10.1.1.1")
    assert [c.post("/accounts/password/reset/", {"email": "a@example.cn"}).status_code for _ in range(3)] == [
        302,
        302,
        429,
    ]
    cache.clear()
