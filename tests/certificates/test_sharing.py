"""加注件: a copy for one purpose and period, verified by whoever receives it, withdrawn by the holder."""

import datetime

import pytest
from django.utils import timezone
from pypdf import PdfReader

from accounts.actors import Actor
from certificates import services as certificate_services
from certificates.models import Certificate
from certificates.sharing import services
from certificates.sharing.models import SharedCopy
from core.models import AuditEntry
from tests.conftest import client_for
from tests.factories import UserFactory, bound_user, issued_certificates

pytestmark = pytest.mark.django_db

COPIES = "/api/v1/shared-copies"
PURPOSE = "用于长春一汽富维公司入职审核"


@pytest.fixture
def cert(finalised_plan, org_admin) -> Certificate:
    issued_certificates(finalised_plan, org_admin)
    return Certificate.objects.order_by("number").first()


@pytest.fixture
def holder(cert):
    return bound_user("holder", person=cert.person, password="holder-pass-2026")


def make(holder, cert, days: int = 30, purpose: str = PURPOSE):
    until = timezone.localdate() + datetime.timedelta(days=days)
    return client_for(holder).post(
        COPIES,
        {"certificate_id": cert.id, "purpose": purpose, "valid_until": until.isoformat()},
        content_type="application/json",
    )


def scan(token: str) -> dict:
    return client_for(None).get(f"{COPIES}/verify/{token}").json()


