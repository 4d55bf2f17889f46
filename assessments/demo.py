"""Demo: a finished assessment (32 candidates over two levels, some failed, one objection answered), a plan
open for registration, and the employer's own finished 特级技师 evaluation (eight-level system). Everything goes through the services; only the calendar is moved into the past."""

import datetime
import secrets
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.demo import DemoContext, demo_accept_invitation, demo_bind, valid_ric
from accounts.models import Membership, Role, User
from accounts.services import account_signup, person_get_or_create
from accreditation.models import Appointment
from accreditation.selectors import scope_allows
from occupations.models import Level, Occupation

from . import plans, publicity
from .employment.services import employment_proof_add
from .examday.models import AdmissionTicket
from .models import EmploymentProof, Plan, PlanComponent
from .panels import services as panel_services
from .registration import _create_registration, registration_review
from .scoring import services as scoring_services

FINISHED = "2026年第三期电工职业技能等级认定(四级、三级)"
OPEN = "2026年第四季度中式烹调师职业技能等级认定"
SPECIAL = "2026年电工特级技师评价(企业自主评价)"
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红梅"


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _assessor_login(appointment: Appointment) -> User:
    """The appointed assessor's own account, as they would have it: signed up, bound with a code from the bureau's
    window, and given the role by accepting the organisation's invitation."""
    user = User.objects.filter(person=appointment.person).first()
    if user is None:
        user = account_signup(
            actor=Actor.anonymous(),
            username=f"assessor_{appointment.person.id_number[-6:]}",
            password=secrets.token_urlsafe(24),  # nobody signs in as these; they only mark the demo's sheets
        )
        demo_bind(user, appointment.person)
    admin = Membership.objects.filter(organisation=appointment.organisation, role=Role.ORG_ADMIN).first().user
    demo_accept_invitation(
        inviter=Actor.for_user(admin), user=user, role=Role.ASSESSOR, organisation_id=appointment.organisation_id
    )
    return user


def _employee(admin: Actor, employer, person) -> None:
    """The employer assesses its own staff: it uploads each one's labour contract (谁用人、谁评价)."""
    if EmploymentProof.objects.filter(organisation=employer, person=person).exists():
        return
    employment_proof_add(
        actor=admin,
        organisation_id=employer.id,
        name=person.name,
        id_type=person.id_type,
        id_number=person.id_number,
        kind="contract",
        upload=SimpleUploadedFile("劳动合同.pdf", b"%PDF-1.4\n% demo labour contract\n", "application/pdf"),
        valid_from=datetime.date(2015, 3, 1),
    )


def _mark(i: int, seat: int) -> Decimal:
    """Marks for candidate i from the seat-th assessor: most pass, every seventh fails."""
    base = 52 if i % 7 == 3 else 70 + (i * 3) % 25
    return Decimal(base + (seat % 3) - 1)


