"""Identity conflicts: someone named a person differently from the platform's record for the same ID number.

One service for every channel that can meet such a name (sign-in through the identity provider, a binding code,
an organisation's registration, import or appointment): never a silent new record and never a silent rename. A
case goes to the bureau of the region, which decides with evidence whether the record stands or is corrected;
either way the decision is audited, and a correction announces that the person's facts changed.
"""

import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.files import document_checked
from core.signals import certificate_facts_changed

from .actors import Actor
from .identity import RIC
from .models import IdentityConflict, Person, User


def name_key(value: str) -> str:
    """A name as compared: NFKC, no spaces, one kind of middle dot (阿卜杜拉·买买提 is written with ·, •, ・ or .)."""
    text = unicodedata.normalize("NFKC", value or "")
    for dot in "•・.．‧∙⋅":
        text = text.replace(dot, "·")
    return "".join(text.split())


def names_match(record: str, claimed: str) -> bool:
    return name_key(record) == name_key(claimed)


class IdentityMismatch(Conflict):
    """A name does not match the record for an ID number. The message never says the recorded name (an ID number
    must not become a way to look a name up); the case for the bureau is opened or queued (`conflicts_recorded`)."""

    code = "identity_conflict"

    def __init__(self, conflict: IdentityConflict | None):
        text = _("证件号码已登记在另一姓名下,请核对姓名与证件号码。如平台记录有误,已提交人社部门核查")
        if conflict is not None:
            text += _("(编号 %(id)s)") % {"id": conflict.pk}
        super().__init__(
            text + _(",核查后再办理。"), details={"field": "name", "conflict": conflict.pk if conflict else None}
        )
        self.conflict = conflict


# Conflicts met inside `conflicts_recorded` wait here to be opened once its transactions have ended: an import that
# rolls back every row (or a service that fails) must not take the bureau's case down with it.
_pending: ContextVar[list[dict] | None] = ContextVar("identity_conflicts_pending", default=None)


@contextmanager
def conflicts_recorded():
    """Open, on the way out, the conflicts met inside (put it outside the service's transaction)."""
    if _pending.get() is not None:  # an outer one opens them
        yield
        return
    pending: list[dict] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        for case in pending:
            identity_conflict_open(**case)


