"""双证书: a 技工院校 or vocational school filed as an evaluation organisation assesses a graduating class in one
batch, so that its graduates leave with both the diploma and the skill-level certificate.

The school creates a class on one of its plans (name, major, the kind of education it leads to, the graduation
date) and uploads the class list. Each student is registered on the plan as a final-year student of that kind
of school, in the field of the plan's occupation (the school answers for the major matching the occupation), so
the standard's graduate route (e.g. 2018 四级 EDU_VOC, 2023 三级 ADV_CLASS) decides eligibility like any other
registration. The upload is all-or-nothing: one bad or ineligible row and nothing is saved, every bad row named
with its reason. Assessment, scoring, publicity and finalisation are the plan's ordinary ones; certificates are
issued with the graduation date (certificates/issuance.py issue_date_for).
"""

import datetime

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.conflicts import records_conflicts
from accounts.identity import id_type_from_label, normalise_phone
from accounts.models import Role
from accounts.services import person_get_or_create
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.spreadsheets import Column, ImportReport, read_rows
from occupations.levels import level_spellings

from .. import eligibility as el
from ..models import GraduatingClass, Plan, Registration
from ..plans import plans_for
from ..registration import (
    _check_level,
    _clean_evidence,
    _create_registration,
    _level_code,
    _level_maps,
    _plan_open_for,
    import_rows,
    registration_review,
)

CLASS_COLUMNS = [
    Column("name", "姓名", example="李明"),
    Column("id_type", "证件类型", required=False, example="居民身份证"),
    Column("id_number", "证件号码", example="220102200601012231"),
    Column("phone", "手机号码", required=False, example="13500000005"),
    Column("level", "申报等级", example="四级"),
]

# How far a graduation date may lie from today for the class still to count as "graduating".
GRADUATION_WINDOW = datetime.timedelta(days=366)


def _counts(path: str = "") -> dict:
    """The counts a school admin watches (registered, eligible, approved, passed, certificates issued), over the
    registrations at `path` ("" from Registration itself, "registrations__" from a class)."""
    return {
        "total": Count(f"{path}id"),
        "eligible": Count(f"{path}id", filter=Q(**{f"{path}eligibility_status": el.Status.ELIGIBLE})),
        "approved": Count(f"{path}id", filter=Q(**{f"{path}status": Registration.Status.APPROVED})),
        "passed": Count(f"{path}id", filter=Q(**{f"{path}outcome": Registration.Outcome.PASSED})),
        "certified": Count(f"{path}id", filter=Q(**{f"{path}certificate__isnull": False})),
    }


def classes_for(actor: Actor) -> QuerySet[GraduatingClass]:
    """Classes of the plans the actor may see: the school's own, or those in a bureau's region, each carrying
    its counts (class_summary) from the same query."""
    return (
        GraduatingClass.objects.filter(plan__in=plans_for(actor))
        .select_related("plan__organisation__region", "plan__occupation", "plan__standard")
        .annotate(**_counts("registrations__"))
    )


def class_get(actor: Actor, class_id: int) -> GraduatingClass:
    graduating_class = classes_for(actor).filter(pk=class_id).first()
    if graduating_class is None:
        raise NotFound()
    return graduating_class


def class_summary(graduating_class: GraduatingClass) -> dict:
    """Counts a school admin watches: registered, eligible, approved, passed, certificates issued."""
    return graduating_class.registrations.aggregate(**_counts())


def _school_plan(actor: Actor, plan_id: int) -> Plan:
    plan = plans_for(actor).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    actor.require_org_role(plan.organisation_id, Role.ORG_ADMIN)
    if not plan.organisation.is_school:
        raise Conflict(
            _("只有作为评价机构备案的技工院校、职业院校可以整班认定;请联系人社部门在机构信息中登记院校类别"),
            code="not_a_school",
        )
    return plan


