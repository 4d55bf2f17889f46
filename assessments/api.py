"""Assessments API: plans (public announcements and the organisation's management), registration and review."""

from django.db.models import Count, Q
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from core.errors import NotFound

from . import plans as plan_services
from . import registration as reg_services
from .integrity.selectors import marks_hidden, trained_occupation_ids
from .models import Plan, Registration
from .schemas import (
    EvidenceIn,
    ImportReportOut,
    PlanIn,
    PlanOut,
    ReasonIn,
    RegistrationIn,
    RegistrationOut,
    RescheduleIn,
    ReviewIn,
)

router = Router(tags=["assessments"])
public_router = Router(tags=["assessments"], auth=None)


def plan_out(plan: Plan, registered: int | None = None) -> dict:
    levels = sorted(plan.levels.all(), key=lambda lv: lv.rank)
    if registered is None:
        registered = plan.registrations.filter(status__in=Registration.ACTIVE).count()
    return {
        "id": plan.id,
        "organisation_id": plan.organisation_id,
        "organisation_name": plan.organisation.name,
        "region_name": plan.organisation.region.full_name,
        "occupation_code": plan.occupation.code,
        "occupation_name": plan.occupation.name,
        "standard": str(plan.standard),
        "work_type": plan.work_type,
        "levels": [lv.code for lv in levels],
        "level_labels": [lv.label for lv in levels],
        "title": plan.title,
        "venue": plan.venue,
        "capacity": plan.capacity,
        "registered": registered,
        "registration_opens": plan.registration_opens,
        "registration_closes": plan.registration_closes,
        "fee": plan.fee,
        "description": plan.description,
        "status": plan.status,
        "status_label": plan.get_status_display(),
        "status_reason": plan.status_reason,
        "components": [
            {
                "kind": c.kind,
                "kind_label": c.get_kind_display(),
                "starts_at": c.starts_at,
                "ends_at": c.ends_at,
                "room": c.room,
            }
            for c in plan.components.all()
        ],
    }


def _with_counts(qs):
    return qs.annotate(active_count=Count("registrations", filter=Q(registrations__status__in=Registration.ACTIVE)))


# --- Public announcements ----------------------------------------------------------------------------------


@public_router.get("/plans/public", response=list[PlanOut], summary="认定计划公告(公开)")
@paginate
def public_plan_list(request, q: str = "", occupation: str = "", region: str = ""):
    qs = _with_counts(plan_services.plan_search(plan_services.public_plans(), q, occupation, region))
    return [plan_out(p, p.active_count) for p in qs]


@public_router.get("/plans/public/{plan_id}", response=PlanOut, summary="认定计划公告详情(公开)")
def public_plan_detail(request, plan_id: int):
    plan = plan_services.public_plans().filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    return plan_out(plan)


# --- Organisation's plans -----------------------------------------------------------------------------------


@router.get("/plans", response=list[PlanOut], summary="本机构(或本辖区)的认定计划")
@paginate
def plan_list(request, status: str = "", q: str = ""):
    qs = plan_services.plan_search(plan_services.plans_for(request.auth), q)
    if status:
        qs = qs.filter(status=status)
    qs = _with_counts(qs.prefetch_related("levels", "components"))
    return [plan_out(p, p.active_count) for p in qs]


@router.post("/plans", response={201: PlanOut}, summary="新建认定计划(须在备案范围与有效期内)")
def plan_create(request, payload: PlanIn):
    return Status(201, plan_out(plan_services.plan_create(actor=request.auth, **payload.dict())))


@router.get("/plans/{plan_id}", response=PlanOut, summary="认定计划详情")
def plan_detail(request, plan_id: int):
    return plan_out(plan_services.plan_get(request.auth, plan_id))


@router.post("/plans/{plan_id}/publish", response=PlanOut, summary="发布认定计划")
def plan_publish(request, plan_id: int):
    return plan_out(plan_services.plan_publish(actor=request.auth, plan_id=plan_id))


