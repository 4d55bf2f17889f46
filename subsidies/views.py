"""Pages: the worker's claims and claim form, the employer's bulk claims, the bureau's queue, claim review,
records, payment batches and statistics; the public publicity list and policies. Views parse, authorise
(through the selectors and services), call one service and respond."""

import datetime
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.identity import mask_id_number, mask_name
from accounts.models import Role
from accounts.pages import object_action
from accreditation.models import Organisation
from certificates.models import Certificate
from core.audit_words import action_words
from core.errors import NotFound, PermissionDenied, PlatformError, ValidationFailed
from core.models import AuditEntry
from core.pages import form_input, perform
from core.ratelimit import client_ip
from occupations.models import Level, Region
from occupations.search import region_code_for
from occupations.workdays import WorkCalendar

from . import budgets, payments, progress, records, services
from . import statistics as statistics_module
from .eligibility import assess, yuan
from .models import Claim, DeclaredCertificate, Objection
from .schemas import AccountIn, BudgetIn, ClaimReasonIn, DeclaredDecisionIn, ReviewIn, SupplementIn
from .selectors import (
    batch_get,
    batches_for,
    claim_get,
    claim_statistics,
    claims_for,
    declared_for,
    declared_get,
    declared_queue,
    insurance_records_for,
    is_bureau_for,
    policies_in_force,
    policy_lapses,
    publicity_list,
    review_queue,
    training_subsidies_for,
    with_overdue,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _require_bureau(actor: Actor) -> None:
    if not (actor.bureau_prefixes or actor.is_operator):
        raise PermissionDenied(_("仅人社部门工作人员可以查看"))


# --- The worker ----------------------------------------------------------------------------------------------


@login_required
def mine(request):
    """The worker's certificates with what each can claim, and their claims with status."""
    actor = Actor.from_request(request)
    if actor.person is None:
        if actor.bureau_prefixes or actor.is_operator:
            return redirect("subsidies:queue")
        if actor.organisation_ids(Role.ORG_ADMIN):
            return redirect("subsidies:employer")
        actor.require_person()
    claims = list(with_overdue(claims_for(actor).filter(person=actor.person)).order_by("-created_at"))
    live = {c.certificate_id: c for c in claims if not c.is_closed}
    certificates = Certificate.objects.filter(person=actor.person).select_related("level", "occupation")
    rows = [(cert, live.get(cert.id)) for cert in certificates]
    return render(request, "subsidies/mine.html", {"rows": rows, "claims": claims})


CLAIM_FIELDS = (
    "category",
    "insurance_months",
    "account_kind",
    "account_number",
    "bank_name",
    "region_code",
    "military_months",
    "transferred_from",
    "declares_not_paid_elsewhere",
)


@login_required
def claim_new(request, certificate_id: int):
    """Claim from a certificate: its facts pre-filled, the decision shown rule by rule before submitting."""
    actor = Actor.from_request(request)
    source = request.POST if request.method == "POST" else request.GET
    data = {k: source.get(k, "").strip() for k in CLAIM_FIELDS}
    data["category"] = data["category"] or Claim.Category.EMPLOYEE
    data["declares_not_paid_elsewhere"] = data["declares_not_paid_elsewhere"] == "1"
    status = 200
    if request.method == "POST" and not request.POST.get("preview"):
        try:
            claim = services.claim_submit(actor=actor, certificate_id=certificate_id, **data)
        except PlatformError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, _("补贴申请已提交,人社部门将于%(d)s前完成核定") % {"d": claim.due_on})
            return redirect("subsidies:claim", claim_id=claim.id)
    try:
        claim, decision = services.claim_preview(
            actor=actor,
            certificate_id=certificate_id,
            category=data["category"],
            insurance_months=data["insurance_months"] or None,
            region_code=data["region_code"],
            military_months=data["military_months"] or None,
            transferred_from=data["transferred_from"],
            declares_not_paid_elsewhere=data["declares_not_paid_elsewhere"],
        )
    except NotFound:
        raise
    except PlatformError as exc:
        messages.error(request, exc.message)
        data["region_code"] = data["transferred_from"] = ""
        claim, decision = services.claim_preview(actor=actor, certificate_id=certificate_id, category=data["category"])
    return render(
        request,
        "subsidies/claim_form.html",
        {
            "cert": claim.certificate,
            "claim": claim,
            "assessment": decision.as_dict(),
            "data": data,
            "masked_id": mask_id_number(claim.certificate.id_number),
            "province": services.claim_province(claim.certificate),
            "categories": Claim.Category.choices,
            "account_kinds": Claim.AccountKind.choices,
        },
        status=status,
    )


