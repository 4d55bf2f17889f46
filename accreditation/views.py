import datetime
from functools import partial

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from ninja import Schema

from accounts.actors import Actor
from accounts.forms import SignupForm
from accounts.identity import ID_TYPES
from accounts.models import Role
from accounts.pages import object_action
from core.errors import NotFound, PermissionDenied, PlatformError
from core.files import private_file_response
from core.models import AuditEntry
from core.pages import perform, safe_next
from core.spreadsheets import template_workbook
from occupations.models import Level, Occupation, Standard
from occupations.search import occupation_code_for, region_code_for

from . import people, services
from .models import Appointment, Filing, Organisation
from .rules import levels_for_kind, licensing_notes, scope_line_problems
from .schemas import ApproveIn, ReasonIn
from .selectors import (
    appointments_for,
    directory,
    filing_get,
    filings_for,
    organisation_get,
    organisations_for,
    review_queue,
    training_records_for,
)

# --- Registration and the organisation's pages -------------------------------------------------------------

ORG_FIELDS = ["name", "kind", "credit_code", "region_code", "contact_name", "contact_phone", "address", "contact_email"]


def register(request):
    """A new organisation signs up: an account for its admin and the organisation, in one step."""
    user_form = SignupForm(request.POST or None) if not request.user.is_authenticated else None
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ORG_FIELDS}
        data["provides_training"] = bool(request.POST.get("provides_training"))
        try:
            with transaction.atomic():
                if user_form is not None:
                    if not user_form.is_valid():
                        raise _FormInvalid()
                    user = user_form.save()
                else:
                    user = request.user
                org = services.organisation_register(actor=Actor.for_user(user), **data)
        except _FormInvalid:
            pass
        except PlatformError as exc:
            return render(
                request,
                "accreditation/register.html",
                {
                    "form": user_form,
                    "data": data,
                    "error": exc.message,
                    "error_field": exc.details.get("field"),
                },
                status=exc.status,
            )
        else:
            if user_form is not None:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("accreditation:organisation", org_id=org.id)
        return render(request, "accreditation/register.html", {"form": user_form, "data": data}, status=422)
    return render(request, "accreditation/register.html", {"form": user_form, "data": {}})


class _FormInvalid(Exception):
    pass


@login_required
def organisation(request, org_id: int):
    actor = Actor.from_request(request)
    org = organisation_get(actor, org_id)
    filings = org.filings.prefetch_related("scope_lines__levels", "scope_lines__occupation")
    return render(
        request,
        "accreditation/organisation.html",
        {
            "org": org,
            "filings": filings,
            "is_admin": org.id in actor.organisation_ids(Role.ORG_ADMIN),
            "in_force": next((f for f in filings if f.status in Filing.IN_FORCE), None),
            "open_filing": next((f for f in filings if f.status in Filing.OPEN), None),
        },
    )


@login_required
@require_POST
def organisation_seal(request, org_id: int):
    """The organisation's admin uploads (or removes) the seal image certificate PDFs print."""
    actor = Actor.from_request(request)
    org = organisation_get(actor, org_id)
    if request.POST.get("action") == "remove":
        perform(
            request,
            lambda: services.organisation_seal_set(actor=actor, organisation_id=org.id, upload=None),
            _("印章图片已删除"),
        )
    elif (upload := request.FILES.get("seal")) is None:
        messages.error(request, _("请选择印章图片"))
    else:
        perform(
            request,
            lambda: services.organisation_seal_set(actor=actor, organisation_id=org.id, upload=upload),
            _("印章图片已更新,此后下载的证书 PDF 将盖此章"),
        )
    return redirect("accreditation:organisation", org_id=org.id)


@login_required
def organisation_seal_image(request, org_id: int):
    """The seal image, for whoever may read the organisation's page."""
    org = organisation_get(Actor.from_request(request), org_id)
    if not org.seal:
        raise Http404
    return private_file_response(org.seal, name=f"seal-{org.id}", content_type="image/png", inline=True)


