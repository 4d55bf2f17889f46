"""Webhook subscriptions (create, rotate the secret, enable, disable, delete), deliveries written with each
certificate event, and delivery by Celery with retries, back-off and a log; a subscription that keeps failing is
disabled and its organisation told."""

import datetime
import json
import logging
import time
from collections.abc import Iterable

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import mask_id_number
from accounts.models import Role
from accounts.selectors import organisation_admins
from certificates.issuance import verify_url
from certificates.models import Certificate
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.notifications import notify

from . import net, signing
from .models import EVENT_NAMES, Delivery, Subscription
from .selectors import deliveries_for, subscriptions_for

log = logging.getLogger(__name__)
MAX_SUBSCRIPTIONS = 10


# --- Subscriptions ----------------------------------------------------------------------------------------------


def _events_check(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events or []))
    unknown = [e for e in chosen if e not in EVENT_NAMES]
    if unknown or not chosen:
        raise ValidationFailed(
            _("请选择要订阅的事件(可选:%(names)s)") % {"names": "、".join(EVENT_NAMES)},
            details={"field": "events", "unknown": unknown},
        )
    return chosen


def _audit(actor: Actor, action: str, sub: Subscription, before: dict | None = None, after: dict | None = None):
    audit_record(
        actor=actor,
        action=action,
        obj=sub,
        before=before,
        after=after,
        organisation_id=sub.organisation_id,
    )


@transaction.atomic
def subscription_create(
    *, actor: Actor, organisation_id: int, url: str, events: list[str], description: str = ""
) -> tuple[Subscription, str]:
    """A new subscription and its secret, which is returned here once and never shown again."""
    actor.require_org_role(organisation_id, Role.ORG_ADMIN)
    url = net.url_check(url)
    events = _events_check(events)
    if Subscription.objects.filter(organisation_id=organisation_id).count() >= MAX_SUBSCRIPTIONS:
        raise Conflict(_("每个机构最多%(n)d个推送订阅") % {"n": MAX_SUBSCRIPTIONS})
    secret = signing.new_secret()
    sub = Subscription(
        organisation_id=organisation_id,
        url=url,
        events=events,
        description=(description or "").strip()[:128],
        secret=secret,
        created_by=actor.user,
    )
    sub.full_clean()
    sub.save()
    _audit(actor, "webhook.subscription_create", sub, after={"url": url, "events": events})
    return sub, secret


def _for_admin(actor: Actor, subscription_id: int) -> Subscription:
    sub = subscriptions_for(actor).filter(pk=subscription_id).first()
    if sub is None:
        raise NotFound()
    actor.require_org_role(sub.organisation_id, Role.ORG_ADMIN)
    return Subscription.objects.select_for_update().get(pk=sub.pk)


@transaction.atomic
def subscription_rotate(*, actor: Actor, subscription_id: int) -> tuple[Subscription, str]:
    """A new secret; the old one keeps signing beside it for WEBHOOK_SECRET_OVERLAP_HOURS, then stops."""
    sub = _for_admin(actor, subscription_id)
    secret, now = signing.new_secret(), timezone.now()
    sub.previous_secret, sub.secret = sub.secret, secret
    sub.previous_secret_until = now + datetime.timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    sub.secret_rotated_at = now
    sub.save(update_fields=["secret", "previous_secret", "previous_secret_until", "secret_rotated_at"])
    _audit(actor, "webhook.secret_rotate", sub, after={"old_secret_until": sub.previous_secret_until})
    return sub, secret


@transaction.atomic
def subscription_set_active(*, actor: Actor, subscription_id: int, active: bool) -> Subscription:
    """Enable (deliveries held while disabled are sent again) or disable a subscription."""
    sub = _for_admin(actor, subscription_id)
    if active:
        net.url_check(sub.url)
    before = {"active": sub.active, "disabled_reason": sub.disabled_reason}
    sub.active = active
    sub.disabled_reason = "" if active else _("由机构管理员停用")
    if active:
        sub.consecutive_failures = 0
    sub.save(update_fields=["active", "disabled_reason", "consecutive_failures"])
    if active:
        parked = list(sub.deliveries.filter(status=Delivery.Status.PENDING).values_list("id", flat=True).order_by("id"))
        sub.deliveries.filter(pk__in=parked).update(next_attempt_at=timezone.now())
        _enqueue_on_commit(parked)
    _audit(actor, "webhook.subscription_enable" if active else "webhook.subscription_disable", sub, before=before)
    return sub


