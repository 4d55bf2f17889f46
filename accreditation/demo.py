"""Demo: two filed organisations, a pending application, assessors, trainers, supervisors, training records."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.actors import Actor
from accounts.demo import DemoContext, _user, demo_accept_invitation, valid_ric, valid_uscc
from accounts.models import Role

from . import people, services
from .models import Appointment, Filing, Organisation, TrainingRecord

# The employer also assesses 学徒工 and 特级技师 in its own workforce (eight-level system, employers only).
EMPLOYER_SCOPE = [
    {"occupation_code": "6-31-01-03", "levels": ["XT", "5", "4", "3", "TJ"]},
    {"occupation_code": "6-18-02-04", "levels": ["5", "4", "3"]},
    {"occupation_code": "4-12-01-01", "levels": ["5", "4", "3", "2"]},
]
ASSOCIATION_SCOPE = [
    {"occupation_code": "4-03-02-01", "levels": ["5", "4", "3", "2"]},
    {"occupation_code": "4-03-02-07", "levels": ["5", "4", "3"]},
    {"occupation_code": "4-10-01-05", "levels": ["5", "4", "3"]},
    {"occupation_code": "4-10-01-06", "levels": ["5", "4", "3"]},
]
# (name, 17-digit ID body, occupation, highest level) for the assessor rosters
EMPLOYER_ASSESSORS = [
    ("王志强", "22010219860415101", "6-31-01-03", "3"),
    ("刘海燕", "22010419880623202", "6-31-01-03", "3"),
    ("赵国庆", "22010219871001303", "6-31-01-03", "3"),
    ("孙丽华", "22010419900808404", "6-31-01-03", "4"),
    ("钱卫东", "22010219890314111", "6-31-01-03", "3"),
    ("冯建华", "22010419870922212", "6-31-01-03", "3"),
    ("陶志远", "22010219910605313", "6-31-01-03", "3"),
]
# Senior staff cleared to judge 特级技师: the demo's 特级技师 panels (≥5, odd) are drawn from them.
SPECIAL_ASSESSORS = [
    ("杜长青", "22010219850310121", "6-31-01-03", "TJ"),
    ("邱振华", "22010419850518222", "6-31-01-03", "TJ"),
    ("贺永利", "22010219860722323", "6-31-01-03", "TJ"),
    ("龙世杰", "22010419860826424", "6-31-01-03", "TJ"),
    ("段立新", "22010219871130525", "6-31-01-03", "TJ"),
]
ASSOCIATION_ASSESSORS = [
    ("马红梅", "22010219850312505", "4-03-02-01", "2"),
    ("高建军", "22010419860716606", "4-03-02-01", "2"),
    ("郑秀英", "22010219890220707", "4-03-02-01", "2"),
    ("何伟", "22010419910505808", "4-03-02-07", "3"),
]


def _pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("申请表.pdf", b"%PDF-1.4\n% demo filing form\n", content_type="application/pdf")


def _file_and_approve(org, admin: Actor, officer: Actor, scope: list[dict]) -> Filing:
    filing = org.filings.filter(status__in=Filing.IN_FORCE).first()
    if filing is not None:
        return filing
    filing = org.filings.filter(status__in=Filing.OPEN).first() or services.filing_create(
        actor=admin, organisation_id=org.id, scope=scope, note="演示数据"
    )
    if filing.status == Filing.Status.DRAFT:
        services.filing_attach(actor=admin, filing_id=filing.id, title="评价机构备案申请表", upload=_pdf())
        services.filing_submit(actor=admin, filing_id=filing.id)
    filing.refresh_from_db()
    if filing.status == Filing.Status.SUBMITTED:
        services.filing_start_review(actor=officer, filing_id=filing.id)
    return services.filing_approve(actor=officer, filing_id=filing.id, reason="材料齐全,符合备案条件")


def _appoint(admin: Actor, org, role: str, name: str, body: str, code: str, level: str | None, **kw):
    id_number = valid_ric(body)
    if Appointment.objects.filter(person__id_number=id_number, role=role, organisation=org).exists():
        return
    people.appointment_register(
        actor=admin,
        role=role,
        name=name,
        id_type="ric",
        id_number=id_number,
        organisation_id=org.id,
        scopes=[{"occupation_code": code, "max_level": level}],
        valid_from=datetime.date(2025, 1, 1),
        valid_until=datetime.date(2028, 12, 31),
        qualification_note="演示数据",
        **kw,
    )


def _organisations(ctx: DemoContext) -> None:
    """Three organisations, each registered by its admin, and the employer's own assessor and trainer."""
    for key, username, label, values in [
        (
            "employer",
            "employer_admin",
            "评价机构管理员 · 用人单位(Y)",
            dict(
                name="长春华信汽车零部件有限公司",
                kind="Y",
                credit_code=valid_uscc("91220101MA0Y2K8X4"),
                region_code="220104",
                contact_name="王立新",
                contact_phone="13804310001",
                address="长春市朝阳区卫星路8号",
                provides_training=True,
            ),
        ),
        (
            "association",
            "assoc_admin",
            "评价机构管理员 · 行业协会(S)",
            dict(
                name="吉林省餐饮与家政服务行业协会",
                kind="S",
                credit_code=valid_uscc("51220000MJ0K3P7Q5"),
                region_code="220102",
                contact_name="赵雅琴",
                contact_phone="13904310002",
                address="长春市南关区人民大街1888号",
                provides_training=False,
            ),
        ),
        (
            "jilin_city_org",
            "jlc_org_admin",
            "评价机构管理员 · 吉林市机构(S)",
            dict(
                name="吉林市职业技能评价中心",
                kind="S",
                credit_code=valid_uscc("52220200MJ1C6B2R8"),
                region_code="220202",
                contact_name="孙海涛",
                contact_phone="13604320003",
                address="吉林市昌邑区解放北路66号",
                provides_training=True,
            ),
        ),
    ]:
        admin = _user(ctx, username, label, real_name=values["contact_name"])
        org = Organisation.objects.filter(credit_code=values["credit_code"]).first()
        if org is None:
            org = services.organisation_register(actor=Actor.for_user(admin), **values)
        ctx.organisations[key] = org


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    _organisations(ctx)
    officer = Actor.for_user(ctx.users["cc_officer"])
    employer, association = ctx.organisations["employer"], ctx.organisations["association"]
    emp_admin = Actor.for_user(ctx.users["employer_admin"])
    assoc_admin = Actor.for_user(ctx.users["assoc_admin"])
    ctx.filings = {
        "employer": _file_and_approve(employer, emp_admin, officer, EMPLOYER_SCOPE),
        "association": _file_and_approve(association, assoc_admin, officer, ASSOCIATION_SCOPE),
    }
    pending_org = ctx.organisations["jilin_city_org"]
    if not pending_org.filings.exists():
        jlc_admin = Actor.for_user(ctx.users["jlc_org_admin"])
        f = services.filing_create(
            actor=jlc_admin,
            organisation_id=pending_org.id,
            note="演示:待审核申请",
            scope=[{"occupation_code": "4-10-01-03", "levels": ["5", "4", "3"]}],
        )
        services.filing_attach(actor=jlc_admin, filing_id=f.id, title="评价机构备案申请表", upload=_pdf())
        services.filing_submit(actor=jlc_admin, filing_id=f.id)

    assessor = ctx.people["assessor"]
    _appoint(emp_admin, employer, "assessor", assessor.name, assessor.id_number[:17], "6-31-01-03", "3")
    for name, body, code, level in EMPLOYER_ASSESSORS + SPECIAL_ASSESSORS:
        _appoint(emp_admin, employer, "assessor", name, body, code, level)
    for name, body, code, level in ASSOCIATION_ASSESSORS:
        _appoint(assoc_admin, association, "assessor", name, body, code, level)
    trainer = ctx.people["trainer"]
    _appoint(emp_admin, employer, "trainer", trainer.name, trainer.id_number[:17], "6-18-02-04", None)
    _appoint(emp_admin, employer, "internal_supervisor", "吴晓明", "22010219830909909", "6-31-01-03", None)
    supervisor = ctx.people["supervisor"]
    bureau = ctx.bureaus["changchun"]
    if not Appointment.objects.filter(person=supervisor, role="external_supervisor", bureau=bureau).exists():
        people.appointment_register(
            actor=officer,
            role="external_supervisor",
            name=supervisor.name,
            id_type="ric",
            id_number=supervisor.id_number,
            bureau_id=bureau.id,
            valid_from=datetime.date(2025, 1, 1),
            scopes=[{"occupation_code": "6-31-01-03"}, {"occupation_code": "4-03-02-01"}],
        )
    # The appointed people's own accounts accept the invitations (the only way to a role; accounts.invitations).
    demo_accept_invitation(
        inviter=emp_admin, user=ctx.users["assessor1"], role=Role.ASSESSOR, organisation_id=employer.id
    )
    demo_accept_invitation(
        inviter=emp_admin, user=ctx.users["trainer1"], role=Role.TRAINER, organisation_id=employer.id
    )
    demo_accept_invitation(inviter=officer, user=ctx.users["supervisor1"], role=Role.SUPERVISOR, bureau_id=bureau.id)
    if not TrainingRecord.objects.filter(provider=employer).exists():
        trainer_actor = Actor.for_user(ctx.users["trainer1"])
        for i, name in enumerate(["韩雪", "冯磊", "曹阳"], start=1):
            people.training_record_create(
                actor=trainer_actor,
                provider_id=employer.id,
                trainee_name=name,
                trainee_id_number=valid_ric(f"2201021998010{i}00{i}"),
                trainer_name=trainer.name,
                trainer_id_number=trainer.id_number,
                occupation_code="6-18-02-04",
                start="2026-03-02",
                end="2026-04-30",
            )
