"""Demo: the seed policies, a few 长春 certificates, and claims in every state — pending (one overdue), awaiting
second review, in publicity with an objection, approved, rejected and paid — made through the services, with
their dates set back so that deadlines and publicity have really run. Idempotent."""

import datetime
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from accounts.actors import Actor
from accounts.demo import DemoContext, valid_ric
from certificates.imports import certificates_import
from certificates.models import Certificate

from . import budgets, payments, records, services
from .models import Claim
from .policies import DEMO_FILE, policies_load

# key: (name, 17-digit ID body or a ctx.people key, occupation code, occupation, level, days before today issued)
CERTIFICATES = {
    "zhang_welder": ("张伟", "worker", "6-18-02-04", "焊工", "3", 75),
    "zhang_electrician": ("张伟", "worker", "6-31-01-03", "电工", "4", 40),
    "han": ("韩雪", "22010219980101001", "6-31-01-03", "电工", "4", 120),
    "feng": ("冯磊", "22010219980102002", "6-18-02-04", "焊工", "4", 100),
    "cao": ("曹阳", "22010219980103003", "6-31-07-03", "工业机器人系统操作员", "3", 150),
    "liu": ("刘洋", "22010419870305112", "4-10-01-05", "养老护理员", "5", 60),
    "wu": ("吴敏", "22010219930712224", "6-31-01-03", "电工", "3", 50),
    "zhou": ("周强", "22020219900411335", "6-18-02-04", "焊工", "4", 60),
}
# 周强's certificate is a 吉林市 one: his claim comes through the province's 12333 channel.
REGION_OF = {"zhou": "220202"}
CHANNEL_KEY_ID = "jl12333-demo"
ISSUER = "长春市职业技能鉴定指导中心(历史证书)"
NUMBER_PREFIX = "Y000022009901"  # a province-filed (0000) employer serial no live organisation is given


def _xlsx(rows: list[list], name: str) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


def _id_number(ctx: DemoContext, body: str) -> str:
    return ctx.people[body].id_number if body in ctx.people else valid_ric(body)


def _certificates(ctx: DemoContext, officer: Actor, today: datetime.date) -> dict[str, Certificate]:
    certs = _imported(ctx, officer, today)
    for key, code in REGION_OF.items():
        if key in certs and certs[key].region_code != code:
            # The historical import files every row under the importing bureau's region; this one is 吉林市's.
            Certificate.objects.filter(pk=certs[key].pk).update(region_code=code)
            certs[key].region_code = code
    return certs


def _imported(ctx: DemoContext, officer: Actor, today: datetime.date) -> dict[str, Certificate]:
    wanted = {}
    for serial, (key, (name, body, code, occupation, level, days)) in enumerate(CERTIFICATES.items(), start=1):
        issued = today - datetime.timedelta(days=days)
        number = f"{NUMBER_PREFIX}{issued.year % 100:02d}{level}{serial:06d}"
        wanted[key] = (
            number,
            [
                number,
                "职业技能等级证书",
                name,
                "居民身份证",
                _id_number(ctx, body),
                code,
                occupation,
                "",
                level,
                ISSUER,
                issued.isoformat(),
                "",
            ],
        )
    existing = {c.number: c for c in Certificate.objects.filter(number__startswith=NUMBER_PREFIX)}
    missing = [row for number, row in wanted.values() if number not in existing]
    if missing:
        header = [
            "证书编号",
            "证书类别",
            "姓名",
            "证件类型",
            "证件号码",
            "职业编码",
            "职业名称",
            "工种",
            "等级",
            "发证机构",
            "发证日期",
            "有效期至",
        ]
        report = certificates_import(actor=officer, upload=_xlsx([header, *missing], "demo-certificates.xlsx"))
        if not report.ok:
            raise RuntimeError(f"demo certificates: {report.as_dict()}")
        existing = {c.number: c for c in Certificate.objects.filter(number__startswith=NUMBER_PREFIX)}
    return {key: existing[number] for key, (number, _row) in wanted.items() if number in existing}