# --- One claim, for everyone who may see it ---------------------------------------------------------------


@login_required
def claim_detail(request, claim_id: int):
    actor = Actor.from_request(request)
    claim = claim_get(actor, claim_id)
    overdue = with_overdue(Claim.objects.filter(pk=claim.pk)).values_list("overdue", flat=True).first()
    is_officer = is_bureau_for(actor, claim) and not (actor.person and actor.person.id == claim.person_id)
    is_claimant = actor.person is not None and actor.person.id == claim.person_id
    is_filer = claim.filed_by_organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    today = timezone.localdate()
    decisions = list(claim.decisions.select_related("policy", "actor"))
    return render(
        request,
        "subsidies/claim_detail.html",
        {
            "claim": claim,
            "current": assess([claim], today=today)[0].as_dict(),
            "recorded": claim.assessment or None,
            "decisions": decisions,
            "objections": list(claim.objections.all()),
            "overdue": overdue,
            "deadline": progress.deadline(claim, today, WorkCalendar()),
            "steps": progress.claim_steps(claim, decisions),
            "is_officer": is_officer,
            "is_owner": is_claimant or is_filer,
            # The bureau checks identity against insurance records: officers see the full ID number.
            "id_number": claim.person.id_number if is_officer else mask_id_number(claim.person.id_number),
            "can_second_review": is_officer and claim.reviewed_by_id != request.user.id,
            "publicity_over": claim.publicity_over(today),
            "budget": _budget_use(claim, today) if is_officer else None,
            "account_kinds": Claim.AccountKind.choices,
        },
    )


def _budget_use(claim: Claim, today: datetime.date):
    budget = budgets.budget_for(claim.region, today.year)
    return budgets.budget_use(budget) if budget is not None else None


_claim_action = partial(object_action, lookup=claim_get, url_kwarg="claim_id", redirect_to="subsidies:claim")


claim_review = _claim_action(
    ReviewIn,
    lambda actor, cid, data: services.claim_review(
        actor=actor, claim_id=cid, decision=data.decision, reason=data.reason
    ),
    gettext_lazy("已核定"),
)
claim_second_review = _claim_action(
    ReviewIn,
    lambda actor, cid, data: services.claim_second_review(
        actor=actor, claim_id=cid, decision=data.decision, reason=data.reason
    ),
    gettext_lazy("已复核"),
)
claim_approve = _claim_action(
    ClaimReasonIn,
    lambda actor, cid, data: services.claim_approve(actor=actor, claim_id=cid, reason=data.reason),
    gettext_lazy("已审批通过,待月度支付"),
)
claim_reject = _claim_action(
    ClaimReasonIn,
    lambda actor, cid, data: services.claim_reject(actor=actor, claim_id=cid, reason=data.reason),
    gettext_lazy("已作出不予补贴决定"),
)
claim_withdraw = _claim_action(
    ClaimReasonIn,
    lambda actor, cid, data: services.claim_withdraw(actor=actor, claim_id=cid, reason=data.reason),
    gettext_lazy("申请已撤回"),
)
claim_account = _claim_action(
    AccountIn,
    lambda actor, cid, data: services.claim_update_account(actor=actor, claim_id=cid, **data.dict()),
    gettext_lazy("收款账户已更新"),
)


@login_required
@require_POST
def objection_resolve(request, objection_id: int):
    actor = Actor.from_request(request)
    objection = Objection.objects.filter(pk=objection_id).first()
    if objection is None:
        raise NotFound()
    claim = claim_get(actor, objection.claim_id)
    perform(
        request,
        lambda: services.objection_resolve(
            actor=actor,
            objection_id=objection.id,
            upheld=request.POST.get("upheld") == "1",
            resolution=request.POST.get("resolution", ""),
        ),
        _("异议已处理"),
    )
    return redirect("subsidies:claim", claim_id=claim.id)


# --- The employer ----------------------------------------------------------------------------------------


