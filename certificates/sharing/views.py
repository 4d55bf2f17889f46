import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from certificates import signing
from certificates.models import Certificate
from core.errors import NotFound, ValidationFailed
from core.pages import perform

from . import services
from .pdf import copy_pdf as signed_copy_pdf


def _parse_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed(_("日期格式应为 YYYY-MM-DD"), details={"field": "valid_until"}) from None


@login_required
def mine(request):
    """The holder's copies and the form to make one."""
    actor = Actor.from_request(request)
    certs = (
        Certificate.objects.filter(person=actor.person, status=Certificate.Status.VALID).select_related("level")
        if actor.person is not None
        else Certificate.objects.none()
    )
    if request.method == "POST":
        copy = perform(
            request,
            lambda: services.copy_create(
                actor=actor,
                certificate_id=int(request.POST.get("certificate_id") or 0),
                purpose=request.POST.get("purpose", ""),
                valid_until=_parse_date(request.POST.get("valid_until", "")),
            ),
            _("加注件已生成,可下载或把核验链接发给对方"),
        )
        if copy is not None:
            return redirect("sharing:mine")
    today = timezone.localdate()
    return render(
        request,
        "sharing/mine.html",
        {
            "copies": services.copies_for(actor),
            "certs": certs,
            "has_person": actor.person is not None,
            "today": today,
            "default_until": today + datetime.timedelta(days=30),
            "post": request.POST,
        },
    )


def _own_copy(request, copy_id: int):
    copy = services.copies_for(Actor.from_request(request)).filter(pk=copy_id).first()
    if copy is None:
        raise NotFound()
    return copy


@login_required
def copy_pdf(request, copy_id: int):
    copy = _own_copy(request, copy_id)
    try:
        data = signed_copy_pdf(copy)
    except signing.SigningKeysError:
        return render(request, "certificates/verify.html", {"unavailable": True}, status=503)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{copy.certificate.number}-{copy.code}.pdf"'
    return response


@login_required
@require_POST
def withdraw(request, copy_id: int):
    actor = Actor.from_request(request)
    perform(request, lambda: services.copy_withdraw(actor=actor, copy_id=copy_id), _("已撤回,对方扫码将看到已撤回"))
    return redirect("sharing:mine")


def verify_page(request, token: str):
    """What the recipient's phone opens after scanning the copy's QR."""
    try:
        result = services.copy_verify(token)
    except signing.SigningKeysError:
        return render(request, "certificates/verify.html", {"unavailable": True}, status=503)
    response = render(request, "sharing/verify.html", {"result": result, "data": result.public()})
    response["Cache-Control"] = "no-store"
    return response
