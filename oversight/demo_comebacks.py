"""Demo: a disguised comeback of a cancelled qualification (物流师) in a draft plan, found by the scan and
turned into a case. Idempotent: the plan is recognised by its title, the case by the finding."""

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.demo import DemoContext
from assessments import plans
from assessments.models import Plan

from . import comebacks
from .models import ComebackFinding

TITLE = "2026年物流师(仓储管理方向)培训考核"


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    plan = Plan.objects.filter(title=TITLE).first()
    if plan is None:
        today = timezone.localdate()
        closes, exam = today + datetime.timedelta(days=30), today + datetime.timedelta(days=40)
        plan = plans.plan_create(
            actor=Actor.for_user(ctx.users["assoc_admin"]),
            organisation_id=ctx.organisations["association"].id,
            occupation_code="4-03-02-01",
            levels=["4"],
            title=TITLE,
            venue="长春市南关区人民大街1888号",
            capacity=40,
            registration_opens=today,
            registration_closes=closes,
            fee=300,
            description="考核合格者颁发物流师证书,可用于企业物流资质申报。",
            components=[
                {"kind": "theory", "starts_at": _at(exam, 9), "ends_at": _at(exam, 11), "room": "理论考场"},
                {"kind": "skills", "starts_at": _at(exam, 13), "ends_at": _at(exam, 16), "room": "实训室"},
            ],
        )
    comebacks.comeback_scan(actor=Actor.platform())
    officer = Actor.for_user(ctx.users["cc_officer"])
    found = ComebackFinding.objects.filter(target=ComebackFinding.Target.PLAN, object_id=plan.id).order_by("id")
    case = next((f.complaint for f in found if f.complaint_id), None)
    for finding in found.filter(status=ComebackFinding.Status.OPEN):
        if case is None:
            case = comebacks.finding_investigate(actor=officer, finding_id=finding.id)
        else:
            comebacks.finding_link_case(actor=officer, finding_id=finding.id, complaint_id=case.id)
    ctx.urls.append(("已取消职业资格变相恢复排查(cc_officer)", "/oversight/comebacks/?status=all"))
