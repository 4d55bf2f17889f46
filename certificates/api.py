"""Certificates API: public verification (token and lookup), JWKS lives at /.well-known/jwks.json (see views),
and for organisations, bureaus and holders: lists, PDFs, issuance batches and status changes."""

import datetime

from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from assessments.plans import plan_get
from core.errors import NotFound, PlatformError, RateLimited, error_response
from core.ratelimit import check_rate, client_ip
from core.schema_types import IsoDate

from . import bulk, ecert, issuance, presenters, services, signing
from .models import Certificate, IssueBatch, VerificationLog
from .verification import verify_identifier, verify_lookup, verify_token

router = Router(tags=["certificates"])
public_router = Router(tags=["verification"], auth=None)


class VerificationUnavailable(PlatformError):
    status = 503
    code = "verification_unavailable"
    default_message = "暂时无法核验,请稍后再试(这不代表证书有效或无效)"


class DocumentSigningUnavailable(PlatformError):
    status = 503
    code = "signing_unavailable"
    default_message = "证书签章密钥暂不可用,请稍后再试"


@public_router.get("/lookup", summary="按证书编号+姓名+证件号码查询(限流)")
def verify_by_lookup(request, number: str, name: str, id_number: str):
    check_rate("verify_lookup", client_ip(request))
    try:
        return JsonResponse(
            verify_lookup(number=number, name=name, id_number=id_number).public(),
            json_dumps_params={"ensure_ascii": False},
        )
    except signing.SigningKeysError:
        raise VerificationUnavailable() from None