@transaction.atomic
def _finished(ctx: DemoContext) -> Plan:
    employer = ctx.organisations["employer"]
    admin = Actor.for_user(ctx.users["employer_admin"])
    today = timezone.localdate()
    closes = today
    plan = plans.plan_create(
        actor=admin,
        organisation_id=employer.id,
        occupation_code="6-31-01-03",
        levels=["4", "3"],
        title=FINISHED,
        venue="长春市朝阳区卫星路8号 长春华信实训中心",
        capacity=40,
        registration_opens=today,
        registration_closes=closes,
        fee=300,
        components=[
            {
                "kind": "theory",
                "starts_at": _at(today + datetime.timedelta(days=1), 9),
                "ends_at": _at(today + datetime.timedelta(days=1), 11),
                "room": "理论考场一",
            },
            {
                "kind": "skills",
                "starts_at": _at(today + datetime.timedelta(days=1), 13),
                "ends_at": _at(today + datetime.timedelta(days=1), 16),
                "room": "电工实训室",
            },
        ],
    )
    plans.plan_publish(actor=admin, plan_id=plan.id)
    regs = []
    for i in range(32):
        level = "4" if i < 16 else "3"
        name = (
            SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 5) % len(GIVEN)] + ("" if i % 3 else GIVEN[(i * 7) % len(GIVEN)])
        )
        person = person_get_or_create(
            actor=admin,
            name=name,
            id_type="ric",
            id_number=valid_ric(
                f"2201{'02' if i % 2 else '04'}199{i % 10}{1 + i % 12:02d}{1 + i % 27:02d}{100 + i:03d}"
            ),
        )
        _employee(admin, employer, person)
        evidence = {"work_years": Decimal(8 + i % 6)}
        if level == "3":
            evidence["prior_certificates"] = [
                {"occupation_code": "6-31-01-03", "level": "4", "issued_on": "2019-07-01", "number": ""}
            ]
        reg = _create_registration(
            admin, plan, plan.levels.get(code=level), person, evidence, source="bulk", employer_name=employer.name
        )
        registration_review(actor=admin, registration_id=reg.id, decision="approve", reason="材料齐全")
        regs.append(reg)
    assessors = list(
        Appointment.objects.filter(
            organisation=employer,
            role="assessor",
            scopes__occupation__code="6-31-01-03",
            scopes__max_level__rank__gte=30,
        ).order_by("id")
    )
    for appointment in assessors[:3]:  # 32 candidates: at least one per 15 on the theory panel
        panel_services.panel_assign(actor=admin, plan_id=plan.id, kind="theory", appointment_id=appointment.id)
    skills = assessors[:7]
    for appointment in skills:
        panel_services.panel_assign(actor=admin, plan_id=plan.id, kind="skills", appointment_id=appointment.id)
    supervisor = Appointment.objects.get(person=ctx.people["supervisor"], role="external_supervisor")
    panel_services.supervisor_assign(
        actor=Actor.for_user(ctx.users["cc_officer"]), plan_id=plan.id, appointment_id=supervisor.id
    )
    # The assessment took place three weeks ago: move the calendar, not the rules.
    held = today - datetime.timedelta(days=21)
    Plan.objects.filter(pk=plan.id).update(
        registration_opens=held - datetime.timedelta(days=20), registration_closes=held - datetime.timedelta(days=3)
    )
    for c in PlanComponent.objects.filter(plan=plan):
        shift = c.starts_at.date() - held
        PlanComponent.objects.filter(pk=c.pk).update(starts_at=c.starts_at - shift, ends_at=c.ends_at - shift)
    exam_day(admin, plan, absent=[regs[5].id])
    for seat, appointment in enumerate(skills):
        actor = Actor.for_user(_assessor_login(appointment))
        entries = [
            {"registration_id": r.id, "value": str(_mark(i, seat))}
            if i != 5
            else {"registration_id": r.id, "status": "absent"}
            for i, r in enumerate(regs)
        ]
        scoring_services.score_enter(actor=actor, plan_id=plan.id, kind="skills", entries=entries)
        scoring_services.score_submit(actor=actor, plan_id=plan.id, kind="skills")
    theory = Actor.for_user(_assessor_login(assessors[0]))
    scoring_services.score_enter(
        actor=theory,
        plan_id=plan.id,
        kind="theory",
        entries=[
            {"registration_id": r.id, "value": str(58 if i % 11 == 4 else 66 + (i * 5) % 30)}
            if i != 5
            else {"registration_id": r.id, "status": "absent"}
            for i, r in enumerate(regs)
        ],
    )
    scoring_services.score_submit(actor=theory, plan_id=plan.id, kind="theory")
    for kind in ("theory", "skills"):
        scoring_services.component_lock(actor=admin, plan_id=plan.id, kind=kind)
    opened = held + datetime.timedelta(days=3)
    publication = publicity.publication_open(actor=admin, plan_id=plan.id, today=opened)
    objection = publicity.objection_raise(
        actor=Actor.anonymous(),
        plan_id=plan.id,
        registration_id=regs[3].id,
        client_ip="127.0.0.1",
        text="该考生操作技能考核时我在场,感觉评分偏低,请复核。",
        contact="13900000000",
        today=opened,
    )
    publicity.objection_answer(
        actor=admin, objection_id=objection.id, response="经考评组复核录像与评分记录,评分无误,维持原成绩。"
    )
    publicity.plan_finalise(actor=admin, plan_id=plan.id, today=publication.ends_on + datetime.timedelta(days=1))
    return plan


