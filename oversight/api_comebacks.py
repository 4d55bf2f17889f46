"""The bureau's check for disguised comebacks of cancelled qualifications. Mounted at /oversight."""

import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from . import comebacks, reports
from .schemas import ComplaintDetailOut, ReasonIn, ScanIn

router = Router(tags=["oversight"])


class ComebackScanOut(Schema):
    qualifications: int
    matches: int
    raised: int
    reopened: int
    updated: int
    cleared: int


class LinkIn(Schema):
    complaint_id: int


class FindingOut(Schema):
    id: int
    qualification_id: int
    qualification: str = Field(alias="qualification.name")
    target: str
    target_label: str = Field(alias="get_target_display")
    object_id: int
    field: str
    term: str
    excerpt: str
    link: str
    organisation_id: int
    organisation: str = Field(alias="organisation.name")
    region_code: str = Field(alias="region.code")
    status: str
    status_label: str = Field(alias="get_status_display")
    complaint_id: int | None
    complaint_number: str | None
    resolution: str
    detected_at: datetime.datetime

    @staticmethod
    def resolve_link(obj) -> str:
        return comebacks.finding_link(obj)

    @staticmethod
    def resolve_complaint_number(obj) -> str | None:
        return obj.complaint.number if obj.complaint_id else None


@router.post("/comebacks/scan", response=ComebackScanOut, summary="排查已取消职业资格的变相恢复(本辖区)")
def scan(request, payload: ScanIn):
    return comebacks.comeback_scan(actor=request.auth, region_code=payload.region_code).as_dict()


@router.get("/comebacks", response=list[FindingOut], summary="变相恢复疑点(本辖区)")
@paginate
def finding_list(request, status: str = ""):
    request.auth.require_bureau()
    qs = comebacks.findings_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.get("/comebacks/{finding_id}", response=FindingOut, summary="变相恢复疑点详情")
def finding_detail(request, finding_id: int):
    return comebacks.finding_get(request.auth, finding_id)


@router.post("/comebacks/{finding_id}/investigate", response={201: ComplaintDetailOut}, summary="立案调查")
def investigate(request, finding_id: int):
    complaint = comebacks.finding_investigate(actor=request.auth, finding_id=finding_id)
    return Status(201, reports.complaint_get(request.auth, complaint.id))


@router.post("/comebacks/{finding_id}/link", response=FindingOut, summary="并入已有的同类案件")
def link(request, finding_id: int, payload: LinkIn):
    comebacks.finding_link_case(actor=request.auth, finding_id=finding_id, complaint_id=payload.complaint_id)
    return comebacks.finding_get(request.auth, finding_id)


@router.post("/comebacks/{finding_id}/dismiss", response=FindingOut, summary="排除疑点")
def dismiss(request, finding_id: int, payload: ReasonIn):
    comebacks.finding_dismiss(actor=request.auth, finding_id=finding_id, reason=payload.reason)
    return comebacks.finding_get(request.auth, finding_id)
