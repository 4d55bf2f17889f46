"""Account security pages: the second factor (enrol, verify, recovery codes, reset by another administrator) and
passwords (change, reset by e-mail). Each write goes through a service and is audited."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import audit_record
from core.errors import PlatformError
from core.notifications import notify
from core.pages import safe_next
from core.ratelimit import check_rate, client_ip

from .actors import Actor
from .forms import QueuedPasswordResetForm
from .models import Role
from .second_factor import (
    FRESH_CODES_SESSION_KEY,
    PENDING_SESSION_KEY,
    pending_key,
    provisioning_uri,
    qr_svg,
    recovery_codes_left,
    recovery_codes_regenerate,
    requires_second_factor,
    resettable_users,
    second_factor_enrol,
    second_factor_reset,
    second_factor_verify,
    secret_text,
    session_verified,
    totp_device,
)


def _not_needed(request):
    return render(request, "403.html", {"message": _("您的账号无需两步验证")}, status=403)


@login_required
def security(request):
    """The account's own security page: password, second factor, recovery codes; resets for administrators."""
    actor = Actor.from_request(request)
    return render(
        request,
        "accounts/security.html",
        {
            "required": requires_second_factor(actor),
            "device": totp_device(request.user),
            "codes_left": recovery_codes_left(request.user),
            "may_reset": _may_reset_others(actor),
        },
    )


@login_required
def enrol(request):
    """Set up an authenticator app: QR code and the secret as text, confirmed by a first code. A staff account
    that already has one may replace it only from a session that passed it (lost phone: sign in with a recovery
    code first, or ask another administrator to reset)."""
    actor = Actor.from_request(request)
    if not requires_second_factor(actor):
        return _not_needed(request)
    next_url = safe_next(request, reverse("home"))
    replacing = totp_device(request.user) is not None
    if replacing and not session_verified(request):
        return redirect(f"{reverse('accounts:second_factor_verify')}?{urlencode({'next': next_url})}")
    key = pending_key(request.session)
    error, status = None, 200
    if request.method == "POST":
        try:
            device, codes = second_factor_enrol(actor=actor, key_hex=key, code=request.POST.get("code", ""))
        except PlatformError as exc:
            error, status = exc.message, exc.status
        else:
            request.session.pop(PENDING_SESSION_KEY, None)
            request.session.cycle_key()
            otp_login(request, device)
            request.session[FRESH_CODES_SESSION_KEY] = codes
            messages.success(request, _("两步验证已开启"))
            return redirect(f"{reverse('accounts:recovery_codes')}?{urlencode({'next': next_url})}")
    uri = provisioning_uri(request.user, key)
    return render(
        request,
        "accounts/second_factor_enrol.html",
        {
            "qr": mark_safe(qr_svg(uri)),  # noqa: S308 - drawn by segno; the URI is in the modules, not in text
            "secret": secret_text(key),
            "uri": uri,
            "next": next_url,
            "error": error,
            "replacing": replacing,
        },
        status=status,
    )


@login_required
def verify(request):
    """The second step of signing in: a code from the authenticator app or one recovery code."""
    actor = Actor.from_request(request)
    next_url = safe_next(request, reverse("home"))
    if not requires_second_factor(actor) or session_verified(request):
        return redirect(next_url)
    if totp_device(request.user) is None:
        return redirect(f"{reverse('accounts:second_factor_enrol')}?{urlencode({'next': next_url})}")
    error, status = None, 200
    if request.method == "POST":
        try:
            second_factor_verify(request=request, code=request.POST.get("code", ""))
        except PlatformError as exc:
            error, status = exc.message, exc.status
        else:
            request.session.cycle_key()
            return redirect(next_url)
    return render(request, "accounts/second_factor_verify.html", {"next": next_url, "error": error}, status=status)


@login_required
def recovery_codes(request):
    """Fresh recovery codes are shown here once (after enrolment or regeneration); otherwise how many are left."""
    actor = Actor.from_request(request)
    if not requires_second_factor(actor):
        return _not_needed(request)
    if request.method == "POST":
        try:
            request.session[FRESH_CODES_SESSION_KEY] = recovery_codes_regenerate(actor=actor)
        except PlatformError as exc:
            messages.error(request, exc.message)
        return redirect("accounts:recovery_codes")
    codes = request.session.pop(FRESH_CODES_SESSION_KEY, None)
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "codes": [f"{c[:4]}-{c[4:]}" for c in codes] if codes else None,
            "left": recovery_codes_left(request.user),
            "has_device": totp_device(request.user) is not None,
            "next": safe_next(request, reverse("accounts:security")),
        },
    )


def _may_reset_others(actor: Actor) -> bool:
    return actor.is_operator or bool(actor.organisation_ids(Role.ORG_ADMIN)) or bool(actor.bureau_prefixes)


@login_required
def staff(request):
    """The accounts whose second factor this administrator may reset, with their enrolment state."""
    actor = Actor.from_request(request)
    if not _may_reset_others(actor):
        return render(request, "403.html", {"message": _("仅管理员可以重置他人的两步验证")}, status=403)
    users = resettable_users(actor)
    q = request.GET.get("q", "").strip()
    if q:
        users = users.filter(username__icontains=q)
    page = Paginator(users.prefetch_related("memberships"), 50).get_page(request.GET.get("page"))
    enrolled = set(TOTPDevice.objects.filter(user__in=list(page), confirmed=True).values_list("user_id", flat=True))
    return render(request, "accounts/second_factor_staff.html", {"page": page, "q": q, "enrolled": enrolled})


@login_required
@require_POST
def staff_reset(request, user_id: int):
    actor = Actor.from_request(request)
    try:
        target = second_factor_reset(actor=actor, user_id=user_id, reason=request.POST.get("reason", ""))
    except PlatformError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已重置 %(user)s 的两步验证,并已通知本人") % {"user": target.username})
    return redirect("accounts:second_factor_staff")


# --- passwords ------------------------------------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (the old one is asked for). Audited; the session stays signed in and verified."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(actor=Actor.for_user(self.request.user), action="user.password_change", obj=form.user)
        messages.success(self.request, _("密码已修改"))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Forgotten password: a link by e-mail to the address on the account. Limited per client address; the page
    says the same whether or not the address is known. A staff account still needs its second factor after."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    form_class = QueuedPasswordResetForm

    def post(self, request, *args, **kwargs):
        try:
            check_rate("password_reset", client_ip(request))
        except PlatformError as exc:
            form = self.get_form_class()(initial={"email": request.POST.get("email", "")})
            context = self.get_context_data(form=form, refusal=exc.message)
            return self.render_to_response(context, status=exc.status)
        return super().post(request, *args, **kwargs)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                actor=Actor.for_user(form.user), action="user.password_reset", obj=form.user, after={"via": "email"}
            )
            notify(
                users=[form.user],
                title=_("您的密码已通过邮件链接重置"),
                body=_("如非本人操作,请立即联系管理员。"),
            )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
