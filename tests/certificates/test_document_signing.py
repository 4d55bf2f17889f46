"""Certificate PDFs signed by the platform (issue 15 item 1), checked by two readers that are not ours: pyHanko's
own validator against the published chain, and poppler's pdfsig. An edited PDF must be caught by both."""

import datetime
import io
import subprocess
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from accounts.actors import Actor
from accreditation.services import organisation_seal_set
from certificates import docsign
from certificates.demo import specimen_seal
from certificates.models import Certificate
from certificates.presenters import certificate_pdf, certificate_view
from core.errors import NotFound, ValidationFailed
from core.models import AuditEntry
from tests.conftest import client_for
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    return Certificate.objects.select_related("level", "person", "organisation").order_by("number").first()


def _published_root(client) -> asn1_x509.Certificate:
    response = client.get("/.well-known/document-signing-chain.pem")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    blocks = [der for _, _, der in pem.unarmor(response.content, multiple=True)]
    assert len(blocks) == 2, "the signer's certificate, then the root"
    return asn1_x509.Certificate.load(blocks[-1])


def _validate(pdf: bytes, root: asn1_x509.Certificate):
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    return signature, validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))


def _pdfsig(tmp_path: Path, pdf: bytes) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout


def test_a_downloaded_pdf_is_signed_and_validates_against_the_published_chain(client, issued, org_admin, tmp_path):
    response = client_for(org_admin).get(f"/api/v1/certificates/{issued.id}/pdf")
    assert response.status_code == 200
    signature, status = _validate(response.content, _published_root(client))
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert "职业技能等级认定平台" in status.signing_cert.subject.human_friendly
    assert issued.number in str(signature.sig_object["/Reason"])

    out = _pdfsig(tmp_path, response.content)
    assert "Signature is Valid." in out and "ETSI.CAdES.detached" in out and "Total document signed" in out


def test_an_edited_pdf_is_detected(client, issued, tmp_path):
    signed = certificate_pdf(issued)
    # The page's size changed by a point, byte for byte in place (so no offset moves): inside the signed range.
    assert signed.count(b"/MediaBox [ 0 0 595.275591") == 1
    content = signed.replace(b"/MediaBox [ 0 0 595.275591", b"/MediaBox [ 0 0 596.275591")
    _signature, status = _validate(content, _published_root(client))
    assert not status.intact and not status.bottom_line
    assert "Signature is Valid." not in _pdfsig(tmp_path, content)


def test_content_appended_after_signing_is_not_covered(client, issued):
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(certificate_pdf(issued)))
    writer.root["/Lang"] = TextStringObject("en")
    writer.root[NameObject("/PageLayout")] = NameObject("/SinglePage")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    _signature, status = _validate(out.getvalue(), _published_root(client))
    assert status.coverage.name != "ENTIRE_FILE"


def test_the_signing_time_is_the_platform_clock(client, issued, monkeypatch):
    platform_now = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: platform_now)
    signature, _status = _validate(certificate_pdf(issued), _published_root(client))
    assert signature.self_reported_timestamp == platform_now


def test_production_never_generates_a_document_signing_key(settings, tmp_path):
    settings.SIGNING_KEYS_GENERATE = False
    settings.DOCUMENT_SIGNING_DIR = str(tmp_path / "empty")
    with pytest.raises(docsign.SigningKeysMissing, match="DOCUMENT_SIGNING_DIR"):
        docsign.sign_pdf(b"%PDF-1.7", reason="x")


def test_a_pdf_cannot_be_had_unsigned_when_the_key_is_missing(issued, org_admin, settings, tmp_path):
    settings.SIGNING_KEYS_GENERATE = False
    settings.DOCUMENT_SIGNING_DIR = str(tmp_path / "empty")
    response = client_for(org_admin).get(f"/api/v1/certificates/{issued.id}/pdf")
    assert response.status_code == 503 and response.json()["code"] == "signing_unavailable"


# --- the organisation's seal -----------------------------------------------------------------------------------


def _upload(data: bytes, name: str = "seal.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def test_the_admin_uploads_a_seal_and_certificates_print_it(issued, org_admin, client):
    response = client_for(org_admin).post(
        f"/accreditation/organisations/{issued.organisation_id}/seal/", {"seal": _upload(specimen_seal("某某公司"))}
    )
    assert response.status_code == 302
    issued.organisation.refresh_from_db()
    with Image.open(issued.organisation.seal) as stored:
        assert stored.format == "PNG" and stored.mode == "RGBA"
        assert stored.getpixel((stored.width // 2, 2))[3] == 0 or stored.getpixel((0, 0))[3] == 0, "paper is clear"
    assert AuditEntry.objects.filter(action="organisation.seal_set", object_id=str(issued.organisation_id)).exists()
    view = certificate_view(Certificate.objects.get(pk=issued.pk))
    assert view.seal is not None
    pdf = certificate_pdf(Certificate.objects.get(pk=issued.pk))
    _signature, status = _validate(pdf, _published_root(client))
    assert status.intact and status.valid
    page = client_for(org_admin).get(f"/accreditation/organisations/{issued.organisation_id}/seal.png")
    assert page.status_code == 200 and page["Content-Type"] == "image/png"


def test_a_seal_is_checked_like_a_photo(issued, org_admin):
    actor = Actor.for_user(org_admin)
    for bad in (b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a" + b"\x00" * 20, b""):
        with pytest.raises(ValidationFailed):
            organisation_seal_set(actor=actor, organisation_id=issued.organisation_id, upload=_upload(bad))
    blank = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(blank, "PNG")
    with pytest.raises(ValidationFailed, match="空白"):
        organisation_seal_set(actor=actor, organisation_id=issued.organisation_id, upload=_upload(blank.getvalue()))
    strip = io.BytesIO()
    Image.new("RGB", (900, 100), "red").save(strip, "PNG")
    with pytest.raises(ValidationFailed, match="正方形"):
        organisation_seal_set(actor=actor, organisation_id=issued.organisation_id, upload=_upload(strip.getvalue()))


def test_only_the_organisations_admin_sets_its_seal(issued, other_org_admin, cc_officer):
    with pytest.raises(NotFound):
        organisation_seal_set(
            actor=Actor.for_user(other_org_admin),
            organisation_id=issued.organisation_id,
            upload=_upload(specimen_seal("x")),
        )
    response = client_for(other_org_admin).post(
        f"/accreditation/organisations/{issued.organisation_id}/seal/", {"seal": _upload(specimen_seal("x"))}
    )
    assert response.status_code == 404
    with pytest.raises(NotFound):
        organisation_seal_set(
            actor=Actor.for_user(cc_officer), organisation_id=issued.organisation_id, upload=_upload(specimen_seal("x"))
        )
    issued.organisation.refresh_from_db()
    assert not issued.organisation.seal