def records_conflicts(fn):
    """`conflicts_recorded` around a service function (put it above @transaction.atomic)."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        with conflicts_recorded():
            return fn(*args, **kwargs)

    return wrapper


def identity_mismatch(
    *, actor: Actor, person: Person, claimed_name: str, source: str, organisation=None, context: dict | None = None
) -> IdentityMismatch:
    """The error for a name that does not match `person`'s record, with the bureau's case opened now or, inside
    `conflicts_recorded`, once the transactions have ended."""
    case = {
        "actor": actor,
        "person": person,
        "claimed_name": claimed_name,
        "source": source,
        "organisation": organisation,
        "context": context,
    }
    pending = _pending.get()
    if pending is not None:
        pending.append(case)
        return IdentityMismatch(None)
    return IdentityMismatch(identity_conflict_open(**case))


def _region_for(person: Person, organisation) -> str:
    """Which bureau looks into it: the organisation's region where one named the person, else the region of issue
    in a 居民身份证 number (户籍地)."""
    if organisation is not None:
        return organisation.region.code
    return person.id_number[:6] if person.id_type == RIC else ""


def identity_conflict_open(
    *,
    actor: Actor,
    person: Person,
    claimed_name: str,
    source: str,
    user: User | None = None,
    organisation=None,
    context: dict | None = None,
) -> IdentityConflict:
    """The bureau's case for this person and this name: the open (or already decided) one if there is one, else a
    new one. Saved and audited in a transaction of its own (call it outside any atomic block that will roll back)."""
    if source not in IdentityConflict.Source.values:
        raise ValueError(f"unknown conflict source {source!r}")
    claimed_name = (claimed_name or "").strip()[:64]
    existing = [
        c
        for c in IdentityConflict.objects.filter(person=person)
        .exclude(status=IdentityConflict.Status.RECORD_CORRECTED)
        .select_related("person")
        .order_by("-created_at")
        if names_match(c.claimed_name, claimed_name)
    ]
    if existing:
        return existing[0]
    conflict = IdentityConflict(
        person=person,
        claimed_name=claimed_name,
        source=source,
        submitted_by=user if user is not None else actor.user,
        organisation=organisation,
        region_code=_region_for(person, organisation),
        context={**(context or {}), "record_name": person.name},
    )
    conflict.full_clean(exclude=["person", "submitted_by", "organisation", "resolved_by"])
    with transaction.atomic():
        conflict.save()
        audit_record(
            actor=actor,
            action="identity.conflict_open",
            obj=conflict,
            region_code=conflict.region_code,
            organisation_id=organisation.pk if organisation is not None else None,
            after={"person": person.pk, "claimed_name": claimed_name, "source": source, **(context or {})},
        )
    return conflict


def conflicts_for(actor: Actor) -> QuerySet[IdentityConflict]:
    """The cases this actor may see and decide: the operator all, a bureau those of its regions, nobody else any."""
    qs = IdentityConflict.objects.select_related("person", "organisation", "submitted_by", "resolved_by")
    if actor.is_operator:
        return qs
    if not actor.bureau_prefixes:
        return qs.none()
    q = Q()
    for prefix in actor.bureau_prefixes:
        q |= Q(region_code__startswith=prefix)
    return qs.filter(q)


def identity_conflict_get(actor: Actor, conflict_id: int) -> IdentityConflict:
    actor.require_bureau()
    conflict = conflicts_for(actor).filter(pk=conflict_id).first()
    if conflict is None:
        raise NotFound()
    return conflict


DECISIONS = {"keep": IdentityConflict.Status.RECORD_KEPT, "correct": IdentityConflict.Status.RECORD_CORRECTED}


def identity_conflict_resolve(
    *, actor: Actor, conflict_id: int, decision: str, resolution: str, evidence=None
) -> IdentityConflict:
    """A bureau decides a case on evidence: `keep` the record's name, or `correct` it to the name claimed.

    The written conclusion is required; a scanned document (PDF, PNG or JPEG) is kept with it when given. A
    correction renames the person (audited, and announced so certificates and registrations can follow)."""
    actor.require_bureau()
    if decision not in DECISIONS:
        raise ValidationFailed(_("请选择“维持原记录”或“更正记录姓名”"), details={"field": "decision"})
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationFailed(_("请填写核查结论(核验了哪些证件、依据是什么)"), details={"field": "resolution"})
    extension = document_checked(evidence, field="evidence") if evidence is not None else ""
    with transaction.atomic():
        conflict = identity_conflict_get(actor, conflict_id)
        conflict = IdentityConflict.objects.select_for_update().select_related("person").get(pk=conflict.pk)
        if conflict.status != IdentityConflict.Status.OPEN:
            raise Conflict(_("该冲突已核查完毕,不能重复处理"), code="conflict_resolved")
        person = Person.objects.select_for_update().get(pk=conflict.person_id)
        old_name = person.name
        conflict.status = DECISIONS[decision]
        conflict.resolution = resolution
        conflict.resolved_by = actor.user
        conflict.resolved_at = timezone.now()
        if evidence is not None:
            conflict.evidence.save(f"conflict-{conflict.pk}{extension}", evidence, save=False)
        conflict.save()
        if decision == "correct" and person.name != conflict.claimed_name:
            person.name = conflict.claimed_name
            person.full_clean()
            person.save(update_fields=["name"])
            audit_record(
                actor=actor,
                action="person.rename",
                obj=person,
                region_code=conflict.region_code,
                before={"name": old_name},
                after={"name": person.name, "conflict": conflict.pk},
            )
            person_ids = [person.pk]
            transaction.on_commit(lambda: certificate_facts_changed.send(sender=Person, person_ids=person_ids))
        audit_record(
            actor=actor,
            action="identity.conflict_resolve",
            obj=conflict,
            region_code=conflict.region_code,
            before={"status": IdentityConflict.Status.OPEN, "record_name": old_name},
            after={
                "status": conflict.status,
                "record_name": person.name,
                "claimed_name": conflict.claimed_name,
                "evidence": bool(evidence is not None),
            },
            reason=resolution,
        )
    return conflict
