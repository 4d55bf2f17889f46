from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from core.errors import PermissionDenied, ValidationFailed
from core.ratelimit import client_ip

from .actors import Actor
from .binding_codes import binding_code_issue_at_desk, binding_code_redeem
from .conflicts import conflicts_for, identity_conflict_get, identity_conflict_resolve
from .invitations import (
    invitation_accept,
    invitation_create,
    invitation_link,
    invitation_revoke,
    invitation_state,
    invitations_for,
)
from .models import ApiToken, BindingCode, Role
from .second_factor import requires_second_factor
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


# --- Identity: binding codes and conflicts (issue 13) -----------------------------------------------------------


class BindCodeIn(Schema):
    name: str
    id_type: str = "ric"
    id_number: str
    code: str


class BindingOut(Schema):
    person_name: str = Field(alias="person.name")
    masked_id_number: str = Field(alias="person.masked_id_number")
    channel: str
    channel_label: str = Field(alias="get_channel_display")
    created_at: datetime


@router.post("/bind/code", response=BindingOut, summary="使用绑定码实名绑定本人账号")
def bind_with_code(request, payload: BindCodeIn):
    actor: Actor = request.auth
    actor.require_authenticated()
    if actor.user is None:
        raise PermissionDenied(_("绑定码只能由本人登录后使用"))
    binding = binding_code_redeem(actor=actor, user=actor.user, client_address=client_ip(request), **payload.dict())
    return binding


class BindingCodeIn(Schema):
    place: str
    name: str
    id_type: str = "ric"
    id_number: str
    papers_checked: bool = False
    organisation_id: int | None = None
    bureau_id: int | None = None


class BindingCodeOut(Schema):
    code: str
    expires_at: datetime
    person_name: str
    masked_id_number: str
    place: str
    place_label: str


@router.post("/binding-codes", response={201: BindingCodeOut}, summary="当面核验证件后发放绑定码(仅显示一次)")
def binding_code_create(request, payload: BindingCodeIn):
    code, person = binding_code_issue_at_desk(actor=request.auth, **payload.dict())
    issued = BindingCode.objects.filter(person=person).latest("issued_at")
    return Status(
        201,
        {
            "code": code,
            "expires_at": issued.expires_at,
            "person_name": person.name,
            "masked_id_number": person.masked_id_number,
            "place": issued.place,
            "place_label": issued.get_place_display(),
        },
    )


class ConflictOut(Schema):
    id: int
    person_name: str = Field(alias="person.name")
    masked_id_number: str = Field(alias="person.masked_id_number")
    claimed_name: str
    source: str
    source_label: str = Field(alias="get_source_display")
    organisation: str | None
    region_code: str
    created_at: datetime
    status: str
    status_label: str = Field(alias="get_status_display")
    resolution: str
    has_evidence: bool
    resolved_at: datetime | None

    @staticmethod
    def resolve_organisation(c) -> str | None:
        return c.organisation.name if c.organisation else None

    @staticmethod
    def resolve_has_evidence(c) -> bool:
        return bool(c.evidence)


@router.get("/identity-conflicts", response=list[ConflictOut], summary="身份信息冲突(本辖区,人社部门)")
@paginate
def conflict_list(request, status: str = ""):
    actor: Actor = request.auth
    actor.require_bureau()
    qs = conflicts_for(actor)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.get("/identity-conflicts/{conflict_id}", response=ConflictOut, summary="身份信息冲突详情")
def conflict_detail(request, conflict_id: int):
    return identity_conflict_get(request.auth, conflict_id)


@router.post(
    "/identity-conflicts/{conflict_id}/resolve", response=ConflictOut, summary="核查处理:维持原记录或更正记录姓名"
)
def conflict_resolve(
    request,
    conflict_id: int,
    decision: Form[str],
    resolution: Form[str],
    evidence: File[UploadedFile] = None,
):
    conflict = identity_conflict_resolve(
        actor=request.auth, conflict_id=conflict_id, decision=decision, resolution=resolution, evidence=evidence
    )
    return conflict


# --- Invitations (issue 13, item 4) -----------------------------------------------------------------------------


class InvitationIn(Schema):
    role: str
    name: str
    id_type: str = "ric"
    id_number: str
    email: str = ""
    organisation_id: int | None = None
    bureau_id: int | None = None


class InvitationOut(Schema):
    id: int
    role: str
    role_label: str = Field(alias="get_role_display")
    person_name: str = Field(alias="person.name")
    masked_id_number: str = Field(alias="person.masked_id_number")
    organisation_id: int | None
    bureau_id: int | None
    inviter: str
    email: str
    created_at: datetime
    expires_at: datetime
    state: str
    accepted_at: datetime | None

    @staticmethod
    def resolve_inviter(inv) -> str:
        return (inv.organisation or inv.bureau).name

    @staticmethod
    def resolve_state(inv) -> str:
        return invitation_state(inv)


class InvitationCreatedOut(InvitationOut):
    link: str


class InvitationAcceptIn(Schema):
    token: str


class MembershipGrantedOut(Schema):
    role: str
    role_label: str
    organisation_id: int | None
    bureau_id: int | None
    second_factor_required: bool


@router.get("/invitations", response=list[InvitationOut], summary="本机构或本部门发出的角色邀请")
@paginate
def invitation_list(request):
    return invitations_for(request.auth).order_by("-created_at")


@router.post("/invitations", response={201: InvitationCreatedOut}, summary="邀请已登记人员担任角色(链接仅返回一次)")
def invitation_create_api(request, payload: InvitationIn):
    invitation, raw = invitation_create(actor=request.auth, **payload.dict())
    invitation.link = request.build_absolute_uri(invitation_link(raw))
    return Status(201, invitation)


@router.post("/invitations/{invitation_id}/revoke", response=InvitationOut, summary="撤销角色邀请")
def invitation_revoke_api(request, invitation_id: int):
    return invitation_revoke(actor=request.auth, invitation_id=invitation_id)


@router.post("/invitations/accept", response=MembershipGrantedOut, summary="接受角色邀请(须已实名绑定为被邀请人)")
def invitation_accept_api(request, payload: InvitationAcceptIn):
    actor: Actor = request.auth
    membership = invitation_accept(actor=actor, token=payload.token)
    return {
        "role": membership.role,
        "role_label": membership.get_role_display(),
        "organisation_id": membership.organisation_id,
        "bureau_id": membership.bureau_id,
        "second_factor_required": requires_second_factor(actor),
    }