@login_required
def employer(request, org_id: int | None = None):
    """An employer's bulk claims for its staff: upload, see every bad row, and the claims it filed."""
    actor = Actor.from_request(request)
    org_ids = actor.organisation_ids(Role.ORG_ADMIN)
    employers = Organisation.objects.filter(pk__in=org_ids, kind=Organisation.Kind.EMPLOYER).order_by("name")
    if org_id is None:
        if not employers:
            raise PermissionDenied(_("只有用人单位的管理员可以代职工申请补贴"))
        org = employers[0]
    else:
        org = employers.filter(pk=org_id).first()
        if org is None:
            raise NotFound()
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择文件"))
        else:
            report = perform(
                request, lambda: services.claims_bulk_submit(actor=actor, organisation_id=org.id, upload=upload)
            )
            if report is not None and report.ok:
                messages.success(request, _("已提交%(n)d份补贴申请") % {"n": report.created})
                return redirect("subsidies:employer_org", org_id=org.id)
    claims = with_overdue(claims_for(actor).filter(filed_by_organisation=org)).order_by("-created_at")
    return render(
        request,
        "subsidies/employer.html",
        {
            "org": org,
            "employers": employers,
            "report": report,
            "page": Paginator(claims, 30).get_page(request.GET.get("page")),
        },
        status=422 if report is not None and not report.ok else 200,
    )


def bulk_template(request):
    return _xlsx(services.bulk_template(), "subsidy-claims-template.xlsx")


# --- The bureau --------------------------------------------------------------------------------------------


@login_required
def queue(request):
    actor = Actor.from_request(request)
    _require_bureau(actor)
    status = request.GET.get("status", "")
    overdue_only = request.GET.get("overdue") == "1"
    qs = review_queue(actor, status=status if status in Claim.Status.values else "", overdue_only=overdue_only)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    calendar, today = WorkCalendar(), timezone.localdate()
    lefts = [calendar.working_days_between(today, c.due_on) if c.due_on else None for c in page]
    # Working days left, or working days past the deadline ("已超期 N 个工作日", never a negative "剩余").
    rows = [(c, left, -left if left is not None and left < 0 else 0) for c, left in zip(page, lefts, strict=True)]
    return render(
        request,
        "subsidies/queue.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "overdue_only": overdue_only,
            "statuses": Claim.Status.choices,
            "lapses": policy_lapses(actor),
        },
    )


@login_required
def records_page(request):
    actor = Actor.from_request(request)
    _require_bureau(actor)
    report, kind = None, request.POST.get("kind", "")
    if request.method == "POST":
        upload = request.FILES.get("file")
        importer = {
            "insurance": records.insurance_records_import,
            "training": records.training_subsidies_import,
            "military": records.military_records_import,
            "other_region": _other_region_import(request.POST),
        }.get(kind)
        if upload is None or importer is None:
            messages.error(request, _("请选择文件"))
        else:
            report = perform(
                request,
                lambda: importer(actor=actor, upload=upload, region_code=request.POST.get("region_code", "")),
            )
            if report is not None and report.ok:
                messages.success(
                    request,
                    _("已导入%(n)d条记录,%(u)d条未匹配到平台人员") % {"n": report.created, "u": report.unmatched},
                )
                return redirect("subsidies:records")
    return render(
        request,
        "subsidies/records.html",
        {
            "report": report,
            "kind": kind,
            "insurance": insurance_records_for(actor)[:20],
            "training": training_subsidies_for(actor)[:20],
            "within": actor.jurisdiction_codes,
            "region_default": actor.has_default_region,
        },
        status=422 if report is not None and not report.ok else 200,
    )


def _other_region_import(post):
    def run(*, actor: Actor, upload, region_code: str):
        as_of = post.get("as_of") or None
        try:
            day = datetime.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise ValidationFailed(_("记录截至日期应为 2026-11-30 格式"), details={"field": "as_of"}) from None
        return records.other_region_records_import(
            actor=actor,
            upload=upload,
            source_region_code=post.get("source_region_code", ""),
            as_of=day,
            region_code=region_code,
        )

    return run


def insurance_template(request):
    return _xlsx(records.insurance_template(), "insurance-records-template.xlsx")


def training_template(request):
    return _xlsx(records.training_template(), "training-subsidies-template.xlsx")


def military_template(request):
    return _xlsx(records.military_template(), "military-service-template.xlsx")


def other_region_template(request):
    return _xlsx(records.other_region_template(), "other-region-subsidies-template.xlsx")


