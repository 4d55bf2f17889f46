"""Subsidies API: claims (worker and employer), the bureau's review and payments, statistics, public publicity.

Personal data is masked in every response (ID numbers, accounts); the bank file is the one place with full values.
"""

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from accounts.actors import Actor
from core.errors import ValidationFailed
from core.ratelimit import client_ip
from core.schema_types import IsoDate

from . import budgets, payments, records, services
from .models import Claim
from .schemas import (
    AccountIn,
    BankReturnReportOut,
    BatchIn,
    BatchOut,
    BudgetIn,
    BudgetOut,
    CityStatisticsOut,
    ClaimDetailOut,
    ClaimIn,
    ClaimOut,
    ClaimReasonIn,
    DeclarationIn,
    DeclaredCertificateIn,
    DeclaredCertificateOut,
    DeclaredDecisionIn,
    FailedIn,
    ObjectionIn,
    PaidIn,
    PolicyOut,
    PreviewOut,
    PublicityOut,
    RecordsImportReportOut,
    ResolveIn,
    ReviewIn,
    StatisticsOut,
    SupplementIn,
)
from .selectors import (
    batch_get,
    batches_for,
    claim_get,
    claim_statistics,
    claims_for,
    declared_for,
    policies_in_force,
    publicity_list,
    review_queue,
    with_overdue,
)
from .statistics import city_statistics

router = Router(tags=["subsidies"])
public_router = Router(tags=["subsidies"], auth=None)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Public: policies and publicity -------------------------------------------------------------------------


@public_router.get("/policies", response=list[PolicyOut], summary="施行中的技能提升补贴政策(公开)")
def policy_list(request, on: IsoDate | None = None):
    return policies_in_force(on).select_related("region").prefetch_related("amounts__level")


@public_router.get("/publicity", response=list[PublicityOut], summary="补贴公示名单(公开,姓名与证件号码已脱敏)")
@paginate
def publicity(request, region: str = ""):
    return publicity_list(region_code=region)


@public_router.post("/publicity/{claim_id}/objections", response={201: dict}, summary="对公示中的申请提出异议")
def objection_raise(request, claim_id: int, payload: ObjectionIn):
    objection = services.objection_raise(
        actor=Actor.from_request(request),
        claim_id=claim_id,
        text=payload.text,
        contact=payload.contact,
        client_ip=client_ip(request),
    )
    return Status(201, {"id": objection.id, "due_on": objection.due_on.isoformat()})


# --- Claims ------------------------------------------------------------------------------------------------


@router.get("/claims", response=list[ClaimOut], summary="我可见的补贴申请(本人、本单位代办或本辖区)")
@paginate
def claim_list(request, status: str = ""):
    qs = with_overdue(claims_for(request.auth))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


@router.get("/claims/preview", response=PreviewOut, summary="申请前预审:逐条列出是否符合条件及补贴金额")
def claim_preview(
    request,
    certificate_id: int,
    category: str = Claim.Category.EMPLOYEE,
    insurance_months: int | None = None,
    region_code: str = "",
):
    claim, decision = services.claim_preview(
        actor=request.auth,
        certificate_id=certificate_id,
        category=category,
        insurance_months=insurance_months,
        region_code=region_code,
    )
    return {"certificate_id": certificate_id, "region_code": claim.region.code, "assessment": decision.as_dict()}


@router.post("/claims", response={201: ClaimDetailOut}, summary="持证人本人申请补贴")
def claim_submit(request, payload: ClaimIn):
    claim = services.claim_submit(actor=request.auth, **payload.dict())
    return Status(201, claim_get(request.auth, claim.id))


@router.get("/claims/bulk-template", summary="代为申请模板(xlsx)")
def bulk_template(request):
    return _xlsx(services.bulk_template(), "subsidy-claims-template.xlsx")


@router.post(
    "/claims/bulk",
    response={200: RecordsImportReportOut, 422: RecordsImportReportOut},
    summary="用人单位批量代职工申请(xlsx,全部无误才保存)",
)
def claims_bulk(request, organisation_id: Form[int], file: File[UploadedFile]):
    report = services.claims_bulk_submit(actor=request.auth, organisation_id=organisation_id, upload=file)
    return Status(200 if report.ok else 422, report.as_dict())


