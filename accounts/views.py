from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import PlatformError, ValidationFailed
from core.pages import safe_next
from core.ratelimit import check_rate, client_ip, failure_count, failures_blocked, failures_clear, too_many

from .actors import Actor
from .middleware import second_factor_url
from .models import ApiToken, IdentityBinding, IdentityConflict, OidcIdentity, Role
from .oidc.provider import provider_config
from .second_factor import second_factor_pending
from .services import account_signup, api_token_create, api_token_revoke


class LoginView(auth_views.LoginView):
    """Django's login with failed attempts limited per account and per client address (RATE_LIMITS
    'login_account', 'login_address'). Only failures count, so an office whose staff all sign in from one address
    is never locked out by signing in; a refusal says how long to wait. Staff then pass their second factor."""

    template_name = "registration/login.html"

    def post(self, request, *args, **kwargs):
        account, address = _login_keys(request)
        wait = max(failures_blocked("login_account", account) or 0, failures_blocked("login_address", address) or 0)
        if wait:  # the password is not even checked while the limit holds
            return self._refused(wait)
        form = self.get_form()
        if form.is_valid():
            failures_clear("login_account", account)
            return self.form_valid(form)
        wait = max(failure_count("login_account", account) or 0, failure_count("login_address", address) or 0)
        if wait:
            return self._refused(wait)
        return self.form_invalid(form)

    def get_success_url(self):
        url = super().get_success_url()
        if second_factor_pending(self.request):
            return second_factor_url(self.request, url)
        return url

    def _refused(self, wait: int):
        # An unbound form: binding it would check the password, which a refusal must not do.
        form = self.get_form_class()(self.request, initial={"username": self.request.POST.get("username", "")})
        refusal = too_many(wait, _("登录失败次数过多,请 %(wait)s后再试。")).message
        return self.render_to_response(self.get_context_data(form=form, refusal=refusal), status=429)


def _login_keys(request) -> tuple[str, str]:
    # Usernames are compared case-insensitively here so that 'Admin' and 'admin' share one allowance.
    return request.POST.get("username", "").strip().lower()[:150], client_ip(request)


@login_required
def tokens(request):
    actor = Actor.from_request(request)
    org_ids = actor.organisation_ids(Role.ORG_ADMIN)
    if not org_ids:
        return render(request, "403.html", {"message": _("仅评价机构管理员可以管理接口令牌")}, status=403)
    created_key = request.session.pop("created_token_key", None)
    return render(
        request,
        "accounts/tokens.html",
        {
            "tokens": ApiToken.objects.filter(organisation_id__in=org_ids).select_related("organisation"),
            "organisations": [m.organisation for m in actor.memberships if m.role == Role.ORG_ADMIN],
            "created_key": created_key,
        },
    )


@login_required
@require_POST
def token_create(request):
    actor = Actor.from_request(request)
    try:
        _token, raw = api_token_create(
            actor=actor,
            organisation_id=int(request.POST.get("organisation_id", 0)),
            name=request.POST.get("name", ""),
        )
    except (PlatformError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("参数有误")))
        return redirect("accounts:tokens")
    request.session["created_token_key"] = raw
    messages.success(request, _("令牌已创建。请立即复制保存,离开本页后将无法再次查看。"))
    return redirect("accounts:tokens")


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        api_token_revoke(actor=Actor.from_request(request), token_id=token_id)
        messages.success(request, _("令牌已吊销"))
    except PlatformError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:tokens")


SIGNUP_FIELDS = ["username", "phone", "email"]


def signup(request):
    """劳动者注册: a plain account (no role, no person) that the worker then binds by proof."""
    if request.user.is_authenticated:
        return redirect("accounts:me")
    data = {k: request.POST.get(k, "").strip() for k in SIGNUP_FIELDS}
    if request.method != "POST":
        return render(request, "accounts/signup.html", {"data": {}})
    try:
        check_rate("signup", client_ip(request))
        if request.POST.get("password1", "") != request.POST.get("password2", ""):
            raise ValidationFailed(_("两次输入的密码不一致"), details={"field": "password2"})
        user = account_signup(actor=Actor.anonymous(), password=request.POST.get("password1", ""), **data)
    except PlatformError as exc:
        context = {"data": data, "error": exc.message, "error_field": exc.details.get("field")}
        return render(request, "accounts/signup.html", context, status=exc.status)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("注册成功。请完成实名绑定后再报名、查看证书或申请补贴。"))
    return redirect(safe_next(request, reverse("accounts:me")))  # back to an invitation, when one sent them here


@login_required
def account(request):
    """我的账号: who this account acts as (or "未实名" and the ways to bind), and the sign-ins linked to it."""
    user = request.user
    return render(
        request,
        "accounts/me.html",
        {
            "binding": IdentityBinding.objects.filter(user=user, ended_at__isnull=True)
            .select_related("person")
            .first(),
            "identities": OidcIdentity.objects.filter(user=user).order_by("created_at"),
            "conflicts": IdentityConflict.objects.filter(submitted_by=user, status=IdentityConflict.Status.OPEN),
            "oidc": provider_config(),
            "provider": settings.OIDC_PROVIDER_LABEL,
        },
    )