@transaction.atomic
def subscription_delete(*, actor: Actor, subscription_id: int) -> None:
    sub = _for_admin(actor, subscription_id)
    _audit(actor, "webhook.subscription_delete", sub, before={"url": sub.url, "events": sub.events})
    sub.delete()


# --- Deliveries written with each event -------------------------------------------------------------------------


def event_payload(event: str, cert: Certificate, event_id: str, at: datetime.datetime) -> dict:
    """What an organisation's system receives. Holder ID numbers are masked: the organisation has them already,
    and a webhook body ends up in logs and queues the platform does not control."""
    certificate = {
        "id": cert.id,
        "number": cert.number,
        "holder_name": cert.holder_name,
        "id_number_masked": mask_id_number(cert.id_number),
        "occupation": cert.occupation_name,
        "work_type": cert.work_type,
        "level": cert.level.label,
        "issued_on": cert.issued_on.isoformat(),
        "status": cert.status,
        "status_reason": cert.status_reason,
        "status_changed_on": cert.status_changed_on.isoformat() if cert.status_changed_on else None,
        "verify_url": verify_url(cert),
    }
    data: dict = {"certificate": certificate}
    if event == "certificate.replaced" and cert.superseded_by_id:
        data["replaced_by"] = {"id": cert.superseded_by_id, "number": cert.superseded_by.number}
    return {
        "id": event_id,
        "type": event,
        "created": at.isoformat(),
        "organisation_id": cert.organisation_id,
        "data": data,
    }


def on_certificate_event(sender, *, event: str, certificates, **kwargs) -> None:
    """certificates.signals.certificate_event: one delivery per certificate per subscription that wants it, written
    in the change's transaction and queued on commit."""
    name = f"certificate.{event}"
    certs = [c for c in certificates if c.organisation_id is not None]
    org_ids = {c.organisation_id for c in certs}
    if not org_ids:
        return
    subs: dict[int, list[Subscription]] = {}
    for sub in Subscription.objects.filter(organisation_id__in=org_ids, active=True):
        if name in sub.events:
            subs.setdefault(sub.organisation_id, []).append(sub)
    if not subs:
        return
    now = timezone.now()
    deliveries = []
    for cert in certs:
        payload = None
        for sub in subs.get(cert.organisation_id, []):
            delivery = Delivery(subscription=sub, event=name, next_attempt_at=now)
            if payload is None:
                payload = event_payload(name, cert, str(delivery.event_id), now)
            else:
                delivery.event_id = payload["id"]  # one event, one id, whichever endpoint receives it
            delivery.payload = payload
            deliveries.append(delivery)
    created = Delivery.objects.bulk_create(deliveries, batch_size=500)
    _enqueue_on_commit([d.id for d in created])


def _enqueue_on_commit(ids: list[int]) -> None:
    def enqueue() -> None:
        from .tasks import webhook_deliver_task

        for delivery_id in ids:
            try:
                webhook_deliver_task.delay(delivery_id)
            except Exception as exc:  # the broker is down: the beat's deliver_due sends them later
                log.warning("could not queue webhook delivery %s: %s", delivery_id, exc)
                return

    if ids:
        transaction.on_commit(enqueue)


# --- Delivering ---------------------------------------------------------------------------------------------------


def backoff(attempts: int) -> datetime.timedelta:
    seconds = settings.WEBHOOK_RETRY_BASE * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX))


def _claim(delivery_id: int, now: datetime.datetime) -> Delivery | None:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("subscription")
            .filter(
                Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
                | Q(status=Delivery.Status.SENDING, lease_until__lt=now),
                pk=delivery_id,
            )
            .first()
        )
        if delivery is None:
            return None
        if not delivery.subscription.active:
            # Parked until the subscription is enabled again (subscription_set_active queues it then).
            Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, next_attempt_at=None)
            return None
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.SENDING,
            lease_until=now + datetime.timedelta(seconds=settings.WEBHOOK_TIMEOUT * 3 + 30),
        )
    return delivery


