"""Public reference data: regions, levels, occupations, standards and the 目录清单."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from core.schema_types import IsoDate

from .models import Level, Occupation, OccupationCategory, Qualification, Region, Standard
from .search import regions_matching
from .selectors import occupations_listed

router = Router(tags=["reference"], auth=None)


class RegionOut(Schema):
    code: str
    name: str
    kind: str
    parent_code: str | None
    full_name: str
    active: bool
    edition: str

    @staticmethod
    def resolve_parent_code(obj) -> str | None:
        return obj.parent.code if obj.parent_id else None


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
    label: str
    category_code: str | None
    edition: str
    source: str
    announced_year: int | None
    active: bool
    catalogue_kind: str | None
    catalogue_status: str | None
    licensing_overlaps: list[str]
    has_standard: bool

    @staticmethod
    def resolve_label(obj) -> str:
        return f"{obj.code} {obj.name}"

    @staticmethod
    def resolve_category_code(obj) -> str | None:
        return obj.category.code if obj.category_id else None

    @staticmethod
    def resolve_catalogue_kind(obj) -> str | None:
        return obj.qualification.kind if obj.qualification_id else None

    @staticmethod
    def resolve_catalogue_status(obj) -> str | None:
        return obj.qualification.status if obj.qualification_id else None

    @staticmethod
    def resolve_licensing_overlaps(obj) -> list[str]:
        return [q.name for q in obj.licensing_overlaps.all()]


class CategoryOut(Schema):
    code: str
    name: str
    kind: str
    parent_code: str | None

    @staticmethod
    def resolve_parent_code(obj) -> str | None:
        return obj.parent.code if obj.parent_id else None


class StandardLevelOut(Schema):
    level: str = Field(alias="level.code")
    level_label: str = Field(alias="level.label")
    components: list[dict]
    staffing: dict
    eligibility: list[dict]
    score_combination: str


class StandardOut(Schema):
    id: int
    occupation_code: str = Field(alias="occupation.code")
    title: str
    edition_year: int
    template: str
    effective_from: datetime.date
    effective_to: datetime.date | None
    levels: list[StandardLevelOut]

    @staticmethod
    def resolve_levels(s: Standard):
        return s.levels.select_related("level")


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


# A bureau officer's region pickers are limited to the regions of their bureaus: rarely more than one or two.
WITHIN_MAX_CODES = 10
WITHIN_MAX_LENGTH = WITHIN_MAX_CODES * 7 - 1


class RegionFilter(Schema):
    q: str = Field("", max_length=64, description="代码、名称或拼音首字母(如 ccs = 长春市)")
    parent: str | None = Field(None, max_length=6, description="上级区划代码:只列其直接下级")
    within: str | None = Field(
        None,
        max_length=WITHIN_MAX_LENGTH,
        description=f"区划代码(至多{WITHIN_MAX_CODES}个,逗号分隔):只列其辖区内(含各级下级)",
    )
    kind: Region.Kind | None = None
    include_inactive: bool = False


@router.get(
    "/regions", url_name="reference_regions", response=list[RegionOut], summary="行政区划(按代码、名称或拼音首字母查找)"
)
@paginate
def regions(request, filters: RegionFilter = Query(...)):
    qs = Region.objects.select_related("parent__parent")
    if not filters.include_inactive:
        qs = qs.filter(active=True)
    if filters.parent:
        qs = qs.filter(parent__code=filters.parent)
    if filters.within:
        codes = [c.strip() for c in filters.within.split(",") if c.strip()]
        roots = Region.objects.filter(code__in=codes[:WITHIN_MAX_CODES])
        # Unknown codes add nothing; none known lists nothing.
        qs = qs.filter(Region.code_within_q("code", [r.prefix for r in roots]))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return regions_matching(qs, filters.q) if filters.q else qs.order_by("code")


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


class OccupationFilter(Schema):
    q: str = Field("", max_length=64, description="职业编码(可只输前几位,如 6-31)、名称或拼音首字母(如 dg = 电工)")
    category: str | None = Field(None, max_length=8, description="大类、中类或小类编码:只列其下的职业")
    with_standard: bool | None = Field(None, description="true 只列有施行中国家职业技能标准的职业")
    include_inactive: bool = False


@router.get(
    "/occupations",
    url_name="reference_occupations",
    response=list[OccupationOut],
    summary="职业(大典2022,按编码、名称或拼音首字母查找)",
)
@paginate
def occupations(request, filters: OccupationFilter = Query(...)):
    return occupations_listed(
        q=filters.q,
        category=filters.category,
        with_standard=filters.with_standard,
        include_inactive=filters.include_inactive,
    )


@router.get("/occupation-categories", response=list[CategoryOut], summary="职业分类树:大类、中类、小类")
def occupation_categories(request, parent: str | None = Query(None, max_length=8)):
    qs = OccupationCategory.objects.select_related("parent").filter(active=True)
    return qs.filter(parent__code=parent) if parent else qs.filter(parent=None)


@router.get("/occupations/{code}/standard", response=StandardOut, summary="职业现行国家职业技能标准")
def occupation_standard(request, code: str, on: IsoDate | None = None):
    occupation = get_object_or_404(Occupation, code=code)
    standard = occupation.standard_on(on or timezone.localdate())
    if standard is None:
        from core.errors import NotFound

        raise NotFound("该职业在该日期没有施行中的国家职业技能标准")
    return standard


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
