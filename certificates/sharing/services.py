"""加注件: the holder makes a copy of a certificate for one purpose, valid until a date; anyone holding the copy
verifies it (purpose, period, and whether it and its certificate are still valid); the holder can withdraw it.

The copy's QR token is signed with the platform's certificate key over the copy's own fields (its code, the
certificate number, the holder's name, the purpose and the period), so the purpose and period printed on the copy
are as binding as the certificate's fields: a copy whose stored purpose or dates were altered verifies as forged.
"""

import base64
import datetime
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import mask_id_number
from certificates import signing
from certificates.models import Certificate
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.text import control_character_paths

from .models import SharedCopy

MAX_ACTIVE_PER_CERTIFICATE = 20
VALID, EXPIRED, NOT_YET, WITHDRAWN, FORGED, UNKNOWN = (
    "valid",
    "expired",
    "not_yet_valid",
    "withdrawn",
    "forged",
    "unknown",
)
MESSAGES = {
    VALID: _("加注件有效:仅限用于所载用途,在有效期内"),
    EXPIRED: _("加注件已过有效期"),
    NOT_YET: _("加注件尚未生效"),
    WITHDRAWN: _("持证人已撤回此加注件"),
    FORGED: _("加注件信息与签名不符,可能被篡改"),
    UNKNOWN: _("未找到此加注件"),
}


def copy_url(copy: SharedCopy) -> str:
    return f"{settings.SITE_URL}/s/{copy.token}"


def _new_code() -> str:
    # "JZ" (加注) + 16 base32 characters (80 random bits): never the shape of a certificate number.
    return "JZ" + base64.b32encode(secrets.token_bytes(10)).decode()


def signed_fields(copy: SharedCopy, cert: Certificate) -> dict:
    return {
        "kind": "shared_copy",
        "code": copy.code,
        "certificate": cert.number,
        "name": cert.holder_name,
        "purpose": copy.purpose,
        "valid_from": copy.valid_from.isoformat(),
        "valid_until": copy.valid_until.isoformat(),
    }


def copies_for(actor: Actor) -> QuerySet[SharedCopy]:
    """A holder's own copies; nobody else manages them (organisations and bureaus see a copy only by verifying it)."""
    actor.require_authenticated()
    if actor.person is None:
        return SharedCopy.objects.none()
    return SharedCopy.objects.filter(certificate__person=actor.person).select_related("certificate__level")


def _holder_certificate(actor: Actor, certificate_id: int) -> Certificate:
    actor.require_authenticated()
    cert = Certificate.objects.select_related("level").filter(pk=certificate_id).first()
    if cert is None or actor.person is None or cert.person_id != actor.person.id:
        raise NotFound()
    return cert


@transaction.atomic
def copy_create(
    *, actor: Actor, certificate_id: int, purpose: str, valid_until: datetime.date, today: datetime.date | None = None
) -> SharedCopy:
    cert = _holder_certificate(actor, certificate_id)
    today = today or timezone.localdate()
    purpose = " ".join((purpose or "").split())
    if not purpose:
        raise ValidationFailed(_("请填写用途,如“用于某某公司入职审核”"), details={"field": "purpose"})
    if len(purpose) > 100 or any(True for _p in control_character_paths({"p": purpose})):
        raise ValidationFailed(_("用途不超过100字,且不能含控制字符"), details={"field": "purpose"})
    longest = settings.SHARED_COPY_MAX_DAYS
    if valid_until < today:
        raise ValidationFailed(_("有效期不能早于今天"), details={"field": "valid_until"})
    if valid_until > today + datetime.timedelta(days=longest):
        raise ValidationFailed(_("有效期最长%(n)d天") % {"n": longest}, details={"field": "valid_until"})
    if cert.status != Certificate.Status.VALID:
        raise Conflict(_("证书当前状态为“%(s)s”,不能制作加注件") % {"s": cert.get_status_display()})
    active = SharedCopy.objects.filter(certificate=cert, withdrawn_at__isnull=True, valid_until__gte=today).count()
    if active >= MAX_ACTIVE_PER_CERTIFICATE:
        raise Conflict(_("同一证书的有效加注件最多%(n)d份,请先撤回不再需要的") % {"n": MAX_ACTIVE_PER_CERTIFICATE})
    copy = SharedCopy(
        certificate=cert,
        code=_new_code(),
        purpose=purpose,
        valid_from=today,
        valid_until=valid_until,
        created_by=actor.user,
    )
    copy.token = signing.token_sign(copy.code, signed_fields(copy, cert))
    copy.save()
    audit_record(
        actor=actor,
        action="certificate.copy_create",
        obj=copy,
        after={"certificate": cert.number, "purpose": purpose, "valid_from": today, "valid_until": valid_until},
        region_code=cert.region_code,
        organisation_id=cert.organisation_id,
    )
    return copy


