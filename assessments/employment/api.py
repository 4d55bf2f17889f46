"""The employer's employment documents and the bureau's review, through the API (under /api/v1/assessments)."""

import datetime

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from accounts.models import Role
from accreditation.selectors import organisations_for
from core.errors import NotFound, PermissionDenied

from ..models import EmploymentProof
from . import services

router = Router(tags=["assessments"])


class EmploymentProofOut(Schema):
    id: int
    organisation_id: int
    person_name: str = Field(alias="person.name")
    person_id_number: str = Field(alias="person.masked_id_number")
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    valid_from: datetime.date
    valid_until: datetime.date | None
    uploaded_at: datetime.datetime


class EmploymentReviewIn(Schema):
    accept: bool
    reason: str


class EmploymentReviewOut(Schema):
    registration_id: int
    status: str
    employment_status: str
    employment_note: str


@router.get(
    "/employers/{organisation_id}/employment-proofs",
    response=list[EmploymentProofOut],
    summary="用人单位上传的本单位职工证明材料(劳动合同、派遣或实习协议)",
)
def proof_list(request, organisation_id: int):
    actor = request.auth
    if not organisations_for(actor).filter(pk=organisation_id).exists():
        raise NotFound()
    if organisation_id not in actor.organisation_ids(Role.ORG_ADMIN) and not (
        actor.is_operator or actor.bureau_prefixes
    ):
        raise PermissionDenied(_("仅本单位管理员和人社部门可以查看"))
    qs = EmploymentProof.objects.filter(organisation_id=organisation_id).select_related("person")
    return list(qs)


@router.post(
    "/employers/{organisation_id}/employment-proofs",
    response={201: EmploymentProofOut},
    summary="上传本单位职工证明材料(PDF、PNG或JPEG)",
)
def proof_add(
    request,
    organisation_id: int,
    name: Form[str],
    id_number: Form[str],
    kind: Form[str],
    valid_from: Form[str],
    file: File[UploadedFile],
    id_type: Form[str] = "ric",
    valid_until: Form[str] = "",
):
    proof = services.employment_proof_add(
        actor=request.auth,
        organisation_id=organisation_id,
        name=name,
        id_type=id_type,
        id_number=id_number,
        kind=kind,
        upload=file,
        valid_from=valid_from,
        valid_until=valid_until or None,
    )
    return Status(201, proof)


@router.post(
    "/registrations/{registration_id}/employment-review",
    response=EmploymentReviewOut,
    summary="人社部门审核非本单位参保人员的报名(accept=true 认可;false 不予受理)",
)
def employment_review(request, registration_id: int, payload: EmploymentReviewIn):
    reg = services.employment_review(
        actor=request.auth, registration_id=registration_id, accept=payload.accept, reason=payload.reason
    )
    return {
        "registration_id": reg.id,
        "status": reg.status,
        "employment_status": reg.employment_status,
        "employment_note": reg.employment_note,
    }
