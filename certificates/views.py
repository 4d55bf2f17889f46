from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts.actors import Actor
from accounts.models import Role
from assessments.plans import plan_get
from core.errors import NotFound, RateLimited
from core.pages import perform
from core.ratelimit import check_rate, client_ip

from . import bulk, docsign, ecert, issuance, services, signing
from .careers import pathways_for
from .models import Certificate, VerificationLog
from .presenters import certificate_pdf
from .verification import verify_identifier, verify_lookup, verify_token


def verify_page(request, token: str):
    """What a phone opens after scanning the QR (or following an e-certificate identifier, rate limited)."""
    try:
        if ecert.looks_like_identifier(token):
            try:
                check_rate("verify_lookup", client_ip(request))
            except RateLimited as exc:
                return render(request, "certificates/lookup.html", {"error": exc.message, "post": {}}, status=429)
            result = verify_identifier(token, channel=VerificationLog.Channel.SCAN)
        else:
            result = verify_token(token, channel=VerificationLog.Channel.SCAN)
    except signing.SigningKeysError:
        return render(request, "certificates/verify.html", {"unavailable": True}, status=503)
    response = render(request, "certificates/verify.html", {"result": result, "data": result.public(), "token": token})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def verify_api(request, token: str):
    """GET /api/v1/verify/{token} as a plain view, mounted before the API: the busiest URL of the platform skips
    the API framework's routing and parameter handling. The contract is the API operation's (certificates.api)."""
    from .api import verify_response

    return verify_response(token, request)


def verify_photo(request, token: str):
    """The holder's photo, only behind a token that verifies (so photos cannot be enumerated)."""
    check = signing.token_check(token)
    if not check.signature_ok:
        raise Http404
    cert = Certificate.objects.select_related("person").filter(number=check.number).first()
    if cert is None or not cert.person.photo or not check.matches(issuance.printed_fields(cert)):
        raise Http404
    return HttpResponse(cert.person.photo.read(), content_type="image/jpeg")


def lookup_page(request):
    """The national-query style lookup: number + name + ID number, rate limited per client address."""
    context = {"post": request.POST}
    if request.method == "POST":
        try:
            check_rate("verify_lookup", client_ip(request))
        except RateLimited as exc:
            context["error"] = exc.message
            return render(request, "certificates/lookup.html", context, status=429)
        try:
            result = verify_lookup(
                number=request.POST.get("number", ""),
                name=request.POST.get("name", ""),
                id_number=request.POST.get("id_number", ""),
            )
        except signing.SigningKeysError:
            return render(request, "certificates/verify.html", {"unavailable": True}, status=503)
        context.update({"result": result, "data": result.public()})
    return render(request, "certificates/lookup.html", context)


def _chain_response(scheme: str, filename: str):
    try:
        chain = docsign.chain_pem(scheme)
    except signing.SigningKeysError:
        return JsonResponse(
            {"code": "signing_unavailable", "message": _("签章证书暂不可用"), "details": {}}, status=503
        )
    response = HttpResponse(chain, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@cache_control(public=True, max_age=300)
def document_signing_chain(request):
    """The certificate chain of the key that signs certificate PDFs: add its root to a PDF reader's trusted list."""
    return _chain_response(docsign.ECDSA, "document-signing-chain.pem")


@cache_control(public=True, max_age=300)
def document_signing_chain_sm2(request):
    """The SM2 chain (国密) that signs the certificate PDFs of regions that chose SM2."""
    return _chain_response(docsign.SM2, "document-signing-chain-sm2.pem")


@cache_control(public=True, max_age=300)
def sm2_keys(request):
    """The SM2 public keys (国密) that sign the tokens of regions that chose SM2, how a token is signed, and the
    SM2 certificate that signs their PDFs."""
    try:
        document = signing.sm2_keys() | {"document_signing": docsign.sm2_published()}
        return JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    except signing.SigningKeysError:
        return JsonResponse(
            {"code": "signing_unavailable", "message": _("签名密钥暂不可用"), "details": {}}, status=503
        )


@cache_control(public=True, max_age=300)
def jwks(request):
    return JsonResponse(signing.jwks())


@login_required
def mine(request):
    actor = Actor.from_request(request)
    certs = Certificate.objects.none()
    if actor.person is not None:
        certs = Certificate.objects.filter(person=actor.person).select_related("level")
    return render(request, "certificates/mine.html", {"certs": certs})


@login_required
def careers(request):
    """The worker's career paths: which professional titles their certificates let them apply for, and when."""
    actor = Actor.from_request(request)
    pathways = pathways_for(actor.person) if actor.person is not None else []
    return render(request, "certificates/careers.html", {"pathways": pathways, "has_person": actor.person is not None})


@login_required
def listing(request):
    actor = Actor.from_request(request)
    qs = (
        services.certificates_for(actor).exclude(person=actor.person)
        if actor.person
        else services.certificates_for(actor)
    )
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(number=q.upper()) | Q(holder_name__icontains=q))
    page = Paginator(qs.order_by("-issued_on", "number"), 30).get_page(request.GET.get("page"))
    return render(request, "certificates/list.html", {"page": page, "q": q})


