"""Pages for binding by code and for the identity cases a bureau decides (issue 13, items 1 and 3).

Each page reads the posted form through the API's own input schema and calls the same service as the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import PlatformError
from core.files import private_file_response
from core.pages import form_input, perform, safe_next
from core.ratelimit import client_ip

from .actors import Actor
from .api import BindCodeIn, BindingCodeIn, InvitationIn
from .binding_codes import binding_code_issue_at_desk, binding_code_redeem
from .conflicts import conflicts_for, identity_conflict_get, identity_conflict_resolve
from .identity import ID_TYPES
from .invitations import (
    BUREAU_ROLES,
    ORGANISATION_ROLES,
    invitation_accept,
    invitation_by_token,
    invitation_create,
    invitation_link,
    invitation_revoke,
    invitation_state,
    invitations_for,
)
from .models import BindingCode, IdentityBinding, IdentityConflict, Role
from .second_factor import requires_second_factor


@login_required
def bind_code(request):
    """绑定码绑定: the worker types their name, ID number and the code they were handed after an in-person check."""
    actor = Actor.from_request(request)
    bound = IdentityBinding.objects.filter(user=request.user, ended_at__isnull=True).select_related("person").first()
    context = {"data": {}, "id_types": ID_TYPES, "bound": bound}
    if request.method == "POST" and bound is None:
        context["data"] = {k: request.POST.get(k, "") for k in ("name", "id_type", "id_number")}
        try:
            payload = form_input(request, BindCodeIn)
            binding_code_redeem(actor=actor, user=request.user, client_address=client_ip(request), **payload.dict())
        except PlatformError as exc:
            context.update(error=exc.message, error_field=exc.details.get("field"))
            return render(request, "accounts/bind_code.html", context, status=exc.status)
        messages.success(request, _("实名绑定成功。现在可以报名、查看证书和申请补贴。"))
        return redirect(safe_next(request, reverse("accounts:me")))
    return render(request, "accounts/bind_code.html", context)


def _issuing_places(actor: Actor) -> list[tuple[str, str]]:
    places = []
    if actor.organisation_ids(Role.ORG_ADMIN, Role.SUPERVISOR):
        places += [
            (BindingCode.Place.ORGANISATION, BindingCode.Place.ORGANISATION.label),
            (BindingCode.Place.EXAM_CHECKIN, BindingCode.Place.EXAM_CHECKIN.label),
        ]
    if actor.bureau_prefixes:
        places.append((BindingCode.Place.BUREAU_WINDOW, BindingCode.Place.BUREAU_WINDOW.label))
    return places


@login_required
def binding_code_desk(request):
    """发放绑定码: an organisation's admin or supervisor, or a bureau's service window, after checking the papers."""
    actor = Actor.from_request(request)
    places = _issuing_places(actor)
    if not places:
        raise Http404
    organisations = [
        m.organisation for m in actor.memberships if m.role in (Role.ORG_ADMIN, Role.SUPERVISOR) and m.organisation
    ]
    context = {
        "places": places,
        "organisations": list({o.pk: o for o in organisations}.values()),
        "bureaus": actor.bureaus(),
        "id_types": ID_TYPES,
        "data": {},
    }
    if request.method == "POST":
        context["data"] = {k: request.POST.get(k, "") for k in ("place", "name", "id_type", "id_number")}
        try:
            payload = form_input(request, BindingCodeIn)
            code, person = binding_code_issue_at_desk(actor=actor, **payload.dict())
        except PlatformError as exc:
            context.update(error=exc.message, error_field=exc.details.get("field"))
            return render(request, "accounts/binding_code_desk.html", context, status=exc.status)
        issued = BindingCode.objects.filter(person=person).select_related("organisation", "bureau").latest("issued_at")
        return render(request, "accounts/binding_code_slip.html", {"code": code, "person": person, "issued": issued})
    return render(request, "accounts/binding_code_desk.html", context)


@login_required
def conflicts(request):
    """身份信息冲突: the cases of this bureau's regions, open ones first."""
    actor = Actor.from_request(request)
    actor.require_bureau()
    status = request.GET.get("status", IdentityConflict.Status.OPEN)
    qs = conflicts_for(actor)
    if status in IdentityConflict.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/conflicts.html",
        {"page": page, "status": status, "statuses": IdentityConflict.Status.choices},
    )


