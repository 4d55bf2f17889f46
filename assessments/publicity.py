"""成绩公示: results shown publicly for a number of working days, objections, and finalising the plan.

The publicity period is policy data (AssessmentPolicy.publicity_working_days for the organisation's region) counted
on China's official working-day calendar from the day it opens (that day not counted). Anyone may object while
it runs; the organisation answers every objection; the plan is finalised only after the last day has passed and
nothing is left unanswered. Finalising fixes each candidate's outcome and hands the plan to certificate issuance.
"""

import datetime
import importlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import mask_id_number, mask_name
from accounts.models import User
from accounts.selectors import organisation_admins
from core.errors import Conflict, NotFound, ValidationFailed
from core.notifications import notify
from core.ratelimit import check_rate, rate_blocked
from occupations.workdays import add_working_days

from .employment.services import employment_require_for_finalisation
from .integrity.services import integrity_require
from .models import ComponentResult, Objection, Plan, Publication, Registration
from .policy import policy_for
from .scoring.access import admin_plan, plan_audit
from .scoring.rules import KIND_LABELS, LevelRules, level_rules, outcome_of
from .signals import plan_finalised

MAX_OBJECTION_CHARS = 2000
CERTIFICATE_HOOK = "certificates.issuance"
OUTCOME_LABELS = dict(Registration.Outcome.choices)
OUTCOME_COUNTS = ("total", "passed", "failed", "absent", "void")
UPDATE_CHUNK = 900  # ids per UPDATE … WHERE id IN (…), under SQLite's historical limit of 999 parameters


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def _approved(plan: Plan) -> QuerySet[Registration]:
    return plan.registrations.filter(status=Registration.Status.APPROVED)


# --- Opening publicity -------------------------------------------------------------------------------------


def publication_blockers(plan: Plan) -> list[str]:
    """Why the plan's results cannot be published yet (empty when they can)."""
    if plan.status != Plan.Status.PUBLISHED:
        return [_("计划当前状态为“%(s)s”,不能公示成绩") % {"s": plan.get_status_display()}]
    rules = level_rules(plan)
    registrations = list(_approved(plan).values_list("id", "level_id"))
    if not registrations:
        return [_("该计划没有审核通过的考生")]
    have = set(
        ComponentResult.objects.filter(
            registration__plan=plan, registration__status=Registration.Status.APPROVED, locked_at__isnull=False
        ).values_list("registration_id", "kind")
    )
    missing: Counter[str] = Counter()
    for reg_id, level_id in registrations:
        rule = rules.get(level_id)
        for spec in rule.components if rule else ():
            if (reg_id, spec.kind) not in have:
                missing[spec.kind] += 1
    return [_("“%(k)s”尚未锁定(%(n)d名考生)") % {"k": KIND_LABELS[kind], "n": n} for kind, n in sorted(missing.items())]


def _candidate_users(plan: Plan) -> list[User]:
    person_ids = _approved(plan).values("person_id")
    return list(User.objects.filter(person_id__in=person_ids))


@transaction.atomic
def publication_open(*, actor: Actor, plan_id: int, today: datetime.date | None = None) -> Publication:
    """Open publicity once every component is locked; it ends after the region's number of working days."""
    plan = admin_plan(actor, plan_id)
    blockers = publication_blockers(plan)
    if blockers:
        raise Conflict(";".join(blockers), code="not_ready", details={"problems": blockers})
    integrity_require(plan, step="publication.open")
    today = _today(today)
    policy = policy_for(plan.organisation.region.code, today)
    deadline = add_working_days(today, policy.publicity_working_days)
    publication = Publication(
        plan=plan,
        starts_on=today,
        ends_on=deadline.date,
        provisional=deadline.provisional,
        calendar_note=deadline.explanation[:128],
        published_by=actor.user,
    )
    publication.full_clean()
    publication.save()
    plan.status = Plan.Status.PUBLICITY
    plan.save(update_fields=["status"])
    plan_audit(
        actor,
        plan,
        "publication.open",
        obj=publication,
        before={"status": Plan.Status.PUBLISHED},
        after={
            "status": plan.status,
            "starts_on": publication.starts_on,
            "ends_on": publication.ends_on,
            "working_days": policy.publicity_working_days,
            "provisional": publication.provisional,
            "calendar": publication.calendar_note,
        },
    )
    notify(
        users=_candidate_users(plan),
        title=_("成绩公示:%(t)s") % {"t": plan.title},
        body=_("成绩公示期为%(a)s至%(b)s,如有异议可在公示期内提出。")
        % {"a": publication.starts_on, "b": publication.ends_on},
        link=f"/assessments/publicity/{plan.id}/",
    )
    return publication