@login_required
def detail(request, certificate_id: int):
    actor = Actor.from_request(request)
    cert = services.certificate_get(actor, certificate_id)
    is_holder = actor.person is not None and cert.person_id == actor.person.id
    can_change = not is_holder or cert.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    if request.method == "POST" and can_change:
        action, reason = request.POST.get("action"), request.POST.get("reason", "")
        fn = {"revoke": services.certificate_revoke, "suspend": services.certificate_suspend}.get(action)
        if fn is not None:
            perform(request, lambda: fn(actor=actor, certificate_id=cert.id, reason=reason), _("证书状态已变更"))
        elif action == "reinstate":
            perform(
                request,
                lambda: services.certificate_reinstate(actor=actor, certificate_id=cert.id, reason=reason),
                _("证书已恢复"),
            )
        elif action == "reissue":
            perform(
                request,
                lambda: services.certificate_reissue(actor=actor, certificate_id=cert.id, reason=reason),
                _("已补发:请下载新一份 PDF"),
            )
        elif action == "replace":
            corrections = {k: request.POST[k] for k in services.CORRECTABLE if request.POST.get(k)}
            new = perform(
                request,
                lambda: services.certificate_replace(
                    actor=actor, certificate_id=cert.id, reason=reason, corrections=corrections
                ),
                _("已换发新证书"),
            )
            if new is not None:
                return redirect("certificates:detail", certificate_id=new.id)
        return redirect("certificates:detail", certificate_id=cert.id)
    return render(
        request,
        "certificates/detail.html",
        {
            "cert": cert,
            "is_holder": is_holder,
            "can_change": can_change and not is_holder,
            "verify_url": issuance.verify_url(cert),
        },
    )


@login_required
def pdf(request, certificate_id: int):
    cert = services.certificate_get(Actor.from_request(request), certificate_id)
    try:
        data = certificate_pdf(cert)
    except signing.SigningKeysError:
        return render(request, "certificates/verify.html", {"unavailable": True}, status=503)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    return response


@login_required
def issue_page(request, plan_id: int):
    actor = Actor.from_request(request)
    plan = plan_get(actor, plan_id)
    batch = plan.issue_batches.order_by("-id").first()
    return render(
        request,
        "certificates/issue.html",
        {
            "plan": plan,
            "batch": batch,
            "issued": Certificate.objects.filter(registration__plan=plan).count(),
            "is_admin": plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN),
            "awaiting": list(
                issuance.awaiting_graduation(plan, timezone.localdate())
                .values("graduating_class__name", "graduating_class__graduation_date")
                .annotate(n=Count("id"))
                .order_by("graduating_class__graduation_date")
            ),
        },
    )


@login_required
def revoke_plan(request, plan_id: int):
    """Revoke a plan's certificates at once (a session found fraudulent): a preview of what it touches, then the
    revocation with one public reason, each holder told."""
    actor = Actor.from_request(request)
    plan = plan_get(actor, plan_id)
    context = {"plan": plan, "reason": request.POST.get("reason", "")}
    try:
        context["preview"] = bulk.revocation_preview(actor=actor, plan_id=plan.id)
    except NotFound:
        context["preview"] = None
    if request.method == "POST" and context["preview"] is not None:
        done = perform(
            request,
            lambda: bulk.certificates_revoke_bulk(actor=actor, plan_id=plan.id, reason=context["reason"]),
        )
        if done is not None:
            messages.success(request, _("已撤销 %(n)d 张证书,并已通知持证人") % {"n": len(done.to_revoke)})
            return redirect("certificates:issue", plan_id=plan.id)
    return render(request, "certificates/revoke_plan.html", context)


@login_required
@require_POST
def issue_start(request, plan_id: int):
    actor = Actor.from_request(request)
    plan_get(actor, plan_id)
    perform(request, lambda: issuance.issue_batch_start(actor=actor, plan_id=plan_id), _("已开始签发证书"))
    return redirect("certificates:issue", plan_id=plan_id)
