"""Assessments API: plans (public announcements and the organisation's management), registration and review."""

from django.db.models import Count, Q
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from core.errors import NotFound

from . import plans as plan_services
from . import registration as reg_services
from .integrity.selectors import marks_hidden, trained_occupation_ids
from .models import Registration
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


def _with_counts(qs):
    return qs.annotate(active_count=Count("registrations", filter=Q(registrations__status__in=Registration.ACTIVE)))


# --- Public announcements ----------------------------------------------------------------------------------


@public_router.get("/plans/public", response=list[PlanOut], summary="认定计划公告(公开)")
@paginate
def public_plan_list(request, q: str = "", occupation: str = "", region: str = ""):
    qs = _with_counts(plan_services.plan_search(plan_services.public_plans(), q, occupation, region))
    return qs


@public_router.get("/plans/public/{plan_id}", response=PlanOut, summary="认定计划公告详情(公开)")
def public_plan_detail(request, plan_id: int):
    plan = plan_services.public_plans().filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    return plan


# --- Organisation's plans -----------------------------------------------------------------------------------


@router.get("/plans", response=list[PlanOut], summary="本机构(或本辖区)的认定计划")
@paginate
def plan_list(request, status: str = "", q: str = ""):
    qs = plan_services.plan_search(plan_services.plans_for(request.auth), q)
    if status:
        qs = qs.filter(status=status)
    qs = _with_counts(qs.prefetch_related("levels", "components"))
    return qs


@router.post("/plans", response={201: PlanOut}, summary="新建认定计划(须在备案范围与有效期内)")
def plan_create(request, payload: PlanIn):
    return Status(201, plan_services.plan_create(actor=request.auth, **payload.dict()))


@router.get("/plans/{plan_id}", response=PlanOut, summary="认定计划详情")
def plan_detail(request, plan_id: int):
    return plan_services.plan_get(request.auth, plan_id)


@router.post("/plans/{plan_id}/publish", response=PlanOut, summary="发布认定计划")
def plan_publish(request, plan_id: int):
    return plan_services.plan_publish(actor=request.auth, plan_id=plan_id)


@router.post("/plans/{plan_id}/reschedule", response=PlanOut, summary="调整考核时间(通知已报名考生)")
def plan_reschedule(request, plan_id: int, payload: RescheduleIn):
    return plan_services.plan_reschedule(
        actor=request.auth,
        plan_id=plan_id,
        components=[c.dict() for c in payload.components],
        reason=payload.reason,
    )


@router.post("/plans/{plan_id}/cancel", response=PlanOut, summary="取消认定计划(通知已报名考生)")
def plan_cancel(request, plan_id: int, payload: ReasonIn):
    return plan_services.plan_cancel(actor=request.auth, plan_id=plan_id, reason=payload.reason)


# --- Registrations -----------------------------------------------------------------------------------------


def _hiding(reg: Registration, hidden: bool) -> Registration:
    """The registration as RegistrationOut shows it to this reader: without the outcome when `hidden`."""
    reg.marks_hidden = hidden
    return reg


@router.post("/plans/{plan_id}/registrations", response={201: RegistrationOut}, summary="个人网上报名")
def registration_submit(request, plan_id: int, payload: RegistrationIn):
    reg = reg_services.registration_submit(actor=request.auth, plan_id=plan_id, **payload.dict())
    return Status(201, reg)


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
    return [_hiding(r, marks_hidden(request.auth, r, trained)) for r in qs.order_by("-created_at")]


@router.get("/registrations/{registration_id}", response=RegistrationOut, summary="报名详情与申报条件核验")
def registration_detail(request, registration_id: int):
    reg = reg_services.registration_get(request.auth, registration_id)
    return _hiding(reg, marks_hidden(request.auth, reg))


@router.post(
    "/registrations/{registration_id}/review",
    response=RegistrationOut,
    summary="资格审核:approve / reject / more_evidence",
)
def registration_review(request, registration_id: int, payload: ReviewIn):
    return reg_services.registration_review(
        actor=request.auth, registration_id=registration_id, decision=payload.decision, reason=payload.reason
    )


@router.post("/registrations/{registration_id}/evidence", response=RegistrationOut, summary="补充申报材料")
def registration_evidence(request, registration_id: int, payload: EvidenceIn):
    return reg_services.registration_update_evidence(
        actor=request.auth, registration_id=registration_id, **payload.dict()
    )


@router.post("/registrations/{registration_id}/withdraw", response=RegistrationOut, summary="撤回报名")
def registration_withdraw(request, registration_id: int):
    return reg_services.registration_withdraw(actor=request.auth, registration_id=registration_id)
