"""Demo: the finished assessment's certificates issued, one revoked and one suspended; prints a verify URL."""

from django.db import transaction

from accounts.actors import Actor
from accounts.demo import DemoContext

from . import issuance, services
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


def seed(ctx: DemoContext) -> None:
    plan = ctx.plans["finished"]
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
