"""Credentials, status lists, data reporting (数据上报), issuance history and historical imports.

Both routers use full paths and are mounted at the API root (/api/v1):
    router          /certificates/{id}/credential, /certificates/report, /certificates/history,
                    /certificates/import, /certificates/import/template
    public_router   /credentials/status/{purpose}, /credentials/status/{issuer}/{purpose},
                    /credentials/status/{issuer}/{number}/{purpose}
                    (no authentication; what verifiers fetch)
"""

from typing import Literal

from django.http import HttpResponse, HttpResponseNotModified, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from core import exports
from core.errors import NotFound, PlatformError
from core.schema_types import IsoDate

from . import credentials, imports, reporting, services, signing

router = Router(tags=["credentials"])
public_router = Router(tags=["credentials"], auth=None)

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CredentialsUnavailable(PlatformError):
    status = 503
    code = "signing_unavailable"
    default_message = "签名密钥暂不可用,请稍后再试"


class CredentialOut(Schema):
    jwt: str
    media_type: str


class HistoryOut(Schema):
    organisation_id: int
    month: str
    level: str
    level_code: str
    count: int

    @staticmethod
    def resolve_month(obj: dict) -> str:
        return obj["month"].strftime("%Y-%m")

    @staticmethod
    def resolve_level(obj: dict) -> str:
        return f"{obj['level_name']}/{obj['level_title']}" if obj["level_title"] else obj["level_name"]


class ImportReportOut(Schema):
    total: int
    created: int
    errors: list[dict]


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- credentials ------------------------------------------------------------------------------------------


@router.get(
    "/certificates/{certificate_id}/credential",
    response={200: CredentialOut},
    summary="电子凭证:W3C 可验证凭证 / Open Badges 3.0(VC-JWT)",
    description="默认返回 application/vc+jwt;请求头 Accept: application/json 时返回 {jwt, media_type}。",
    # Both representations are documented, so clients (and the schema fuzzing) know the default is the bare JWT.
    openapi_extra={"responses": {200: {"content": {"application/vc+jwt": {"schema": {"type": "string"}}}}}},
)
def certificate_credential(request, certificate_id: int):
    cert = services.certificate_get(request.auth, certificate_id)
    try:
        token = credentials.credential_for(cert)
    except signing.SigningKeysError:
        raise CredentialsUnavailable() from None
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and credentials.VC_JWT_MEDIA_TYPE not in accept:
        response = JsonResponse({"jwt": token, "media_type": credentials.VC_JWT_MEDIA_TYPE})
    else:
        response = _attachment(HttpResponse(token, content_type=credentials.VC_JWT_MEDIA_TYPE), f"{cert.number}.vc.jwt")
    response["Cache-Control"] = "private, no-store"
    return response


def _status_list_response(request, purpose: str, issuer: str | None = None, number: int = 0) -> HttpResponse:
    """The list, or 304 Not Modified when the verifier already holds this very token (If-None-Match): verifiers
    that poll a list every `ttl` fetch its full bitstring only when it changed."""
    try:
        published = credentials.status_list_published(purpose, issuer, number)
    except signing.SigningKeysError:
        raise CredentialsUnavailable() from None
    if published.etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(published.token, content_type=credentials.VC_JWT_MEDIA_TYPE)
    response["ETag"] = published.etag
    response["Cache-Control"] = f"public, max-age={credentials.STATUS_LIST_TTL_SECONDS}"
    return response


@public_router.get(
    "/credentials/status/{purpose}",
    summary="证书状态列表(W3C Bitstring Status List):purpose 为 revocation 或 suspension",
)
def status_list(request, purpose: str):
    return _status_list_response(request, purpose)


@public_router.get(
    "/credentials/status/{issuer}/{purpose}",
    summary="某发证机构的证书状态列表(W3C Bitstring Status List):issuer 为凭证 credentialStatus 中的机构标识",
)
def issuer_status_list(request, issuer: str, purpose: str):
    return _status_list_response(request, purpose, issuer)


@public_router.get(
    "/credentials/status/{issuer}/{number}/{purpose}",
    summary="某发证机构的第 number 号证书状态列表(W3C Bitstring Status List;0 号列表的地址不含编号)",
)
def issuer_numbered_status_list(request, issuer: str, number: int, purpose: str):
    if number < 1:  # list 0 has one address, the one its credentials name
        raise NotFound(_("没有这个状态列表"))
    return _status_list_response(request, purpose, issuer, number)


# --- 数据上报 and history -----------------------------------------------------------------------------------


@router.get(
    "/certificates/report",
    summary="数据上报:辖区内签发的证书(xlsx 或 csv,含完整证件号码)",
    openapi_extra={
        "responses": {
            "202": {
                "description": "数据量较大:已排队由后台生成文件,Location 为导出状态地址(GET /api/v1/exports/{id})",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        }
    },
)
def certificate_report(
    request,
    since: IsoDate | None = None,
    until: IsoDate | None = None,
    region: str = "",
    format: Literal["xlsx", "csv"] = "xlsx",
    deliver: Literal["auto", "inline", "file"] = "auto",
):
    """Up to EXPORT_SYNC_MAX_ROWS rows (or with deliver=inline) the file is the response, as it always was. A larger
    report (or deliver=file) is built by a worker: 202 with the export's status URL (Location), its page and, once
    done, its download URL (GET /api/v1/exports/{id}); the file is kept for the export-file retention period."""
    report = reporting.certificate_report(
        actor=request.auth, since=since, until=until, region_code=region, file_format=format
    )
    if deliver == "file" or (deliver == "auto" and report.count > exports.sync_max_rows()):
        export = reporting.report_export(actor=request.auth, report=report, file_format=format)
        response = JsonResponse(exports.describe(export), status=202)
        response["Location"] = f"/api/v1/exports/{export.id}"
        return response
    if format == "csv":
        response = StreamingHttpResponse(reporting.report_csv(report), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(reporting.report_xlsx(report), content_type=XLSX_MEDIA_TYPE)
    response["Cache-Control"] = "private, no-store"
    return _attachment(response, f"{report.filename_stem}.{format}")


@router.get("/certificates/history", response=list[HistoryOut], summary="本机构签发统计:按月份和等级")
@paginate
def certificate_history(request, organisation_id: int | None = None):
    return reporting.issuance_history(actor=request.auth, organisation_id=organisation_id)


# --- historical imports -----------------------------------------------------------------------------------


@router.get("/certificates/import/template", summary="历史证书导入模板(xlsx)")
def certificate_import_template(request):
    request.auth.require_bureau()
    return _attachment(
        HttpResponse(imports.import_template(), content_type=XLSX_MEDIA_TYPE), "certificates-import.xlsx"
    )


@router.post(
    "/certificates/import",
    response={200: ImportReportOut, 422: ImportReportOut},
    summary="历史证书导入(xlsx,全部成功才保存;人社部门)",
)
def certificate_import(request, file: File[UploadedFile], organisation_name: Form[str] = "", region: Form[str] = ""):
    try:
        report = imports.certificates_import(
            actor=request.auth, upload=file, organisation_name=organisation_name, region_code=region
        )
    except signing.SigningKeysError:
        raise CredentialsUnavailable() from None
    return Status(200 if report.ok else 422, report.as_dict())