@login_required
def batches(request):
    actor = Actor.from_request(request)
    _require_bureau(actor)
    if request.method == "POST":
        batch = perform(
            request,
            lambda: payments.batch_create(
                actor=actor,
                month=request.POST.get("month") or None,
                region_code=request.POST.get("region_code", ""),
            ),
            _("支付批次已生成"),
        )
        if batch is not None:
            return redirect("subsidies:batch", batch_id=batch.id)
        return redirect("subsidies:batches")
    waiting = claims_for(actor).filter(status=Claim.Status.APPROVED)
    if not actor.is_operator:
        waiting = waiting.filter(Region.within_q("region", actor.bureau_prefixes))
    return render(
        request,
        "subsidies/batches.html",
        {
            "page": Paginator(batches_for(actor).order_by("-month", "-id"), 24).get_page(request.GET.get("page")),
            "waiting": waiting.count(),
            "month": f"{timezone.localdate():%Y-%m}",
            "within": actor.jurisdiction_codes,
            "region_default": actor.has_default_region,
        },
    )


@login_required
def batch_detail(request, batch_id: int, report=None):
    actor = Actor.from_request(request)
    batch = batch_get(actor, batch_id)
    lines = batch.lines.select_related("claim__occupation", "claim__level").order_by("id")
    status = 422 if report is not None and not report.ok else 200
    return render(
        request, "subsidies/batch_detail.html", {"batch": batch, "lines": lines, "report": report}, status=status
    )


@login_required
@require_POST
def bank_return(request, batch_id: int):
    """The bank's return file, reconciled against the batch: the report, or every bad row with nothing saved."""
    actor = Actor.from_request(request)
    batch = batch_get(actor, batch_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择回单文件"))
        return redirect("subsidies:batch", batch_id=batch.id)
    report = perform(request, lambda: payments.bank_return_import(actor=actor, batch_id=batch.id, upload=upload))
    if report is not None and report.ok:
        messages.success(
            request,
            _("回单已导入:成功%(p)d笔,失败%(f)d笔,仍待回单%(n)d笔")
            % {"p": report.paid, "f": report.failed, "n": report.pending},
        )
    return batch_detail(request, batch.id, report=report)


def bank_return_template(request):
    return _xlsx(payments.bank_return_template(), "bank-return-template.xlsx")


@login_required
@require_POST
def payment_result(request, batch_id: int, claim_id: int, result: str):
    actor = Actor.from_request(request)
    batch = batch_get(actor, batch_id)
    if result == "paid":
        paid_on = request.POST.get("paid_on") or None
        perform(
            request,
            lambda: payments.payment_mark_paid(
                actor=actor,
                batch_id=batch.id,
                claim_id=claim_id,
                bank_reference=request.POST.get("bank_reference", ""),
                paid_on=datetime.date.fromisoformat(paid_on) if paid_on else None,
            ),
            _("已登记支付成功"),
        )
    elif result == "failed":
        perform(
            request,
            lambda: payments.payment_mark_failed(
                actor=actor, batch_id=batch.id, claim_id=claim_id, reason=request.POST.get("reason", "")
            ),
            _("已登记支付失败,申请退回待支付"),
        )
    else:
        raise NotFound()
    return redirect("subsidies:batch", batch_id=batch.id)


@login_required
def bank_file(request, batch_id: int):
    actor = Actor.from_request(request)
    data = payments.batch_bank_file(actor=actor, batch_id=batch_id)
    return _xlsx(data, f"subsidy-batch-{batch_id}.xlsx")


@login_required
def statistics(request):
    actor = Actor.from_request(request)
    _require_bureau(actor)
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    stats = claim_statistics(actor, year=year)
    cities = statistics_module.city_statistics(actor, year=year)
    months = stats["by_month"]
    return render(
        request,
        "subsidies/statistics.html",
        {
            "stats": stats,
            "year": year,
            "years": range(timezone.localdate().year, timezone.localdate().year - 4, -1),
            "chart_height": 24 * len(months) + 8,
            "month_rows": [{**m, "y": 24 * i + 4, "width": m["bar"].share * 3.6} for i, m in enumerate(months)],
            "level_rows": [
                {"bar": b, "y": 24 * i + 4, "width": b.share * 3.6} for i, b in enumerate(stats["by_level"])
            ],
            "level_height": 24 * len(stats["by_level"]) + 8,
            "yuan": yuan,
            "cities": cities,
            "lapses": policy_lapses(actor),
            "budgets": budgets.budgets_for(actor, year),
        },
    )


@login_required
def statistics_export(request):
    actor = Actor.from_request(request)
    _require_bureau(actor)
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    data = statistics_module.city_statistics_workbook(actor, year=year)
    return _xlsx(data, f"subsidy-statistics-{year}.xlsx")


# --- Certificates held outside the platform -------------------------------------------------------------------

DECLARE_FIELDS = ("occupation_code", "level_code", "number", "issuer", "issued_on", "region_code")


def _field_errors(error: PlatformError | None) -> dict[str, str]:
    """{field: message} of a refused form, for the message beside each field (and the summary above the form)."""
    if error is None:
        return {}
    errors = error.details.get("errors") or (
        [{"field": error.details["field"], "message": error.message}] if error.details.get("field") else []
    )
    return {e["field"]: e["message"] for e in errors}


def _history(obj) -> list[tuple[AuditEntry, str]]:
    entries = AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).select_related(
        "actor"
    )
    return [(e, action_words(e.action)) for e in entries.order_by("seq")]


