"""Adding exam evidence to a session, reading it back, and destroying it after retention, each audited. Evidence is
kept at least until its retain_until (the session's day plus the retention period of the region's policy, data with
effective dates; 60 months when no policy is recorded)."""

import datetime
import hashlib
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.dates import add_months
from core.errors import Conflict, ValidationFailed

from ..examday.selectors import checkin_session
from ..models import Objection, ScoreCorrection
from ..review.models import ResultReview
from ..scoring.access import plan_audit
from ..signals import evidence_holds
from .models import SessionEvidence
from .selectors import evidence_get, retention_policy

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
DEFAULT_RETENTION_MONTHS = 60
_ALLOWED = {
    SessionEvidence.Kind.ROOM_PHOTO: {"image/jpeg", "image/png"},
    SessionEvidence.Kind.SUPERVISOR_REPORT: {"application/pdf", "image/jpeg", "image/png"},
    SessionEvidence.Kind.ATTENDANCE: {"application/pdf", "image/jpeg", "image/png"},
}
_EXT = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def evidence_add(
    *,
    actor: Actor,
    plan_id: int,
    kind: str,
    evidence_kind: str,
    title: str,
    upload=None,
    video_location: str = "",
    video_sha256: str = "",
) -> SessionEvidence:
    """The supervisor, a panel assessor or the organisation's admin adds evidence to the plan's `kind` session: a
    file (room photo, signed report, attendance sheet; its SHA-256 is recorded), or a video recording's location and
    the SHA-256 of its content as computed where it is stored."""
    plan, component = checkin_session(actor, plan_id, kind, lock=True)
    if evidence_kind not in SessionEvidence.Kind.values:
        raise ValidationFailed(_("资料类别不正确"), details={"field": "evidence_kind"})
    title = (title or "").strip()
    if not title or len(title) > 128:
        raise ValidationFailed(_("请填写说明(不超过128字)"), details={"field": "title"})
    if timezone.now() < component.starts_at - datetime.timedelta(hours=2):
        raise Conflict(_("考核开始前不能上传考务资料"), code="session_not_started")
    day = timezone.localtime(component.starts_at).date()
    policy = retention_policy(plan.organisation.region.code, day)
    months = policy.retention_months if policy is not None else DEFAULT_RETENTION_MONTHS
    evidence = SessionEvidence(
        component=component, kind=evidence_kind, title=title, retain_until=add_months(day, months), added_by=actor.user
    )
    if evidence_kind == SessionEvidence.Kind.VIDEO:
        location, digest = (video_location or "").strip(), (video_sha256 or "").strip().lower()
        if upload is not None:
            raise ValidationFailed(_("录像只登记存储位置和哈希,不上传文件"), details={"field": "file"})
        if not location or len(location) > 255:
            raise ValidationFailed(_("请填写录像存储位置(不超过255字)"), details={"field": "video_location"})
        if not _SHA256.match(digest):
            raise ValidationFailed(_("录像哈希应为64位十六进制SHA-256值"), details={"field": "video_sha256"})
        evidence.video_location, evidence.sha256 = location, digest
    else:
        if upload is None:
            raise ValidationFailed(_("请选择文件"), details={"field": "file"})
        if upload.size > MAX_EVIDENCE_BYTES:
            raise ValidationFailed(_("单个文件不能超过20MB"), details={"field": "file"})
        if upload.size == 0:
            raise ValidationFailed(_("文件为空"), details={"field": "file"})
        head = upload.read(16)
        upload.seek(0)
        content_type = next(
            (
                t
                for magic, t in (
                    (b"%PDF-", "application/pdf"),
                    (b"\x89PNG\r\n\x1a\n", "image/png"),
                    (b"\xff\xd8\xff", "image/jpeg"),
                )
                if head.startswith(magic)
            ),
            "",
        )
        if content_type not in _ALLOWED[evidence_kind]:
            allowed = "、".join(
                sorted(
                    {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}[t]
                    for t in _ALLOWED[evidence_kind]
                )
            )
            raise ValidationFailed(_("该类资料只接受%(a)s文件") % {"a": allowed}, details={"field": "file"})
        evidence.sha256, evidence.content_type, evidence.size = _file_digest(upload), content_type, upload.size
        evidence.file.save(f"ev{component.id}-{evidence.sha256[:12]}{_EXT[content_type]}", upload, save=False)
    evidence.full_clean()
    evidence.save()
    plan_audit(
        actor,
        plan,
        "evidence.add",
        obj=evidence,
        after={
            "kind": kind,
            "evidence_kind": evidence_kind,
            "title": title,
            "sha256": evidence.sha256,
            "video_location": evidence.video_location,
            "retain_until": evidence.retain_until,
        },
    )
    return evidence


@dataclass
class PurgeReport:
    purged: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # past retention, but the plan is under an open review or case
    extended: list[int] = field(default_factory=list)  # the policy now in force keeps them longer