@login_required
def conflict(request, conflict_id: int):
    actor = Actor.from_request(request)
    case = identity_conflict_get(actor, conflict_id)
    if request.method == "POST":
        try:
            identity_conflict_resolve(
                actor=actor,
                conflict_id=case.pk,
                decision=request.POST.get("decision", ""),
                resolution=request.POST.get("resolution", ""),
                evidence=request.FILES.get("evidence"),
            )
        except PlatformError as exc:
            messages.error(request, exc.message)
            return render(request, "accounts/conflict.html", {"case": case, "error_field": exc.details.get("field")})
        messages.success(request, _("核查结论已保存"))
        return redirect("accounts:conflict", conflict_id=case.pk)
    return render(request, "accounts/conflict.html", {"case": case})


@login_required
def conflict_evidence(request, conflict_id: int):
    case = identity_conflict_get(Actor.from_request(request), conflict_id)
    if not case.evidence:
        raise Http404
    return private_file_response(case.evidence, name=f"conflict-{case.pk}")


# --- Invitations ----------------------------------------------------------------------------------------------


def _inviting_from(actor: Actor) -> dict:
    """What this actor may invite to: its organisations (as admin) and bureaus, with the roles for each."""
    organisations = [m.organisation for m in actor.memberships if m.role == Role.ORG_ADMIN and m.organisation]
    return {
        "organisations": list({o.pk: o for o in organisations}.values()),
        "bureaus": actor.bureaus(),
        "organisation_roles": [(r.value, r.label) for r in ORGANISATION_ROLES],
        "bureau_roles": [(r.value, r.label) for r in BUREAU_ROLES],
    }


@login_required
def invitations(request):
    """角色邀请: an organisation's admin invites its registered assessors, supervisors and trainers; a bureau its
    officers and external supervisors. The link is shown once after sending (and e-mailed when an address is given)."""
    actor = Actor.from_request(request)
    inviting = _inviting_from(actor)
    if not inviting["organisations"] and not inviting["bureaus"] and not actor.is_operator:
        raise Http404
    context = {**inviting, "id_types": ID_TYPES, "data": {}, "link": ""}
    if request.method == "POST":
        context["data"] = {k: request.POST.get(k, "") for k in ("role", "name", "id_type", "id_number", "email")}
        try:
            payload = form_input(request, InvitationIn)
            _invitation, raw = invitation_create(actor=actor, **payload.dict())
        except PlatformError as exc:
            context.update(error=exc.message, error_field=exc.details.get("field"))
        else:
            context.update(link=request.build_absolute_uri(invitation_link(raw)), data={})
            messages.success(request, _("邀请已发出。链接只显示这一次,请发给被邀请人本人。"))
    sent = invitations_for(actor).order_by("-created_at")
    context["page"] = Paginator([(i, invitation_state(i)) for i in sent], 30).get_page(request.GET.get("page"))
    return render(request, "accounts/invitations.html", context, status=400 if context.get("error") else 200)


@login_required
@require_POST
def invitation_revoke_page(request, invitation_id: int):
    actor = Actor.from_request(request)
    perform(request, lambda: invitation_revoke(actor=actor, invitation_id=invitation_id), _("邀请已撤销"))
    return redirect("accounts:invitations")


def invitation(request, token: str):
    """The link an invitee opens: what is offered, and the next step (sign in, bind by proof, accept)."""
    invitation = invitation_by_token(token)
    state = invitation_state(invitation)
    actor = Actor.from_request(request)
    step = "sign_in"
    if request.user.is_authenticated:
        if actor.person is None:
            step = "bind"
        elif actor.person.pk != invitation.person_id:
            step = "other_person"
        else:
            step = "accept"
    if request.method == "POST" and state == "open" and step == "accept":
        membership = perform(
            request,
            lambda: invitation_accept(actor=actor, token=token),
            _("已接受邀请,获得角色:%(role)s") % {"role": invitation.get_role_display()},
        )
        if membership is not None:
            if requires_second_factor(actor):
                messages.info(request, _("该角色须使用两步验证:请先绑定身份验证器应用。"))
                return redirect("accounts:second_factor_enrol")
            return redirect("home")
    return render(
        request,
        "accounts/invitation.html",
        {
            "invitation": invitation,
            "inviter": (invitation.organisation or invitation.bureau).name,
            "state": state,
            "step": step,
            "here": request.path,
        },
    )