@login_required
def declared_mine(request):
    """The worker's certificates held outside the platform: declare one to the bureau of their 参保地, see what the
    bureau found, withdraw one it has not decided yet."""
    actor = Actor.from_request(request)
    actor.require_person()
    data = {k: request.POST.get(k, "").strip() for k in DECLARE_FIELDS} if request.method == "POST" else {}
    error = None
    if request.method == "POST":
        try:
            declared = records.declared_certificate_declare(actor=actor, **data)
        except ValidationFailed as exc:
            error = exc
        except PlatformError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("已申报证书%(n)s,待%(r)s人社部门核实") % {"n": declared.number, "r": declared.region.full_name},
            )
            return redirect("subsidies:declared")
    return render(
        request,
        "subsidies/declared_mine.html",
        {
            "declarations": declared_for(actor).filter(person=actor.person).order_by("-created_at", "-id"),
            "levels": Level.objects.order_by("-rank"),
            "data": data,
            "error": error.message if error else "",
            "field_errors": _field_errors(error),
        },
        status=error.status if error else 200,
    )


@login_required
@require_POST
def declared_withdraw(request, declared_id: int):
    actor = Actor.from_request(request)
    perform(
        request,
        lambda: records.declared_certificate_withdraw(actor=actor, declared_id=declared_id),
        _("申报已撤回"),
    )
    return redirect("subsidies:declared")


@login_required
def declared_review(request):
    """The bureau's queue of declared certificates: pending first, searchable by name, ID number or number."""
    actor = Actor.from_request(request)
    _require_bureau(actor)
    status = request.GET.get("status", DeclaredCertificate.Status.PENDING)
    if status not in DeclaredCertificate.Status.values:
        status = ""
    search = request.GET.get("q", "").strip()[:64]
    qs = declared_queue(actor, status=status, search=search)
    return render(
        request,
        "subsidies/declared_review.html",
        {
            "page": Paginator(qs, 30).get_page(request.GET.get("page")),
            "status": status,
            "q": search,
            "statuses": DeclaredCertificate.Status.choices,
        },
    )


@login_required
def declared_detail(request, declared_id: int):
    """One declaration: its holder sees what the bureau found; an officer of its region decides it here."""
    actor = Actor.from_request(request)
    declared = declared_get(actor, declared_id)
    is_holder = actor.person is not None and actor.person.id == declared.person_id
    is_officer = not is_holder and (
        actor.is_operator or (declared.region is not None and actor.oversees_region(declared.region))
    )
    error, data = None, {}
    if request.method == "POST":
        data = {k: request.POST.get(k, "").strip() for k in ("decision", "verification")}
        try:
            decision = form_input(request, DeclaredDecisionIn)
            records.declared_certificate_decide(
                actor=actor,
                declared_id=declared.id,
                verified=decision.decision == "verified",
                verification=decision.verification,
            )
        except ValidationFailed as exc:
            error = exc
        except PlatformError as exc:
            messages.error(request, exc.message)
            return redirect("subsidies:declared_detail", declared_id=declared.id)
        else:
            messages.success(request, _("已记录核实结论"))
            return redirect("subsidies:declared_review")
    held = Certificate.objects.filter(person_id=declared.person_id, occupation_id=declared.occupation_id)
    return render(
        request,
        "subsidies/declared_detail.html",
        {
            "declared": declared,
            "is_holder": is_holder,
            "is_officer": is_officer,
            "can_decide": is_officer and declared.status == DeclaredCertificate.Status.PENDING,
            # The bureau checks the holder against the national query: officers see the full ID number.
            "id_number": declared.person.id_number if is_officer else mask_id_number(declared.person.id_number),
            "held": held.select_related("level").order_by("-issued_on") if is_officer else [],
            "history": _history(declared) if is_officer else [],
            "data": data,
            "error": error.message if error else "",
            "field_errors": _field_errors(error),
        },
        status=error.status if error else 200,
    )


