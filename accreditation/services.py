"""Writes for organisations. Every function is atomic, validates, and writes the audit log."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import normalise_credit_code, normalise_phone
from accounts.models import Membership, Role
from config.errors import Conflict, ValidationFailed
from occupations.models import Region
from oversight.audit import audit_record, snapshot

from .models import Organisation

ORG_FIELDS = [
    "name",
    "kind",
    "credit_code",
    "region",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "provides_training",
]


def organisation_register(
    *,
    actor: Actor,
    name: str,
    kind: str,
    credit_code: str,
    region_code: str,
    contact_name: str,
    contact_phone: str,
    address: str = "",
    contact_email: str = "",
    provides_training: bool = False,
) -> Organisation:
    """An organisation registers itself; the registering user becomes its admin. One per credit code."""
    actor.require_authenticated()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请填写机构名称"), details={"field": "name"})
    if kind not in Organisation.Kind.values:
        raise ValidationFailed(_("机构类型应为 Y(用人单位)或 S(社会培训评价组织)"), details={"field": "kind"})
    credit_code = normalise_credit_code(credit_code)
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise ValidationFailed(_("所在地区代码无效"), details={"field": "region_code"})
    if not (contact_name or "").strip():
        raise ValidationFailed(_("请填写联系人"), details={"field": "contact_name"})
    contact_phone = normalise_phone(contact_phone)
    if not contact_phone:
        raise ValidationFailed(_("请填写联系电话"), details={"field": "contact_phone"})
    if Organisation.objects.filter(credit_code=credit_code).exists():
        raise Conflict(_("该统一社会信用代码已注册,请联系该机构管理员"), details={"field": "credit_code"})
    org = Organisation(
        name=name,
        kind=kind,
        credit_code=credit_code,
        region=region,
        address=address.strip(),
        contact_name=contact_name.strip(),
        contact_phone=contact_phone,
        contact_email=contact_email.strip(),
        provides_training=provides_training,
    )
    org.full_clean(exclude=["credit_code"])
    try:
        with transaction.atomic():
            org.save()
            if actor.user is not None:
                Membership.objects.create(user=actor.user, role=Role.ORG_ADMIN, organisation=org)
            audit_record(
                actor=actor,
                action="organisation.register",
                obj=org,
                region_code=region.code,
                organisation_id=org.id,
                after=snapshot(org, ORG_FIELDS),
            )
    except IntegrityError:
        raise Conflict(_("该统一社会信用代码已注册,请联系该机构管理员"), details={"field": "credit_code"}) from None
    return org