def _bulk(employer: Actor, org_id: int, certs: list[Certificate], months: int, day: datetime.date) -> list[Claim]:
    """The employer claims for these staff on `day`; the claims come back in the order of `certs`."""
    header = ["证书编号", "姓名", "证件号码", "人员类别", "失业保险缴费月数", "账户类型", "账号", "开户银行"]
    rows = [
        [
            c.number,
            c.holder_name,
            c.id_number,
            "企业职工",
            months,
            "银行卡",
            f"62170000{c.id:011d}",
            "中国建设银行长春分行",
        ]
        for c in certs
    ]
    report = services.claims_bulk_submit(
        actor=employer, organisation_id=org_id, upload=_xlsx([header, *rows], "demo-claims.xlsx"), today=day
    )
    if not report.ok:
        raise RuntimeError(f"demo claims: {report.as_dict()}")
    claims = {c.certificate_id: c for c in Claim.objects.filter(certificate__in=certs).exclude(status__in=Claim.CLOSED)}
    return [claims[c.id] for c in certs]


def _insurance(officer: Actor, rows: list[list]) -> None:
    header = ["姓名", "证件号码", "失业保险累计缴费月数", "截至日期", "领取失业保险金"]
    report = records.insurance_records_import(actor=officer, upload=_xlsx([header, *rows], "demo-insurance.xlsx"))
    if not report.ok:
        raise RuntimeError(f"demo insurance records: {report.as_dict()}")


def _through_publicity(claim: Claim, first: Actor, second: Actor, day: datetime.date) -> Claim:
    services.claim_review(actor=first, claim_id=claim.id, decision="pass", reason="材料齐全,信息核实无误", today=day)
    return services.claim_second_review(
        actor=second, claim_id=claim.id, decision="pass", reason="复核无误", today=day + datetime.timedelta(days=1)
    )


def _channel_claim(ctx: DemoContext, cert: Certificate, today: datetime.date) -> None:
    """The province's 12333 channel (HMAC; the secret is random and shown only in the admin) files 周强's claim
    three weeks ago, paid to his social-security card; 吉林市 reviews, the province second-reviews, 吉林市 approves:
    the province's statistics then show 长春 and 吉林市 side by side."""
    import base64
    import json
    import secrets

    from occupations.models import Region

    from .intake.services import IntakeClaimIn, intake_claim
    from .models import IntakeChannel

    channel, _created = IntakeChannel.objects.get_or_create(
        key_id=CHANNEL_KEY_ID,
        defaults={
            "code": "jl12333",
            "name": "吉林12333(演示)",
            "region": Region.objects.get(code="220000"),
            "algorithm": IntakeChannel.Algorithm.HMAC,
            "secret": base64.b64encode(secrets.token_bytes(32)).decode(),
        },
    )
    day = today - datetime.timedelta(days=21)
    body = {
        "request_id": f"DEMO-{cert.number}",
        "name": cert.holder_name,
        "id_number": cert.id_number,
        "certificate_number": cert.number,
        "insurance_months": 30,
        "ss_card_account": "8800220200004411",
    }
    raw = json.dumps(body, ensure_ascii=False).encode()
    status, answer = intake_claim(channel=channel, body=raw, data=IntakeClaimIn.model_validate(body), today=day)
    if status != 201:
        raise RuntimeError(f"demo channel claim: {answer}")
    city, province = Actor.for_user(ctx.users["jlc_officer"]), Actor.for_user(ctx.users["jl_officer"])
    claim_id = answer["claim_id"]
    services.claim_review(actor=city, claim_id=claim_id, decision="pass", reason="社保记录核实无误", today=day)
    services.claim_second_review(
        actor=province, claim_id=claim_id, decision="pass", reason="复核无误", today=day + datetime.timedelta(days=1)
    )
    services.claim_approve(
        actor=city, claim_id=claim_id, reason="公示期满无异议", today=today - datetime.timedelta(days=5)
    )


