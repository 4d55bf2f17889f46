"""Accreditation API: organisations, filings and their review, people, training records, public directory."""

from django.db.models import Q
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from core.errors import NotFound, ValidationFailed

from . import people, services
from .schemas import (
    AppointmentIn,
    AppointmentOut,
    ApproveIn,
    AttachmentOut,
    DirectoryEntryOut,
    FilingIn,
    FilingOut,
    ImportReportOut,
    OrganisationIn,
    OrganisationOut,
    ReasonIn,
    ScopeIn,
    TrainingRecordIn,
    TrainingRecordOut,
)
from .selectors import (
    appointments_for,
    directory,
    filing_get,
    filings_for,
    organisation_get,
    organisations_for,
    review_queue,
    training_records_for,
)

router = Router(tags=["accreditation"])
public_router = Router(tags=["directory"], auth=None)


# --- Organisations ---------------------------------------------------------------------------------------


@router.post("/organisations", response={201: OrganisationOut}, summary="机构注册(注册人成为机构管理员)")
def organisation_register(request, payload: OrganisationIn):
    org = services.organisation_register(actor=request.auth, **payload.dict())
    return Status(201, org)


@router.get("/organisations", response=list[OrganisationOut], summary="我可见的机构")
@paginate
def organisation_list(request, q: str = ""):
    qs = organisations_for(request.auth)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code=q.upper()))
    return qs


@router.get("/organisations/{org_id}", response=OrganisationOut, summary="机构详情")
def organisation_detail(request, org_id: int):
    return organisation_get(request.auth, org_id)


# --- Filings ---------------------------------------------------------------------------------------------


@router.get("/filings", response=list[FilingOut], summary="备案申请(本机构或本辖区)")
@paginate
def filing_list(request, status: str = "", organisation_id: int | None = None):
    qs = filings_for(request.auth).prefetch_related("scope_lines__levels", "scope_lines__occupation", "attachments")
    if status:
        qs = qs.filter(status=status)
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    return qs


@router.get("/filings/review-queue", response=list[FilingOut], summary="待审核的备案申请(本辖区)")
@paginate
def filing_review_queue(request):
    return review_queue(request.auth)


@router.post("/filings", response={201: FilingOut}, summary="新建备案申请(草稿)")
def filing_create(request, payload: FilingIn):
    filing = services.filing_create(
        actor=request.auth,
        organisation_id=payload.organisation_id,
        scope=[s.dict() for s in payload.scope],
        note=payload.note,
    )
    return Status(201, filing)


@router.get("/filings/{filing_id}", response=FilingOut, summary="备案申请详情")
def filing_detail(request, filing_id: int):
    return filing_get(request.auth, filing_id)


@router.put("/filings/{filing_id}/scope", response=FilingOut, summary="修改备案范围")
def filing_update_scope(request, filing_id: int, payload: ScopeIn):
    filing_get(request.auth, filing_id)
    return services.filing_update_scope(
        actor=request.auth, filing_id=filing_id, scope=[s.dict() for s in payload.scope], note=payload.note
    )


@router.post("/filings/{filing_id}/attachments", response={201: AttachmentOut}, summary="上传申请材料")
def filing_attach(request, filing_id: int, title: Form[str] = "", file: File[UploadedFile] = None):
    filing_get(request.auth, filing_id)
    if file is None:
        raise ValidationFailed("请选择文件", details={"field": "file"})
    return Status(201, services.filing_attach(actor=request.auth, filing_id=filing_id, title=title, upload=file))


@router.post("/filings/{filing_id}/submit", response=FilingOut, summary="提交备案申请")
def filing_submit(request, filing_id: int):
    filing_get(request.auth, filing_id)
    return services.filing_submit(actor=request.auth, filing_id=filing_id)


@router.post("/filings/{filing_id}/start-review", response=FilingOut, summary="受理(开始审核)")
def filing_start_review(request, filing_id: int):
    filing_get(request.auth, filing_id)
    return services.filing_start_review(actor=request.auth, filing_id=filing_id)


