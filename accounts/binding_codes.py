"""One-time binding codes: for people the identity provider does not reach (issue 13, item 3).

After someone's identity papers were checked in person (at the exam site's check-in, at the organisation, or at a
bureau's service window), the platform issues a code to that person, shown or printed once. The person types it
with their name and ID number to bind their own account (accounts.binding, channel "code").

- Only an HMAC of the code is stored (under the platform's secret, so a copy of the table alone cannot be searched).
- A new code for a person retires their unused ones; a code is used once, and expires.
- Redeeming is limited per account and per person (core.ratelimit, failures only); a code that meets too many
  wrong attempts is retired. Every issue, use and failure is audited; no audit entry ever holds a code.
- Who may issue: a bureau's staff at its own service window (for anyone whose papers they checked); an
  organisation's admin or supervisor for its own candidates and appointees (higher apps say who those are through
  `organisation_link_register`, since accounts sits below them).
"""

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, PlatformError, ValidationFailed
from core.ratelimit import failure_count, failures_blocked, failures_clear, too_many

from .actors import Actor
from .binding import identity_bind
from .conflicts import identity_conflict_open, identity_mismatch, names_match
from .identity import normalise_id_number
from .models import BindingChannel, BindingCode, Bureau, IdentityBinding, Person, Role, User
from .services import person_get_or_create

# No 0/O, 1/I/L: a code is read off paper and typed on a phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12  # 31**12 ≈ 2**59; with the per-person and per-account limits, guessing is hopeless

# (organisation_id, person_id) -> does this organisation deal with this person (candidate, appointee)?
_organisation_links: list[Callable[[int, int], bool]] = []


def organisation_link_register(check: Callable[[int, int], bool]) -> None:
    """A higher app (accreditation: appointments; assessments: registrations) says whom an organisation knows."""
    if check not in _organisation_links:
        _organisation_links.append(check)


def organisation_knows(organisation_id: int, person_id: int) -> bool:
    return any(check(organisation_id, person_id) for check in _organisation_links)


def code_digest(code: str) -> str:
    key = f"binding-code:{settings.SECRET_KEY}".encode()
    return hmac.new(key, code_normalise(code).encode(), hashlib.sha256).hexdigest()


def code_normalise(code: str) -> str:
    """What a person types (lower case, spaces, dashes) as the code it stands for."""
    return (code or "").upper().replace("-", "").replace(" ", "")


