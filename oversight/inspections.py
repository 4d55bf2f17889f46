"""Inspections (督查) of evaluation organisations, rectification with deadlines (限期整改) and escalation.

Bureau staff draw organisations at random from those filed in their region (双随机: the pool, the seed and the
draw are stored, so anyone can re-run it and get the same result) or plan a targeted inspection; record what
they found against a checklist; order rectifications with deadlines counted in working days on China's official
calendar; follow them up; and escalate to suspending or revoking the organisation's filing, with the inspection
as the reason, through accreditation.services.
"""

import datetime
import random
import secrets

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.models import Role
from accounts.selectors import organisation_admins
from accreditation.models import Filing, Organisation
from accreditation.rules import MAX_ATTACHMENT_BYTES, sniff_content_type
from accreditation.selectors import organisations_for
from assessments.models import SupervisionReport
from assessments.panels.rules import CHECKLIST as SUPERVISION_CHECKLIST
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify
from occupations.models import Region
from occupations.workdays import WorkCalendar

from .exposures import exposure_publish
from .models import Exposure, Inspection, InspectionDraw, Rectification, Sanction
from .sanctions import sanction_apply

CHECKLIST = {
    "scope": gettext_lazy("评价范围:职业、等级在备案范围内,不含准入类和已取消的职业资格"),
    "separation": gettext_lazy("考培分离:培训与考评人员、花名册分开,无考评人员培训考生"),
    "panels": gettext_lazy("考评组:人数、回避与轮换符合标准"),
    "archives": gettext_lazy("档案管理:试卷、评分记录、影像资料完整并按期保存"),
    "issuance": gettext_lazy("证书核发:按规定核发证书并及时上报数据"),
}
RESULTS = {"ok": gettext_lazy("符合"), "issue": gettext_lazy("存在问题"), "na": gettext_lazy("不涉及")}
MAX_WORKING_DAYS = 120
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


# --- Reads, scoped ----------------------------------------------------------------------------------------------


def inspections_for(actor: Actor) -> QuerySet[Inspection]:
    """Bureau staff: inspections of organisations in their region. An organisation's admins: their own, once the
    inspection has taken place (a planned visit is not announced)."""
    qs = Inspection.objects.select_related("organisation__region", "lead", "draw")
    if actor.is_operator:
        return qs
    in_region = Region.within_q("organisation__region", actor.bureau_prefixes)
    own = (
        qs.filter(organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN))
        .exclude(status=Inspection.Status.PLANNED)
        .values("pk")
    )
    return qs.filter(in_region | Q(pk__in=own))


def inspection_get(actor: Actor, inspection_id: int) -> Inspection:
    inspection = inspections_for(actor).filter(pk=inspection_id).first()
    if inspection is None:
        raise NotFound()
    return inspection


def rectifications_for(actor: Actor) -> QuerySet[Rectification]:
    return Rectification.objects.filter(inspection__in=inspections_for(actor)).select_related(
        "inspection__organisation__region"
    )


def is_inspector(actor: Actor, inspection: Inspection) -> bool:
    return actor.is_operator or actor.oversees_region(inspection.organisation.region)


def supervision_issues(organisation: Organisation, *, since: datetime.date | None = None) -> list[dict]:
    """Supervisors' reports with an item marked "issue" for this organisation's plans, newest first."""
    qs = (
        SupervisionReport.objects.filter(plan__organisation=organisation)
        .select_related("plan", "supervisor__person")
        .order_by("-submitted_at")
    )
    if since is not None:
        qs = qs.filter(submitted_at__date__gte=since)
    result = []
    for report in qs[:200]:
        issues = [str(SUPERVISION_CHECKLIST.get(k, k)) for k, v in report.checklist.items() if v == "issue"]
        if issues:
            result.append(
                {
                    "report_id": report.id,
                    "plan_id": report.plan_id,
                    "plan_title": report.plan.title,
                    "supervisor": report.supervisor.person.name,
                    "submitted_at": report.submitted_at,
                    "issues": issues,
                    "findings": report.findings,
                }
            )
    return result


# --- Planning ---------------------------------------------------------------------------------------------------