@transaction.atomic
def _open(ctx: DemoContext) -> Plan:
    association = ctx.organisations["association"]
    admin = Actor.for_user(ctx.users["assoc_admin"])
    today = timezone.localdate()
    closes = today + datetime.timedelta(days=20)
    exam = closes + datetime.timedelta(days=7)
    plan = plans.plan_create(
        actor=admin,
        organisation_id=association.id,
        occupation_code="4-03-02-01",
        levels=["5", "4", "3"],
        title=OPEN,
        venue="长春市南关区人民大街1888号 烹饪实训基地",
        capacity=120,
        registration_opens=today,
        registration_closes=closes,
        fee=260,
        description="面向餐饮企业从业人员;报名时请如实填写工作年限。",
        components=[
            {"kind": "theory", "starts_at": _at(exam, 9), "ends_at": _at(exam, 11), "room": "理论考场"},
            {"kind": "skills", "starts_at": _at(exam, 13), "ends_at": _at(exam, 16), "room": "热菜实训室"},
        ],
    )
    plans.plan_publish(actor=admin, plan_id=plan.id)
    return plan


@transaction.atomic
def _special_technicians(ctx: DemoContext) -> Plan | None:
    """The employer's own 特级技师 evaluation (eight-level system): two senior electricians, skills and a review
    panel of five, finalised, so that their certificates carry the 特级技师 number digit."""
    employer = ctx.organisations["employer"]
    admin = Actor.for_user(ctx.users["employer_admin"])
    today = timezone.localdate()
    electrician = Occupation.objects.get(code="6-31-01-03")
    if not scope_allows(employer, electrician, Level.objects.get(code="TJ"), today).allowed:
        return None  # a database seeded before the eight-level data: its filing does not cover 特级技师
    exam = today + datetime.timedelta(days=1)
    plan = plans.plan_create(
        actor=admin,
        organisation_id=employer.id,
        occupation_code=electrician.code,
        levels=["TJ"],
        title=SPECIAL,
        venue="长春市朝阳区卫星路8号 长春华信技能大师工作室",
        capacity=10,
        registration_opens=today,
        registration_closes=today,
        fee=0,
        description="企业自主评价:本单位取得高级技师证书满5年的职工;技能考核加业绩评价与答辩。",
        components=[
            {"kind": "skills", "starts_at": _at(exam, 8), "ends_at": _at(exam, 11), "room": "电工实训室"},
            {"kind": "review", "starts_at": _at(exam, 14), "ends_at": _at(exam, 16), "room": "技能大师工作室"},
        ],
    )
    plans.plan_publish(actor=admin, plan_id=plan.id)
    regs = []
    for name, body in (("温建业", "22010219860115141"), ("石光明", "22010419870420162")):
        person = person_get_or_create(actor=admin, name=name, id_type="ric", id_number=valid_ric(body))
        _employee(admin, employer, person)
        evidence = {
            "work_years": Decimal(18),
            "prior_certificates": [
                {"occupation_code": electrician.code, "level": "1", "issued_on": "2017-06-30", "number": ""}
            ],
        }
        reg = _create_registration(
            admin, plan, plan.levels.get(code="TJ"), person, evidence, source="bulk", employer_name=employer.name
        )
        registration_review(actor=admin, registration_id=reg.id, decision="approve", reason="已核验高级技师证书原件")
        regs.append(reg)
    seniors = list(
        Appointment.objects.filter(
            organisation=employer, role="assessor", scopes__occupation=electrician, scopes__max_level__code="TJ"
        ).order_by("id")
    )
    for kind in ("skills", "review"):
        for appointment in seniors:
            panel_services.panel_assign(actor=admin, plan_id=plan.id, kind=kind, appointment_id=appointment.id)
    held = today - datetime.timedelta(days=14)
    Plan.objects.filter(pk=plan.id).update(
        registration_opens=held - datetime.timedelta(days=20), registration_closes=held - datetime.timedelta(days=3)
    )
    for c in PlanComponent.objects.filter(plan=plan):
        shift = c.starts_at.date() - held
        PlanComponent.objects.filter(pk=c.pk).update(starts_at=c.starts_at - shift, ends_at=c.ends_at - shift)
    exam_day(admin, plan)
    for kind in ("skills", "review"):
        for seat, appointment in enumerate(seniors):
            actor = Actor.for_user(_assessor_login(appointment))
            entries = [{"registration_id": r.id, "value": str(78 + 4 * i + seat % 3)} for i, r in enumerate(regs)]
            scoring_services.score_enter(actor=actor, plan_id=plan.id, kind=kind, entries=entries)
            scoring_services.score_submit(actor=actor, plan_id=plan.id, kind=kind)
        scoring_services.component_lock(actor=admin, plan_id=plan.id, kind=kind)
    publication = publicity.publication_open(actor=admin, plan_id=plan.id, today=held + datetime.timedelta(days=2))
    publicity.plan_finalise(actor=admin, plan_id=plan.id, today=publication.ends_on + datetime.timedelta(days=1))
    return plan


