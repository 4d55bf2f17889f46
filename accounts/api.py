from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from core.errors import ValidationFailed

from .actors import Actor
from .models import ApiToken, Role
from .services import api_token_create, api_token_revoke

router = Router(tags=["accounts"])


class MembershipOut(Schema):
    role: str
    role_label: str
    bureau: str | None
    organisation_id: int | None
    organisation: str | None


class MeOut(Schema):
    username: str | None
    display_name: str
    roles: list[str]
    memberships: list[MembershipOut]
    token_organisation_id: int | None


@router.get("/me", response=MeOut, summary="当前身份与角色")
def me(request):
    actor: Actor = request.auth
    return {
        "username": actor.user.username if actor.user else None,
        "display_name": actor.user.display_name if actor.user else actor.label,
        "roles": sorted(actor.roles),
        "memberships": [
            {
                "role": m.role,
                "role_label": m.get_role_display(),
                "bureau": m.bureau.name if m.bureau else None,
                "organisation_id": m.organisation_id,
                "organisation": m.organisation.name if m.organisation else None,
            }
            for m in actor.memberships
        ],
        "token_organisation_id": actor.token.organisation_id if actor.token else None,
    }


class TokenIn(Schema):
    organisation_id: int
    name: str


class TokenOut(Schema):
    id: int
    organisation_id: int
    name: str
    key_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    key: str


@router.get("/tokens", response=list[TokenOut], summary="本机构的接口令牌")
def token_list(request):
    actor: Actor = request.auth
    return ApiToken.objects.filter(organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN)).order_by("-id")


@router.post("/tokens", response={201: TokenCreatedOut}, summary="创建接口令牌(密钥仅返回一次)")
def token_create(request, payload: TokenIn):
    if not payload.name.strip():
        raise ValidationFailed(_("请填写令牌用途"), details={"field": "name"})
    token, raw = api_token_create(actor=request.auth, organisation_id=payload.organisation_id, name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).model_dump(), "key": raw})


@router.post("/tokens/{token_id}/revoke", response=TokenOut, summary="吊销接口令牌")
def token_revoke(request, token_id: int):
    return api_token_revoke(actor=request.auth, token_id=token_id)