# --- The public list ---------------------------------------------------------------------------------------


@dataclass
class PublicRow:
    number: int
    name: str
    id_number: str
    level: str
    components: list[dict]
    outcome: str
    outcome_label: str


@dataclass
class PublicResults:
    plan: Plan
    publication: Publication
    registrations: QuerySet[Registration]

    def rows(self, registrations=None) -> list[PublicRow]:
        """Masked rows for `registrations` (default: all), e.g. one page of them."""
        rules = level_rules(self.plan)
        return [public_row(reg, rules) for reg in (self.registrations if registrations is None else registrations)]


def public_row(reg: Registration, rules: dict[int, LevelRules]) -> PublicRow:
    """One candidate as the public sees them: masked name and ID, level, component scores, outcome."""
    rule = rules.get(reg.level_id)
    components = rule.components if rule else ()
    results = {r.kind: r for r in reg.results.all()}
    shown = []
    for spec in components:
        r = results.get(spec.kind)
        shown.append(
            {
                "kind": spec.kind,
                "label": spec.name,
                "status": r.status if r else "",
                "status_label": r.get_status_display() if r else _("未出成绩"),
                "score": r.score if r else None,
                "passed": bool(r and r.passed),
            }
        )
    outcome = reg.outcome if reg.finalised_at else outcome_of(reg, components=components)[0]
    return PublicRow(
        number=reg.id,
        name=mask_name(reg.person.name),
        id_number=mask_id_number(reg.person.id_number),
        level=reg.level.label,
        components=shown,
        outcome=outcome,
        outcome_label=str(OUTCOME_LABELS.get(outcome, "")),
    )


def public_results(plan_id: int, *, name: str = "", id_number: str = "", client_ip: str = "") -> PublicResults:
    """Results of a plan under publicity (or finalised), for anyone. A candidate finds their own row by their full
    name and ID number together (as the national certificate query does); such look-ups are rate-limited by the
    client's address so that nobody can probe who sat the assessment."""
    plan = (
        Plan.objects.select_related("organisation__region", "occupation")
        .filter(pk=plan_id, status__in=[Plan.Status.PUBLICITY, Plan.Status.FINALISED])
        .first()
    )
    publication = Publication.objects.filter(plan_id=plan_id).first() if plan else None
    if plan is None or publication is None:
        raise NotFound(_("该计划没有正在公示的成绩"))
    regs = _approved(plan).select_related("person", "level").prefetch_related("results").order_by("level__rank", "id")
    name, id_number = (name or "").strip(), (id_number or "").strip().upper()
    if name or id_number:
        if not (name and id_number):
            raise ValidationFailed(_("查找本人成绩请同时填写姓名和证件号码"), details={"field": "id_number"})
        check_rate("verify_lookup", client_ip or "unknown")
        regs = regs.filter(person__name=name, person__id_number=id_number)
    return PublicResults(plan, publication, regs)


# --- Objections --------------------------------------------------------------------------------------------


def accepting_objections(plan: Plan, publication: Publication, today: datetime.date | None = None) -> bool:
    """Objections are taken from the first day of publicity to its last day inclusive."""
    today = _today(today)
    return plan.status == Plan.Status.PUBLICITY and publication.starts_on <= today <= publication.ends_on


