"""Accreditation API: organisations, filings and their review, people, training records, public directory."""

from django.db.models import Q
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from accounts.identity import mask_phone
from core.errors import NotFound, ValidationFailed

from . import people, services
from .models import Appointment, Filing, Organisation
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
    public_filing,
    review_queue,
    training_records_for,
)

router = Router(tags=["accreditation"])
public_router = Router(tags=["directory"], auth=None)


def organisation_out(org: Organisation) -> dict:
    return {
        "id": org.id,
        "name": org.name,
        "kind": org.kind,
        "credit_code": org.credit_code,
        "region_code": org.region.code,
        "region_name": org.region.full_name,
        "contact_name": org.contact_name,
        "contact_phone": org.contact_phone,
        "provides_training": org.provides_training,
        "number_prefix": org.number_prefix,
        "created_at": org.created_at,
    }


def scope_out(filing: Filing | None) -> list[dict]:
    if filing is None:
        return []
    return [
        {
            "occupation_code": line.occupation.code,
            "occupation_name": line.occupation.name,
            "levels": [lv.code for lv in line.sorted_levels],
            "level_labels": [lv.label for lv in line.sorted_levels],
        }
        for line in filing.scope_lines.all()
    ]


def filing_out(filing: Filing) -> dict:
    return {
        "id": filing.id,
        "organisation_id": filing.organisation_id,
        "organisation_name": filing.organisation.name,
        "status": filing.status,
        "status_label": filing.get_status_display(),
        "status_reason": filing.status_reason,
        "national_code": filing.national_code,
        "note": filing.note,
        "submitted_at": filing.submitted_at,
        "decided_at": filing.decided_at,
        "valid_from": filing.valid_from,
        "valid_until": filing.valid_until,
        "number_prefix": filing.organisation.number_prefix,
        "scope": scope_out(filing),
        "attachments": [AttachmentOut.from_orm(a).model_dump() for a in filing.attachments.all()],
    }


# --- Organisations ---------------------------------------------------------------------------------------


@router.post("/organisations", response={201: OrganisationOut}, summary="机构注册(注册人成为机构管理员)")
def organisation_register(request, payload: OrganisationIn):
    org = services.organisation_register(actor=request.auth, **payload.dict())
    return Status(201, organisation_out(org))


@router.get("/organisations", response=list[OrganisationOut], summary="我可见的机构")
@paginate
def organisation_list(request, q: str = ""):
    qs = organisations_for(request.auth)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code=q.upper()))
    return [organisation_out(o) for o in qs]


@router.get("/organisations/{org_id}", response=OrganisationOut, summary="机构详情")
def organisation_detail(request, org_id: int):
    return organisation_out(organisation_get(request.auth, org_id))


# --- Filings ---------------------------------------------------------------------------------------------


@router.get("/filings", response=list[FilingOut], summary="备案申请(本机构或本辖区)")
@paginate
def filing_list(request, status: str = "", organisation_id: int | None = None):
    qs = filings_for(request.auth).prefetch_related("scope_lines__levels", "scope_lines__occupation", "attachments")
    if status:
        qs = qs.filter(status=status)
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    return [filing_out(f) for f in qs]


@router.get("/filings/review-queue", response=list[FilingOut], summary="待审核的备案申请(本辖区)")
@paginate
def filing_review_queue(request):
    return [filing_out(f) for f in review_queue(request.auth)]


@router.post("/filings", response={201: FilingOut}, summary="新建备案申请(草稿)")
def filing_create(request, payload: FilingIn):
    filing = services.filing_create(
        actor=request.auth,
        organisation_id=payload.organisation_id,
        scope=[s.dict() for s in payload.scope],
        note=payload.note,
    )
    return Status(201, filing_out(filing))


@router.get("/filings/{filing_id}", response=FilingOut, summary="备案申请详情")
def filing_detail(request, filing_id: int):
    return filing_out(filing_get(request.auth, filing_id))


