"""Claims that arrive from a social-security service channel (12333, 掌上12333, 电子社保卡).

The channel has already identified the person (real-name, face check) and signs each request (signing.py); the
platform still checks that the certificate is theirs (number, name and ID number all match), then decides it with
the same eligibility function and the same steps as a claim filed on the site (services.py). Each channel request
id is answered once: the same id with the same body gets the stored answer again; with another body, 409.
Decisions made later (review, publicity, approval, payment) go back to the channel as notices it collects.
"""

import datetime
import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from accounts.actors import Actor
from accounts.identity import id_type_from_label, normalise_id_number
from certificates.models import Certificate
from core.errors import Conflict, PlatformError, ValidationFailed
from occupations.workdays import WorkCalendar

from .. import services
from ..eligibility import PolicyBook, assess
from ..models import ChannelNotice, Claim, ClaimDecision, IntakeChannel, IntakeRequest


@dataclass
class ChannelActor(Actor):
    """The platform acting on a signed request of a registered channel (audit: `channel:<code>`)."""

    channel: IntakeChannel | None = None

    @property
    def label(self) -> str:
        return f"channel:{self.channel.code}" if self.channel else "channel"


class IntakeClaimIn(BaseModel):
    request_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(min_length=1, max_length=64)
    id_type: str = ""
    id_number: str = Field(min_length=1, max_length=32)
    certificate_number: str = Field(min_length=1, max_length=32)
    region_code: str = ""
    category: str = Claim.Category.EMPLOYEE
    insurance_months: int | None = Field(default=None, ge=0, le=600)
    military_months: int | None = Field(default=None, ge=0, le=600)
    transferred_from: str = ""
    declares_not_paid_elsewhere: bool = False
    account_kind: str = ""
    account_number: str = ""
    bank_name: str = ""
    ss_card_account: str = Field(default="", description="社会保障卡金融账号(地区规定为默认收款账户时使用)")


def _error(exc: PlatformError) -> tuple[int, dict]:
    return exc.status, exc.as_dict()


def _claim_body(claim: Claim) -> dict:
    return {
        "request_id": claim.intake_request_id,
        "claim_id": claim.id,
        "status": claim.status,
        "amount": str(claim.amount) if claim.amount is not None else None,
        "due_on": claim.due_on.isoformat() if claim.due_on else None,
        "account": claim.masked_account,
        "account_kind": claim.account_kind,
        "assessment": claim.assessment,
    }


def _account(data: IntakeClaimIn, claim: Claim, book: PolicyBook) -> tuple[str, str]:
    if data.account_number:
        return services.normalise_account(data.account_kind or Claim.AccountKind.BANK_CARD, data.account_number)
    policy, _day = book.select(claim.region.code, claim.claimed_on, claim.certificate.issued_on)
    if data.ss_card_account and policy is not None and policy.ss_card_default_account:
        return services.normalise_account(Claim.AccountKind.SOCIAL_SECURITY_CARD, data.ss_card_account)
    raise ValidationFailed(
        _("该地区须填写收款银行卡账号(社保卡金融账户不是默认收款账户)"), details={"field": "account_number"}
    )