@router.post("/filings/{filing_id}/approve", response=FilingOut, summary="批准备案(赋予证书编号前缀)")
def filing_approve(request, filing_id: int, payload: ApproveIn):
    filing_get(request.auth, filing_id)
    return services.filing_approve(actor=request.auth, filing_id=filing_id, **payload.dict())


@router.post("/filings/{filing_id}/return", response=FilingOut, summary="退回修改")
def filing_return(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return services.filing_return(actor=request.auth, filing_id=filing_id, reason=payload.reason)


@router.post("/filings/{filing_id}/reject", response=FilingOut, summary="不予备案")
def filing_reject(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return services.filing_reject(actor=request.auth, filing_id=filing_id, reason=payload.reason)


@router.post("/filings/{filing_id}/suspend", response=FilingOut, summary="暂停备案")
def filing_suspend(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return services.filing_suspend(actor=request.auth, filing_id=filing_id, reason=payload.reason)


@router.post("/filings/{filing_id}/reinstate", response=FilingOut, summary="恢复备案")
def filing_reinstate(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return services.filing_reinstate(actor=request.auth, filing_id=filing_id, reason=payload.reason)


@router.post("/filings/{filing_id}/revoke", response=FilingOut, summary="撤销备案")
def filing_revoke(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return services.filing_revoke(actor=request.auth, filing_id=filing_id, reason=payload.reason)


# --- People and training records -------------------------------------------------------------------------


@router.get("/appointments", response=list[AppointmentOut], summary="考评员、督导员、培训教师名册")
@paginate
def appointment_list(request, role: str = "", organisation_id: int | None = None, q: str = ""):
    qs = appointments_for(request.auth)
    if role:
        qs = qs.filter(role=role)
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    if q:
        qs = qs.filter(person__name__icontains=q)
    return qs


@router.post("/appointments", response={201: AppointmentOut}, summary="登记人员")
def appointment_register(request, payload: AppointmentIn):
    return Status(201, people.appointment_register(actor=request.auth, **payload.dict()))


@router.post("/appointments/{appointment_id}/withdraw", response=AppointmentOut, summary="注销人员登记")
def appointment_withdraw(request, appointment_id: int, payload: ReasonIn):
    return people.appointment_withdraw(actor=request.auth, appointment_id=appointment_id, reason=payload.reason)


@router.get("/training-records", response=list[TrainingRecordOut], summary="培训记录")
@paginate
def training_list(request, provider_id: int | None = None, q: str = ""):
    qs = training_records_for(request.auth)
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    if q:
        qs = qs.filter(Q(trainee__name__icontains=q) | Q(trainer__name__icontains=q) | Q(trainee__id_number=q))
    return qs


@router.post("/training-records", response={201: TrainingRecordOut}, summary="录入一条培训记录")
def training_create(request, payload: TrainingRecordIn):
    return Status(201, people.training_record_create(actor=request.auth, **payload.dict()))


@router.post(
    "/training-records/import",
    response={200: ImportReportOut, 422: ImportReportOut},
    summary="批量导入培训记录(xlsx,全部成功才保存)",
)
def training_import(request, provider_id: Form[int], file: File[UploadedFile]):
    report = people.training_records_import(actor=request.auth, provider_id=provider_id, upload=file)
    return Status(200 if report.ok else 422, report.as_dict())


# --- Public directory ------------------------------------------------------------------------------------


@public_router.get("/", response=list[DirectoryEntryOut], summary="评价机构公示目录(公开)")
@paginate
def directory_list(request, q: str = "", occupation: str = "", region: str = ""):
    return directory(q=q, occupation_code=occupation, region_code=region)


@public_router.get("/{org_id}", response=DirectoryEntryOut, summary="评价机构公示详情(公开)")
def directory_detail(request, org_id: int):
    org = directory().filter(pk=org_id).first()
    if org is None:
        raise NotFound()
    return org