def _number(inspection: Inspection, on: datetime.date) -> str:
    return f"DC{on:%Y}{inspection.id:06d}"


def _state(i: Inspection) -> dict:
    return {"status": i.status, "scheduled_on": i.scheduled_on, "lead": i.lead_id, "conducted_on": i.conducted_on}


def _audit(actor: Actor, i: Inspection, action: str, before: dict | None, reason: str = "", **extra) -> None:
    audit_record(
        actor=actor,
        action=f"inspection.{action}",
        obj=i,
        before=before,
        after={**_state(i), **extra},
        reason=reason,
        region_code=i.organisation.region.code,
        organisation_id=i.organisation_id,
    )


def _create(actor: Actor, org: Organisation, *, kind: str, scheduled_on, reason: str = "", draw=None) -> Inspection:
    inspection = Inspection(
        organisation=org,
        kind=kind,
        draw=draw,
        reason=reason,
        scheduled_on=scheduled_on,
        lead=actor.user,
        planned_by=actor.user,
    )
    inspection.full_clean(exclude=["number"])
    inspection.save()
    inspection.number = _number(inspection, timezone.localdate())
    inspection.save(update_fields=["number"])
    _audit(actor, inspection, "plan", None, reason=reason, kind=kind, draw=draw.id if draw else None)
    return inspection


@transaction.atomic
def inspection_plan(*, actor: Actor, organisation_id: int, scheduled_on: datetime.date, reason: str) -> Inspection:
    """A targeted inspection (专项督查) of one organisation in the actor's region, e.g. after a complaint."""
    actor.require_bureau()
    org = organisations_for(actor).filter(pk=organisation_id).first()
    if org is None or not (actor.is_operator or actor.oversees_region(org.region)):
        raise NotFound()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写督查事由"), details={"field": "reason"})
    return _create(actor, org, kind=Inspection.Kind.TARGETED, scheduled_on=scheduled_on, reason=reason)


@transaction.atomic
def inspection_draw(
    *,
    actor: Actor,
    count: int,
    scheduled_on: datetime.date,
    region_code: str = "",
    seed: int | None = None,
) -> InspectionDraw:
    """Draw `count` organisations at random among those with a filing in force in the region.

    Organisations with an inspection still open are left out. The pool is sorted by id and the seed stored, so
    random.Random(seed).sample(pool, n) reproduces the draw exactly; tests pass a seed, officers do not.
    """
    region = actor.bureau_region(region_code, field="region_code", prompt=_("请选择抽查地区"))
    if count < 1:
        raise ValidationFailed(_("抽取数量至少为1"), details={"field": "count"})
    busy = Inspection.objects.exclude(status=Inspection.Status.CLOSED).values("organisation_id")
    pool = sorted(
        Organisation.objects.filter(Region.within_q("region", [region.prefix]), filings__status=Filing.Status.APPROVED)
        .exclude(pk__in=busy)
        .values_list("pk", flat=True)
        .distinct()
    )
    if not pool:
        raise Conflict(_("该地区没有可抽查的已备案机构"))
    seed = secrets.randbits(48) if seed is None else int(seed)
    chosen = random.Random(seed).sample(pool, min(count, len(pool)))
    draw = InspectionDraw.objects.create(
        region=region,
        requested=count,
        seed=seed,
        pool=pool,
        chosen=chosen,
        scheduled_on=scheduled_on,
        drawn_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="inspection.draw",
        obj=draw,
        after={"region": region.code, "seed": seed, "pool": pool, "chosen": chosen},
        region_code=region.code,
    )
    orgs = Organisation.objects.select_related("region").in_bulk(chosen)
    for org_id in chosen:
        _create(actor, orgs[org_id], kind=Inspection.Kind.RANDOM, scheduled_on=scheduled_on, draw=draw)
    return draw


# --- Findings and rectification ------------------------------------------------------------------------------------