@transaction.atomic
def class_create(
    *,
    actor: Actor,
    plan_id: int,
    name: str,
    major: str,
    graduation_date: datetime.date,
    education_kind: str = "",
) -> GraduatingClass:
    """A school opens a graduating class on one of its draft or published plans."""
    plan = _school_plan(actor, plan_id)
    if plan.status not in (Plan.Status.DRAFT, Plan.Status.PUBLISHED):
        raise Conflict(_("只能在草稿或已发布的计划中建立毕业班"))
    name, major = (name or "").strip(), (major or "").strip()
    if not name:
        raise ValidationFailed(_("请填写班级名称"), details={"field": "name"})
    if not major:
        raise ValidationFailed(_("请填写专业"), details={"field": "major"})
    education_kind = education_kind or plan.organisation.school_kind
    if education_kind not in el.EDUCATION_KINDS:
        raise ValidationFailed(_("学历类别无效"), details={"field": "education_kind"})
    today = timezone.localdate()
    if not today - GRADUATION_WINDOW <= graduation_date <= today + GRADUATION_WINDOW:
        raise ValidationFailed(
            _("毕业日期应在一年以内(应届毕业班);已毕业超过一年的请按个人报名"), details={"field": "graduation_date"}
        )
    if plan.graduating_classes.filter(name=name).exists():
        raise Conflict(_("本计划已有同名班级“%(name)s”") % {"name": name}, code="duplicate_class")
    graduating_class = GraduatingClass(
        plan=plan,
        name=name,
        major=major,
        education_kind=education_kind,
        graduation_date=graduation_date,
        created_by=actor.user,
    )
    graduating_class.full_clean()
    graduating_class.save()
    audit_record(
        actor=actor,
        action="graduating_class.create",
        obj=graduating_class,
        after={"plan": plan.id, "name": name, "major": major, "graduation_date": graduation_date.isoformat()},
        region_code=plan.organisation.region.code,
        organisation_id=plan.organisation_id,
    )
    return graduating_class


def student_evidence(graduating_class: GraduatingClass, *, today: datetime.date) -> dict:
    """What the school attests for each student: the class's education, in the field, graduated or final-year."""
    graduated = graduating_class.graduation_date <= today
    return {
        "work_years": 0,
        "education": [
            {
                "kind": graduating_class.education_kind,
                "in_field": True,
                "graduated_on": graduating_class.graduation_date.isoformat() if graduated else None,
                "final_year_student": not graduated,
                "attested_by": graduating_class.plan.organisation.name,
                "class": graduating_class.name,
                "major": graduating_class.major,
            }
        ],
    }


@records_conflicts
def class_import(*, actor: Actor, class_id: int, upload) -> ImportReport:
    """Register the class list on the class's plan: every row or none; each bad or ineligible row is reported."""
    graduating_class = class_get(actor, class_id)
    _school_plan(actor, graduating_class.plan_id)
    rows = read_rows(upload, CLASS_COLUMNS)
    if not rows:
        raise ValidationFailed(_("班级名单为空"))
    maps, spellings = _level_maps(), level_spellings()
    today = timezone.localdate()
    evidence = student_evidence(graduating_class, today=today)
    seen: set[tuple[str, str]] = set()
    with transaction.atomic():
        plan = _plan_open_for(graduating_class.plan_id)

        def save_row(record: dict) -> None:
            id_type = id_type_from_label(record.get("id_type"))
            level = _check_level(plan, _level_code(record.get("level"), spellings))
            person = person_get_or_create(
                actor=actor,
                name=str(record.get("name") or ""),
                id_type=id_type,
                id_number=str(record.get("id_number") or ""),
                phone=str(record.get("phone") or ""),
                source="import",
                organisation=plan.organisation,
            )
            if (person.id_number, level.code) in seen:
                raise ValidationFailed(_("与名单中前面的行重复"))
            seen.add((person.id_number, level.code))
            reg = _create_registration(
                actor,
                plan,
                level,
                person,
                _clean_evidence({**evidence, "education": [dict(e) for e in evidence["education"]]}),
                source="school",
                phone=normalise_phone(str(record.get("phone") or "")),
                level_maps=maps,
                graduating_class=graduating_class,
            )
            if reg.eligibility_status == el.Status.INELIGIBLE:
                raise ValidationFailed(
                    _("不符合%(level)s申报条件:%(why)s") % {"level": level.label, "why": reg.eligibility["summary"]}
                )

        report = import_rows(rows, save_row, partial=False)
        if not report.ok:
            return report
        audit_record(
            actor=actor,
            action="graduating_class.import",
            obj=graduating_class,
            after={"total": report.total, "created": report.created},
            region_code=plan.organisation.region.code,
            organisation_id=plan.organisation_id,
        )
    return report


def class_approve(*, actor: Actor, class_id: int) -> int:
    """Approve, in one step, every eligible registration of the class still awaiting review."""
    graduating_class = class_get(actor, class_id)
    _school_plan(actor, graduating_class.plan_id)
    pending = graduating_class.registrations.filter(
        status=Registration.Status.SUBMITTED, eligibility_status=el.Status.ELIGIBLE
    ).values_list("id", flat=True)
    with transaction.atomic():
        ids = list(pending)
        for reg_id in ids:
            registration_review(actor=actor, registration_id=reg_id, decision="approve")
    return len(ids)
