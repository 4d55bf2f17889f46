"""No disguised comebacks (notice section 一): find what still requires or offers a cancelled qualification.

The scan looks, across the organisations of a jurisdiction, for a cancelled (or removed) qualification's name
or aliases (data on the catalogue entry) in:

- filed or pending scopes (an occupation that is the cancelled qualification, or is named like it);
- plans announced or drafted after the cancellation (title, work type, description) — plans caught by the
  cancellation and completed for the candidates who chose to continue are not comebacks;
- organisation names;
- filing attachments' titles and filing notes of filings in force or under way.

Like the 挂证 scan it is idempotent: a new match raises a finding, one that no longer holds clears an open
finding, and findings an officer acted on are left alone. A finding becomes a case of kind
`cancelled_qualification` (or joins an open one), followed through the ordinary case workflow; the case's
outcome is written back on its findings.
"""

import datetime
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accreditation.models import Filing, FilingAttachment, Organisation, ScopeLine
from assessments.models import Plan
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from occupations.models import Qualification, Region

from .detections import reconcile
from .models import ComebackFinding, Complaint, ComplaintKind

LIVE_FILINGS = [*Filing.IN_FORCE, *Filing.OPEN]


@dataclass
class Match:
    qualification: Qualification
    target: str
    object_id: int
    field: str
    term: str
    excerpt: str
    organisation: Organisation

    @property
    def fingerprint(self) -> str:
        return f"{self.qualification.id}:{self.target}:{self.object_id}:{self.field}"


@dataclass
class ScanReport:
    qualifications: int = 0
    matches: int = 0
    raised: int = 0
    reopened: int = 0
    updated: int = 0
    cleared: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def cancelled_qualifications(today: datetime.date) -> list[Qualification]:
    out = Qualification.objects.filter(status__in=Qualification.OUT).filter(
        Q(cancelled_on__isnull=True) | Q(cancelled_on__lte=today)
    )
    return list(out.order_by("name"))


# --- Reads, scoped --------------------------------------------------------------------------------------------


def findings_for(actor: Actor) -> QuerySet[ComebackFinding]:
    """Bureau staff see the findings about organisations in their region; nobody else sees any."""
    qs = ComebackFinding.objects.select_related("qualification", "organisation", "region", "complaint")
    if actor.is_operator:
        return qs
    return qs.filter(Region.within_q("region", actor.bureau_prefixes))


def finding_get(actor: Actor, finding_id: int) -> ComebackFinding:
    finding = findings_for(actor).filter(pk=finding_id).first()
    if finding is None:
        raise NotFound()
    return finding


def finding_link(finding: ComebackFinding) -> str:
    """Where the officer sees the object the finding is about."""
    if finding.target == ComebackFinding.Target.PLAN:
        return f"/assessments/plans/{finding.object_id}/"
    if finding.target == ComebackFinding.Target.ORGANISATION:
        return reverse("accreditation:organisation", args=[finding.organisation_id])
    filing_id = finding.object_id
    if finding.target == ComebackFinding.Target.SCOPE_LINE:
        filing_id = ScopeLine.objects.filter(pk=finding.object_id).values_list("filing_id", flat=True).first()
    elif finding.target == ComebackFinding.Target.ATTACHMENT:
        filing_id = FilingAttachment.objects.filter(pk=finding.object_id).values_list("filing_id", flat=True).first()
    return f"/accreditation/filings/{filing_id}/" if filing_id else ""


# --- The scan -------------------------------------------------------------------------------------------------


def _excerpt(text: str, term: str, width: int = 40) -> str:
    at = text.lower().find(term.lower())
    start = max(0, at - width)
    snippet = text[start : at + len(term) + width].replace("\n", " ")
    return ("…" if start else "") + snippet + ("…" if at + len(term) + width < len(text) else "")


def _text_q(fields: list[str], terms: list[str]) -> Q:
    q = Q(pk__in=[])
    for f in fields:
        for t in terms:
            q |= Q(**{f"{f}__icontains": t})
    return q


def _first_term(text: str, terms: list[str]) -> str | None:
    low = (text or "").lower()
    return next((t for t in terms if t.lower() in low), None)