def seed(ctx: DemoContext) -> None:
    finished = Plan.objects.filter(title=FINISHED).first() or _finished(ctx)
    ctx.plans = {"finished": finished, "open": Plan.objects.filter(title=OPEN).first() or _open(ctx)}
    special = Plan.objects.filter(title=SPECIAL).first() or _special_technicians(ctx)
    if special is not None:
        ctx.plans["special"] = special
    ctx.urls.append(("认定计划公告", "/assessments/plans/"))
    from .schools.demo import seed as seed_school

    seed_school(ctx)
    _binding_code(ctx, finished)


def _binding_code(ctx: DemoContext, plan: Plan) -> None:
    """A candidate of the finished session had their papers checked at its check-in and was handed a binding code:
    sign up, then bind at /accounts/bind/code/ with the name, ID number and code printed here. A fresh code each
    run (only its digest is kept, so an earlier one cannot be printed again; the new one retires it)."""
    from accounts.binding_codes import binding_code_issue

    reg = (
        plan.registrations.filter(outcome="passed", person__user__isnull=True, person__bindings__isnull=True)
        .select_related("person")
        .order_by("-id")
        .first()
    )
    if reg is None:
        return
    code = binding_code_issue(
        actor=Actor.for_user(ctx.users["employer_admin"]),
        person=reg.person,
        place="exam_checkin",
        organisation=plan.organisation,
        context={"plan": plan.id, "registration": reg.id, "demo": True},
    )
    ctx.urls.append(
        (
            f"绑定码演示:注册新账号后打开 /accounts/bind/code/,填写 {reg.person.name} / {reg.person.id_number} / {code}",
            "/accounts/signup/",
        )
    )


def exam_day(admin: Actor, plan: Plan, absent: list[int] = ()) -> None:
    """Tickets for every approved candidate, then each session's check-in (ID documents checked; `absent` stay
    away), as the organisation does on exam day (assessments/examday)."""
    from .examday import services as examday

    # Approving each candidate issued their ticket (assessments.examday.tickets_auto_issue); the button is for a
    # plan whose rooms were set late or a lost ticket.
    if plan.registrations.filter(status="approved", ticket__isnull=True).exists():
        examday.tickets_issue(actor=admin, plan_id=plan.id)
    tickets = {
        t.registration_id: t
        for t in AdmissionTicket.objects.filter(registration__plan=plan, registration__status="approved")
    }
    for component in plan.components.all():
        for reg_id, ticket in tickets.items():
            if reg_id in absent:
                examday.checkin_record(
                    actor=admin, plan_id=plan.id, kind=component.kind, status="absent", registration_id=reg_id
                )
            else:
                examday.checkin_record(
                    actor=admin,
                    plan_id=plan.id,
                    kind=component.kind,
                    status="present",
                    code=ticket.number,
                    id_checked=True,
                )
