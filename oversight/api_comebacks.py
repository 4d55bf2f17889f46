"""The bureau's check for disguised comebacks of cancelled qualifications. Mounted at /oversight."""

import datetime

from ninja import Router, Schema, Status
from ninja.pagination import paginate

from . import comebacks
from .api_oversight import _detail
from .models import ComebackFinding
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
    qualification: str
    target: str
    target_label: str
    object_id: int
    field: str
    term: str
    excerpt: str
    link: str
    organisation_id: int
    organisation: str
    region_code: str
    status: str
    status_label: str
    complaint_id: int | None
    complaint_number: str | None
    resolution: str
    detected_at: datetime.datetime


def finding_out(f: ComebackFinding) -> dict:
    return {
        "id": f.id,
        "qualification_id": f.qualification_id,
        "qualification": f.qualification.name,
        "target": f.target,
        "target_label": f.get_target_display(),
        "object_id": f.object_id,
        "field": f.field,
        "term": f.term,
        "excerpt": f.excerpt,
        "link": comebacks.finding_link(f),
        "organisation_id": f.organisation_id,
        "organisation": f.organisation.name,
        "region_code": f.region.code,
        "status": f.status,
        "status_label": f.get_status_display(),
        "complaint_id": f.complaint_id,
        "complaint_number": f.complaint.number if f.complaint_id else None,
        "resolution": f.resolution,
        "detected_at": f.detected_at,
    }


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
    return [finding_out(f) for f in qs]


@router.get("/comebacks/{finding_id}", response=FindingOut, summary="变相恢复疑点详情")
def finding_detail(request, finding_id: int):
    return finding_out(comebacks.finding_get(request.auth, finding_id))


@router.post("/comebacks/{finding_id}/investigate", response={201: ComplaintDetailOut}, summary="立案调查")
def investigate(request, finding_id: int):
    complaint = comebacks.finding_investigate(actor=request.auth, finding_id=finding_id)
    return Status(201, _detail(request.auth, complaint.id))


@router.post("/comebacks/{finding_id}/link", response=FindingOut, summary="并入已有的同类案件")
def link(request, finding_id: int, payload: LinkIn):
    comebacks.finding_link_case(actor=request.auth, finding_id=finding_id, complaint_id=payload.complaint_id)
    return finding_out(comebacks.finding_get(request.auth, finding_id))


@router.post("/comebacks/{finding_id}/dismiss", response=FindingOut, summary="排除疑点")
def dismiss(request, finding_id: int, payload: ReasonIn):
    comebacks.finding_dismiss(actor=request.auth, finding_id=finding_id, reason=payload.reason)
    return finding_out(comebacks.finding_get(request.auth, finding_id))
