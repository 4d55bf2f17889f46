"""Webhook subscriptions and their delivery log, for an organisation's admin or its API token."""

import datetime
import uuid

from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from core.errors import NotFound

from . import services
from .models import Subscription
from .selectors import deliveries_for, subscriptions_for

router = Router(tags=["webhooks"])


class SubscriptionIn(Schema):
    organisation_id: int
    url: str = Field(max_length=500)
    events: list[str]
    description: str = Field("", max_length=128)


class SubscriptionOut(Schema):
    id: int
    organisation_id: int
    url: str
    description: str
    events: list[str]
    active: bool
    disabled_reason: str
    consecutive_failures: int
    created_at: datetime.datetime
    secret_rotated_at: datetime.datetime | None


class SubscriptionWithSecretOut(SubscriptionOut):
    secret: str = Field(description="只在创建或轮换时返回一次,请妥善保存")


class ActiveIn(Schema):
    active: bool


class DeliveryOut(Schema):
    id: int
    subscription_id: int
    event: str
    event_id: uuid.UUID
    status: str
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_status_code: int | None
    last_error: str
    response_excerpt: str
    delivered_at: datetime.datetime | None
    replay_of_id: int | None
    created_at: datetime.datetime
    payload: dict


def _sub(sub: Subscription, secret: str | None = None) -> dict:
    out = {f: getattr(sub, f) for f in SubscriptionOut.model_fields}
    if secret is not None:
        out["secret"] = secret
    return out


@router.get("/subscriptions", response=list[SubscriptionOut], summary="本机构的事件推送订阅")
@paginate
def subscription_list(request):
    return [_sub(s) for s in subscriptions_for(request.auth)]


@router.post("/subscriptions", response={201: SubscriptionWithSecretOut}, summary="新建订阅(密钥只返回这一次)")
def subscription_create(request, data: SubscriptionIn):
    sub, secret = services.subscription_create(
        actor=request.auth,
        organisation_id=data.organisation_id,
        url=data.url,
        events=data.events,
        description=data.description,
    )
    return Status(201, _sub(sub, secret))


@router.get("/subscriptions/{subscription_id}", response=SubscriptionOut, summary="订阅详情")
def subscription_detail(request, subscription_id: int):
    sub = subscriptions_for(request.auth).filter(pk=subscription_id).first()
    if sub is None:
        raise NotFound()
    return _sub(sub)


@router.post("/subscriptions/{subscription_id}/rotate", response=SubscriptionWithSecretOut, summary="轮换密钥")
def subscription_rotate(request, subscription_id: int):
    sub, secret = services.subscription_rotate(actor=request.auth, subscription_id=subscription_id)
    return _sub(sub, secret)


@router.post("/subscriptions/{subscription_id}/active", response=SubscriptionOut, summary="启用或停用")
def subscription_active(request, subscription_id: int, data: ActiveIn):
    return _sub(
        services.subscription_set_active(actor=request.auth, subscription_id=subscription_id, active=data.active)
    )


@router.post("/subscriptions/{subscription_id}/delete", response={204: None}, summary="删除订阅")
def subscription_delete(request, subscription_id: int):
    services.subscription_delete(actor=request.auth, subscription_id=subscription_id)
    return Status(204, None)


@router.get("/deliveries", response=list[DeliveryOut], summary="推送记录(可按订阅、状态筛选)")
@paginate
def delivery_list(request, subscription_id: int | None = None, status: str = ""):
    qs = deliveries_for(request.auth)
    if subscription_id is not None:
        qs = qs.filter(subscription_id=subscription_id)
    if status:
        qs = qs.filter(status=status)
    return list(qs)


@router.post("/deliveries/{delivery_id}/replay", response={201: DeliveryOut}, summary="重新推送一条记录")
def delivery_replay(request, delivery_id: int):
    return Status(201, services.delivery_replay(actor=request.auth, delivery_id=delivery_id))