@router.post("/plans/{plan_id}/reschedule", response=PlanOut, summary="调整考核时间(通知已报名考生)")
def plan_reschedule(request, plan_id: int, payload: RescheduleIn):
    return plan_out(
        plan_services.plan_reschedule(
            actor=request.auth,
            plan_id=plan_id,
            components=[c.dict() for c in payload.components],
            reason=payload.reason,
        )
    )


@router.post("/plans/{plan_id}/cancel", response=PlanOut, summary="取消认定计划(通知已报名考生)")
def plan_cancel(request, plan_id: int, payload: ReasonIn):
    return plan_out(plan_services.plan_cancel(actor=request.auth, plan_id=plan_id, reason=payload.reason))


# --- Registrations -----------------------------------------------------------------------------------------


def registration_out(r: Registration, *, hide_marks: bool = False) -> dict:
    return {
        "id": r.id,
        "plan_id": r.plan_id,
        "plan_title": r.plan.title,
        "person_name": r.person.name,
        "person_id_number": r.person.masked_id_number,
        "level": r.level.code,
        "level_label": r.level.label,
        "status": r.status,
        "status_label": r.get_status_display(),
        "source": r.source,
        "employer_name": r.employer_name,
        "work_years": r.work_years,
        "eligibility_status": r.eligibility_status,
        "eligibility": r.eligibility,
        "review_reason": r.review_reason,
        "outcome": "" if hide_marks else r.outcome,
        "marks_hidden": hide_marks,
        "created_at": r.created_at,
    }


@router.post("/plans/{plan_id}/registrations", response={201: RegistrationOut}, summary="个人网上报名")
def registration_submit(request, plan_id: int, payload: RegistrationIn):
    reg = reg_services.registration_submit(actor=request.auth, plan_id=plan_id, **payload.dict())
    return Status(201, registration_out(reg))


@router.post(
    "/plans/{plan_id}/registrations/import",
    response={200: ImportReportOut, 422: ImportReportOut},
    summary="单位批量报名(xlsx;partial=true 时只保存无误的行并列出错误行)",
)
def registration_import(request, plan_id: int, file: File[UploadedFile], partial: Form[bool] = False):
    report = reg_services.registrations_import(actor=request.auth, plan_id=plan_id, upload=file, partial=partial)
    status = 200 if report.ok or (partial and report.created) else 422
    return Status(status, report.as_dict())


@router.get("/registrations", response=list[RegistrationOut], summary="报名(本人、本机构或本辖区)")
@paginate
def registration_list(request, plan_id: int | None = None, status: str = "", q: str = ""):
    qs = reg_services.registrations_for(request.auth)
    if plan_id:
        qs = qs.filter(plan_id=plan_id)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(person__name__icontains=q) | Q(person__id_number=q.upper()))
    trained = trained_occupation_ids(request.auth)
    return [registration_out(r, hide_marks=marks_hidden(request.auth, r, trained)) for r in qs.order_by("-created_at")]


@router.get("/registrations/{registration_id}", response=RegistrationOut, summary="报名详情与申报条件核验")
def registration_detail(request, registration_id: int):
    reg = reg_services.registration_get(request.auth, registration_id)
    return registration_out(reg, hide_marks=marks_hidden(request.auth, reg))


@router.post(
    "/registrations/{registration_id}/review",
    response=RegistrationOut,
    summary="资格审核:approve / reject / more_evidence",
)
def registration_review(request, registration_id: int, payload: ReviewIn):
    return registration_out(
        reg_services.registration_review(
            actor=request.auth, registration_id=registration_id, decision=payload.decision, reason=payload.reason
        )
    )


@router.post("/registrations/{registration_id}/evidence", response=RegistrationOut, summary="补充申报材料")
def registration_evidence(request, registration_id: int, payload: EvidenceIn):
    return registration_out(
        reg_services.registration_update_evidence(actor=request.auth, registration_id=registration_id, **payload.dict())
    )


@router.post("/registrations/{registration_id}/withdraw", response=RegistrationOut, summary="撤回报名")
def registration_withdraw(request, registration_id: int):
    return registration_out(reg_services.registration_withdraw(actor=request.auth, registration_id=registration_id))
