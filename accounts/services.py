"""Writes for accounts: sign-up, people, API tokens. Each is atomic and audited."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record, snapshot
from core.errors import Conflict, NotFound, ValidationFailed

from .actors import Actor
from .conflicts import identity_mismatch, names_match
from .identity import normalise_id_number, normalise_phone
from .models import ApiToken, Person, Role, User

PERSON_FIELDS = ["name", "id_type", "id_number", "phone"]


def person_get_or_create(
    *,
    actor: Actor,
    name: str,
    id_type: str,
    id_number: str,
    phone: str = "",
    source: str = "registration",
    organisation=None,
) -> Person:
    """The person with this ID, created if new. An existing person's name must match: a different name is neither
    a new record nor a rename but a case for the bureau (accounts.conflicts), and this call fails."""
    id_number = normalise_id_number(id_type, id_number)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请填写姓名"), details={"field": "name"})
    existing = Person.objects.filter(id_type=id_type, id_number=id_number).first()
    if existing is not None:
        if not names_match(existing.name, name):
            raise identity_mismatch(
                actor=actor, person=existing, claimed_name=name, source=source, organisation=organisation
            )
        return existing
    person = Person(name=name, id_type=id_type, id_number=id_number, phone=normalise_phone(phone))
    person.derive()
    person.full_clean()
    try:
        with transaction.atomic():
            person.save()
            audit_record(actor=actor, action="person.create", obj=person, after=snapshot(person, PERSON_FIELDS))
    except IntegrityError:
        # Another request registered the same person a moment ago.
        return Person.objects.get(id_type=id_type, id_number=id_number)
    return person


def account_signup(*, actor: Actor, username: str, password: str, phone: str = "", email: str = "") -> User:
    """A plain account for anyone (a worker, usually): no role and no person until it is bound by proof."""
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(_("请填写用户名"), details={"field": "username"})
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(_("该用户名已被使用,请换一个"), details={"field": "username"})
    user = User(username=username, phone=normalise_phone(phone), email=(email or "").strip().lower())
    try:
        user.full_clean(exclude=["password"])  # the username's characters and length, the e-mail's form
    except ValidationError as exc:
        field = next(iter(exc.message_dict))
        raise ValidationFailed(" ".join(exc.message_dict[field]), details={"field": field}) from None
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), details={"field": "password"}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            audit_record(
                actor=actor,
                action="account.signup",
                obj=user,
                after={"username": user.username, "phone": bool(user.phone), "email": bool(user.email)},
            )
    except IntegrityError:
        raise Conflict(_("该用户名已被使用,请换一个"), details={"field": "username"}) from None
    return user


@transaction.atomic
def api_token_create(*, actor: Actor, organisation_id: int, name: str) -> tuple[ApiToken, str]:
    """A new token for the organisation; the raw key is returned once and never stored."""
    actor.require_org_role(organisation_id, Role.ORG_ADMIN)
    raw, prefix, digest = ApiToken.new_key()
    token = ApiToken(
        organisation_id=organisation_id,
        name=name.strip()[:64] or _("接口令牌"),
        key_prefix=prefix,
        key_hash=digest,
        created_by=actor.user,
    )
    token.full_clean()
    token.save()
    audit_record(
        actor=actor,
        action="api_token.create",
        obj=token,
        organisation_id=organisation_id,
        after={"name": token.name, "key_prefix": prefix},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    token = (
        ApiToken.objects.select_for_update()
        .filter(pk=token_id, organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN))
        .first()
    )
    if token is None:
        raise NotFound()
    if token.revoked_at is not None:
        raise Conflict(_("该令牌已吊销"))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="api_token.revoke",
        obj=token,
        organisation_id=token.organisation_id,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at},
    )
    return token