def _for_update(actor: Actor, inspection_id: int) -> Inspection:
    actor.require_authenticated()
    inspection = (
        Inspection.objects.select_for_update(of=("self",))
        .select_related("organisation__region")
        .filter(pk=inspection_id)
        .first()
    )
    if inspection is None:
        raise NotFound()
    if not is_inspector(actor, inspection):
        if inspections_for(actor).filter(pk=inspection.id).exists():
            raise PermissionDenied(_("只有机构所在地的人社部门可以执行此操作"))
        raise NotFound()
    return inspection


def _checked_results(results: dict) -> dict:
    unknown = sorted(set(results) - set(CHECKLIST))
    if unknown:
        raise ValidationFailed(
            _("未知的检查项:%(k)s") % {"k": "、".join(unknown)}, details={"field": "results", "unknown": unknown}
        )
    cleaned, missing, unexplained = {}, [], []
    for key in CHECKLIST:
        entry = results.get(key) or {}
        result, note = entry.get("result"), (entry.get("note") or "").strip()
        if result not in RESULTS:
            missing.append(key)
            continue
        if result == "issue" and not note:
            unexplained.append(key)
        cleaned[key] = {"result": result, "note": note}
    if missing:
        raise ValidationFailed(
            _("请对每个检查项作出结论:%(k)s") % {"k": "、".join(str(CHECKLIST[k]) for k in missing)},
            details={"field": "results", "missing": missing},
        )
    if unexplained:
        raise ValidationFailed(
            _("存在问题的检查项须写明发现的问题:%(k)s") % {"k": "、".join(str(CHECKLIST[k]) for k in unexplained)},
            details={"field": "results", "unexplained": unexplained},
        )
    return cleaned


@transaction.atomic
def inspection_record_findings(
    *, actor: Actor, inspection_id: int, conducted_on: datetime.date, results: dict, summary: str = ""
) -> Inspection:
    """Each checklist item: {"result": "ok" | "issue" | "na", "note": "..."}; issues must say what was found."""
    inspection = _for_update(actor, inspection_id)
    if inspection.status not in (Inspection.Status.PLANNED, Inspection.Status.RECORDED):
        raise Conflict(_("督查当前状态为“%(s)s”,不能修改检查结果") % {"s": inspection.get_status_display()})
    if conducted_on > timezone.localdate():
        raise ValidationFailed(_("检查日期不能晚于今天"), details={"field": "conducted_on"})
    cleaned = _checked_results(results)
    before = {**_state(inspection), "results": inspection.results}
    inspection.results, inspection.summary = cleaned, (summary or "").strip()
    inspection.conducted_on = conducted_on
    inspection.status = Inspection.Status.RECORDED
    inspection.save()
    _audit(actor, inspection, "record_findings", before, results=cleaned)
    return inspection


def _rect_state(r: Rectification) -> dict:
    return {"status": r.status, "due_on": r.due_on, "item": r.item}


def _rect_audit(actor: Actor, r: Rectification, action: str, before: dict | None, reason: str = "", **extra) -> None:
    inspection = r.inspection
    audit_record(
        actor=actor,
        action=f"rectification.{action}",
        obj=r,
        before=before,
        after={**_rect_state(r), "inspection": inspection.number, **extra},
        reason=reason,
        region_code=inspection.organisation.region.code,
        organisation_id=inspection.organisation_id,
    )


