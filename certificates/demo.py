"""Demo: the finished assessment's certificates issued, one revoked and one suspended; prints a verify URL."""

import io

from django.db import transaction

from accounts.actors import Actor
from accounts.demo import DemoContext
from assessments.schools.demo import demo_xlsx

from . import issuance, services
from .imports import COLUMNS as IMPORT_COLUMNS
from .imports import certificates_import
from .models import Certificate, IssueBatch


@transaction.atomic
def _statuses(ctx: DemoContext) -> None:
    certs = list(Certificate.objects.filter(registration__plan=ctx.plans["finished"]).order_by("number"))
    if len(certs) < 3 or Certificate.objects.exclude(status="valid").exists():
        return
    admin = Actor.for_user(ctx.users["employer_admin"])
    services.certificate_revoke(
        actor=Actor.for_user(ctx.users["cc_officer"]),
        certificate_id=certs[-1].id,
        reason="经举报核实,报名材料中的工作年限证明系伪造",
    )
    services.certificate_suspend(actor=admin, certificate_id=certs[-2].id, reason="持证人信息核查中")


def _historical_certificate(ctx: DemoContext) -> None:
    """worker1's 高级工 certificate from before the reform, imported by the bureau: his career page shows the
    title it lets him apply for (贯通)."""
    if Certificate.objects.filter(number="0822000300012345").exists():
        return
    worker = ctx.people["worker"]
    values = {
        "number": "0822000300012345",
        "kind": "职业资格证书",
        "name": worker.name,
        "id_type": "居民身份证",
        "id_number": worker.id_number,
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "level": "三级",
        "issuer": "吉林省职业技能鉴定指导中心",
        "issued_on": "2016-06-30",
    }
    row = [values.get(c.key, "") for c in IMPORT_COLUMNS]
    report = certificates_import(
        actor=Actor.for_user(ctx.users["cc_officer"]),
        upload=demo_xlsx([c.header for c in IMPORT_COLUMNS], [row]),
        region_code="220100",
    )
    if not report.ok:
        raise RuntimeError(f"demo data rejected: {report.as_dict()}")


def specimen_seal(name: str) -> bytes:
    """A round red seal reading the organisation's name around a star and "样章" (specimen) across it: clearly a
    demonstration, never an imitation of a real organisation's seal."""
    import math

    from PIL import Image, ImageDraw, ImageFont

    from . import fonts

    size, ink = 600, (200, 20, 20, 255)
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((12, 12, size - 12, size - 12), outline=ink, width=18)
    centre = size / 2
    star = [
        (
            centre + (90 if i % 2 == 0 else 36) * math.sin(math.pi * i / 5),
            centre - (90 if i % 2 == 0 else 36) * math.cos(math.pi * i / 5),
        )
        for i in range(10)
    ]
    draw.polygon(star, fill=ink)
    bold = str(fonts.ensure_font().bold)
    text = name[:14]
    letter = ImageFont.truetype(bold, 54)
    sweep = min(240, 17 * len(text))
    for i, char in enumerate(text):
        angle = math.radians(-sweep / 2 + sweep * (i + 0.5) / len(text))
        glyph = Image.new("RGBA", (70, 70), (255, 255, 255, 0))
        ImageDraw.Draw(glyph).text((35, 35), char, font=letter, fill=ink, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle), resample=Image.Resampling.BICUBIC)
        x = centre + 215 * math.sin(angle) - 35
        y = centre - 215 * math.cos(angle) - 35
        image.alpha_composite(glyph, (round(x), round(y)))
    draw.text((centre, centre + 150), "样章", font=ImageFont.truetype(bold, 64), fill=ink, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _seals(ctx: DemoContext) -> None:
    """The demo organisations stamp their certificates with a specimen seal, uploaded like a real one."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accreditation.services import organisation_seal_set

    for key, username in (("employer", "employer_admin"), ("association", "assoc_admin")):
        org = ctx.organisations.get(key)
        if org is None or username not in ctx.users:
            continue
        org.refresh_from_db(fields=["seal"])
        if org.seal:
            continue
        upload = SimpleUploadedFile("seal.png", specimen_seal(org.name), content_type="image/png")
        organisation_seal_set(actor=Actor.for_user(ctx.users[username]), organisation_id=org.id, upload=upload)


def seed(ctx: DemoContext) -> None:
    plan = ctx.plans["finished"]
    _seals(ctx)
    # With a real broker the batch runs on the worker; finish it here so the demo is complete either way.
    for batch in IssueBatch.objects.filter(plan__in=ctx.plans.values()).exclude(status=IssueBatch.Status.DONE):
        issuance.issue_batch_run(batch.id)
    _statuses(ctx)
    valid = Certificate.objects.filter(registration__plan=plan, status="valid").order_by("number").first()
    if valid is not None:
        ctx.urls.append((f"证书核验({valid.holder_name} {valid.number})", f"/v/{valid.token}"))
    special = None
    if "special" in ctx.plans:
        special = Certificate.objects.filter(registration__plan=ctx.plans["special"]).order_by("number").first()
    if special is not None:
        ctx.urls.append((f"特级技师证书核验({special.holder_name} {special.number})", f"/v/{special.token}"))
    _historical_certificate(ctx)
    ctx.urls.append(("职业发展路径(worker1)", "/certificates/careers/"))
