"""Uploaded files leave only through views that check the reader (core/files.py), never from /media/; photos are
checked like every upload and re-encoded (core/images.py)."""

import datetime
import importlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import clear_url_caches
from PIL import Image

from accounts.actors import Actor
from accounts.admin import PersonAdminForm
from accounts.models import Person
from accreditation.models import Appointment, FilingAttachment
from assessments.registration import _create_registration
from core.errors import ValidationFailed
from core.images import MAX_PHOTO_BYTES, PHOTO_BOX, photo_clean
from tests.assessments.conftest import file_organisation, make_plan
from tests.conftest import client_for
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _jpeg(size=(1200, 1600), *, exif_gps: bool = True, color=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if exif_gps:
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (43.0, 53.0, 0.0)}  # GPSInfo: latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


# --- nothing is served from the media folder ---------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_the_media_folder_is_not_served_even_in_development(client, settings, debug):
    stored = FilingAttachment._meta.get_field("file").storage.save("filings/secret.pdf", ContentFile(PDF))
    with override_settings(DEBUG=debug):
        import config.urls

        importlib.reload(config.urls)  # the old urls.py added the media route at import when DEBUG was on
        clear_url_caches()
        try:
            r = client.get(f"{settings.MEDIA_URL}{stored}")
            assert r.status_code == 404 and PDF not in r.content
        finally:
            importlib.reload(config.urls)
            clear_url_caches()