@transaction.atomic
def objection_raise(
    *,
    actor: Actor,
    plan_id: int,
    text: str,
    registration_id: int | None = None,
    contact: str = "",
    client_ip: str = "",
    today: datetime.date | None = None,
) -> Objection:
    """Anyone, signed in or not, objects while publicity runs. Anonymous objections are rate-limited by the
    client's address (`client_ip`, passed in by the page or the API): objections accepted count, an objection
    sent back for a missing or wrong field does not; an address over its allowance is refused before anything."""
    if not actor.is_authenticated:
        rate_blocked("public_report", client_ip or "unknown")
    plan = Plan.objects.select_related("organisation__region").filter(pk=plan_id).first()
    publication = Publication.objects.filter(plan_id=plan_id).first() if plan else None
    if plan is None or publication is None or plan.status not in (Plan.Status.PUBLICITY, Plan.Status.FINALISED):
        raise NotFound(_("该计划没有正在公示的成绩"))
    today = _today(today)
    if not accepting_objections(plan, publication, today):
        if today < publication.starts_on:
            raise Conflict(_("公示期自%(d)s开始") % {"d": publication.starts_on}, code="publicity_not_started")
        raise Conflict(_("公示期已于%(d)s结束,不再受理异议") % {"d": publication.ends_on}, code="publicity_over")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("请填写异议内容"), details={"field": "text"})
    if len(text) > MAX_OBJECTION_CHARS:
        raise ValidationFailed(_("异议内容不能超过%(n)d字") % {"n": MAX_OBJECTION_CHARS}, details={"field": "text"})
    contact = (contact or "").strip()
    if len(contact) > 64:
        raise ValidationFailed(_("联系方式不能超过64字"), details={"field": "contact"})
    registration = None
    if registration_id:
        registration = _approved(plan).filter(pk=registration_id).first()
        if registration is None:
            raise ValidationFailed(_("公示名单中没有该序号的考生"), details={"field": "registration_id"})
    if not actor.is_authenticated:
        check_rate("public_report", client_ip or "unknown")
    objection = Objection(
        publication=publication, registration=registration, text=text, contact=contact, raised_by=actor.user
    )
    objection.full_clean()
    objection.save()
    # The text and contact may identify the objector; the audit log keeps that they objected, not what they said.
    plan_audit(
        actor,
        plan,
        "objection.raise",
        obj=objection,
        after={"registration": registration.id if registration else None, "anonymous": actor.user is None},
    )
    notify(
        users=organisation_admins(plan.organisation_id),
        title=_("收到成绩公示异议:%(t)s") % {"t": plan.title},
        body=text[:200],
        link=f"/assessments/plans/{plan.id}/results/",
    )
    return objection


@transaction.atomic
def objection_answer(*, actor: Actor, objection_id: int, response: str) -> Objection:
    """The organisation admin answers an objection (once); a signed-in objector is told."""
    objection = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("publication__plan__organisation__region")
        .filter(pk=objection_id)
        .first()
    )
    if objection is None:
        raise NotFound()
    plan = admin_plan(actor, objection.publication.plan_id)
    if plan.status == Plan.Status.FINALISED:
        raise Conflict(_("计划已办结"), code="finalised")
    if objection.responded_at is not None:
        raise Conflict(_("该异议已答复"), code="already_answered")
    response = (response or "").strip()
    if not response:
        raise ValidationFailed(_("请填写答复内容"), details={"field": "response"})
    objection.response, objection.responded_by, objection.responded_at = response, actor.user, timezone.now()
    objection.save(update_fields=["response", "responded_by", "responded_at"])
    plan_audit(
        actor,
        plan,
        "objection.answer",
        obj=objection,
        before={"responded": False},
        after={"responded": True},
        reason=response,
    )
    if objection.raised_by_id:
        notify(
            users=[objection.raised_by],
            title=_("您的成绩公示异议已答复:%(t)s") % {"t": plan.title},
            body=response,
            link=f"/assessments/publicity/{plan.id}/",
        )
    return objection


# --- Finalising --------------------------------------------------------------------------------------------


def finalise_blockers(plan: Plan, today: datetime.date) -> list[str]:
    """Why the plan cannot be finalised on `today` (empty when it can)."""
    if plan.status != Plan.Status.PUBLICITY:
        return [_("计划当前状态为“%(s)s”,不能办结") % {"s": plan.get_status_display()}]
    publication = Publication.objects.filter(plan=plan).first()
    if publication is None:
        return [_("成绩尚未公示")]
    problems = []
    if today <= publication.ends_on:
        problems.append(_("公示期至%(d)s结束,期满后方可办结") % {"d": publication.ends_on})
    open_objections = publication.objections.filter(responded_at__isnull=True).count()
    if open_objections:
        problems.append(_("尚有%(n)d条异议未答复") % {"n": open_objections})
    return problems


@dataclass
class FinaliseSummary:
    plan_id: int
    finalised_at: datetime.datetime
    total: int
    passed: int
    failed: int
    absent: int
    void: int
    certificates_started: bool
    certificate_batch: Any = None

    def as_dict(self) -> dict:
        data = asdict(self)
        batch = self.certificate_batch
        data["certificate_batch"] = getattr(batch, "pk", batch) if batch is not None else None
        return data


def certificate_hook() -> Callable[..., Any] | None:
    """`certificates.issuance.issue_batch_start(actor=..., plan_id=...)` when that module exists, else None.

    The certificates app adds it; until then finalising simply stops at the outcomes."""
    try:
        module = importlib.import_module(CERTIFICATE_HOOK)
    except ModuleNotFoundError as exc:
        if exc.name in (CERTIFICATE_HOOK, None):
            return None
        raise  # the module exists but something it imports does not: a real error
    return module.issue_batch_start


