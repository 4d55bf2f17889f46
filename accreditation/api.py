from datetime import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from .selectors import organisation_get, organisations_for

router = Router(tags=["organisations"])


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    credit_code: str
    region_code: str
    region_name: str
    contact_name: str
    contact_phone: str
    provides_training: bool
    number_prefix: str | None
    created_at: datetime


def _out(org) -> dict:
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


@router.get("/", response=list[OrganisationOut], summary="我可见的机构")
@paginate
def organisation_list(request, q: str = ""):
    qs = organisations_for(request.auth)
    if q:
        qs = qs.filter(name__icontains=q)
    return [_out(o) for o in qs]


@router.get("/{org_id}", response=OrganisationOut, summary="机构详情")
def organisation_detail(request, org_id: int):
    return _out(organisation_get(request.auth, org_id))