def test_no_template_links_to_a_stored_files_url():
    """Every download link names a checked view; `.url` of a file field would point into the media folder."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(p.relative_to(root))
        for p in [*root.glob("templates/**/*.html"), *root.glob("*/templates/**/*.html")]
        if any(f".{name}.url" in p.read_text() for name in ("file", "photo", "evidence", "evidence_file"))
    ]
    assert offenders == []


# --- the checked views -------------------------------------------------------------------------------------


@pytest.fixture
def filing(org, org_admin, cc_officer):
    file_organisation(org, org_admin, cc_officer)
    return org.filings.get()


def test_a_filing_attachment_goes_to_the_filing_readers_only(client, filing, org_admin, cc_officer, other_org_admin):
    attachment = FilingAttachment.objects.create(
        filing=filing,
        title="营业执照.pdf",
        file=ContentFile(PDF, name="x.pdf"),
        content_type="application/pdf",
        size=15,
    )
    url = f"/accreditation/filings/{filing.id}/attachments/{attachment.id}/"
    for user in (org_admin, cc_officer):
        r = client_for(user).get(url)
        assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
        assert r["Content-Type"] == "application/pdf" and r["X-Content-Type-Options"] == "nosniff"
        assert r["Content-Disposition"] == f'attachment; filename="filing-{filing.id}-{attachment.id}.pdf"'
        assert "no-store" in r["Cache-Control"]
    assert client_for(other_org_admin).get(url).status_code == 404
    assert client.get(url).status_code == 302  # to the login page
    assert client_for(org_admin).get(f"/accreditation/filings/{filing.id}/attachments/999999/").status_code == 404
    assert f'href="{url}"' in client_for(cc_officer).get(f"/accreditation/filings/{filing.id}/").content.decode()


def test_qualification_evidence_goes_to_the_organisation_and_its_bureau(
    client, org, org_admin, cc_officer, jlc_officer
):
    appointment = Appointment.objects.create(
        person=PersonFactory(), role="assessor", organisation=org, valid_from=datetime.date(2026, 1, 1)
    )
    url = f"/accreditation/appointments/{appointment.id}/evidence/"
    assert client_for(org_admin).get(url).status_code == 404  # no evidence stored
    appointment.evidence.save("e.pdf", ContentFile(PDF))
    for user, status in ((org_admin, 200), (cc_officer, 200), (jlc_officer, 404)):
        assert client_for(user).get(url).status_code == status, user
    assert client.get(url).status_code == 302


def test_a_registration_photo_goes_to_the_registrations_readers(client, org, org_admin, cc_officer, other_org_admin):
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    person = PersonFactory()
    reg = _create_registration(
        Actor.for_user(org_admin),
        plan,
        plan.levels.get(code="4"),
        person,
        {"work_years": 12},
        source="bulk",
        photo=SimpleUploadedFile("me.jpg", _jpeg()),
    )
    url = f"/assessments/registrations/{reg.id}/photo/"
    r = client_for(org_admin).get(url)
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(r.streaming_content))) as served:
        assert served.size[0] <= PHOTO_BOX[0] and served.size[1] <= PHOTO_BOX[1]
        assert not served.getexif()  # the GPS position and the camera are gone
    assert client_for(other_org_admin).get(url).status_code == 404
    assert client.get(url).status_code == 302


# --- photos ------------------------------------------------------------------------------------------------


def test_a_photo_is_re_encoded_without_metadata_and_within_bounds():
    original = _jpeg((3000, 4000))
    assert b"PhoneMaker" in original
    clean = photo_clean(SimpleUploadedFile("p.jpg", original)).read()
    assert b"PhoneMaker" not in clean and clean.startswith(b"\xff\xd8\xff")
    with Image.open(io.BytesIO(clean)) as image:
        assert image.format == "JPEG" and image.size == (600, 800) and not image.getexif()


def test_a_png_with_transparency_becomes_a_jpeg_on_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    clean = photo_clean(SimpleUploadedFile("p.png", out.getvalue())).read()
    with Image.open(io.BytesIO(clean)) as result:
        assert result.format == "JPEG" and result.getpixel((50, 50)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "JPEG 或 PNG"),
        (b"GIF89a" + b"\x00" * 100, "JPEG 或 PNG"),
        (b"\xff\xd8\xff\xe0 not really a jpeg", "无法读取"),
        (b"", "为空"),
        (b"\xff\xd8\xff" + b"\x00" * MAX_PHOTO_BYTES, "5MB"),
    ],
)
def test_what_is_not_a_photo_is_refused(data, message):
    with pytest.raises(ValidationFailed) as raised:
        photo_clean(SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg"))
    assert message in raised.value.message and raised.value.details == {"field": "photo"}


def test_a_decompression_bomb_is_refused_from_its_header():
    """A PNG a few KB long that declares 30,000 × 30,000 pixels (3.6 GB decoded)."""
    image = Image.new("1", (30_000, 30_000))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < 200_000
    with pytest.raises(ValidationFailed) as raised:
        photo_clean(SimpleUploadedFile("bomb.png", out.getvalue()))
    assert "像素过多" in raised.value.message


def test_a_photo_refused_at_registration_stores_nothing(org, org_admin, cc_officer):
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    with pytest.raises(ValidationFailed):
        _create_registration(
            Actor.for_user(org_admin),
            plan,
            plan.levels.get(code="4"),
            PersonFactory(),
            {"work_years": 12},
            source="bulk",
            photo=SimpleUploadedFile("me.jpg", b"<svg onload=alert(1)>"),
        )
    assert not plan.registrations.exists()


def test_the_admin_checks_and_re_encodes_a_person_photo():
    person = PersonFactory()
    data = {
        "name": person.name,
        "id_type": person.id_type,
        "id_number": person.id_number,
        "birth_date": "",
        "phone": "",
    }
    form = PersonAdminForm(data, {"photo": SimpleUploadedFile("x.jpg", b"MZ\x90\x00 an exe")}, instance=person)
    assert not form.is_valid() and "photo" in form.errors
    form = PersonAdminForm(data, {"photo": SimpleUploadedFile("x.jpg", _jpeg())}, instance=person)
    assert form.is_valid(), form.errors
    form.save()
    person = Person.objects.get(pk=person.pk)
    with person.photo.open("rb") as stored, Image.open(stored) as image:
        assert image.size[1] <= PHOTO_BOX[1] and not image.getexif()
    assert "/media/" not in PersonAdminForm(instance=person).as_p()  # the name is shown, never a link