def _detail(request, claim_id: int) -> dict:
    return claim_get(request.auth, claim_id)


@router.get("/claims/{claim_id}", response=ClaimDetailOut, summary="申请详情:逐条资格说明、金额计算、办理记录")
def claim_detail(request, claim_id: int):
    return _detail(request, claim_id)


@router.post("/claims/{claim_id}/account", response=ClaimDetailOut, summary="修改收款账户")
def claim_account(request, claim_id: int, payload: AccountIn):
    services.claim_update_account(actor=request.auth, claim_id=claim_id, **payload.dict())
    return _detail(request, claim_id)


@router.post("/claims/{claim_id}/withdraw", response=ClaimDetailOut, summary="撤回申请")
def claim_withdraw(request, claim_id: int, payload: ClaimReasonIn):
    services.claim_withdraw(actor=request.auth, claim_id=claim_id, reason=payload.reason)
    return _detail(request, claim_id)


@router.post("/claims/{claim_id}/review", response=ClaimDetailOut, summary="核定(pass 或 reject)")
def claim_review(request, claim_id: int, payload: ReviewIn):
    services.claim_review(actor=request.auth, claim_id=claim_id, decision=payload.decision, reason=payload.reason)
    return _detail(request, claim_id)


@router.post(
    "/claims/{claim_id}/second-review", response=ClaimDetailOut, summary="复核(另一名工作人员;pass、return 或 reject)"
)
def claim_second_review(request, claim_id: int, payload: ReviewIn):
    services.claim_second_review(
        actor=request.auth, claim_id=claim_id, decision=payload.decision, reason=payload.reason
    )
    return _detail(request, claim_id)


@router.post("/claims/{claim_id}/approve", response=ClaimDetailOut, summary="公示期满后审批")
def claim_approve(request, claim_id: int, payload: ClaimReasonIn):
    services.claim_approve(actor=request.auth, claim_id=claim_id, reason=payload.reason)
    return _detail(request, claim_id)


@router.post("/claims/{claim_id}/reject", response=ClaimDetailOut, summary="不予补贴(须说明理由)")
def claim_reject(request, claim_id: int, payload: ClaimReasonIn):
    services.claim_reject(actor=request.auth, claim_id=claim_id, reason=payload.reason)
    return _detail(request, claim_id)


@router.post("/objections/{objection_id}/resolve", response=dict, summary="处理公示异议")
def objection_resolve(request, objection_id: int, payload: ResolveIn):
    objection = services.objection_resolve(
        actor=request.auth, objection_id=objection_id, upheld=payload.upheld, resolution=payload.resolution
    )
    return {"id": objection.id, "status": objection.status, "claim_id": objection.claim_id}


@router.get("/queue", response=list[ClaimOut], summary="本辖区待办补贴申请(超期在前)")
@paginate
def queue(request, status: str = "", overdue: bool = False):
    return review_queue(request.auth, status=status, overdue_only=overdue)


# --- Records the bureau imports --------------------------------------------------------------------------


@router.post(
    "/insurance-records/import",
    response={200: RecordsImportReportOut, 422: RecordsImportReportOut},
    summary="导入失业保险参保记录(按证件号码匹配;全部无误才保存)",
)
def insurance_import(request, file: File[UploadedFile], region_code: Form[str] = ""):
    report = records.insurance_records_import(actor=request.auth, upload=file, region_code=region_code)
    return Status(200 if report.ok else 422, report.as_dict())


@router.post(
    "/training-subsidies/import",
    response={200: RecordsImportReportOut, 422: RecordsImportReportOut},
    summary="导入职业培训补贴享受记录",
)
def training_import(request, file: File[UploadedFile], region_code: Form[str] = ""):
    report = records.training_subsidies_import(actor=request.auth, upload=file, region_code=region_code)
    return Status(200 if report.ok else 422, report.as_dict())


