"""Demo: an open report, a closed one on the exposure list, a 挂证 flag and an inspection with an overdue
rectification. Idempotent: each piece is recognised by its 【演示】 marker and made only once."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from accounts.actors import Actor
from accounts.demo import DemoContext, valid_uscc
from certificates.imports import COLUMNS as CERTIFICATE_COLUMNS
from certificates.imports import certificates_import
from certificates.models import Certificate
from occupations.models import Qualification

from . import demo_comebacks, guazheng, inspections, reports
from .models import CertificateReliance, Complaint, ComplaintKind, Inspection, Sanction

MARK = "【演示】"
DEMO_CERTIFICATE_NUMBER = "2201160300123456"
# A company the holder is actually insured with: neither of the employers that declare the certificate.
REAL_EMPLOYER = ("长春宏达建设工程有限公司", valid_uscc("91220104MA0H7D2W1"))


def _xlsx(rows: list[list]) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("demo.xlsx", buf.getvalue())


def _open_report(ctx: DemoContext, officer: Actor) -> None:
    if Complaint.objects.filter(description__startswith=MARK, status__in=Complaint.OPEN).exists():
        return
    association = ctx.organisations["association"]
    complaint, code = reports.complaint_submit(
        actor=Actor.anonymous(),
        kind=ComplaintKind.TRAINED_EXAMINER,
        organisation_id=association.id,
        description=f"{MARK}该协会组织的中式烹调师认定中,担任考评员的老师正是考前为我们上培训课的老师。",
    )
    reports.complaint_accept(actor=officer, complaint_id=complaint.id, assignee_id=ctx.users["cc_officer"].id)
    ctx.urls.append((f"演示举报查询码 {reports.format_tracking_code(code)}(仅本次显示)", "/oversight/track/"))


def _closed_report(ctx: DemoContext, officer: Actor) -> None:
    if Complaint.objects.filter(description__startswith=MARK, status=Complaint.Status.CLOSED).exists():
        return
    employer = ctx.organisations["employer"]
    complaint, _code = reports.complaint_submit(
        actor=Actor.anonymous(),
        kind=ComplaintKind.CANCELLED_QUALIFICATION,
        organisation_id=employer.id,
        qualification_id=_cancelled_qualification_id(),
        description=f"{MARK}该公司招聘仓储管理员,要求应聘者持有“物流师”职业资格证书,否则不予录用。",
    )
    reports.complaint_accept(actor=officer, complaint_id=complaint.id, assignee_id=ctx.users["cc_officer"].id)
    reports.complaint_note_add(
        actor=officer, complaint_id=complaint.id, text="调取招聘公告,约谈人事部门负责人,情况属实。"
    )
    reports.complaint_sanction(
        actor=officer,
        complaint_id=complaint.id,
        kind=Sanction.Kind.WARNING,
        reason="招聘条件要求提供已取消的职业资格证书",
        organisation_id=employer.id,
    )
    reports.complaint_close(
        actor=officer,
        complaint_id=complaint.id,
        outcome=Complaint.Outcome.SUBSTANTIATED,
        finding="该公司在招聘公告中将已取消的“物流师”职业资格作为录用条件。",
        measures="责令立即修改招聘条件,给予警告;已录用人员不受影响。",
        reply="经查属实,已责令该公司改正并给予警告。感谢您的监督。",
        publish=True,
    )


def _cancelled_qualification_id() -> int | None:
    q = Qualification.objects.filter(status=Qualification.Status.CANCELLED, name="物流师").first()
    return q.id if q else None


def _demo_certificate(ctx: DemoContext, officer: Actor) -> Certificate:
    """A certificate to be relied on: the one used before, an issued one in 长春, or a historical one imported."""
    used = CertificateReliance.objects.filter(purpose_note__startswith=MARK).select_related("certificate").first()
    if used is not None:
        return used.certificate
    issued = Certificate.objects.filter(status=Certificate.Status.VALID, region_code__startswith="2201").first()
    if issued is not None:
        return issued
    worker = ctx.people["worker"]
    report = certificates_import(
        actor=officer,
        region_code="220100",
        upload=_xlsx(
            [
                [c.header for c in CERTIFICATE_COLUMNS],
                [
                    DEMO_CERTIFICATE_NUMBER,
                    "职业资格证书",
                    worker.name,
                    "居民身份证",
                    worker.id_number,
                    "6-31-01-03",
                    "电工",
                    "",
                    "高级",
                    "吉林省职业技能鉴定指导中心",
                    "2016-03-18",
                    "",
                ],
            ]
        ),
    )
    if not report.ok:
        raise RuntimeError(f"demo certificate import failed: {report.as_dict()}")
    return Certificate.objects.get(number=DEMO_CERTIFICATE_NUMBER)


def _guazheng_flag(ctx: DemoContext, officer: Actor) -> None:
    cert = _demo_certificate(ctx, officer)
    today = timezone.localdate()
    if not guazheng.imports_for(officer).exists():
        period_to = today.replace(day=1) - datetime.timedelta(days=1)
        guazheng.insurance_import(
            actor=officer,
            region_code="220100",
            period_from=datetime.date(period_to.year - 1, 1, 1),
            period_to=period_to,
            upload=_xlsx(
                [
                    [c.header for c in guazheng.INSURANCE_COLUMNS],
                    [cert.id_number, cert.holder_name, REAL_EMPLOYER[1], REAL_EMPLOYER[0], "2019-07", ""],
                ]
            ),
        )
    start = datetime.date(today.year - 1, 3, 1)
    for key, username, offset in (("employer", "employer_admin", 0), ("association", "assoc_admin", 92)):
        org = ctx.organisations[key]
        if CertificateReliance.objects.filter(employer=org, certificate=cert).exists():
            continue
        guazheng.reliance_declare(
            actor=Actor.for_user(ctx.users[username]),
            employer_id=org.id,
            certificate_number=cert.number,
            holder_name=cert.holder_name,
            purpose="qualification_filing",
            start=start + datetime.timedelta(days=offset),
            purpose_note=f"{MARK}企业资质申报中的技术工人",
        )


def _inspection(ctx: DemoContext, officer: Actor) -> None:
    association = ctx.organisations["association"]
    if Inspection.objects.filter(organisation=association, reason__startswith=MARK).exists():
        return
    today = timezone.localdate()
    inspection = inspections.inspection_plan(
        actor=officer,
        organisation_id=association.id,
        scheduled_on=today - datetime.timedelta(days=45),
        reason=f"{MARK}年度专项督查:档案管理与考培分离",
    )
    conducted = today - datetime.timedelta(days=45)
    results = {key: {"result": "ok", "note": ""} for key in inspections.CHECKLIST}
    results["archives"] = {"result": "issue", "note": "2025年第二期认定的操作技能考核评分记录缺失"}
    inspections.inspection_record_findings(
        actor=officer, inspection_id=inspection.id, conducted_on=conducted, results=results, summary="现场检查半天。"
    )
    inspections.rectification_order(
        actor=officer,
        inspection_id=inspection.id,
        item="archives",
        requirement="补齐评分记录,建立考核档案清单并报送。",
        working_days=10,
        ordered_on=conducted,
    )


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    officer = Actor.for_user(ctx.users["cc_officer"])
    _open_report(ctx, officer)
    _closed_report(ctx, officer)
    _guazheng_flag(ctx, officer)
    _inspection(ctx, officer)
    demo_comebacks.seed(ctx)
    ctx.urls += [
        ("举报", "/oversight/report/"),
        ("曝光台", "/oversight/exposures/"),
        ("监管数据看板(cc_officer)", "/oversight/dashboard/"),
    ]
