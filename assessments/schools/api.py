"""双证书 API: a school's graduating classes, their class-list upload and the one-step approval."""

import datetime

from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from core.schema_types import IsoDate

from ..schemas import ImportReportOut
from . import services as schools

router = Router(tags=["graduating-classes"])


class ClassIn(Schema):
    plan_id: int
    name: str
    major: str
    graduation_date: IsoDate
    education_kind: str = ""


class ClassOut(Schema):
    id: int
    plan_id: int
    plan_title: str = Field(alias="plan.title")
    organisation_name: str = Field(alias="plan.organisation.name")
    name: str
    major: str
    education_kind: str
    graduation_date: datetime.date
    registered: int = Field(alias="total")
    eligible: int
    approved: int
    passed: int
    certified: int


class ApprovedOut(Schema):
    approved: int


@router.get("/classes", response=list[ClassOut], summary="毕业班(双证书整班认定)")
def class_list(request):
    return schools.classes_for(request.auth)


@router.post("/classes", response={201: ClassOut}, summary="建立毕业班(院校评价机构)")
def class_create(request, payload: ClassIn):
    created = schools.class_create(actor=request.auth, **payload.dict())
    return Status(201, schools.class_get(request.auth, created.id))


@router.get("/classes/{class_id}", response=ClassOut, summary="毕业班详情")
def class_detail(request, class_id: int):
    return schools.class_get(request.auth, class_id)


@router.post(
    "/classes/{class_id}/students",
    response={200: ImportReportOut, 422: ImportReportOut},
    summary="上传班级名单(xlsx;全部无误才保存,逐行列出错误及原因)",
)
def class_import(request, class_id: int, file: File[UploadedFile]):
    report = schools.class_import(actor=request.auth, class_id=class_id, upload=file)
    return Status(200 if report.ok else 422, report.as_dict())


@router.post("/classes/{class_id}/approve", response=ApprovedOut, summary="一次审核通过全班符合条件的报名")
def class_approve(request, class_id: int):
    return {"approved": schools.class_approve(actor=request.auth, class_id=class_id)}