@transaction.atomic
def rectification_order(
    *,
    actor: Actor,
    inspection_id: int,
    item: str,
    requirement: str,
    working_days: int,
    ordered_on: datetime.date | None = None,
) -> Rectification:
    """限期整改: the deadline is `working_days` working days after the order, on the official calendar; when that
    reaches into a year whose holidays are not yet published, it is marked provisional and says so."""
    inspection = _for_update(actor, inspection_id)
    if inspection.status not in (Inspection.Status.RECORDED, Inspection.Status.RECTIFYING):
        raise Conflict(_("请先记录检查结果,再下达整改要求"))
    if item not in CHECKLIST:
        raise ValidationFailed(_("请选择检查项"), details={"field": "item"})
    requirement = (requirement or "").strip()
    if not requirement:
        raise ValidationFailed(_("请填写整改要求"), details={"field": "requirement"})
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        raise ValidationFailed(
            _("整改期限应为1至%(n)d个工作日") % {"n": MAX_WORKING_DAYS}, details={"field": "working_days"}
        )
    ordered_on = ordered_on or timezone.localdate()
    if ordered_on < inspection.conducted_on:
        raise ValidationFailed(_("整改下达日期不能早于检查日期"), details={"field": "ordered_on"})
    deadline = WorkCalendar().add_working_days(ordered_on, working_days)
    rect = Rectification(
        inspection=inspection,
        item=item,
        requirement=requirement,
        working_days=working_days,
        ordered_on=ordered_on,
        due_on=deadline.date,
        due_provisional=deadline.provisional,
        due_note=deadline.explanation[:128],
    )
    rect.full_clean()
    rect.save()
    if inspection.status != Inspection.Status.RECTIFYING:
        before = _state(inspection)
        inspection.status = Inspection.Status.RECTIFYING
        inspection.save(update_fields=["status"])
        _audit(actor, inspection, "start_rectification", before)
    _rect_audit(actor, rect, "order", None, requirement=requirement, working_days=working_days)
    notify(
        users=organisation_admins(inspection.organisation_id),
        title=_("限期整改通知(%(n)s)") % {"n": inspection.number},
        body=_("%(item)s:%(req)s。请于%(due)s前完成整改并报送整改材料。")
        % {"item": CHECKLIST[item], "req": requirement, "due": rect.due_on},
        link=f"/oversight/inspections/{inspection.id}/",
    )
    return rect


def _rect_for_update(actor: Actor, rectification_id: int) -> Rectification:
    actor.require_authenticated()
    rect = (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("inspection__organisation__region")
        .filter(pk=rectification_id)
        .first()
    )
    if rect is None or not inspections_for(actor).filter(pk=rect.inspection_id).exists():
        raise NotFound()
    return rect


@transaction.atomic
def rectification_submit(*, actor: Actor, rectification_id: int, evidence_text: str, upload=None) -> Rectification:
    """The organisation (or the inspector, after an on-site check) reports the item rectified, with evidence."""
    rect = _rect_for_update(actor, rectification_id)
    org_id = rect.inspection.organisation_id
    if not (is_inspector(actor, rect.inspection) or org_id in actor.organisation_ids(Role.ORG_ADMIN)):
        raise PermissionDenied(_("只有被检查机构的管理员或检查人员可以报送整改情况"))
    if rect.status != Rectification.Status.OPEN:
        raise Conflict(_("该整改事项当前状态为“%(s)s”") % {"s": rect.get_status_display()})
    evidence_text = (evidence_text or "").strip()
    if not evidence_text:
        raise ValidationFailed(_("请说明整改情况"), details={"field": "evidence_text"})
    if upload is not None:
        if upload.size > MAX_ATTACHMENT_BYTES or upload.size == 0:
            raise ValidationFailed(_("文件应在10MB以内且不为空"), details={"field": "file"})
        head = upload.read(16)
        upload.seek(0)
        content_type = sniff_content_type(head)
        if content_type is None:
            raise ValidationFailed(_("只接受PDF、PNG或JPEG文件"), details={"field": "file"})
        rect.evidence_file.save(f"r{rect.id}{_EXTENSIONS[content_type]}", upload, save=False)
        rect.evidence_content_type = content_type
    before = _rect_state(rect)
    rect.status = Rectification.Status.SUBMITTED
    rect.evidence_text = evidence_text
    rect.submitted_at, rect.submitted_by = timezone.now(), actor.user
    rect.save()
    late = timezone.localdate() > rect.due_on
    _rect_audit(actor, rect, "submit", before, late=late, has_file=bool(upload))
    if rect.inspection.lead_id and rect.inspection.lead_id != getattr(actor.user, "id", None):
        notify(
            users=[rect.inspection.lead],
            title=_("整改材料待验收(%(n)s)") % {"n": rect.inspection.number},
            body=evidence_text[:200],
            link=f"/oversight/inspections/{rect.inspection_id}/",
        )
    return rect