def verify_response(token: str, request) -> HttpResponse:
    """GET /api/v1/verify/{token}: the busiest URL of the platform (see certificates.views.verify_api). An
    e-certificate identifier is accepted in place of the token, rate limited like the lookup by number."""
    try:
        if ecert.looks_like_identifier(token):
            try:
                check_rate("verify_lookup", client_ip(request))
            except RateLimited as exc:  # error_response sets Retry-After from the window's seconds left
                return error_response(exc.status, exc.code, str(exc.message), exc.details)
            result = verify_identifier(token, channel=VerificationLog.Channel.API)
        else:
            result = verify_token(token, channel=VerificationLog.Channel.API)
    except signing.SigningKeysError:
        return error_response(503, VerificationUnavailable.code, str(VerificationUnavailable.default_message))
    response = JsonResponse(result.public(), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


@public_router.get(
    "/{token}",
    summary="扫码核验:status 为 valid/revoked/suspended/expired/superseded/forged/unknown",
    description="token 为二维码中的核验令牌,或电子证照标识(1.2.156.3005.2.…,按来源地址限流,姓名打码)。",
)
def verify(request, token: str):
    """Served by a plain view mounted before the API (certificates.views.verify_api) for speed; this operation
    documents the contract and answers the same way if that view is not mounted."""
    return verify_response(token, request)


class CertificateOut(Schema):
    id: int
    number: str
    kind: str
    holder_name: str
    id_number: str = Field(alias="person.masked_id_number")
    occupation: str = Field(alias="occupation_name")
    work_type: str
    level: str = Field(alias="level.code")
    level_label: str = Field(alias="level.label")
    organisation: str = Field(alias="organisation_name")
    organisation_id: int | None
    issued_on: datetime.date
    status: str
    status_label: str = Field(alias="get_status_display")
    status_reason: str
    imported: bool
    verify_url: str

    @staticmethod
    def resolve_work_type(cert: Certificate) -> str:
        return cert.work_type or "--"

    @staticmethod
    def resolve_verify_url(cert: Certificate) -> str:
        return issuance.verify_url(cert)


class StatusChangeIn(Schema):
    reason: str
    effective_on: IsoDate | None = None


class ReplaceIn(Schema):
    reason: str
    holder_name: str | None = None
    work_type: str | None = None


class BulkRevokeIn(Schema):
    plan_id: int | None = None
    numbers: list[str] = []
    reason: str = ""
    effective_on: IsoDate | None = None
    confirm: bool = False


class BulkRevokeOut(Schema):
    revoked: bool
    to_revoke: int
    numbers: list[str]
    already_revoked: list[str]
    not_allowed: list[str]
    unknown: list[str]
    holders_notified: int


class ReissueIn(Schema):
    reason: str


class IssueBatchOut(Schema):
    id: int
    plan_id: int
    status: str
    total: int
    done: int
    percent: int
    error: str

    @staticmethod
    def resolve_percent(b: IssueBatch) -> int:
        return 100 if b.total == 0 else min(100, b.done * 100 // b.total)


@router.get("", response=list[CertificateOut], summary="证书(本人、本机构签发或本辖区)")
@paginate
def certificate_list(request, q: str = "", plan_id: int | None = None, status: str = ""):
    qs = services.certificates_for(request.auth)
    if q:
        qs = qs.filter(Q(number=q.upper()) | Q(holder_name__icontains=q))
    if plan_id:
        qs = qs.filter(registration__plan_id=plan_id)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.get("/batches/{batch_id}", response=IssueBatchOut, summary="签发批次进度")
def batch_status(request, batch_id: int):
    batch = IssueBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    plan_get(request.auth, batch.plan_id)
    return batch


@router.post("/plans/{plan_id}/issue", response={202: IssueBatchOut}, summary="为办结的认定计划签发证书(异步)")
def batch_start(request, plan_id: int):
    plan_get(request.auth, plan_id)
    return Status(202, issuance.issue_batch_start(actor=request.auth, plan_id=plan_id))


@router.get("/plans/{plan_id}/print.pdf", summary="批量打印:一个 PDF 含本计划全部证书")
def batch_print(request, plan_id: int):
    plan = plan_get(request.auth, plan_id)
    certs = services.certificates_for(request.auth).filter(registration__plan=plan).order_by("number")
    if not certs:
        # Nothing issued yet, or the caller sees the plan (an assessor, a trainer) but not its certificates.
        raise NotFound(_("本计划没有您可以打印的证书"))
    try:
        data = presenters.certificates_print_pdf(list(certs), label=f"认定计划 {plan.id}")
    except signing.SigningKeysError:
        raise DocumentSigningUnavailable() from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="plan-{plan.id}-certificates.pdf"'
    return response


@router.post(
    "/revocations",
    response=BulkRevokeOut,
    summary="批量撤销(如整场认定查实舞弊):confirm=false 只预览影响范围,confirm=true 撤销并逐一通知持证人",
)
def certificates_revoke_many(request, payload: BulkRevokeIn):
    selection = {"plan_id": payload.plan_id, "numbers": payload.numbers}
    if payload.confirm:
        result = bulk.certificates_revoke_bulk(
            actor=request.auth, reason=payload.reason, effective_on=payload.effective_on, **selection
        )
    else:
        result = bulk.revocation_preview(actor=request.auth, **selection)
    return {**result.as_dict(), "revoked": payload.confirm}


@router.get("/{certificate_id}", response=CertificateOut, summary="证书详情")
def certificate_detail(request, certificate_id: int):
    return services.certificate_get(request.auth, certificate_id)


@router.get(
    "/{certificate_id}/ecert",
    summary="电子证照元数据(GB/T 36903 元数据项,含 GB/T 36904 电子证照标识)",
    response=dict,
)
def certificate_ecert(request, certificate_id: int):
    cert = services.certificate_get(request.auth, certificate_id)
    return JsonResponse(ecert.metadata(cert), json_dumps_params={"ensure_ascii": False})


@router.get("/{certificate_id}/pdf", summary="证书 PDF")
def certificate_pdf(request, certificate_id: int):
    cert = services.certificate_get(request.auth, certificate_id)
    try:
        data = presenters.certificate_pdf(cert)
    except signing.SigningKeysError:
        raise DocumentSigningUnavailable() from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    return response


@router.post("/{certificate_id}/reissue", response=CertificateOut, summary="补发(同一编号的新一份,原件二维码仍有效)")
def certificate_reissue(request, certificate_id: int, payload: ReissueIn):
    return services.certificate_reissue(actor=request.auth, certificate_id=certificate_id, reason=payload.reason)


@router.post("/{certificate_id}/revoke", response=CertificateOut, summary="撤销证书")
def certificate_revoke(request, certificate_id: int, payload: StatusChangeIn):
    return services.certificate_revoke(actor=request.auth, certificate_id=certificate_id, **payload.dict())


@router.post("/{certificate_id}/suspend", response=CertificateOut, summary="暂停证书")
def certificate_suspend(request, certificate_id: int, payload: StatusChangeIn):
    return services.certificate_suspend(actor=request.auth, certificate_id=certificate_id, **payload.dict())


@router.post("/{certificate_id}/reinstate", response=CertificateOut, summary="恢复证书")
def certificate_reinstate(request, certificate_id: int, payload: StatusChangeIn):
    return services.certificate_reinstate(actor=request.auth, certificate_id=certificate_id, reason=payload.reason)


@router.post("/{certificate_id}/replace", response={201: CertificateOut}, summary="换发(更正后新证取代旧证)")
def certificate_replace(request, certificate_id: int, payload: ReplaceIn):
    corrections = {k: v for k, v in payload.dict().items() if k != "reason" and v is not None}
    new = services.certificate_replace(
        actor=request.auth, certificate_id=certificate_id, reason=payload.reason, corrections=corrections
    )
    return Status(201, (new))