def _decide(channel: IntakeChannel, data: IntakeClaimIn, actor: ChannelActor, today: datetime.date) -> tuple[int, dict]:
    cert = (
        Certificate.objects.select_related("person", "level", "occupation")
        .filter(number=data.certificate_number.strip().upper())
        .first()
    )
    try:
        id_type = id_type_from_label(data.id_type)
        id_number = normalise_id_number(id_type, data.id_number)
    except ValidationFailed as exc:
        return _error(exc)
    # The channel vouches for who the person is; the certificate must be that person's.
    if cert is None or cert.person.id_number != id_number or cert.person.name != data.name.strip():
        return _error(ValidationFailed(_("证书编号与申请人的姓名、证件号码不一致"), code="certificate_mismatch"))
    if not cert.region_code.startswith(channel.region.prefix):
        return _error(ValidationFailed(_("该证书的发证地不在本渠道服务地区内"), code="outside_channel_region"))
    try:
        region = services.claim_region(cert, data.region_code)
        if data.category not in Claim.Category.values:
            raise ValidationFailed(_("人员类别无效"), details={"field": "category"})
        claim = services._new_claim(
            certificate=cert,
            region=region,
            category=data.category,
            insurance_months=data.insurance_months,
            claimed_on=today,
            military_months=data.military_months or None,
            transferred_from=services.transfer_region(data.transferred_from, region),
            declares_not_paid_elsewhere=data.declares_not_paid_elsewhere,
            bank_name=data.bank_name,
        )
        book = PolicyBook.load()
        claim.account_kind, claim.account_number = _account(data, claim, book)
    except PlatformError as exc:
        return _error(exc)
    claim.intake_channel, claim.intake_request_id = channel, data.request_id
    services._lock_people([cert.person_id])
    decision = assess([claim], today=today, book=book)[0]
    if not decision.eligible:
        return _error(services._not_eligible(decision))
    services._apply(claim, decision)
    services._set_due(claim, WorkCalendar(), today, decision.policy.review_working_days)
    try:
        services._save_new(claim)
    except Conflict as exc:
        return _error(exc)
    services._record(
        claim,
        ClaimDecision.Step.SUBMIT,
        "submitted",
        actor,
        reason=_("经%(c)s申请") % {"c": channel.name},
        decision=decision,
    )
    services._audit(
        actor,
        claim,
        "submit",
        after={
            **services._state(claim),
            "certificate": cert.number,
            "channel": channel.code,
            "request_id": data.request_id,
        },
    )
    channel_notice(claim, _("技能提升补贴申请已受理"), _("人社部门将于%(d)s前完成核定。") % {"d": claim.due_on})
    return 201, _claim_body(claim)


@transaction.atomic
def intake_claim(
    *, channel: IntakeChannel, body: bytes, data: IntakeClaimIn, today: datetime.date | None = None
) -> tuple[int, dict]:
    """(HTTP status, answer) for one signed claim request; stored, so a retry gets the same answer."""
    digest = hashlib.sha256(body).hexdigest()
    today = today or timezone.localdate()
    try:
        with transaction.atomic():
            record = IntakeRequest.objects.create(
                channel=channel, request_id=data.request_id, body_sha256=digest, status_code=0
            )
    except IntegrityError:
        # A retry, or the same request sent twice at once: the first one's transaction has committed by the time
        # this insert fails (PostgreSQL makes the second wait), so its answer is there to give again.
        record = IntakeRequest.objects.select_for_update().get(channel=channel, request_id=data.request_id)
        if record.body_sha256 != digest:
            raise Conflict(
                _("请求编号%(r)s已用于另一内容的请求") % {"r": data.request_id}, code="idempotency_conflict"
            ) from None
        return record.status_code, {**record.response, "replayed": True}
    status, answer = _decide(channel, data, ChannelActor(system=True, channel=channel), today)
    record.status_code, record.response = status, answer
    record.claim_id = answer.get("claim_id")
    record.save(update_fields=["status_code", "response", "claim"])
    return status, answer


def channel_notice(claim: Claim, title: str, body: str = "") -> None:
    """A decision goes back on the channel the claim came from."""
    if claim.intake_channel_id is None:
        return
    ChannelNotice.objects.create(
        channel_id=claim.intake_channel_id,
        claim=claim,
        request_id=claim.intake_request_id,
        status=claim.status,
        title=str(title)[:200],
        body=str(body),
        amount=claim.amount,
    )


def channel_notices(*, channel: IntakeChannel, after: int = 0, limit: int = 100) -> list[ChannelNotice]:
    """The channel's notices after the last one it has seen; marked delivered (it may ask again from any id)."""
    notices = list(
        ChannelNotice.objects.filter(channel=channel, id__gt=after).order_by("id")[: max(1, min(limit, 500))]
    )
    ChannelNotice.objects.filter(pk__in=[n.id for n in notices], delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    )
    return notices