def _budget(officer: Actor, today: datetime.date) -> None:
    """长春's budget for the year, set so that the approvals already made use about four fifths of it: the warning
    shows, and the next approvals run into the stop unless a supplement is recorded."""
    used = budgets.budget_for_region_used(region_code="220100", year=today.year)
    budgets.budget_set(
        actor=officer,
        year=today.year,
        amount=max(used * Decimal("1.2"), Decimal(5000)).quantize(Decimal("1")),
        basis="演示预算(非正式批复)",
        region_code="220100",
    )


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    policies_load()
    # The 2025 versions ended with 2025: the demo runs on a continuation marked as a demonstration everywhere.
    policies_load(path=DEMO_FILE)
    today = timezone.localdate()
    days = datetime.timedelta
    officer, officer2 = Actor.for_user(ctx.users["cc_officer"]), Actor.for_user(ctx.users["cc_officer2"])
    employer = Actor.for_user(ctx.users["employer_admin"])
    org_id = ctx.organisations["employer"].id
    certs = _certificates(ctx, officer, today)
    ctx.urls += [
        ("技能提升补贴(劳动者 worker1)", "/subsidies/"),
        ("补贴审核(人社部门 cc_officer / cc_officer2)", "/subsidies/queue/"),
        ("补贴公示", "/subsidies/publicity/"),
        ("补贴统计:各市对比(人社部门 jl_officer)", "/subsidies/statistics/"),
        ("支付批次与银行回单导入(cc_officer)", "/subsidies/batches/"),
        ("补贴政策(2026年为演示政策)", "/subsidies/policies/"),
        ("平台外证书申报(劳动者 worker1)", "/subsidies/declared/"),
        ("平台外证书核实(cc_officer)", "/subsidies/declared/review/"),
        ("补贴资金预算与追加(cc_officer)", "/subsidies/budgets/"),
    ]
    if Claim.objects.filter(certificate__in=certs.values()).exists():
        return

    # 曹阳: the whole way to paid, in last month's batch.
    cao = _bulk(employer, org_id, [certs["cao"]], 36, today - days(70))[0]
    _insurance(
        officer,
        [
            [c.holder_name, c.id_number, m, (today - days(d)).isoformat(), "否"]
            for c, m, d in [
                (certs["cao"], 36, 75),
                (certs["han"], 24, 50),
                (certs["liu"], 18, 15),
                (certs["wu"], 15, 10),
            ]
        ],
    )
    _through_publicity(cao, officer, officer2, today - days(69))
    services.claim_approve(actor=officer, claim_id=cao.id, reason="公示期满无异议", today=today - days(45))
    last_month = (today.replace(day=1) - days(1)).strftime("%Y-%m")
    batch = payments.batch_create(actor=officer, month=last_month, today=today - days(30))
    payments.batch_bank_file(actor=officer, batch_id=batch.id)
    payments.payment_mark_paid(
        actor=officer,
        batch_id=batch.id,
        claim_id=cao.id,
        bank_reference="CCB20261025000187",
        paid_on=today - days(25),
    )

    # 韩雪 approved and waiting for this month's batch; 冯磊 rejected once the agency's record came in.
    han, feng = _bulk(employer, org_id, [certs["han"], certs["feng"]], 24, today - days(45))
    _insurance(officer, [[certs["feng"].holder_name, certs["feng"].id_number, 8, (today - days(46)).isoformat(), "否"]])
    _through_publicity(han, officer, officer2, today - days(44))
    services.claim_approve(actor=officer, claim_id=han.id, reason="公示期满无异议", today=today - days(10))
    services.claim_review(
        actor=officer,
        claim_id=feng.id,
        decision="reject",
        today=today - days(43),
        reason="社保记录显示失业保险累计缴费8个月,不足12个月",
    )

    # 刘洋 in publicity with an objection; 吴敏 waiting for the second review.
    liu = _bulk(employer, org_id, [certs["liu"]], 18, today - days(12))[0]
    _through_publicity(liu, officer, officer2, today - days(3))
    services.objection_raise(
        actor=Actor.anonymous(),
        claim_id=liu.id,
        text="据了解该职工已于上月离职,请核实参保情况。",
        contact="139****0000",
        client_ip="127.0.0.1",
        today=today - days(1),
    )
    wu = _bulk(employer, org_id, [certs["wu"]], 15, today - days(6))[0]
    services.claim_review(actor=officer, claim_id=wu.id, decision="pass", reason="材料齐全", today=today - days(2))

    _budget(officer, today)
    _channel_claim(ctx, certs["zhou"], today)

    # 张伟 (worker1) also holds a 中式烹调师 certificate from his years in 广东: declared, waiting for 长春 to verify.
    records.declared_certificate_declare(
        actor=Actor.for_user(ctx.users["worker1"]),
        occupation_code="4-03-02-01",
        level_code="4",
        number="S000044000311214000123",
        issuer="广东省餐饮服务行业协会",
        issued_on=today - days(700),
        region_code="220102",
    )

    # 张伟 (worker1) claimed his 焊工 certificate himself twelve days ago: nobody has reviewed it, so it is overdue.
    services.claim_submit(
        actor=Actor.for_user(ctx.users["worker1"]),
        certificate_id=certs["zhang_welder"].id,
        category="employee",
        insurance_months=36,
        account_kind="bank_card",
        account_number="6222020200001234567",
        bank_name="中国工商银行长春分行",
        today=today - days(12),
    )
