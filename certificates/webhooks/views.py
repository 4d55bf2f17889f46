"""Pages for an organisation admin: subscriptions, the secret shown once, rotation, and the delivery log with replay."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Organisation
from core.errors import NotFound, PermissionDenied
from core.pages import perform

from . import services
from .models import EVENT_CHOICES, Delivery
from .selectors import subscriptions_for


def _admin_organisations(actor: Actor):
    actor.require_authenticated()
    ids = actor.organisation_ids(Role.ORG_ADMIN)
    if not ids and not actor.is_operator:
        raise PermissionDenied(_("仅评价机构管理员可以管理事件推送"))
    return Organisation.objects.filter(pk__in=ids).order_by("name")


@login_required
def subscriptions(request):
    actor = Actor.from_request(request)
    organisations = _admin_organisations(actor)
    context = {"subs": subscriptions_for(actor), "organisations": organisations, "event_choices": EVENT_CHOICES}
    if request.method == "POST":
        created = perform(
            request,
            lambda: services.subscription_create(
                actor=actor,
                organisation_id=int(request.POST.get("organisation_id") or 0),
                url=request.POST.get("url", ""),
                events=request.POST.getlist("events"),
                description=request.POST.get("description", ""),
            ),
            _("已新建订阅。密钥只显示这一次,请复制保存。"),
        )
        if created is not None:
            sub, secret = created
            return render(request, "webhooks/secret.html", {"sub": sub, "secret": secret})
        context["post"] = request.POST
    return render(request, "webhooks/subscriptions.html", context)


@login_required
def detail(request, subscription_id: int):
    actor = Actor.from_request(request)
    _admin_organisations(actor)
    sub = subscriptions_for(actor).filter(pk=subscription_id).first()
    if sub is None:
        raise NotFound()
    deliveries = Paginator(sub.deliveries.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "webhooks/detail.html", {"sub": sub, "page": deliveries, "statuses": Delivery.Status})


@login_required
@require_POST
def action(request, subscription_id: int, name: str):
    actor = Actor.from_request(request)
    if name == "rotate":
        rotated = perform(request, lambda: services.subscription_rotate(actor=actor, subscription_id=subscription_id))
        if rotated is not None:
            sub, secret = rotated
            return render(request, "webhooks/secret.html", {"sub": sub, "secret": secret, "rotated": True})
    elif name in ("enable", "disable"):
        perform(
            request,
            lambda: services.subscription_set_active(
                actor=actor, subscription_id=subscription_id, active=name == "enable"
            ),
            _("已启用") if name == "enable" else _("已停用"),
        )
    elif name == "delete":
        if perform(
            request,
            lambda: services.subscription_delete(actor=actor, subscription_id=subscription_id) or True,
            _("已删除订阅"),
        ):
            return redirect("webhooks:subscriptions")
    else:
        raise NotFound()
    return redirect("webhooks:detail", subscription_id=subscription_id)


@login_required
@require_POST
def replay(request, delivery_id: int):
    actor = Actor.from_request(request)
    replayed = perform(request, lambda: services.delivery_replay(actor=actor, delivery_id=delivery_id), _("已重新推送"))
    if replayed is not None:
        return redirect("webhooks:detail", subscription_id=replayed.subscription_id)
    return redirect("webhooks:subscriptions")