@transaction.atomic
def plan_finalise(*, actor: Actor, plan_id: int, today: datetime.date | None = None) -> FinaliseSummary:
    """After publicity has ended with every objection answered: fix each approved candidate's outcome, close the
    plan, tell the candidates, and start certificate issuance in the same step.

    Issuance runs inside this transaction, so if it refuses the plan stays unfinalised; it should enqueue its
    slow work with transaction.on_commit. Queries do not grow with the number of candidates."""
    plan = admin_plan(actor, plan_id)
    today = _today(today)
    blockers = finalise_blockers(plan, today)
    if blockers:
        raise Conflict(";".join(blockers), code="not_ready", details={"problems": blockers})
    integrity_require(plan, step="plan.finalise")
    rules = level_rules(plan)
    registrations = list(_approved(plan).select_related("level", "person").prefetch_related("results"))
    employment_require_for_finalisation(plan, registrations)
    now = timezone.now()
    pending = []
    for reg in registrations:
        rule = rules.get(reg.level_id)
        reg.outcome = outcome_of(reg, components=rule.components if rule else ())[0]
        reg.finalised_at = now
        if reg.outcome == Registration.Outcome.PENDING:
            pending.append(reg.id)
    if pending:
        raise Conflict(
            _("%(n)d名考生尚有科目未出成绩") % {"n": len(pending)}, code="results_missing", details={"ids": pending}
        )
    # A handful of outcomes: one UPDATE per outcome and chunk is far cheaper than bulk_update's CASE per row.
    by_outcome: dict[str, list[int]] = {}
    for reg in registrations:
        by_outcome.setdefault(reg.outcome, []).append(reg.id)
    for outcome, ids in by_outcome.items():
        for start in range(0, len(ids), UPDATE_CHUNK):
            Registration.objects.filter(id__in=ids[start : start + UPDATE_CHUNK]).update(
                outcome=outcome, finalised_at=now
            )
    plan.status, plan.finalised_at = Plan.Status.FINALISED, now
    plan.save(update_fields=["status", "finalised_at"])
    counts = Counter(reg.outcome for reg in registrations)
    summary = FinaliseSummary(
        plan_id=plan.id,
        finalised_at=now,
        total=len(registrations),
        passed=counts[Registration.Outcome.PASSED],
        failed=counts[Registration.Outcome.FAILED],
        absent=counts[Registration.Outcome.ABSENT],
        void=counts[Registration.Outcome.VOID],
        certificates_started=False,
    )
    plan_audit(
        actor,
        plan,
        "plan.finalise",
        before={"status": Plan.Status.PUBLICITY},
        after={"status": plan.status, **{k: v for k, v in asdict(summary).items() if k in OUTCOME_COUNTS}},
    )
    _notify_outcomes(plan, registrations)
    plan_finalised.send(sender=Plan, plan=plan, actor=actor)
    hook = certificate_hook()
    if hook is not None:
        summary.certificate_batch = hook(actor=actor, plan_id=plan.id)
        summary.certificates_started = True
    return summary


def _notify_outcomes(plan: Plan, registrations: list[Registration]) -> None:
    """One notification per candidate with an account, sent in one batch per outcome; whoever registered
    candidates for them (an employer) is told the plan is finalised."""
    by_person = {reg.person_id: reg.outcome for reg in registrations}
    users = User.objects.filter(
        Q(person_id__in=list(by_person)) | Q(id__in={r.registered_by_id for r in registrations if r.registered_by_id})
    )
    groups: dict[str, list[User]] = {}
    registrars = []
    for user in users:
        if user.person_id in by_person:
            groups.setdefault(by_person[user.person_id], []).append(user)
        else:
            registrars.append(user)
    for outcome, members in groups.items():
        label = OUTCOME_LABELS.get(outcome, "")
        notify(
            users=members,
            title=_("认定结果:%(o)s · %(t)s") % {"o": label, "t": plan.title},
            body=_("您参加的《%(t)s》已办结,认定结果为:%(o)s。各科成绩可在“我的报名”中查看。")
            % {"t": plan.title, "o": label},
            link="/assessments/my/",
        )
    if registrars:
        notify(
            users=registrars,
            title=_("认定计划已办结:%(t)s") % {"t": plan.title},
            body=_("您报名的考生认定结果已确定,可在报名详情中查看。"),
            link="/assessments/my/",
        )
