"""Demo for 双证书: a technical school filed as an evaluation organisation, with a graduating class registered and
approved on its plan. Everything goes through the services; the school's kind is set as the operator would set
it in the admin."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from accounts.actors import Actor
from accounts.demo import DemoContext, _member, _user, valid_ric, valid_uscc
from accounts.models import Role
from accreditation.demo import _file_and_approve
from accreditation.models import Organisation
from accreditation.services import organisation_register

from .. import plans
from ..demo import _at
from ..models import Plan
from . import services as schools

SCHOOL_PLAN = "2027届电气自动化专业毕业生职业技能等级认定(双证书)"
CLASS_NAME = "2027届电气自动化设备安装与维修1班"
STUDENTS = ["刘洋", "马超", "高敏", "罗静", "梁杰", "宋涛", "唐娟", "许磊", "韩雪", "冯勇"]


def demo_xlsx(headers: list[str], rows: list[list]) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("demo.xlsx", buf.getvalue())


def _school(ctx: DemoContext) -> Organisation:
    admin = _user(ctx, "school_admin", "评价机构管理员 · 技工院校(双证书)", real_name="刘振华")
    values = dict(
        name="长春市第一高级技工学校",
        kind="S",
        credit_code=valid_uscc("12220100MB1T5W7G2"),
        region_code="220102",
        contact_name="刘振华",
        contact_phone="13704310005",
        address="长春市南关区亚泰大街3288号",
        provides_training=True,
    )
    school = Organisation.objects.filter(credit_code=values["credit_code"]).first()
    if school is None:
        school = organisation_register(actor=Actor.for_user(admin), **values)
    _member(admin, Role.ORG_ADMIN, organisation=school)
    if not school.school_kind:
        Organisation.objects.filter(pk=school.pk).update(school_kind="advanced_technical")
        school.refresh_from_db()
    _file_and_approve(
        school,
        Actor.for_user(admin),
        Actor.for_user(ctx.users["cc_officer"]),
        [{"occupation_code": "6-31-01-03", "levels": ["4", "3"]}],
    )
    ctx.organisations["school"] = school
    return school


@transaction.atomic
def _graduating_class(ctx: DemoContext, school: Organisation) -> None:
    admin = Actor.for_user(ctx.users["school_admin"])
    plan = Plan.objects.filter(title=SCHOOL_PLAN, organisation=school).first()
    if plan is None:
        today = timezone.localdate()
        exam = today + datetime.timedelta(days=30)
        plan = plans.plan_create(
            actor=admin,
            organisation_id=school.id,
            occupation_code="6-31-01-03",
            levels=["4"],
            title=SCHOOL_PLAN,
            venue="长春市南关区亚泰大街3288号 电工实训楼",
            capacity=60,
            registration_opens=today,
            registration_closes=today + datetime.timedelta(days=20),
            fee=0,
            description="本校应届毕业生整班认定,合格者证书以毕业日期签发。",
            components=[
                {"kind": "theory", "starts_at": _at(exam, 9), "ends_at": _at(exam, 11), "room": "理论考场"},
                {"kind": "skills", "starts_at": _at(exam, 13), "ends_at": _at(exam, 16), "room": "电工实训室"},
            ],
        )
        plans.plan_publish(actor=admin, plan_id=plan.id)
    graduating = plan.graduating_classes.filter(name=CLASS_NAME).first() or schools.class_create(
        actor=admin,
        plan_id=plan.id,
        name=CLASS_NAME,
        major="电气自动化设备安装与维修",
        graduation_date=timezone.localdate() + datetime.timedelta(days=200),
    )
    if not graduating.registrations.exists():
        rows = [
            [name, "居民身份证", valid_ric(f"22010220060{1 + i % 9}{10 + i:02d}{300 + i:03d}"), "", "四级"]
            for i, name in enumerate(STUDENTS)
        ]
        report = schools.class_import(
            actor=admin, class_id=graduating.id, upload=demo_xlsx([c.header for c in schools.CLASS_COLUMNS], rows)
        )
        if not report.ok:
            raise RuntimeError(f"demo data rejected: {report.as_dict()}")
        schools.class_approve(actor=admin, class_id=graduating.id)


def seed(ctx: DemoContext) -> None:
    school = _school(ctx)
    _graduating_class(ctx, school)
    ctx.urls.append(("毕业班整班认定(双证书)", "/assessments/classes/"))