def _scope_choices(selected: dict[str, set[str]], organisation: Organisation):
    """The occupations a filing can choose from, with whether each may be filed and why not; each row offers the
    levels its standard defines that this kind of organisation may file (学徒工 and 特级/首席技师 only for
    employers). Of the 1,600-odd occupations, those with a standard in force, those already in the scope and those
    the catalogue names are listed; the rest have no standard (the page says how many and where to look)."""
    today = timezone.localdate()
    levels = levels_for_kind(organisation.kind)
    rows = []
    listed = (
        Occupation.objects.filter(active=True)
        .filter(
            Q(standards__in=Standard.objects.in_force_on(today))
            | Q(code__in=list(selected))
            | Q(qualification__isnull=False)
        )
        .distinct()
        .order_by("code")
    )
    for occ in listed.select_related("qualification").prefetch_related("standards"):
        problems = [
            p for p in scope_line_problems(occ, ["5"], today, organisation_kind=organisation.kind) if "等级" not in p
        ]
        standard = occ.standard_on(today)
        defined = set(standard.levels.values_list("level__code", flat=True)) if standard else set()
        offered = [lv for lv in levels if lv.code in defined or (not defined and lv.is_standard)]
        rows.append(
            {
                "occupation": occ,
                "problems": problems,
                "notes": licensing_notes(occ),
                "levels": [(lv, lv.code in selected.get(occ.code, set())) for lv in offered],
            }
        )
    return rows


def _without_standard_count() -> int:
    today = timezone.localdate()
    return Occupation.objects.filter(active=True).exclude(standards__in=Standard.objects.in_force_on(today)).count()


def _scope_from_post(post) -> list[dict]:
    scope: dict[str, list[str]] = {}
    for key in post.getlist("scope"):
        code, _sep, level = key.rpartition(":")
        scope.setdefault(code, []).append(level)
    return [{"occupation_code": code, "levels": levels} for code, levels in scope.items()]


def _require_filing_author(actor: Actor, organisation_id: int) -> None:
    """Only the organisation's admin writes its filings (the services refuse anyone else); others who may read
    them get a 403 instead of a form that could never be saved."""
    if organisation_id not in actor.organisation_ids(Role.ORG_ADMIN):
        raise PermissionDenied(_("仅本机构管理员可以填写备案申请"))


@login_required
def filing_new(request, org_id: int):
    actor = Actor.from_request(request)
    org = organisation_get(actor, org_id)
    _require_filing_author(actor, org.id)
    if request.method == "POST":
        scope = _scope_from_post(request.POST)
        filing = perform(
            request,
            lambda: services.filing_create(
                actor=actor, organisation_id=org.id, scope=scope, note=request.POST.get("note", "")
            ),
            _("已保存备案申请草稿,请上传申请材料后提交"),
        )
        if filing is not None:
            return redirect("accreditation:filing", filing_id=filing.id)
        selected = {s["occupation_code"]: set(s["levels"]) for s in scope}
    else:
        selected = {}
    return render(
        request,
        "accreditation/filing_form.html",
        {
            "org": org,
            "rows": _scope_choices(selected, org),
            "without_standard": _without_standard_count(),
            "note": request.POST.get("note", ""),
        },
    )


@login_required
def filing_edit(request, filing_id: int):
    actor = Actor.from_request(request)
    filing = filing_get(actor, filing_id)
    _require_filing_author(actor, filing.organisation_id)
    if request.method == "POST":
        scope = _scope_from_post(request.POST)
        if perform(
            request,
            lambda: services.filing_update_scope(
                actor=actor, filing_id=filing.id, scope=scope, note=request.POST.get("note", "")
            ),
            _("备案范围已保存"),
        ):
            return redirect("accreditation:filing", filing_id=filing.id)
        selected = {s["occupation_code"]: set(s["levels"]) for s in scope}
    else:
        selected = {line.occupation.code: {lv.code for lv in line.levels.all()} for line in filing.scope_lines.all()}
    return render(
        request,
        "accreditation/filing_form.html",
        {
            "org": filing.organisation,
            "filing": filing,
            "rows": _scope_choices(selected, filing.organisation),
            "without_standard": _without_standard_count(),
            "note": filing.note,
        },
    )


@login_required
def filing_detail(request, filing_id: int):
    actor = Actor.from_request(request)
    filing = filing_get(actor, filing_id)
    history = AuditEntry.objects.filter(object_type="accreditation.filing", object_id=str(filing.id)).order_by("seq")
    is_admin = filing.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    is_reviewer = actor.is_operator or actor.oversees_region(filing.organisation.region)
    return render(
        request,
        "accreditation/filing_detail.html",
        {
            "filing": filing,
            "history": history,
            "is_admin": is_admin,
            "is_reviewer": is_reviewer,
            "default_valid_until": services.filing_default_valid_until(actor),
            "notes": [n for line in filing.scope_lines.all() for n in licensing_notes(line.occupation)],
        },
    )


