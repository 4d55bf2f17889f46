"""What the PDF of a real certificate prints (issue 15 item 5): the kind's own title and labels, the registration
photo re-encoded or no photo box at all, a mark across a certificate that is no longer valid, the holder told."""

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from accounts.actors import Actor
from certificates import services
from certificates.models import Certificate
from certificates.pdf import render_html
from certificates.presenters import PRINT_PHOTO_PIXELS, certificate_view
from core.models import Notification
from tests.certificates.test_reporting import qualification_row, upload
from tests.conftest import client_for
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    return Certificate.objects.select_related("level", "person", "registration").order_by("number").first()


def _photo_with_exif(size=(1600, 1200)) -> bytes:
    image = Image.new("RGB", size, (200, 180, 160))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0112] = 6  # rotated: must come out upright
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_the_registration_photo_is_printed_re_encoded(issued):
    raw = _photo_with_exif()
    issued.registration.photo.save("r.jpg", ContentFile(raw), save=True)
    view = certificate_view(Certificate.objects.get(pk=issued.pk))
    assert view.photo is not None and view.photo != raw
    with Image.open(io.BytesIO(view.photo)) as printed:
        assert printed.format == "JPEG"
        assert printed.width <= PRINT_PHOTO_PIXELS[0] and printed.height <= PRINT_PHOTO_PIXELS[1]
        assert printed.height > printed.width, "turned upright by its EXIF orientation"
        assert not printed.getexif(), "nothing of the stored file but its pixels"


def test_without_any_photo_there_is_no_photo_box(issued):
    assert not issued.person.photo and not issued.registration.photo
    view = certificate_view(issued)
    assert view.photo is None
    html = render_html([view])
    assert 'class="photo' not in html and "no-photo" in html


def test_an_unreadable_stored_photo_gives_a_layout_without_one(issued):
    issued.registration.photo.save("r.jpg", ContentFile(b"not an image at all"), save=True)
    assert certificate_view(Certificate.objects.get(pk=issued.pk)).photo is None


def test_a_skill_level_certificate_prints_the_national_query_addresses(issued):
    html = render_html([certificate_view(issued)])
    assert "http://jndj.osta.org.cn" in html and "http://pjjg.osta.org.cn" in html
    assert "www.osta.org.cn" not in html
    assert "<h1>职业技能等级证书</h1>" in html and "<dt>职业技能等级</dt>" in html


def test_an_imported_pre_reform_qualification_is_printed_as_one(client, cc_officer):
    assert upload(cc_officer, [qualification_row()]).status_code == 200
    cert = Certificate.objects.get(number="2201000300012345")
    view = certificate_view(cert)
    assert (view.title, view.level_caption, view.issuer_caption) == ("职业资格证书", "职业资格等级", "发证机构")
    assert "改革前取得的职业资格证书" in view.notes[0]
    html = render_html([view])
    assert "<h1>职业资格证书</h1>" in html and "职业技能等级" not in html
    data = client.get(f"/api/v1/verify/{cert.token}").json()["certificate"]
    assert data["title"] == "职业资格证书" and data["level_caption"] == "职业资格等级"
    page = client.get(f"/v/{cert.token}").content.decode()
    assert "<dt>职业资格等级</dt>" in page and "<dt>职业技能等级</dt>" not in page


def test_an_imported_skill_level_certificate_is_not_called_pre_reform(client, cc_officer):
    row = qualification_row("22010024000102", 证书类别="职业技能等级证书", 等级="四级", 发证日期="2026/3/1")
    assert upload(cc_officer, [row]).status_code == 200
    cert = Certificate.objects.get(number="22010024000102")
    view = certificate_view(cert)
    assert view.title == "职业技能等级证书" and view.level_caption == "职业技能等级"
    assert not any("改革前" in note for note in view.notes)
    page = client.get(f"/v/{cert.token}").content.decode()
    assert "改革前" not in page and "经平台核验登记" in page


def test_it_prints_chinese_for_a_user_browsing_in_english(issued, settings):
    from django.utils import translation

    with translation.override("en"):
        view = certificate_view(issued)
    assert view.title == "职业技能等级证书"


@pytest.mark.parametrize(
    ("action", "mark"),
    [("revoke", "已撤销"), ("suspend", "已暂停")],
)
def test_a_certificate_no_longer_valid_is_marked_and_its_holder_told(issued, org_admin, action, mark):
    from accounts.models import User
    from tests.factories import bind

    holder = User.objects.create_user(username="holder", password="x" * 12)
    bind(holder, issued.person)
    change = {"revoke": services.certificate_revoke, "suspend": services.certificate_suspend}[action]
    change(actor=Actor.for_user(org_admin), certificate_id=issued.id, reason="考试作弊")
    view = certificate_view(Certificate.objects.select_related("level", "person").get(pk=issued.pk))
    assert view.status_mark == mark and "考试作弊" in view.status_note
    notice = Notification.objects.get(user=holder)
    assert issued.number in notice.body and "考试作弊" in notice.body
    # The holder still downloads it (their record), marked: a revoked PDF cannot pass as a valid one.
    response = client_for(holder).get(f"/certificates/{issued.id}/pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_a_valid_certificate_carries_no_mark(issued):
    view = certificate_view(issued)
    assert view.status_mark == "" and view.status_note == ""