@router.put("/filings/{filing_id}/scope", response=FilingOut, summary="修改备案范围")
def filing_update_scope(request, filing_id: int, payload: ScopeIn):
    filing_get(request.auth, filing_id)
    return filing_out(
        services.filing_update_scope(
            actor=request.auth, filing_id=filing_id, scope=[s.dict() for s in payload.scope], note=payload.note
        )
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
    return filing_out(services.filing_submit(actor=request.auth, filing_id=filing_id))


@router.post("/filings/{filing_id}/start-review", response=FilingOut, summary="受理(开始审核)")
def filing_start_review(request, filing_id: int):
    filing_get(request.auth, filing_id)
    return filing_out(services.filing_start_review(actor=request.auth, filing_id=filing_id))


@router.post("/filings/{filing_id}/approve", response=FilingOut, summary="批准备案(赋予证书编号前缀)")
def filing_approve(request, filing_id: int, payload: ApproveIn):
    filing_get(request.auth, filing_id)
    return filing_out(services.filing_approve(actor=request.auth, filing_id=filing_id, **payload.dict()))


@router.post("/filings/{filing_id}/return", response=FilingOut, summary="退回修改")
def filing_return(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return filing_out(services.filing_return(actor=request.auth, filing_id=filing_id, reason=payload.reason))


@router.post("/filings/{filing_id}/reject", response=FilingOut, summary="不予备案")
def filing_reject(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return filing_out(services.filing_reject(actor=request.auth, filing_id=filing_id, reason=payload.reason))


@router.post("/filings/{filing_id}/suspend", response=FilingOut, summary="暂停备案")
def filing_suspend(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return filing_out(services.filing_suspend(actor=request.auth, filing_id=filing_id, reason=payload.reason))


@router.post("/filings/{filing_id}/reinstate", response=FilingOut, summary="恢复备案")
def filing_reinstate(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return filing_out(services.filing_reinstate(actor=request.auth, filing_id=filing_id, reason=payload.reason))


@router.post("/filings/{filing_id}/revoke", response=FilingOut, summary="撤销备案")
def filing_revoke(request, filing_id: int, payload: ReasonIn):
    filing_get(request.auth, filing_id)
    return filing_out(services.filing_revoke(actor=request.auth, filing_id=filing_id, reason=payload.reason))


# --- People and training records -------------------------------------------------------------------------


def appointment_out(a: Appointment) -> dict:
    return {
        "id": a.id,
        "role": a.role,
        "role_label": a.get_role_display(),
        "person_name": a.person.name,
        "person_id_number": a.person.masked_id_number,
        "organisation_id": a.organisation_id,
        "bureau_id": a.bureau_id,
        "scopes": [
            {
                "occupation_code": s.occupation.code,
                "occupation_name": s.occupation.name,
                "max_level": s.max_level.code if s.max_level else None,
            }
            for s in a.scopes.all()
        ],
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "status": a.status,
    }


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
    return [appointment_out(a) for a in qs]


@router.post("/appointments", response={201: AppointmentOut}, summary="登记人员")
def appointment_register(request, payload: AppointmentIn):
    return Status(201, appointment_out(people.appointment_register(actor=request.auth, **payload.dict())))


@router.post("/appointments/{appointment_id}/withdraw", response=AppointmentOut, summary="注销人员登记")
def appointment_withdraw(request, appointment_id: int, payload: ReasonIn):
    return appointment_out(
        people.appointment_withdraw(actor=request.auth, appointment_id=appointment_id, reason=payload.reason)
    )


def training_out(t) -> dict:
    return {
        "id": t.id,
        "provider_id": t.provider_id,
        "provider_name": t.provider.name,
        "trainer_name": t.trainer.name,
        "trainee_name": t.trainee.name,
        "trainee_id_number": t.trainee.masked_id_number,
        "occupation_code": t.occupation.code,
        "occupation_name": t.occupation.name,
        "start": t.start,
        "end": t.end,
    }


@router.get("/training-records", response=list[TrainingRecordOut], summary="培训记录")
@paginate
def training_list(request, provider_id: int | None = None, q: str = ""):
    qs = training_records_for(request.auth)
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    if q:
        qs = qs.filter(Q(trainee__name__icontains=q) | Q(trainer__name__icontains=q) | Q(trainee__id_number=q))
    return [training_out(t) for t in qs]


@router.post("/training-records", response={201: TrainingRecordOut}, summary="录入一条培训记录")
def training_create(request, payload: TrainingRecordIn):
    return Status(201, training_out(people.training_record_create(actor=request.auth, **payload.dict())))


@router.post(
    "/training-records/import",
    response={200: ImportReportOut, 422: ImportReportOut},
    summary="批量导入培训记录(xlsx,全部成功才保存)",
)
def training_import(request, provider_id: Form[int], file: File[UploadedFile]):
    report = people.training_records_import(actor=request.auth, provider_id=provider_id, upload=file)
    return Status(200 if report.ok else 422, report.as_dict())


# --- Public directory ------------------------------------------------------------------------------------


def directory_entry(org: Organisation) -> dict:
    filing = public_filing(org)
    return {
        "id": org.id,
        "name": org.name,
        "kind": org.kind,
        "kind_label": org.get_kind_display(),
        "credit_code": org.credit_code,
        "region_code": org.region.code,
        "region_name": org.region.full_name,
        "number_prefix": org.number_prefix,
        "status": filing.status if filing else "",
        "status_label": filing.get_status_display() if filing else "",
        "status_reason": filing.status_reason if filing and filing.status in ("suspended", "revoked") else "",
        "valid_from": filing.valid_from if filing else None,
        "valid_until": filing.valid_until if filing else None,
        "scope": scope_out(filing) if filing and filing.status in Filing.IN_FORCE else [],
        "contact_phone": mask_phone(org.contact_phone),
    }


@public_router.get("/", response=list[DirectoryEntryOut], summary="评价机构公示目录(公开)")
@paginate
def directory_list(request, q: str = "", occupation: str = "", region: str = ""):
    return [directory_entry(o) for o in directory(q=q, occupation_code=occupation, region_code=region)]


@public_router.get("/{org_id}", response=DirectoryEntryOut, summary="评价机构公示详情(公开)")
def directory_detail(request, org_id: int):
    org = directory().filter(pk=org_id).first()
    if org is None:
        raise NotFound()
    return directory_entry(org)
