"""Binding an account to the person it belongs to: the only writer of User.person.

Every channel that can vouch for a person (sign-in through a government identity provider, a one-time code
handed over after an in-person ID check, a bureau's decision on evidence) ends here, so the rules hold for all:
one live binding per account and per person, the proof kept, every binding and refusal audited.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed

from .actors import Actor
from .models import BindingChannel, IdentityBinding, Person, User

_REFUSALS = {
    "account_already_bound": _lazy("该账号已绑定其他人员,不能再绑定"),
    "person_already_bound": _lazy("该人员已绑定其他账号。如非本人办理,请携带身份证件到人社服务窗口核查"),
}


def identity_bind(
    *, actor: Actor, user: User, person: Person, channel: str, evidence: dict | None = None
) -> IdentityBinding:
    """Make `user` act as `person`, on the proof described by `channel` and `evidence`.

    Callers have already checked the proof; this checks what must hold whatever the channel. A refusal is audited
    in a transaction of its own (call this outside any atomic block of yours, or the trace is rolled back too)."""
    if channel not in BindingChannel.values:
        raise ValueError(f"unknown binding channel {channel!r}")
    with transaction.atomic():
        outcome = _bind(actor, user, person, channel, evidence or {})
    if isinstance(outcome, IdentityBinding):
        user.person = outcome.person  # the caller's instance says what the database now says
        return outcome
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="identity.bind_refused",
            obj=person,
            after={"user": user.pk, "person": person.pk, "channel": channel, "why": outcome},
        )
    raise Conflict(_REFUSALS[outcome], code=outcome)


def _bind(actor: Actor, user: User, person: Person, channel: str, evidence: dict) -> IdentityBinding | str:
    user = User.objects.select_for_update().get(pk=user.pk)
    person = Person.objects.select_for_update().get(pk=person.pk)
    live = IdentityBinding.objects.filter(ended_at__isnull=True)
    if user.person_id == person.pk:
        existing = live.filter(user=user, person=person).first()
        if existing is not None:
            return existing
    elif user.person_id is not None:
        return "account_already_bound"
    if live.filter(person=person).exclude(user=user).exists() or (
        User.objects.filter(person=person).exclude(pk=user.pk).exists()
    ):
        return "person_already_bound"
    binding = IdentityBinding(user=user, person=person, channel=channel, evidence=evidence)
    binding.full_clean(exclude=["user", "person"])
    binding.save()
    user.person = person
    user.save(update_fields=["person"])
    audit_record(
        actor=actor,
        action="identity.bind",
        obj=binding,
        after={"user": user.pk, "person": person.pk, "channel": channel, "evidence": evidence},
    )
    return binding


@transaction.atomic
def identity_unbind(*, actor: Actor, user_id: int, reason: str) -> IdentityBinding:
    """End an account's binding (a bureau's decision, or the operator's): the account stops acting as the person;
    the record of the binding stays."""
    actor.require_bureau()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写解除绑定的原因"), details={"field": "reason"})
    user = User.objects.select_for_update().filter(pk=user_id).first()
    binding = IdentityBinding.objects.filter(user_id=user_id, ended_at__isnull=True).first() if user else None
    if user is None or binding is None:
        raise NotFound()
    binding.ended_at = timezone.now()
    binding.ended_by = actor.user
    binding.end_reason = reason[:255]
    binding.save(update_fields=["ended_at", "ended_by", "end_reason"])
    user.person = None
    user.save(update_fields=["person"])
    audit_record(
        actor=actor,
        action="identity.unbind",
        obj=binding,
        before={"user": user.pk, "person": binding.person_id},
        reason=reason,
    )
    return binding
