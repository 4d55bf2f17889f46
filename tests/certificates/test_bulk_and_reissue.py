"""Bulk revocation with notice, and reissue (补发) beside replacement (换发): issue 15 item 8."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.actors import Actor
from accounts.models import User
from certificates import bulk, credentials, ecert, services
from certificates.models import Certificate
from certificates.presenters import certificate_view
from core.errors import NotFound, ValidationFailed
from core.models import AuditEntry, Notification
from tests.certificates.test_credentials import bit, status_list
from tests.conftest import client_for
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db


@pytest.fixture
def certs(finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    certs = list(Certificate.objects.select_related("level", "organisation").order_by("number"))
    for i, cert in enumerate(certs[:3]):  # three holders have accounts
        user = User.objects.create_user(username=f"holder{i}", password="x" * 12)
        user.person = cert.person
        user.save(update_fields=["person"])
    return certs


def test_the_preview_changes_nothing_and_says_what_would_happen(certs, org_admin, finalised_plan):
    services.certificate_revoke(actor=Actor.for_user(org_admin), certificate_id=certs[0].id, reason="早先撤销")
    preview = bulk.revocation_preview(actor=Actor.for_user(org_admin), plan_id=finalised_plan.id)
    assert len(preview.to_revoke) == len(certs) - 1 and preview.already == [certs[0].number]
    assert preview.holders_notified == 2
    assert Certificate.objects.filter(status="valid").count() == len(certs) - 1


def test_a_plan_is_revoked_at_once_holders_told_status_list_updated_once(client, certs, org_admin, finalised_plan):
    with mock.patch.object(bulk, "status_lists_invalidate", wraps=credentials.status_lists_invalidate) as invalidate:
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            done = bulk.certificates_revoke_bulk(
                actor=Actor.for_user(org_admin), plan_id=finalised_plan.id, reason="整场考试舞弊,经查实"
            )
    assert invalidate.call_count == 1
    assert len(done.to_revoke) == len(certs)
    assert set(Certificate.objects.values_list("status", flat=True)) == {"revoked"}
    entry = AuditEntry.objects.get(action="certificate.revoke_bulk")
    assert sorted(entry.after["numbers"]) == sorted(c.number for c in certs)
    notices = Notification.objects.filter(title="您的证书已被撤销")
    assert notices.count() == 3 and "整场考试舞弊" in notices.first().body
    _vc, bits = status_list(client, "revocation", f"o{certs[0].organisation_id}")
    assert all(bit(bits, c.status_index) for c in certs)
    data = client.get(f"/api/v1/verify/{certs[0].token}").json()
    assert data["status"] == "revoked" and data["status_reason"] == "整场考试舞弊,经查实"


def test_the_holder_sees_the_notice(certs, org_admin, finalised_plan):
    bulk.certificates_revoke_bulk(actor=Actor.for_user(org_admin), plan_id=finalised_plan.id, reason="舞弊")
    holder = User.objects.get(username="holder0")
    assert Notification.objects.filter(user=holder, title="您的证书已被撤销").exists()


def test_another_organisation_cannot_preview_or_revoke(certs, other_org_admin, finalised_plan):
    actor = Actor.for_user(other_org_admin)
    for call in (bulk.revocation_preview, lambda **kw: bulk.certificates_revoke_bulk(reason="x", **kw)):
        with pytest.raises(NotFound):
            call(actor=actor, plan_id=finalised_plan.id)
        with pytest.raises(NotFound):
            call(actor=actor, numbers=[certs[0].number])
    assert not Certificate.objects.exclude(status="valid").exists()
    response = client_for(other_org_admin).post(
        "/api/v1/certificates/revocations",
        {"plan_id": finalised_plan.id, "reason": "x", "confirm": True},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_a_reason_is_required(certs, org_admin, finalised_plan):
    with pytest.raises(ValidationFailed):
        bulk.certificates_revoke_bulk(actor=Actor.for_user(org_admin), plan_id=finalised_plan.id, reason=" ")


def test_the_api_previews_then_revokes_by_number(certs, cc_officer):
    client = client_for(cc_officer)
    numbers = [certs[0].number, certs[1].number, "S999999999999999999999"]
    response = client.post(
        "/api/v1/certificates/revocations", {"numbers": numbers, "reason": "冒名顶替"}, content_type="application/json"
    )
    preview = response.json()
    assert response.status_code == 200, preview
    assert preview["revoked"] is False and preview["to_revoke"] == 2 and preview["unknown"] == [numbers[2]]
    assert not Certificate.objects.exclude(status="valid").exists()
    done = client.post(
        "/api/v1/certificates/revocations",
        {"numbers": numbers, "reason": "冒名顶替", "confirm": True},
        content_type="application/json",
    ).json()
    assert done["revoked"] is True and sorted(done["numbers"]) == sorted(numbers[:2])
    assert Certificate.objects.filter(status="revoked").count() == 2


def test_the_page_previews_and_revokes(certs, org_admin, finalised_plan):
    client = client_for(org_admin)
    page = client.get(f"/certificates/plans/{finalised_plan.id}/revoke/")
    assert page.status_code == 200 and f'id="to-revoke">{len(certs)}<' in page.content.decode()
    response = client.post(f"/certificates/plans/{finalised_plan.id}/revoke/", {"reason": "整场舞弊"})
    assert response.status_code == 302
    assert set(Certificate.objects.values_list("status", flat=True)) == {"revoked"}


def test_a_thousand_certificates_take_one_update_and_one_status_list_change(certs, org_admin, cc_officer):
    """1,000 certificates (copies of an issued one, each with its own number and status position) revoked in bulk:
    one UPDATE of the certificates, one invalidation of the status lists, a bounded number of queries."""
    template = certs[0]
    extra = []
    for serial in range(1000):
        copy = Certificate.objects.get(pk=template.pk)
        copy.pk = None
        copy.number = f"{template.number[:16]}{900000 + serial:06d}"
        copy.registration = None
        copy.token = f"bulk-{serial}"
        copy.ecert_id = None
        copy.status_index = 3_000_000 + serial
        extra.append(copy)
    Certificate.objects.bulk_create(extra)
    numbers = [c.number for c in extra]
    with (
        mock.patch.object(bulk, "status_lists_invalidate") as invalidate,
        CaptureQueriesContext(connection) as queries,
    ):
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            done = bulk.certificates_revoke_bulk(actor=Actor.for_user(cc_officer), numbers=numbers, reason="批量核查")
    assert len(done.to_revoke) == 1000 and invalidate.call_count == 1
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "certificates_certificate"')]
    assert len(updates) == 1
    assert len(queries.captured_queries) < 60, len(queries.captured_queries)  # not one (or more) per certificate
    assert Certificate.objects.filter(number__in=numbers, status="revoked").count() == 1000
    flagged, _length = credentials.status_list_bits(
        "revocation", credentials.list_issuer(f"o{template.organisation_id}")
    )
    assert set(range(3_000_000, 3_001_000)) <= set(flagged)


# --- 补发 (reissue) and 换发 (replacement) ----------------------------------------------------------------------


def test_a_reissue_keeps_the_number_and_the_old_qr_valid(client, certs, org_admin):
    cert = certs[0]
    old_token, old_identifier = cert.token, cert.ecert_id
    reissued = services.certificate_reissue(actor=Actor.for_user(org_admin), certificate_id=cert.id, reason="原件遗失")
    assert reissued.number == cert.number and reissued.token == old_token and reissued.copies == 2
    assert reissued.ecert_id.endswith(".002." + reissued.ecert_id[-1]) and ecert.is_valid(reissued.ecert_id)
    assert reissued.ecert_id != old_identifier
    assert client.get(f"/api/v1/verify/{old_token}").json()["status"] == "valid"
    assert client.get(f"/api/v1/verify/{old_identifier}").json()["status"] == "valid"  # the lost copy's identifier
    assert client.get(f"/api/v1/verify/{reissued.ecert_id}").json()["status"] == "valid"
    view = certificate_view(Certificate.objects.get(pk=cert.pk))
    assert any("补发件(第2份)" in note for note in view.notes) and view.ecert_id == reissued.ecert_id
    assert AuditEntry.objects.filter(action="certificate.reissue", object_id=str(cert.id)).exists()
    assert Notification.objects.filter(title="您的证书已补发").count() == 1


def test_a_replacement_takes_a_new_number_and_retires_the_old(client, certs, org_admin):
    new = services.certificate_replace(
        actor=Actor.for_user(org_admin),
        certificate_id=certs[0].id,
        reason="姓名更正",
        corrections={"holder_name": "王五"},
    )
    assert new.number != certs[0].number
    assert client.get(f"/api/v1/verify/{certs[0].token}").json()["status"] == "superseded"


def test_only_a_valid_certificate_is_reissued_and_only_by_its_issuer(certs, org_admin, other_org_admin):
    with pytest.raises(NotFound):
        services.certificate_reissue(actor=Actor.for_user(other_org_admin), certificate_id=certs[0].id, reason="x")
    services.certificate_revoke(actor=Actor.for_user(org_admin), certificate_id=certs[1].id, reason="舞弊")
    from core.errors import Conflict

    with pytest.raises(Conflict):
        services.certificate_reissue(actor=Actor.for_user(org_admin), certificate_id=certs[1].id, reason="遗失")
    response = client_for(org_admin).post(
        f"/api/v1/certificates/{certs[0].id}/reissue", {"reason": "遗失"}, content_type="application/json"
    )
    assert response.status_code == 200 and Certificate.objects.get(pk=certs[0].pk).copies == 2
