"""Public reference data: regions, levels, occupations, standards and the 目录清单."""

import datetime

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from core.schema_types import IsoDate

from .models import Level, Occupation, Qualification, Region, Standard

router = Router(tags=["reference"], auth=None)


class RegionOut(Schema):
    code: str
    name: str
    kind: str
    parent_code: str | None


class LevelOut(Schema):
    code: str
    rank: int
    name: str
    title: str
    label: str
    is_standard: bool
    organisation_kinds: str
    number_digit: str
    number_format: str


class OccupationOut(Schema):
    code: str
    name: str
    catalogue_kind: str | None
    catalogue_status: str | None
    licensing_overlaps: list[str]
    has_standard: bool


class StandardLevelOut(Schema):
    level: str
    level_label: str
    components: list[dict]
    staffing: dict
    eligibility: list[dict]
    score_combination: str


class StandardOut(Schema):
    id: int
    occupation_code: str
    title: str
    edition_year: int
    template: str
    effective_from: datetime.date
    effective_to: datetime.date | None
    levels: list[StandardLevelOut]


class QualificationOut(Schema):
    id: int
    name: str
    category: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    authority: str
    basis: str
    cancelled_on: datetime.date | None
    cancellation_basis: str
    evaluation_from: datetime.date | None


class RegionFilter(Schema):
    parent: str | None = None
    kind: str | None = None


@router.get("/regions", response=list[RegionOut], summary="行政区划")
@paginate
def regions(request, filters: RegionFilter = Query(...)):
    qs = Region.objects.select_related("parent")
    if filters.parent:
        qs = qs.filter(parent__code=filters.parent)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return [
        {"code": r.code, "name": r.name, "kind": r.kind, "parent_code": r.parent.code if r.parent else None} for r in qs
    ]


@router.get("/levels", response=list[LevelOut], summary="技能等级(八级制,含证书编号格式)")
def levels(request):
    return [
        {
            "code": lv.code,
            "rank": lv.rank,
            "name": lv.name,
            "title": lv.title,
            "label": lv.label,
            "is_standard": lv.is_standard,
            "organisation_kinds": lv.organisation_kinds,
            "number_digit": lv.number_digit,
            "number_format": lv.number_format,
        }
        for lv in Level.objects.all()
    ]


def _occupation_out(o: Occupation) -> dict:
    return {
        "code": o.code,
        "name": o.name,
        "catalogue_kind": o.qualification.kind if o.qualification else None,
        "catalogue_status": o.qualification.status if o.qualification else None,
        "licensing_overlaps": [q.name for q in o.licensing_overlaps.all()],
        "has_standard": bool(o.standards.all()),
    }


@router.get("/occupations", response=list[OccupationOut], summary="职业(大典)")
@paginate
def occupations(request, q: str = ""):
    qs = Occupation.objects.filter(active=True).select_related("qualification")
    qs = qs.prefetch_related("licensing_overlaps", "standards")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
    return [_occupation_out(o) for o in qs]


@router.get("/occupations/{code}/standard", response=StandardOut, summary="职业现行国家职业技能标准")
def occupation_standard(request, code: str, on: IsoDate | None = None):
    occupation = get_object_or_404(Occupation, code=code)
    standard = occupation.standard_on(on or timezone.localdate())
    if standard is None:
        from core.errors import NotFound

        raise NotFound("该职业在该日期没有施行中的国家职业技能标准")
    return _standard_out(standard)


def _standard_out(s: Standard) -> dict:
    return {
        "id": s.id,
        "occupation_code": s.occupation.code,
        "title": s.title,
        "edition_year": s.edition_year,
        "template": s.template,
        "effective_from": s.effective_from,
        "effective_to": s.effective_to,
        "levels": [
            {
                "level": sl.level.code,
                "level_label": sl.level.label,
                "components": sl.components,
                "staffing": sl.staffing,
                "eligibility": sl.eligibility,
                "score_combination": sl.score_combination,
            }
            for sl in s.levels.select_related("level")
        ],
    }


@router.get("/catalogue", response=list[QualificationOut], summary="职业资格目录清单(含已取消事项)")
@paginate
def catalogue(request, kind: str | None = None, status: str | None = None, q: str = ""):
    qs = Qualification.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(name__icontains=q)
    return [
        {
            "id": x.id,
            "name": x.name,
            "category": x.category,
            "kind": x.kind,
            "kind_label": x.get_kind_display(),
            "status": x.status,
            "status_label": x.get_status_display(),
            "authority": x.authority,
            "basis": x.basis,
            "cancelled_on": x.cancelled_on,
            "cancellation_basis": x.cancellation_basis,
            "evaluation_from": x.evaluation_from,
        }
        for x in qs
    ]