@router.post(
    "/military-records/import",
    response={200: RecordsImportReportOut, 422: RecordsImportReportOut},
    summary="导入服役记录(退役军人事务部门数据;政策规定时计入参保时间)",
)
def military_import(request, file: File[UploadedFile], region_code: Form[str] = ""):
    report = records.military_records_import(actor=request.auth, upload=file, region_code=region_code)
    return Status(200 if report.ok else 422, report.as_dict())


@router.post(
    "/other-region-records/import",
    response={200: RecordsImportReportOut, 422: RecordsImportReportOut},
    summary="导入异地技能提升补贴发放记录(核实转入人员的声明)",
)
def other_region_import(
    request,
    file: File[UploadedFile],
    source_region_code: Form[str],
    as_of: Form[IsoDate | None] = None,
    region_code: Form[str] = "",
):
    report = records.other_region_records_import(
        actor=request.auth, upload=file, source_region_code=source_region_code, as_of=as_of, region_code=region_code
    )
    return Status(200 if report.ok else 422, report.as_dict())


@router.post(
    "/declared-certificates", response={201: DeclaredCertificateOut}, summary="登记平台外持有的证书(申报与核实)"
)
def declared_certificate(request, payload: DeclaredCertificateIn):
    declared = records.declared_certificate_record(actor=request.auth, **payload.dict())
    return Status(201, declared)


@router.get(
    "/declared-certificates", response=list[DeclaredCertificateOut], summary="平台外证书申报(本人的,或本辖区的)"
)
@paginate
def declared_certificate_list(request, status: str = ""):
    qs = declared_for(request.auth).order_by("-created_at", "-id")
    return qs.filter(status=status) if status else qs


@router.post(
    "/declared-certificates/declare", response={201: DeclaredCertificateOut}, summary="本人申报平台外持有的证书"
)
def declared_certificate_declare(request, payload: DeclarationIn):
    declared = records.declared_certificate_declare(actor=request.auth, **payload.dict())
    return Status(201, declared)


@router.post(
    "/declared-certificates/{declared_id}/withdraw", response={204: None}, summary="撤回尚未核实的平台外证书申报"
)
def declared_certificate_withdraw(request, declared_id: int):
    records.declared_certificate_withdraw(actor=request.auth, declared_id=declared_id)
    return Status(204, None)


@router.post(
    "/declared-certificates/{declared_id}/decide",
    response=DeclaredCertificateOut,
    summary="记录平台外证书的核实结论(本辖区人社部门)",
)
def declared_certificate_decide(request, declared_id: int, payload: DeclaredDecisionIn):
    return records.declared_certificate_decide(
        actor=request.auth,
        declared_id=declared_id,
        verified=payload.decision == "verified",
        verification=payload.verification,
    )


# --- Payments --------------------------------------------------------------------------------------------


@router.get("/batches", response=list[BatchOut], summary="支付批次(本辖区)")
@paginate
def batch_list(request):
    return batches_for(request.auth)


@router.post("/batches", response={201: BatchOut}, summary="生成本月支付批次")
def batch_create(request, payload: BatchIn):
    batch = payments.batch_create(actor=request.auth, month=payload.month, region_code=payload.region_code)
    return Status(201, batch_get(request.auth, batch.id))


@router.get("/batches/{batch_id}", response=BatchOut, summary="支付批次详情")
def batch_detail(request, batch_id: int):
    return batch_get(request.auth, batch_id)


@router.get("/batches/{batch_id}/bank-file", summary="银行代发文件(xlsx,含完整账号)")
def batch_bank_file(request, batch_id: int):
    data = payments.batch_bank_file(actor=request.auth, batch_id=batch_id)
    return _xlsx(data, f"subsidy-batch-{batch_id}.xlsx")


@router.post("/batches/{batch_id}/claims/{claim_id}/paid", response=BatchOut, summary="登记支付成功(银行流水号)")
def payment_paid(request, batch_id: int, claim_id: int, payload: PaidIn):
    payments.payment_mark_paid(
        actor=request.auth,
        batch_id=batch_id,
        claim_id=claim_id,
        bank_reference=payload.bank_reference,
        paid_on=payload.paid_on,
    )
    return batch_get(request.auth, batch_id)


