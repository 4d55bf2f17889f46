"""Catalogue changes for the platform operator: record, preview the impact, confirm or discard.

Mounted at /reference in config/api.py next to the public reference router, but authenticated.
"""

import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from core.schema_types import IsoDate

from . import changes
from .models import CatalogueChange

router = Router(tags=["reference"])


class ChangeIn(Schema):
    qualification_id: int
    kind: str
    effective_on: IsoDate | None = None
    basis: str = ""
    reason: str = ""


class DiscardIn(Schema):
    reason: str = ""


class ChangeOut(Schema):
    id: int
    qualification_id: int
    qualification: str = Field(alias="qualification.name")
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    status: str
    status_label: str = Field(alias="get_status_display")
    effective_on: datetime.date
    basis: str
    reason: str
    confirmed_at: datetime.datetime | None
    impact_at_confirmation: dict

    @staticmethod
    def resolve_impact_at_confirmation(c: CatalogueChange) -> dict:
        return c.impact  # what it touched when confirmed; the detail's `impact` is what it would touch today


class ChangeDetailOut(ChangeOut):
    impact: dict

    @staticmethod
    def resolve_impact(c: CatalogueChange) -> dict:
        return changes.change_impact(c.qualification, c.kind, c.effective_on).as_dict()


@router.get("/changes", response=list[ChangeOut], summary="目录清单变更(平台运维)")
@paginate
def change_list(request, status: str = ""):
    qs = changes.changes_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.post("/changes", response={201: ChangeDetailOut}, summary="录入目录清单变更(待确认),返回影响范围")
def change_create(request, payload: ChangeIn):
    change = changes.change_create(actor=request.auth, **payload.dict())
    return Status(201, change)


@router.get("/changes/{change_id}", response=ChangeDetailOut, summary="目录清单变更详情与影响范围")
def change_detail(request, change_id: int):
    return changes.change_get(request.auth, change_id)


@router.post("/changes/{change_id}/confirm", response=ChangeDetailOut, summary="确认变更(按生效日期施行并通知)")
def change_confirm(request, change_id: int):
    changes.change_confirm(actor=request.auth, change_id=change_id)
    return changes.change_get(request.auth, change_id)


@router.post("/changes/{change_id}/discard", response=ChangeOut, summary="放弃待确认的变更")
def change_discard(request, change_id: int, payload: DiscardIn):
    changes.change_discard(actor=request.auth, change_id=change_id, reason=payload.reason)
    return changes.change_get(request.auth, change_id)