# --- The fund's budget -------------------------------------------------------------------------------------------


def _year(value: str | None) -> int:
    try:
        year = int(value or timezone.localdate().year)
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


@login_required
def budgets_page(request):
    """The budgets of the officer's region and those below it, for a year: amount, committed, paid, remaining;
    and a year's budget recorded as approved (批复)."""
    actor = Actor.from_request(request)
    _require_bureau(actor)
    year = _year(request.GET.get("year"))
    error, data = None, {}
    if request.method == "POST":
        data = {k: request.POST.get(k, "").strip() for k in ("year", "amount", "basis", "region_code", "warn_percent")}
        try:
            budget = budgets.budget_set(actor=actor, **form_input(request, BudgetIn).dict())
        except ValidationFailed as exc:
            error = exc
        except PlatformError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已登记%(y)d年预算") % {"y": budget.year})
            return redirect(f"{reverse('subsidies:budgets')}?year={budget.year}")
    years = sorted({year, timezone.localdate().year, *budgets.budgets_visible(actor).values_list("year", flat=True)})
    return render(
        request,
        "subsidies/budgets.html",
        {
            "uses": budgets.budgets_for(actor, year),
            "year": year,
            "years": sorted(years, reverse=True),
            "within": actor.jurisdiction_codes,
            "region_default": actor.has_default_region,
            "data": data or {"year": year, "warn_percent": 80},
            "error": error.message if error else "",
            "field_errors": _field_errors(error),
        },
        status=error.status if error else 200,
    )


@login_required
def budget_detail(request, budget_id: int):
    """One year's budget: its use, the supplements (追加) with their basis, and every change to it."""
    actor = Actor.from_request(request)
    budget = budgets.budget_get(actor, budget_id)
    error, data = None, {}
    if request.method == "POST":
        data = {k: request.POST.get(k, "").strip() for k in ("amount", "basis")}
        try:
            supplement = budgets.budget_supplement(
                actor=actor, budget_id=budget.id, **form_input(request, SupplementIn).dict()
            )
        except ValidationFailed as exc:
            error = exc
        except PlatformError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已登记追加预算%(a)s元") % {"a": yuan(supplement.amount)})
            return redirect("subsidies:budget", budget_id=budget.id)
    return render(
        request,
        "subsidies/budget_detail.html",
        {
            "use": budgets.budget_use(budget),
            "supplements": budget.supplements.select_related("recorded_by").order_by("recorded_at", "id"),
            "history": _history(budget),
            "data": data,
            "error": error.message if error else "",
            "field_errors": _field_errors(error),
        },
        status=error.status if error else 200,
    )


# --- Public -----------------------------------------------------------------------------------------------


def publicity_page(request):
    # A national list: filtered by a region picked (or typed: its best match), the region and everything in it.
    region = region_code_for(request.GET.get("region", ""))
    claims = publicity_list(region_code=region)
    page = Paginator(claims, 30).get_page(request.GET.get("page"))
    rows = [
        {
            "id": c.id,
            "name": mask_name(c.person.name),
            "id_number": mask_id_number(c.person.id_number),
            "occupation": c.occupation.name,
            "level": c.level.label,
            "region": c.region.full_name,
            "amount": c.amount,
            "ends_on": c.publicity_ends_on,
        }
        for c in page
    ]
    return render(request, "subsidies/publicity.html", {"page": page, "rows": rows, "region": region})


@require_POST
def objection_raise(request, claim_id: int):
    actor = Actor.from_request(request)
    perform(
        request,
        lambda: services.objection_raise(
            actor=actor,
            claim_id=claim_id,
            text=request.POST.get("text", ""),
            contact=request.POST.get("contact", ""),
            client_ip=client_ip(request),
        ),
        _("异议已提交,人社部门将在规定的工作日内处理"),
    )
    return redirect("subsidies:publicity")


def policies_page(request):
    return render(
        request,
        "subsidies/policies.html",
        {
            "policies": policies_in_force(),
            "categories": dict(Claim.Category.choices),
            "lapses": policy_lapses(Actor.from_request(request)),
        },
    )
