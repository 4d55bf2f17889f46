"""Exam evidence per session: room photos, the supervisor's report, video references with their hashes, attendance;
kept per the region's retention period, read only through a checked and audited download, missing evidence a
finding for the bureau."""

import datetime
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assessments.evidence import selectors, services
from assessments.models import CheckIn, EvidenceRetentionPolicy, SessionEvidence
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry
from oversight.dashboards import dashboard_for
from tests.conftest import client_for

from .test_scoring import A, build_scene

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def scene(plan, filed_org, org_admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    s = build_scene(plan, filed_org, org_admin)
    CheckIn.objects.all().delete()
    return s


def add(scene, user, evidence_kind, *, kind="theory", data=PNG, name="room.png", **kwargs):
    upload = SimpleUploadedFile(name, data) if data is not None else None
    return services.evidence_add(
        actor=A(user),
        plan_id=scene.plan.id,
        kind=kind,
        evidence_kind=evidence_kind,
        title="说明",
        upload=upload,
        **kwargs,
    )


def test_a_room_photo_is_kept_with_its_hash_and_retention(scene):
    e = add(scene, scene.theory, "room_photo")
    assert e.sha256 == hashlib.sha256(PNG).hexdigest() and e.content_type == "image/png"
    day = timezone.localtime(scene.plan.components.get(kind="theory").starts_at).date()
    assert e.retain_until.year == day.year + 5  # the national default: 60 months
    entry = AuditEntry.objects.get(action="evidence.add")
    assert entry.after["sha256"] == e.sha256 and entry.after["evidence_kind"] == "room_photo"


def test_the_regions_retention_period_applies(scene):
    EvidenceRetentionPolicy.objects.create(
        region_prefix="22", effective_from=datetime.date(2020, 1, 1), retention_months=120
    )
    e = add(scene, scene.theory, "room_photo")
    day = timezone.localtime(scene.plan.components.get(kind="theory").starts_at).date()
    assert e.retain_until.year == day.year + 10


def test_a_video_is_a_reference_with_its_content_hash(scene):
    digest = "ab" * 32
    e = add(
        scene,
        scene.theory,
        "video",
        data=None,
        video_location="nas://考点1/2026-06-01/cam2.mp4",
        video_sha256=digest.upper(),
    )
    assert (e.sha256, e.file.name) == (digest, "")
    with pytest.raises(ValidationFailed, match="SHA-256"):
        add(scene, scene.theory, "video", data=None, video_location="nas://x", video_sha256="123")
    with pytest.raises(ValidationFailed):
        add(scene, scene.theory, "video", video_location="nas://x", video_sha256=digest)


def test_wrong_files_are_refused(scene):
    with pytest.raises(ValidationFailed, match="JPEG、PNG"):
        add(scene, scene.theory, "room_photo", data=PDF, name="x.pdf")
    with pytest.raises(ValidationFailed):
        add(scene, scene.theory, "report", data=b"<html>", name="r.pdf")
    assert add(scene, scene.theory, "report", data=PDF, name="r.pdf").content_type == "application/pdf"


def test_who_adds_and_who_reads(scene, cc_officer, jlc_officer, other_org_admin):
    with pytest.raises(PermissionDenied):
        add(scene, cc_officer, "room_photo")  # the bureau reads, it does not add
    with pytest.raises(PermissionDenied):
        add(scene, scene.skills[0], "room_photo")  # an assessor of another component
    e = add(scene, scene.admin, "room_photo")
    assert services.evidence_open(actor=A(cc_officer), evidence_id=e.id) == e
    for outsider in (jlc_officer, other_org_admin):
        with pytest.raises(NotFound):
            services.evidence_open(actor=A(outsider), evidence_id=e.id)
    assert AuditEntry.objects.filter(action="evidence.download").count() == 1


def test_the_download_goes_through_the_checked_view_and_a_changed_file_is_refused(scene, cc_officer, other_org_admin):
    e = add(scene, scene.theory, "report", data=PDF, name="r.pdf")
    r = client_for(cc_officer).get(f"/assessments/evidence/{e.id}/download/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["Cache-Control"] == "private, no-store" and "attachment" in r["Content-Disposition"]
    assert client_for(other_org_admin).get(f"/assessments/evidence/{e.id}/download/").status_code == 404
    with open(e.file.path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(Conflict, match="篡改"):
        services.evidence_open(actor=A(cc_officer), evidence_id=e.id)
    assert AuditEntry.objects.filter(action="evidence.tampered").exists()


def test_missing_evidence_is_a_finding_for_the_bureau(scene, cc_officer):
    today = timezone.localdate()
    since = today - datetime.timedelta(days=365)
    found = {m.component.kind: m.missing for m in selectors.missing_evidence(["2201"], since=since, today=today)}
    assert found == {"theory": ["room_photo", "report", "attendance"], "skills": ["room_photo", "report", "attendance"]}
    add(scene, scene.theory, "room_photo")
    add(scene, scene.theory, "report", data=PDF, name="r.pdf")
    CheckIn.objects.create(
        registration=scene.regs[0],
        component=scene.plan.components.get(kind="theory"),
        status="absent",
        method="roster",
        recorded_at=scene.plan.components.get(kind="theory").starts_at,
    )
    found = {m.component.kind: m.missing for m in selectors.missing_evidence(["2201"], since=since, today=today)}
    assert "theory" not in found and found["skills"]
    board = dashboard_for(actor=A(cc_officer))
    assert board.figures["evidence_missing"] == 1
    page = client_for(cc_officer).get("/assessments/evidence/missing/").content.decode()
    assert scene.plan.title in page


def test_the_session_page_and_the_api(scene, cc_officer):
    client = client_for(scene.theory)
    url = f"/assessments/plans/{scene.plan.id}/evidence/theory/"
    assert 'id="add-evidence"' in client.get(url).content.decode()
    client.post(
        url + "add/", {"evidence_kind": "room_photo", "title": "考场全景", "file": SimpleUploadedFile("a.png", PNG)}
    )
    assert SessionEvidence.objects.get().title == "考场全景"
    bureau_page = client_for(cc_officer).get(url).content.decode()
    assert "考场全景" in bureau_page and 'id="add-evidence"' not in bureau_page
    api = client_for(cc_officer).get(f"/api/v1/assessments/plans/{scene.plan.id}/evidence/theory").json()
    assert (
        api["missing"] == ["report", "attendance"] and api["evidence"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    )
    r = client.post(
        f"/api/v1/assessments/plans/{scene.plan.id}/evidence/theory",
        {"evidence_kind": "video", "title": "录像", "video_location": "nas://1", "video_sha256": "0" * 64},
    )
    assert r.status_code == 200 and r.json()["download"] is None