def code_format(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _may_issue(actor: Actor, place: str, organisation, bureau: Bureau | None, person: Person, context: dict) -> None:
    if actor.system:
        return
    actor.require_authenticated()
    if place == BindingCode.Place.BUREAU_WINDOW:
        if bureau is None:
            raise ValidationFailed(_("请选择办理的人社服务窗口"), details={"field": "bureau"})
        actor.require_bureau()
        if not actor.is_operator and bureau.pk not in {b.pk for b in actor.bureaus()}:
            raise NotFound()
        return
    if organisation is None:
        raise ValidationFailed(_("请选择评价机构"), details={"field": "organisation"})
    org_staff = organisation.pk in actor.organisation_ids(Role.ORG_ADMIN, Role.SUPERVISOR)
    # At an exam's check-in the plan's own (often external) supervisor checks papers too.
    plan_supervisor = (
        place == BindingCode.Place.EXAM_CHECKIN
        and context.get("supervisor_person") is not None
        and (actor.person is not None and actor.person.pk == context["supervisor_person"])
    )
    if not (org_staff or plan_supervisor or actor.is_operator):
        if organisation.pk in actor.organisation_ids():
            raise PermissionDenied(_("只有机构管理员或督导员可以发放绑定码"))
        raise NotFound()
    if not organisation_knows(organisation.pk, person.pk):
        # Not this organisation's candidate or appointee: as if the person did not exist.
        raise NotFound(_("该人员不是本机构的考生或登记人员"))


def binding_code_issue(
    *,
    actor: Actor,
    person: Person,
    place: str,
    organisation=None,
    bureau: Bureau | None = None,
    context: dict | None = None,
) -> str:
    """Issue a one-time code to `person`, whose papers `actor` has just checked in person. Returns the code, to be
    shown or printed once; only its digest is kept. The person's earlier unused codes are retired.

    Who may: a bureau's staff at its own window (`bureau`); the organisation's admin or supervisor for its own
    candidates and appointees (`organisation`); at an exam's check-in also the plan's assigned supervisor, which the
    check-in (server code that knows the plan) states as `context["supervisor_person"]` (that supervisor's person
    id, compared with the actor's bound person). `context` is kept with the code and in the audit (plan,
    registration, …); it must never hold the code itself."""
    if place not in BindingCode.Place.values:
        raise ValidationFailed(_("未知的核验场景"), details={"field": "place"})
    context = dict(context or {})
    _may_issue(actor, place, organisation, bureau, person, context)
    if IdentityBinding.objects.filter(person=person, ended_at__isnull=True).exists():
        raise Conflict(_("该人员已实名绑定账号,无需发放绑定码"), code="person_already_bound")
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    now = timezone.now()
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()  # one issuer at a time per person
        retired = BindingCode.objects.filter(person=person, used_at__isnull=True, retired_at__isnull=True).update(
            retired_at=now
        )
        code = BindingCode(
            person=person,
            code_hash=code_digest(raw),
            place=place,
            issued_by=actor.user,
            organisation=organisation,
            bureau=bureau,
            context=context,
            expires_at=now + timedelta(days=settings.BINDING_CODE_DAYS),
        )
        code.full_clean(exclude=["person", "issued_by", "organisation", "bureau"])
        code.save()
        audit_record(
            actor=actor,
            action="binding_code.issue",
            obj=code,
            region_code=_region_of(organisation, bureau),
            organisation_id=organisation.pk if organisation is not None else None,
            after={
                "person": person.pk,
                "place": place,
                "bureau": bureau.pk if bureau is not None else None,
                "context": context,
                "expires_at": code.expires_at,
                "retired_earlier": retired,
            },
        )
    return code_format(raw)


def _region_of(organisation, bureau) -> str:
    if organisation is not None:
        return organisation.region.code
    if bureau is not None:
        return bureau.region.code
    return ""


WRONG = _("姓名、证件号码或绑定码不正确,或绑定码已使用、已过期。请核对后重试,或到发码处重新领取。")


def _limit_keys(user: User, person_key: str, client_address: str) -> list[tuple[str, str]]:
    """The failure allowances a redeem attempt draws on: the account's, the person's and the client address's."""
    keys = [("binding_code_account", f"user:{user.pk}"), ("binding_code_person", person_key)]
    if client_address:
        keys.append(("binding_code_address", f"ip:{client_address}"))
    return keys


def _failed(
    actor: Actor, user: User, person: Person | None, person_key: str, why: str, client_address: str = ""
) -> PlatformError:
    """Count and audit a failed attempt; return the error to raise (the same words whatever went wrong)."""
    waits = [failure_count(scope, key) for scope, key in _limit_keys(user, person_key, client_address)]
    with transaction.atomic():
        retired = []
        if person is not None:
            for code in BindingCode.objects.select_for_update().filter(
                person=person, used_at__isnull=True, retired_at__isnull=True
            ):
                code.failed_attempts += 1
                fields = ["failed_attempts"]
                if code.failed_attempts >= settings.BINDING_CODE_MAX_FAILURES:
                    code.retired_at = timezone.now()
                    fields.append("retired_at")
                    retired.append(code.pk)
                code.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="binding_code.redeem_failed",
            obj=person,
            object_type="" if person else "binding_code",
            after={
                "user": user.pk,
                "person": person.pk if person else None,
                "why": why,
                "retired": retired,
                "address": client_address or None,
            },
        )
    wait = max((w for w in waits if w), default=None)
    if wait:
        return too_many(wait, _("绑定码尝试次数过多,请 %(wait)s后再试。"))
    return ValidationFailed(WRONG, code="binding_code_wrong", details={"field": "code"})