@router.post("/batches/{batch_id}/claims/{claim_id}/failed", response=BatchOut, summary="登记支付失败(退回待支付)")
def payment_failed(request, batch_id: int, claim_id: int, payload: FailedIn):
    payments.payment_mark_failed(actor=request.auth, batch_id=batch_id, claim_id=claim_id, reason=payload.reason)
    return batch_get(request.auth, batch_id)


@router.post(
    "/batches/{batch_id}/bank-return",
    response={200: BankReturnReportOut, 422: BankReturnReportOut},
    summary="导入银行回单(xlsx或CSV;与批次逐行核对,全部无误才登记)",
)
def bank_return(request, batch_id: int, file: File[UploadedFile]):
    report = payments.bank_return_import(actor=request.auth, batch_id=batch_id, upload=file)
    return Status(200 if report.ok else 422, report.as_dict())


# --- Budgets ---------------------------------------------------------------------------------------------


@router.get("/budgets", response=list[BudgetOut], summary="补贴资金年度预算及使用情况(本辖区)")
def budget_list(request, year: int | None = None):
    return [u.as_dict() | {"id": u.budget.id, "fund": u.budget.fund} for u in budgets.budgets_for(request.auth, year)]


@router.post("/budgets", response={201: BudgetOut}, summary="登记年度预算(失业保险基金)")
def budget_set(request, payload: BudgetIn):
    budget = budgets.budget_set(actor=request.auth, **payload.dict())
    use = budgets.budget_use(budget)
    return Status(201, use.as_dict() | {"id": budget.id, "fund": budget.fund})


@router.post("/budgets/{budget_id}/supplements", response={201: BudgetOut}, summary="登记追加预算")
def budget_supplement(request, budget_id: int, payload: SupplementIn):
    supplement = budgets.budget_supplement(actor=request.auth, budget_id=budget_id, **payload.dict())
    use = budgets.budget_use(supplement.budget)
    return Status(201, use.as_dict() | {"id": supplement.budget_id, "fund": supplement.budget.fund})


# --- Statistics ------------------------------------------------------------------------------------------


@router.get(
    "/statistics/cities", response=CityStatisticsOut, summary="按城市对比:申请、金额、等级、职业、支付时长、预算"
)
def statistics_cities(request, year: int | None = None):
    if year is not None and not 2000 <= year <= timezone.localdate().year + 1:
        raise ValidationFailed(_("年份无效"), details={"field": "year"})
    stats = city_statistics(request.auth, year=year)

    def table(entries):
        return [
            {
                "label": e["label"],
                "cities": [{"count": n, "amount": str(a)} for n, a in e["cities"]],
                "total": {"count": e["total"][0], "amount": str(e["total"][1])},
            }
            for e in entries
        ]

    return {
        "year": stats["year"],
        "cities": [c.as_dict() for c in stats["cities"]],
        "total": stats["total"].as_dict(),
        "by_level": table(stats["by_level"]),
        "by_occupation": table(stats["by_occupation"]),
    }


@router.get("/statistics", response=StatisticsOut, summary="补贴统计:按状态、等级、职业、月份")
def statistics(request, year: int | None = None):
    if year is not None and not 2000 <= year <= timezone.localdate().year + 1:
        raise ValidationFailed(_("年份无效"), details={"field": "year"})
    stats = claim_statistics(request.auth, year=year)
    return {
        **{k: stats[k] for k in ("year", "total", "approved", "approved_amount", "paid", "paid_amount")},
        "by_status": [{"label": label, "count": n} for label, n in stats["by_status"]],
        "by_level": [{"label": b.label, "count": b.count, "amount": b.amount} for b in stats["by_level"]],
        "by_occupation": [{"label": b.label, "count": b.count, "amount": b.amount} for b in stats["by_occupation"]],
        "by_month": [
            {"label": m["label"], "claimed": m["claimed"], "approved": m["approved"], "amount": m["amount"]}
            for m in stats["by_month"]
        ],
    }