@login_required
@require_POST
def filing_attach(request, filing_id: int):
    actor = Actor.from_request(request)
    filing = filing_get(actor, filing_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择文件"))
    else:
        perform(
            request,
            lambda: services.filing_attach(
                actor=actor, filing_id=filing.id, title=request.POST.get("title", ""), upload=upload
            ),
            _("材料已上传"),
        )
    return redirect("accreditation:filing", filing_id=filing.id)


class _NoInput(Schema):
    pass


_filing_action = partial(object_action, lookup=filing_get, url_kwarg="filing_id", redirect_to="accreditation:filing")


filing_submit = _filing_action(
    _NoInput,
    lambda actor, fid, data: services.filing_submit(actor=actor, filing_id=fid),
    gettext_lazy("备案申请已提交,等待人社部门审核"),
)
filing_start_review = _filing_action(
    _NoInput,
    lambda actor, fid, data: services.filing_start_review(actor=actor, filing_id=fid),
    gettext_lazy("已受理,进入审核"),
)
filing_approve = _filing_action(
    ApproveIn,
    lambda actor, fid, data: services.filing_approve(actor=actor, filing_id=fid, **data.dict()),
    gettext_lazy("备案已批准,证书编号前缀已赋予"),
)
filing_return = _filing_action(
    ReasonIn,
    lambda actor, fid, data: services.filing_return(actor=actor, filing_id=fid, reason=data.reason),
    gettext_lazy("已退回修改"),
)
filing_reject = _filing_action(
    ReasonIn,
    lambda actor, fid, data: services.filing_reject(actor=actor, filing_id=fid, reason=data.reason),
    gettext_lazy("已作出不予备案决定"),
)
filing_suspend = _filing_action(
    ReasonIn,
    lambda actor, fid, data: services.filing_suspend(actor=actor, filing_id=fid, reason=data.reason),
    gettext_lazy("备案已暂停"),
)
filing_reinstate = _filing_action(
    ReasonIn,
    lambda actor, fid, data: services.filing_reinstate(actor=actor, filing_id=fid, reason=data.reason),
    gettext_lazy("备案已恢复"),
)
filing_revoke = _filing_action(
    ReasonIn,
    lambda actor, fid, data: services.filing_revoke(actor=actor, filing_id=fid, reason=data.reason),
    gettext_lazy("备案已撤销"),
)


@login_required
def my_organisations(request):
    actor = Actor.from_request(request)
    orgs = organisations_for(actor).filter(pk__in=actor.organisation_ids())
    if len(orgs) == 1:
        return redirect("accreditation:organisation", org_id=orgs[0].id)
    return render(request, "accreditation/my_organisations.html", {"orgs": orgs})


# --- Bureau --------------------------------------------------------------------------------------------------


@login_required
def queue(request):
    actor = Actor.from_request(request)
    if not (actor.bureau_prefixes or actor.is_operator):
        raise PermissionDenied(_("仅人社部门工作人员可以查看审核队列"))
    status = request.GET.get("status", "")
    in_region = filings_for(actor)
    listing = in_region.filter(status=status) if status else review_queue(actor)
    page = Paginator(listing.order_by("-updated_at"), 30).get_page(request.GET.get("page"))
    return render(
        request, "accreditation/queue.html", {"page": page, "status": status, "statuses": Filing.Status.choices}
    )


# --- People and training ----------------------------------------------------------------------------------


@login_required
def people_page(request, org_id: int | None = None):
    actor = Actor.from_request(request)
    org = organisation_get(actor, org_id) if org_id else None
    bureaus = actor.bureaus()
    if org is None and not bureaus:
        raise PermissionDenied(_("仅人社部门可以登记外部督导员"))
    if request.method == "POST":
        scopes = [
            {"occupation_code": code, "max_level": request.POST.get("max_level") or None}
            for code in request.POST.getlist("occupations")
        ]
        until = request.POST.get("valid_until") or None
        role = request.POST.get("role") if org else Appointment.Role.EXTERNAL_SUPERVISOR
        perform(
            request,
            lambda: people.appointment_register(
                actor=actor,
                role=role,
                name=request.POST.get("name", ""),
                id_type=request.POST.get("id_type", "ric"),
                id_number=request.POST.get("id_number", ""),
                phone=request.POST.get("phone", ""),
                scopes=scopes,
                organisation_id=org.id if org else None,
                bureau_id=int(request.POST.get("bureau_id") or bureaus[0].id) if not org else None,
                valid_until=datetime.date.fromisoformat(until) if until else None,
                qualification_note=request.POST.get("qualification_note", ""),
                evidence=request.FILES.get("evidence"),
            ),
            _("人员已登记。登记不授予账号角色:请在“角色邀请”中向其发送邀请,本人实名账号接受后方可登录办理"),
        )
        return redirect(request.path)
    qs = appointments_for(actor).filter(organisation=org) if org else appointments_for(actor).filter(bureau__in=bureaus)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(person__name__icontains=q)
    roles = [c for c in Appointment.Role.choices if c[0] != "external_supervisor"] if org else []
    return render(
        request,
        "accreditation/people.html",
        {
            "org": org,
            "page": Paginator(qs, 30).get_page(request.GET.get("page")),
            "q": q,
            "roles": roles,
            # Assessors and supervisors serve assessments, which need a national standard in force.
            "occupations": Occupation.objects.filter(
                active=True, standards__in=Standard.objects.in_force_on(timezone.localdate())
            ).distinct(),
            "levels": Level.objects.order_by("-rank"),
            "id_types": ID_TYPES,
            "bureaus": bureaus,
            "is_admin": org is None or org.id in actor.organisation_ids(Role.ORG_ADMIN),
        },
    )


@login_required
@require_POST
def appointment_withdraw(request, appointment_id: int):
    actor = Actor.from_request(request)
    perform(
        request,
        lambda: people.appointment_withdraw(
            actor=actor, appointment_id=appointment_id, reason=request.POST.get("reason", "")
        ),
        _("登记已注销"),
    )
    return redirect(safe_next(request, "/"))


@login_required
def training_page(request, org_id: int):
    actor = Actor.from_request(request)
    org = organisation_get(actor, org_id)
    report = None
    if request.method == "POST":
        if request.FILES.get("file"):
            report = perform(
                request,
                lambda: people.training_records_import(actor=actor, provider_id=org.id, upload=request.FILES["file"]),
            )
            if report is not None and report.ok:
                messages.success(request, _("已导入%(n)d条培训记录") % {"n": report.created})
                return redirect(request.path)
        else:
            fields = {
                k: request.POST.get(k, "")
                for k in (
                    "trainee_name",
                    "trainee_id_type",
                    "trainee_id_number",
                    "trainer_name",
                    "trainer_id_type",
                    "trainer_id_number",
                    "occupation_code",
                    "start",
                    "end",
                )
            }
            if perform(
                request,
                lambda: people.training_record_create(actor=actor, provider_id=org.id, **fields),
                _("培训记录已保存"),
            ):
                return redirect(request.path)
    qs = training_records_for(actor).filter(provider=org)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(trainee__name__icontains=q)
    return render(
        request,
        "accreditation/training.html",
        {
            "org": org,
            "page": Paginator(qs, 30).get_page(request.GET.get("page")),
            "q": q,
            "report": report,
            "id_types": ID_TYPES,
            "can_edit": org.id in actor.organisation_ids(Role.ORG_ADMIN, Role.TRAINER),
        },
    )


def training_template(request):
    data = template_workbook(people.TRAINING_COLUMNS, "培训记录")
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="training-records-template.xlsx"'
    return response


# --- Public directory -------------------------------------------------------------------------------------


def directory_page(request):
    q = request.GET.get("q", "").strip()
    occupation = occupation_code_for(request.GET.get("occupation", ""))
    region = region_code_for(request.GET.get("region", ""))
    orgs = directory(q=q, occupation_code=occupation, region_code=region)
    page = Paginator(orgs, 20).get_page(request.GET.get("page"))
    entries = [(org, org.public_filing) for org in page]
    return render(
        request,
        "accreditation/directory.html",
        {
            "page": page,
            "entries": entries,
            "q": q,
            "occupation": occupation,
            "region": region,
        },
    )


def directory_detail(request, org_id: int):
    org = directory().filter(pk=org_id).first()
    if org is None:
        raise NotFound()
    return render(request, "accreditation/directory_detail.html", {"org": org, "filing": org.public_filing})


# --- downloads (checked like the records they belong to; core/files.py) -------------------------------------------


@login_required
def filing_attachment(request, filing_id: int, filing_attachment_id: int):
    """A filing's material, for whoever may read the filing: the organisation's staff and the reviewing bureau."""
    filing = filing_get(Actor.from_request(request), filing_id)
    attachment = filing.attachments.filter(pk=filing_attachment_id).first()
    if attachment is None:
        raise NotFound()
    return private_file_response(
        attachment.file, name=f"filing-{filing.id}-{attachment.id}", content_type=attachment.content_type
    )


@login_required
def appointment_evidence(request, appointment_id: int):
    """An assessor's or supervisor's qualification evidence, for whoever may see the appointment."""
    appointment = appointments_for(Actor.from_request(request)).filter(pk=appointment_id).first()
    if appointment is None or not appointment.evidence:
        raise NotFound()
    return private_file_response(appointment.evidence, name=f"appointment-{appointment.id}")