def binding_code_redeem(
    *, actor: Actor, user: User, name: str, id_type: str, id_number: str, code: str, client_address: str = ""
):
    """Bind `user` (the signed-in account) to the person named by `name`, `id_type` and `id_number`, on the proof of
    a live code issued to that person. Returns the IdentityBinding.

    Wrong tries are limited per account, per person named and per `client_address` (the page's and the API's
    `core.ratelimit.client_ip`); only failures count, so a hall of people binding from one Wi-Fi is not locked out
    by succeeding."""
    actor.require_authenticated()
    if actor.user is None or actor.user.pk != user.pk:
        raise PermissionDenied(_("绑定码只能由本人登录后使用"))
    if user.person_id is not None and IdentityBinding.objects.filter(user=user, ended_at__isnull=True).exists():
        raise Conflict(_("您的账号已实名绑定,无需再使用绑定码"), code="account_already_bound")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请填写姓名"), details={"field": "name"})
    if not (code or "").strip():
        raise ValidationFailed(_("请填写绑定码"), details={"field": "code"})
    id_number = normalise_id_number(id_type, id_number)
    person_key = f"person:{id_type}:{id_number}"
    for scope, key in _limit_keys(user, person_key, client_address):
        wait = failures_blocked(scope, key)
        if wait:
            raise too_many(wait, _("绑定码尝试次数过多,请 %(wait)s后再试。"))
    person = Person.objects.filter(id_type=id_type, id_number=id_number).first()
    found = BindingCode.objects.filter(code_hash=code_digest(code)).first()
    if person is None or found is None or found.person_id != person.pk:
        raise _failed(actor, user, person, person_key, "no_such_code", client_address)
    if not found.is_live:
        raise _failed(actor, user, person, person_key, "code_not_live", client_address)
    if not names_match(person.name, name):
        # The right code and ID number with another name: a bureau decides which name is right.
        conflict = identity_conflict_open(
            actor=actor,
            person=person,
            claimed_name=name,
            source="binding_code",
            user=user,
            organisation=found.organisation,
            context={"binding_code": found.pk, "place": found.place},
        )
        raise Conflict(
            _(
                "您填写的姓名与平台记录中该证件号码的姓名不一致,暂不能绑定。已提交人社部门核查(编号 %(id)s),"
                "核查完成后请再次使用绑定码。"
            )
            % {"id": conflict.pk},
            code="identity_conflict",
            details={"conflict": conflict.pk},
        )
    evidence = {
        "binding_code": found.pk,
        "place": found.place,
        "issued_at": found.issued_at.isoformat(),
        "issued_by": found.issued_by_id,
        "organisation": found.organisation_id,
        "bureau": found.bureau_id,
        "context": found.context,
    }
    try:
        with transaction.atomic():
            locked = BindingCode.objects.select_for_update().get(pk=found.pk)
            if not locked.is_live:  # used a moment ago by a concurrent request
                raise Conflict(WRONG, code="binding_code_wrong")
            binding = identity_bind(
                actor=actor, user=user, person=person, channel=BindingChannel.CODE, evidence=evidence
            )
            locked.used_at = timezone.now()
            locked.used_by = user
            locked.save(update_fields=["used_at", "used_by"])
            audit_record(
                actor=actor,
                action="binding_code.redeem",
                obj=locked,
                organisation_id=locked.organisation_id,
                after={"user": user.pk, "person": person.pk, "binding": binding.pk},
            )
    except Conflict as exc:
        # identity_bind's own trace of a refusal went with the rollback: keep one here.
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="binding_code.redeem_refused",
                obj=found,
                after={"user": user.pk, "person": person.pk, "why": exc.code},
            )
        raise
    failures_clear("binding_code_account", f"user:{user.pk}")
    return binding


def binding_code_issue_at_desk(
    *,
    actor: Actor,
    place: str,
    name: str,
    id_type: str,
    id_number: str,
    papers_checked: bool,
    organisation_id: int | None = None,
    bureau_id: int | None = None,
) -> tuple[str, Person]:
    """What the issuing page and API do: find the person named (their record must agree with the papers), then
    issue. A bureau's window may create the record of someone the platform has never seen; an organisation issues
    only to people it already knows (its candidates and appointees)."""
    if not papers_checked:
        raise ValidationFailed(_("请先当面核验本人身份证件原件,并勾选确认"), details={"field": "papers_checked"})
    organisation = bureau = None
    if place == BindingCode.Place.BUREAU_WINDOW:
        actor.require_bureau()
        bureau = next((b for b in actor.bureaus() if b.pk == bureau_id), None)
        if bureau is None and len(actor.bureaus()) == 1 and bureau_id is None:
            bureau = actor.bureaus()[0]
        if bureau is None and actor.is_operator:
            bureau = Bureau.objects.select_related("region").filter(pk=bureau_id).first()
        if bureau is None:
            raise NotFound(_("只能在本部门的服务窗口发放绑定码"))
    elif place in (BindingCode.Place.ORGANISATION, BindingCode.Place.EXAM_CHECKIN):
        actor.require_authenticated()
        ids = actor.organisation_ids(Role.ORG_ADMIN, Role.SUPERVISOR)
        if organisation_id is None and len(ids) == 1:
            organisation_id = next(iter(ids))
        if organisation_id is None:
            raise ValidationFailed(_("请选择评价机构"), details={"field": "organisation_id"})
        actor.require_org_role(organisation_id, Role.ORG_ADMIN, Role.SUPERVISOR)
        organisation = BindingCode.organisation.field.related_model.objects.select_related("region").get(
            pk=organisation_id
        )
    else:
        raise ValidationFailed(_("未知的核验场景"), details={"field": "place"})
    id_number = normalise_id_number(id_type, id_number)
    person = Person.objects.filter(id_type=id_type, id_number=id_number).first()
    if bureau is not None:
        person = person_get_or_create(actor=actor, name=name, id_type=id_type, id_number=id_number, source="bureau")
    elif person is None or not organisation_knows(organisation.pk, person.pk):
        raise NotFound(_("该人员不是本机构的考生或登记人员"))
    elif not names_match(person.name, name):
        raise identity_mismatch(
            actor=actor, person=person, claimed_name=name, source="binding_code", organisation=organisation
        )
    code = binding_code_issue(actor=actor, person=person, place=place, organisation=organisation, bureau=bureau)
    return code, person