@transaction.atomic
def rectification_review(*, actor: Actor, rectification_id: int, accept: bool, note: str = "") -> Rectification:
    """The inspector accepts the rectification, or returns it (the deadline stands; a late item stays late)."""
    rect = _rect_for_update(actor, rectification_id)
    if not is_inspector(actor, rect.inspection):
        raise PermissionDenied(_("只有检查人员可以验收整改"))
    if rect.status != Rectification.Status.SUBMITTED:
        raise Conflict(_("该整改事项尚未报送整改材料"))
    note = (note or "").strip()
    if not accept and not note:
        raise ValidationFailed(_("退回须说明理由"), details={"field": "note"})
    before = _rect_state(rect)
    if accept:
        rect.status, rect.verified_at, rect.verified_by = Rectification.Status.VERIFIED, timezone.now(), actor.user
    else:
        rect.status = Rectification.Status.OPEN
    rect.review_note = note
    rect.save()
    _rect_audit(actor, rect, "verify" if accept else "return", before, reason=note)
    if not accept:
        notify(
            users=organisation_admins(rect.inspection.organisation_id),
            title=_("整改材料被退回(%(n)s)") % {"n": rect.inspection.number},
            body=note,
            link=f"/oversight/inspections/{rect.inspection_id}/",
        )
    return rect


ESCALATIONS = {"suspend": Sanction.Kind.FILING_SUSPENDED, "revoke": Sanction.Kind.FILING_REVOKED}


@transaction.atomic
def inspection_escalate(
    *, actor: Actor, inspection_id: int, action: str, reason: str, publish: bool = False
) -> Sanction:
    """Suspend or revoke the organisation's filing because of this inspection (e.g. rectification not done in
    time); optionally publish it on the exposure list."""
    inspection = _for_update(actor, inspection_id)
    if inspection.status == Inspection.Status.PLANNED:
        raise Conflict(_("请先记录检查结果"))
    if action not in ESCALATIONS:
        raise ValidationFailed(_("处理方式应为暂停或撤销备案"), details={"field": "action"})
    sanction = sanction_apply(
        actor=actor,
        kind=ESCALATIONS[action],
        reason=reason,
        reference=_("督查编号%(n)s") % {"n": inspection.number},
        inspection=inspection,
        organisation_id=inspection.organisation_id,
    )
    _audit(actor, inspection, "escalate", None, reason=sanction.reason, sanction=sanction.kind)
    if publish and not Exposure.objects.filter(inspection=inspection).exists():
        findings = "；".join(
            f"{CHECKLIST[k]}:{v['note']}" for k, v in inspection.results.items() if v.get("result") == "issue"
        )
        exposure_publish(
            actor=actor,
            reference=inspection.number,
            region=inspection.organisation.region,
            category=inspection.get_kind_display(),
            subject=inspection.organisation.name,
            finding=findings or inspection.summary or sanction.reason,
            measures=f"{sanction.get_kind_display()}:{sanction.reason}",
            inspection=inspection,
            organisation_id=inspection.organisation_id,
        )
    return sanction


@transaction.atomic
def inspection_close(*, actor: Actor, inspection_id: int, conclusion: str) -> Inspection:
    """Close once every rectification is verified (or the filing was revoked, which ends the matter)."""
    inspection = _for_update(actor, inspection_id)
    if inspection.status not in (Inspection.Status.RECORDED, Inspection.Status.RECTIFYING):
        raise Conflict(_("督查当前状态为“%(s)s”,不能结案") % {"s": inspection.get_status_display()})
    conclusion = (conclusion or "").strip()
    if not conclusion:
        raise ValidationFailed(_("请填写结案意见"), details={"field": "conclusion"})
    revoked = inspection.sanctions.filter(kind=Sanction.Kind.FILING_REVOKED).exists()
    pending = inspection.rectifications.exclude(status=Rectification.Status.VERIFIED).count()
    if pending and not revoked:
        raise Conflict(_("还有%(n)d项整改未验收,不能结案") % {"n": pending}, details={"pending": pending})
    before = _state(inspection)
    inspection.status, inspection.conclusion, inspection.closed_at = (
        Inspection.Status.CLOSED,
        conclusion,
        timezone.now(),
    )
    inspection.save()
    _audit(actor, inspection, "close", before, reason=conclusion)
    return inspection