def find_matches(qual: Qualification, org_q: Q) -> list[Match]:
    """Every place in the organisations matching `org_q` that names or offers `qual`."""
    terms = qual.search_terms
    matches: list[Match] = []

    def add(obj_org, target, obj_id, field_name, text, term=None):
        term = term or _first_term(text, terms)
        if term:
            matches.append(Match(qual, target, obj_id, field_name, term, _excerpt(text, term)[:255], obj_org))

    lines = (
        ScopeLine.objects.filter(filing__status__in=LIVE_FILINGS)
        .filter(Q(occupation__qualification=qual) | _text_q(["occupation__name"], terms))
        .filter(filing__organisation__in=Organisation.objects.filter(org_q))
        .select_related("occupation", "filing__organisation__region")
    )
    for line in lines:
        text = f"{line.occupation.code} {line.occupation.name}"
        term = qual.name if line.occupation.qualification_id == qual.id else None
        add(line.filing.organisation, ComebackFinding.Target.SCOPE_LINE, line.id, "occupation", text, term)
    since = qual.cancelled_on or datetime.date.min
    plans = (
        Plan.objects.exclude(status=Plan.Status.CANCELLED)
        .filter(created_at__date__gte=since, organisation__in=Organisation.objects.filter(org_q))
        .filter(cancellation_choices__isnull=True)
        .filter(_text_q(["title", "work_type", "description"], terms))
        .select_related("organisation__region")
        .distinct()
    )
    for plan in plans:
        for field_name in ("title", "work_type", "description"):
            add(plan.organisation, ComebackFinding.Target.PLAN, plan.id, field_name, getattr(plan, field_name))
    for org in Organisation.objects.filter(org_q).filter(_text_q(["name"], terms)).select_related("region"):
        add(org, ComebackFinding.Target.ORGANISATION, org.id, "name", org.name)
    live = Filing.objects.filter(status__in=LIVE_FILINGS, organisation__in=Organisation.objects.filter(org_q))
    for att in (
        FilingAttachment.objects.filter(filing__in=live)
        .filter(_text_q(["title"], terms))
        .select_related("filing__organisation__region")
    ):
        add(att.filing.organisation, ComebackFinding.Target.ATTACHMENT, att.id, "title", att.title)
    for filing in live.filter(_text_q(["note"], terms)).select_related("organisation__region"):
        add(filing.organisation, ComebackFinding.Target.FILING, filing.id, "note", filing.note)
    return matches


def _state(f: ComebackFinding) -> dict:
    return {"status": f.status, "term": f.term, "excerpt": f.excerpt}


def _audit(actor: Actor, f: ComebackFinding, action: str, before: dict | None, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=f"comeback.{action}",
        obj=f,
        before=before,
        after={**_state(f), "qualification": f.qualification.name, "target": f.target, "object_id": f.object_id},
        reason=reason,
        region_code=f.region.code,
        organisation_id=f.organisation_id,
    )


def _scan_prefixes(actor: Actor, region_code: str) -> list[str]:
    if actor.system:
        return [Region.objects.get(code=region_code).prefix] if region_code else [""]
    actor.require_bureau()
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        if region is None or not (actor.is_operator or actor.oversees_region(region)):
            raise NotFound(_("不在本部门辖区内的地区"))
        return [region.prefix]
    return [""] if actor.is_operator else actor.bureau_prefixes


@transaction.atomic
def comeback_scan(*, actor: Actor, region_code: str = "", today: datetime.date | None = None) -> ScanReport:
    """Scan the organisations of the actor's jurisdiction (or one region in it) for every cancelled qualification."""
    today = today or timezone.localdate()
    prefixes = _scan_prefixes(actor, region_code)
    org_q = Region.within_q("region", prefixes) if prefixes != [""] else Q()
    quals = cancelled_qualifications(today)
    report = ScanReport(qualifications=len(quals))
    matches = [m for q in quals for m in find_matches(q, org_q)]
    report.matches = len(matches)
    system = Actor.platform()
    in_scope = ComebackFinding.objects.select_for_update().select_related("qualification", "region")
    if prefixes != [""]:
        in_scope = in_scope.filter(Region.within_q("region", prefixes))
    reconcile(
        existing={f.fingerprint: f for f in in_scope},
        detections=matches,
        status=ComebackFinding.Status,
        new_row=lambda m, fields: ComebackFinding(
            qualification=m.qualification,
            target=m.target,
            object_id=m.object_id,
            field=m.field,
            organisation=m.organisation,
            region=m.organisation.region,
            fingerprint=m.fingerprint,
            **fields,
        ),
        values=lambda m: {"term": m.term, "excerpt": m.excerpt},
        audit=lambda f, action, before, reason="": _audit(system, f, action, before, reason=reason),
        state=_state,
        report=report,
        clear_reason=_("按最新数据不再成立"),
    )
    if not actor.system:
        audit_record(
            actor=actor,
            action="comeback.scan",
            object_type="oversight.comebackscan",
            object_id=region_code or "all",
            after=report.as_dict(),
            region_code=region_code,
        )
    return report