def plans_on_hold(plan_ids: set[int]) -> set[int]:
    """Plans whose evidence may still be needed: results waiting for the bureau's review, a score correction not
    yet decided, a publicity objection not yet answered, or an open case elsewhere (assessments.signals.evidence_holds,
    answered by oversight for open complaints)."""
    if not plan_ids:
        return set()
    held = set(
        ResultReview.objects.filter(plan_id__in=plan_ids, status=ResultReview.Status.PENDING).values_list(
            "plan_id", flat=True
        )
    )
    held |= set(
        ScoreCorrection.objects.filter(
            result__registration__plan_id__in=plan_ids, status=ScoreCorrection.Status.PENDING
        ).values_list("result__registration__plan_id", flat=True)
    )
    held |= set(
        Objection.objects.filter(publication__plan_id__in=plan_ids, responded_at__isnull=True).values_list(
            "publication__plan_id", flat=True
        )
    )
    for _receiver, answer in evidence_holds.send(sender=SessionEvidence, plan_ids=set(plan_ids)):
        held |= set(answer or ()) & plan_ids
    return held


def _retention_due(evidence: SessionEvidence) -> datetime.date:
    """The later of the date recorded when it was added and the one the policy in force now gives for the session's
    day (a period lengthened since keeps it longer; a shortened one never cuts what was promised)."""
    plan = evidence.component.plan
    day = timezone.localtime(evidence.component.starts_at).date()
    policy = retention_policy(plan.organisation.region.code, day)
    months = policy.retention_months if policy is not None else DEFAULT_RETENTION_MONTHS
    return max(evidence.retain_until, add_months(day, months))


def evidence_purge_due(*, actor: Actor | None = None, today: datetime.date | None = None) -> PurgeReport:
    """Destroy the files of evidence past its retention date (the scheduled task runs this daily). Each row stays
    as a tombstone (kind, title, hash, when added, when and by whom destroyed) and each destruction is audited.
    Evidence of a plan on hold (plans_on_hold) is left alone and reported; a video's recording is stored elsewhere,
    so its reference is retired and the audit entry tells the storage's keeper to destroy it. Files are deleted from
    storage only after the row's change has committed."""
    actor = actor or Actor.platform()
    who = "system:evidence_purge_expired" if actor.system else actor.label[:160]
    today = today or timezone.localdate()
    report = PurgeReport()
    due = SessionEvidence.objects.filter(purged_at__isnull=True, retain_until__lt=today)
    plan_ids = set(due.values_list("component__plan_id", flat=True).distinct())
    held = plans_on_hold(plan_ids)
    for evidence_id in due.order_by("id").values_list("id", flat=True):
        with transaction.atomic():
            evidence = (
                SessionEvidence.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("component__plan__organisation__region")
                .filter(pk=evidence_id, purged_at__isnull=True)
                .first()
            )
            if evidence is None:
                continue  # purged a moment ago by another run
            plan = evidence.component.plan
            if plan.id in held:
                report.held.append(evidence.id)
                continue
            until = _retention_due(evidence)
            if until >= today:
                evidence.retain_until = until
                evidence.save(update_fields=["retain_until"])
                report.extended.append(evidence.id)
                continue
            name = evidence.file.name if evidence.file else ""
            evidence.purged_at, evidence.purged_by = timezone.now(), who
            evidence.file = ""
            evidence.save(update_fields=["purged_at", "purged_by", "file"])
            plan_audit(
                actor,
                plan,
                "evidence.purge",
                obj=evidence,
                after={
                    "kind": evidence.kind,
                    "sha256": evidence.sha256,
                    "retain_until": evidence.retain_until,
                    "file_deleted": bool(name),
                    "video_location": evidence.video_location,
                },
                reason=_("超过保存期限,按规定销毁"),
            )
            if name:
                storage = evidence.file.storage
                transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
            report.purged.append(evidence.id)
    return report


def evidence_open(*, actor: Actor, evidence_id: int) -> SessionEvidence:
    """The evidence file for a reader who may see it; the read is audited, and the stored bytes are checked against
    the hash recorded when they were added (a changed file is refused, not served)."""
    evidence = evidence_get(actor, evidence_id)
    if evidence.purged_at is not None:
        raise Conflict(
            _("该资料已超过保存期限,于%(d)s销毁,只保留登记记录和哈希")
            % {"d": timezone.localtime(evidence.purged_at).strftime("%Y-%m-%d")},
            code="evidence_purged",
        )
    if not evidence.file:
        raise Conflict(_("录像不在平台保存,请按存储位置调取并核对哈希"), code="no_file")
    digest = hashlib.sha256()
    with evidence.file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != evidence.sha256:
        plan_audit(
            actor, evidence.component.plan, "evidence.tampered", obj=evidence, after={"sha256": digest.hexdigest()}
        )
        raise Conflict(_("文件内容与登记时的哈希不一致,可能已被篡改,已记录"), code="evidence_tampered")
    plan_audit(actor, evidence.component.plan, "evidence.download", obj=evidence, after={"sha256": evidence.sha256})
    return evidence