def _post(delivery: Delivery, now: datetime.datetime) -> tuple[int | None, str, str]:
    """(status code or None, problem or "", response excerpt)."""
    sub = delivery.subscription
    try:
        net.url_check(sub.url)
    except ValidationFailed as exc:
        return None, exc.message, ""
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
    keys = [sub.secret]
    if sub.previous_secret and sub.previous_secret_until and sub.previous_secret_until > now:
        keys.append(sub.previous_secret)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "skillcert-webhooks/1",
        "X-Skillcert-Event": delivery.event,
        "X-Skillcert-Event-Id": str(delivery.event_id),
        "X-Skillcert-Delivery": str(delivery.id),
        signing.SIGNATURE_HEADER: signing.signature_header(keys, int(time.time()), body),
    }
    try:
        response = requests.post(
            sub.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT, allow_redirects=False
        )
    except requests.Timeout:
        return None, _("%(s)s秒内未应答") % {"s": settings.WEBHOOK_TIMEOUT}, ""
    except requests.RequestException as exc:
        return None, _("无法连接:%(e)s") % {"e": type(exc).__name__}, ""
    excerpt = response.text[:500] if response.content else ""
    if 200 <= response.status_code < 300:
        return response.status_code, "", excerpt
    return response.status_code, _("接收方返回HTTP %(code)s") % {"code": response.status_code}, excerpt


def delivery_attempt(delivery_id: int, *, now: datetime.datetime | None = None) -> Delivery | None:
    """One attempt, if the delivery is due: send, log the outcome, reschedule or give up, and disable the
    subscription after WEBHOOK_DISABLE_AFTER consecutive failed attempts."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    code, problem, excerpt = _post(delivery, now)
    attempts = delivery.attempts + 1
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=delivery.subscription_id)
        fields = {
            "attempts": attempts,
            "last_status_code": code,
            "last_error": problem[:500],
            "response_excerpt": excerpt,
            "lease_until": None,
        }
        if not problem:
            fields.update(status=Delivery.Status.DELIVERED, delivered_at=now, next_attempt_at=None)
            sub.consecutive_failures = 0
        elif attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            fields.update(status=Delivery.Status.FAILED, next_attempt_at=None)
            sub.consecutive_failures += 1
        else:
            fields.update(status=Delivery.Status.PENDING, next_attempt_at=now + backoff(attempts))
            sub.consecutive_failures += 1
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
        if problem and sub.active and sub.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER:
            _disable_failing(sub)
        sub.save(update_fields=["consecutive_failures", "active", "disabled_reason"])
    delivery.refresh_from_db()
    return delivery


def _disable_failing(sub: Subscription) -> None:
    sub.active = False
    sub.disabled_reason = _("连续%(n)d次推送失败,已自动停用;请检查接收地址后重新启用") % {"n": sub.consecutive_failures}
    audit_record(
        actor=Actor.platform(),
        action="webhook.subscription_auto_disable",
        obj=sub,
        after={"consecutive_failures": sub.consecutive_failures},
        organisation_id=sub.organisation_id,
    )
    notify(
        users=organisation_admins(sub.organisation_id),
        title=_("事件推送已停用:%(url)s") % {"url": sub.url[:80]},
        body=sub.disabled_reason,
        link=f"/certificates/webhooks/{sub.id}/",
    )


def deliveries_due(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Attempt every due delivery (the beat's safety net for retries and for tasks lost with a broker outage)."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(
            Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Delivery.Status.SENDING, lease_until__lt=now)
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for delivery_id in ids:
        delivery_attempt(delivery_id, now=now)
    return len(ids)


@transaction.atomic
def delivery_replay(*, actor: Actor, delivery_id: int) -> Delivery:
    """Send a logged event again (same event id, so the receiver can tell it is the same event), as a new delivery."""
    original = deliveries_for(actor).filter(pk=delivery_id).first()
    if original is None:
        raise NotFound()
    actor.require_org_role(original.subscription.organisation_id, Role.ORG_ADMIN)
    if not original.subscription.active:
        raise Conflict(_("订阅已停用,请先启用再重发"))
    replay = Delivery.objects.create(
        subscription=original.subscription,
        event=original.event,
        event_id=original.event_id,
        payload=original.payload,
        next_attempt_at=timezone.now(),
        replay_of=original,
    )
    audit_record(
        actor=actor,
        action="webhook.delivery_replay",
        obj=replay,
        after={"replay_of": original.id, "event_id": str(original.event_id)},
        organisation_id=original.subscription.organisation_id,
    )
    _enqueue_on_commit([replay.id])
    return replay