# --- Acting on findings ---------------------------------------------------------------------------------------


def _for_update(actor: Actor, finding_id: int) -> ComebackFinding:
    actor.require_bureau()
    finding = (
        ComebackFinding.objects.select_for_update(of=("self",))
        .select_related("qualification", "organisation__region", "region")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None or not (actor.is_operator or actor.oversees_region(finding.region)):
        raise NotFound()
    if finding.status != ComebackFinding.Status.OPEN:
        raise Conflict(_("疑点当前状态为“%(s)s”,不能再处理") % {"s": finding.get_status_display()})
    return finding


def _description(f: ComebackFinding) -> str:
    return _("【变相恢复排查】%(org)s的%(where)s仍涉及已取消的职业资格“%(q)s”:%(excerpt)s") % {
        "org": f.organisation.name,
        "where": f.get_target_display(),
        "q": f.qualification.name,
        "excerpt": f.excerpt,
    }


@transaction.atomic
def finding_investigate(*, actor: Actor, finding_id: int) -> Complaint:
    """Open a case of kind `cancelled_qualification` on the finding, assigned to the officer."""
    from .reports import open_case_for_detection

    finding = _for_update(actor, finding_id)
    plan = Plan.objects.filter(pk=finding.object_id).first() if finding.target == "plan" else None
    complaint = open_case_for_detection(
        actor=actor,
        kind=ComplaintKind.CANCELLED_QUALIFICATION,
        region=finding.region,
        description=_description(finding),
        organisation=finding.organisation,
        plan=plan,
        qualification=finding.qualification,
    )
    before = _state(finding)
    finding.status, finding.complaint = ComebackFinding.Status.INVESTIGATING, complaint
    finding.save(update_fields=["status", "complaint", "updated_at"])
    _audit(actor, finding, "investigate", before, reason=complaint.number or "")
    return complaint


@transaction.atomic
def finding_link_case(*, actor: Actor, finding_id: int, complaint_id: int) -> Complaint:
    """Join the finding to a case already open about the same problem (e.g. a public report of the same plan)."""
    from .reports import complaints_for

    finding = _for_update(actor, finding_id)
    complaint = complaints_for(actor).filter(pk=complaint_id).first()
    if complaint is None:
        raise NotFound(_("案件不存在或不在本部门辖区"))
    if complaint.kind != ComplaintKind.CANCELLED_QUALIFICATION:
        raise Conflict(_("只能关联“要求提供已取消的职业资格”类案件"))
    if complaint.status not in (Complaint.Status.ACCEPTED, Complaint.Status.INVESTIGATING, Complaint.Status.RECEIVED):
        raise Conflict(_("案件已办结或不予受理,不能关联"))
    before = _state(finding)
    finding.status, finding.complaint = ComebackFinding.Status.INVESTIGATING, complaint
    finding.save(update_fields=["status", "complaint", "updated_at"])
    _audit(actor, finding, "link", before, reason=complaint.number or "")
    return complaint


@transaction.atomic
def finding_dismiss(*, actor: Actor, finding_id: int, reason: str) -> ComebackFinding:
    """The officer checked: a legitimate use (e.g. a history of the organisation, a caught plan's certificates)."""
    finding = _for_update(actor, finding_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写排除理由"), details={"field": "reason"})
    before = _state(finding)
    finding.status, finding.resolution = ComebackFinding.Status.DISMISSED, reason
    finding.save(update_fields=["status", "resolution", "updated_at"])
    _audit(actor, finding, "dismiss", before, reason=reason)
    return finding


def findings_case_closed(*, actor: Actor, complaint: Complaint) -> None:
    """Called by complaint_close inside its transaction: the findings take the case's outcome."""
    confirmed = complaint.outcome in (Complaint.Outcome.SUBSTANTIATED, Complaint.Outcome.PARTLY)
    for finding in (
        ComebackFinding.objects.select_for_update(of=("self",))
        .select_related("qualification", "region")
        .filter(complaint=complaint, status=ComebackFinding.Status.INVESTIGATING)
    ):
        before = _state(finding)
        finding.status = ComebackFinding.Status.CONFIRMED if confirmed else ComebackFinding.Status.DISMISSED
        finding.resolution = complaint.finding
        finding.save(update_fields=["status", "resolution", "updated_at"])
        _audit(actor, finding, "case_closed", before, reason=complaint.number or "")