@transaction.atomic
def copy_withdraw(*, actor: Actor, copy_id: int) -> SharedCopy:
    copy = copies_for(actor).filter(pk=copy_id).first()
    if copy is None:
        raise NotFound()
    copy = SharedCopy.objects.select_for_update().select_related("certificate").get(pk=copy.pk)
    if copy.withdrawn_at is not None:
        raise Conflict(_("此加注件已撤回"))
    copy.withdrawn_at = timezone.now()
    copy.save(update_fields=["withdrawn_at"])
    audit_record(
        actor=actor,
        action="certificate.copy_withdraw",
        obj=copy,
        before={"withdrawn": False},
        after={"withdrawn": True, "code": copy.code},
        region_code=copy.certificate.region_code,
        organisation_id=copy.certificate.organisation_id,
    )
    return copy


@dataclass
class CopyCheck:
    status: str
    message: str
    copy: SharedCopy | None = None
    certificate_status: str = ""
    facts: dict = field(default_factory=dict)

    def public(self) -> dict:
        return {
            "status": self.status,
            "message": self.message,
            "certificate_status": self.certificate_status,
            **self.facts,
        }


def copy_verify(token: str, *, today: datetime.date | None = None) -> CopyCheck:
    """What a scan of the copy's QR shows. Valid only when the signature holds, the copy is not withdrawn, today is
    within its period, and the certificate itself is still valid. Never the full ID number."""
    today = today or timezone.localdate()
    check = signing.token_check(token)
    if not check.signature_ok:
        status = UNKNOWN if check.reason == signing.UNKNOWN_KEY else FORGED
        return CopyCheck(status, str(MESSAGES[status]))
    copy = SharedCopy.objects.select_related("certificate__level").filter(code=check.number, token=token).first()
    if copy is None:
        return CopyCheck(UNKNOWN, str(MESSAGES[UNKNOWN]))
    cert = copy.certificate
    if not check.matches(signed_fields(copy, cert)):
        return CopyCheck(FORGED, str(MESSAGES[FORGED]))
    SharedCopy.objects.filter(pk=copy.pk).update(
        verified_count=F("verified_count") + 1, last_verified_at=timezone.now()
    )
    facts = {
        "code": copy.code,
        "purpose": copy.purpose,
        "valid_from": copy.valid_from.isoformat(),
        "valid_until": copy.valid_until.isoformat(),
        "certificate": {
            "number": cert.number,
            "holder_name": cert.holder_name,
            "id_number": mask_id_number(cert.id_number),
            "occupation": cert.occupation_name,
            "work_type": cert.work_type or "--",
            "level": cert.level.label,
            "organisation": cert.organisation_name,
            "issued_on": cert.issued_on.isoformat(),
            "status": cert.status,
            "status_label": cert.get_status_display(),
            "status_reason": cert.status_reason,
        },
    }
    if copy.withdrawn_at is not None:
        status = WITHDRAWN
    elif today > copy.valid_until:
        status = EXPIRED
    elif today < copy.valid_from:
        status = NOT_YET
    else:
        status = VALID
    message = str(MESSAGES[status])
    if status == VALID and cert.status != Certificate.Status.VALID:
        status = cert.status
        message = _("加注件所依据的证书已%(s)s:%(r)s") % {"s": cert.get_status_display(), "r": cert.status_reason}
    return CopyCheck(status, message, copy=copy, certificate_status=cert.status, facts=facts)