def test_a_copy_verifies_for_its_purpose_and_period_and_not_after(holder, cert):
    response = make(holder, cert, days=30)
    assert response.status_code == 201, response.content
    copy = SharedCopy.objects.get(pk=response.json()["id"])
    data = scan(copy.token)
    assert data["status"] == "valid" and data["purpose"] == PURPOSE
    assert data["valid_until"] == (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    assert data["certificate"]["number"] == cert.number
    assert cert.id_number not in str(data) and "*" in data["certificate"]["id_number"]

    last_day = services.copy_verify(copy.token, today=copy.valid_until)
    assert last_day.status == "valid"
    after = services.copy_verify(copy.token, today=copy.valid_until + datetime.timedelta(days=1))
    assert after.status == "expired" and after.facts["purpose"] == PURPOSE
    assert services.copy_verify(copy.token, today=copy.valid_from - datetime.timedelta(days=1)).status == (
        "not_yet_valid"
    )
    assert AuditEntry.objects.filter(action="certificate.copy_create", object_id=str(copy.id)).exists()


def test_the_scan_page_shows_purpose_and_validity_on_a_phone(holder, cert):
    copy = SharedCopy.objects.get(pk=make(holder, cert).json()["id"])
    page = client_for(None).get(f"/s/{copy.token}")
    body = page.content.decode()
    assert page.status_code == 200
    assert PURPOSE in body and copy.valid_until.isoformat() in body and "加注件有效" in body
    assert cert.id_number not in body


def test_withdrawn_copies_say_so_and_stay_withdrawn(holder, cert):
    copy = SharedCopy.objects.get(pk=make(holder, cert).json()["id"])
    response = client_for(holder).post(f"{COPIES}/{copy.id}/withdraw")
    assert response.status_code == 200 and response.json()["withdrawn"] is True
    assert scan(copy.token)["status"] == "withdrawn"
    assert client_for(holder).post(f"{COPIES}/{copy.id}/withdraw").status_code == 409
    assert AuditEntry.objects.filter(action="certificate.copy_withdraw", object_id=str(copy.id)).exists()


def test_a_copy_of_a_revoked_certificate_is_not_valid(holder, cert, org_admin):
    copy = SharedCopy.objects.get(pk=make(holder, cert).json()["id"])
    certificate_services.certificate_revoke(actor=Actor.for_user(org_admin), certificate_id=cert.id, reason="材料造假")
    data = scan(copy.token)
    assert data["status"] == "revoked" and "材料造假" in data["message"]
    assert make(holder, cert).status_code == 409  # and no new copy of it


def test_an_altered_copy_or_token_is_forged(holder, cert):
    copy = SharedCopy.objects.get(pk=make(holder, cert).json()["id"])
    SharedCopy.objects.filter(pk=copy.pk).update(valid_until=copy.valid_until + datetime.timedelta(days=365))
    assert scan(copy.token)["status"] == "forged"
    SharedCopy.objects.filter(pk=copy.pk).update(valid_until=copy.valid_until, purpose="用于任何用途")
    assert scan(copy.token)["status"] == "forged"
    SharedCopy.objects.filter(pk=copy.pk).update(purpose=PURPOSE)
    assert scan(copy.token)["status"] == "valid"
    tampered = copy.token[:-3] + ("AAA" if not copy.token.endswith("AAA") else "BBB")
    assert scan(tampered)["status"] in ("forged", "unknown")
    # A certificate's own token is not a copy.
    assert scan(cert.token)["status"] == "unknown"


def test_the_copy_pdf_stamps_purpose_and_validity_without_the_id_number(holder, cert):
    copy = SharedCopy.objects.get(pk=make(holder, cert).json()["id"])
    response = client_for(holder).get(f"/certificates/shared/{copy.id}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    import io

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = "".join(text.split())
    assert "".join(PURPOSE.split()) in flat
    assert f"{copy.valid_until.year}年{copy.valid_until.month}月{copy.valid_until.day}日" in flat
    assert cert.id_number not in flat and copy.code in flat


def test_the_copy_pdf_is_signed_by_the_platform_and_an_edit_shows(client, holder, cert, tmp_path):
    """A copy goes to an employer as a file: like the certificate's PDF it carries the platform's signature over the
    whole file, checked here against the published chain and by poppler's pdfsig, and a changed byte breaks it."""
    from tests.certificates.test_document_signing import _pdfsig, _published_root, _validate

    copy = SharedCopy.objects.get(pk=make(holder, cert).json()["id"])
    pdf = client_for(holder).get(f"/certificates/shared/{copy.id}/pdf/").content
    signature, status = _validate(pdf, _published_root(client))
    assert status.intact and status.valid and status.trusted and status.coverage.name == "ENTIRE_FILE"
    assert cert.number in str(signature.sig_object["/Reason"]) and "加注件" in str(signature.sig_object["/Reason"])
    assert "Signature is Valid." in _pdfsig(tmp_path, pdf)
    at = pdf.index(b"/MediaBox")
    edited = pdf[:at] + pdf[at:].replace(b"0", b"1", 1)
    assert "Signature is Valid." not in _pdfsig(tmp_path, edited)


@pytest.mark.parametrize(
    ("purpose", "days", "field"),
    [
        ("", 30, "purpose"),
        ("   ", 30, "purpose"),
        ("用" * 101, 30, "purpose"),
        (PURPOSE, -1, "valid_until"),
        (PURPOSE, 181, "valid_until"),
    ],
)
def test_bad_input_is_refused_with_the_field(holder, cert, purpose, days, field):
    response = make(holder, cert, days=days, purpose=purpose)
    assert response.status_code == 422, response.content
    assert field in str(response.json()["details"])
    assert not SharedCopy.objects.exists()


def test_only_the_holder_makes_and_withdraws_copies(holder, cert, org_admin, cc_officer, other_org_admin):
    copy = SharedCopy.objects.get(pk=make(holder, cert).json()["id"])
    for user in (org_admin, cc_officer, other_org_admin, UserFactory()):
        assert make(user, cert).status_code == 404
        assert client_for(user).post(f"{COPIES}/{copy.id}/withdraw").status_code == 404
        assert client_for(user).get(COPIES).json() == []
        assert client_for(user).get(f"/certificates/shared/{copy.id}/pdf/").status_code == 404
    assert client_for(None).post(COPIES, {}, content_type="application/json").status_code == 401
    copy.refresh_from_db()
    assert copy.withdrawn_at is None and SharedCopy.objects.count() == 1


def test_the_holders_page_makes_lists_and_withdraws(holder, cert):
    client = client_for(holder)
    until = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    response = client.post(
        "/certificates/shared/", {"certificate_id": cert.id, "purpose": PURPOSE, "valid_until": until}
    )
    assert response.status_code == 302
    copy = SharedCopy.objects.get()
    page = client.get("/certificates/shared/").content.decode()
    assert PURPOSE in page and f"/s/{copy.token}" in page
    client.post(f"/certificates/shared/{copy.id}/withdraw/")
    copy.refresh_from_db()
    assert copy.withdrawn_at is not None
    bad = client.post("/certificates/shared/", {"certificate_id": cert.id, "purpose": PURPOSE, "valid_until": "明天"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.content.decode()
