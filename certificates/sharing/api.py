"""加注件 API: the holder's copies (make, list, withdraw) and public verification of a copy."""

import datetime

from django.http import JsonResponse
from ninja import Router, Schema, Status
from pydantic import Field

from core.schema_types import IsoDate

from . import services
from .models import SharedCopy

router = Router(tags=["shared copies"])
public_router = Router(tags=["shared copies"], auth=None)


class CopyIn(Schema):
    certificate_id: int
    purpose: str = Field(max_length=100, description="用途,如“用于某某公司入职审核”")
    valid_until: IsoDate  # a date, written as one (2027-06-30): not a number of seconds since 1970


class CopyOut(Schema):
    id: int
    code: str
    certificate_id: int
    certificate_number: str = Field(alias="certificate.number")
    purpose: str
    valid_from: datetime.date
    valid_until: datetime.date
    withdrawn: bool
    verify_url: str
    verified_count: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_withdrawn(copy: SharedCopy) -> bool:
        return copy.withdrawn_at is not None

    @staticmethod
    def resolve_verify_url(copy: SharedCopy) -> str:
        return services.copy_url(copy)


@router.get("", response=list[CopyOut], summary="我的加注件")
def copy_list(request):
    return list(services.copies_for(request.auth))


@router.post("", response={201: CopyOut}, summary="为某一用途制作加注件(持证人本人)")
def copy_create(request, data: CopyIn):
    copy = services.copy_create(
        actor=request.auth, certificate_id=data.certificate_id, purpose=data.purpose, valid_until=data.valid_until
    )
    return Status(201, copy)


@router.post("/{copy_id}/withdraw", response=CopyOut, summary="撤回加注件")
def copy_withdraw(request, copy_id: int):
    return services.copy_withdraw(actor=request.auth, copy_id=copy_id)


@public_router.get("/{token}", summary="核验加注件:用途、有效期及是否仍然有效(不含完整证件号码)")
def copy_verify(request, token: str):
    result = services.copy_verify(token)
    response = JsonResponse(result.public(), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response
