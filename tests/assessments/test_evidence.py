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


# --- Purge after retention ---------------------------------------------------------------------------------------

LONG_AGO = datetime.datetime(2019, 3, 1, 9, 0)


def held_long_ago(scene, *pieces) -> None:
    """The session took place in March 2019; with the national 60 months its evidence was kept until March 2024."""
    start = timezone.make_aware(LONG_AGO)
    scene.plan.components.filter(kind="theory").update(starts_at=start, ends_at=start + datetime.timedelta(hours=2))
    SessionEvidence.objects.filter(pk__in=[p.pk for p in pieces]).update(retain_until=datetime.date(2024, 3, 1))


def test_evidence_past_retention_is_destroyed_and_a_tombstone_kept(
    scene, cc_officer, settings, django_capture_on_commit_callbacks
):
    from assessments.tasks import evidence_purge_expired_task

    photo = add(scene, scene.theory, "room_photo")
    video = add(scene, scene.theory, "video", data=None, video_location="nas://exam/2019/a.mp4", video_sha256="ab" * 32)
    recent = add(scene, scene.skills[0], "room_photo", kind="skills", name="skills.png")
    stored = settings.MEDIA_ROOT / photo.file.name
    assert stored.exists()
    held_long_ago(scene, photo, video)
    with django_capture_on_commit_callbacks(execute=True):
        result = evidence_purge_expired_task.delay().get()
    assert result == {"purged": 2, "held": 0, "extended": 0}
    assert not stored.exists()  # the file is gone from storage
    photo.refresh_from_db()
    assert photo.purged_at is not None and photo.purged_by == "system:evidence_purge_expired"
    assert not photo.file and photo.sha256 == hashlib.sha256(PNG).hexdigest()  # the row stays, with its hash
    entries = AuditEntry.objects.filter(action="evidence.purge")
    assert {int(e.object_id) for e in entries} == {photo.id, video.id}
    assert all(e.actor_id is None and e.actor_label == "system" for e in entries)
    recent.refresh_from_db()
    assert recent.purged_at is None and recent.file  # within its period: untouched
    with pytest.raises(Conflict) as exc:
        services.evidence_open(actor=A(cc_officer), evidence_id=photo.id)
    assert exc.value.code == "evidence_purged"
    page = client_for(cc_officer).get(f"/assessments/plans/{scene.plan.id}/evidence/theory/").content.decode()
    assert "销毁" in page
    with django_capture_on_commit_callbacks(execute=True):  # a second run finds nothing more
        assert evidence_purge_expired_task.delay().get() == {"purged": 0, "held": 0, "extended": 0}


def test_evidence_under_an_open_complaint_or_review_is_kept(scene, cc_officer, changchun_bureau):
    from assessments.review.models import ResultReview, ResultReviewPolicy
    from oversight.models import Complaint

    photo = add(scene, scene.theory, "room_photo")
    held_long_ago(scene, photo)
    complaint = Complaint.objects.create(
        kind="trained_examiner",
        status="investigating",
        region=scene.org.region,
        organisation=scene.org,  # about the organisation: all of its sessions' evidence may be needed
        description="考评员培训过考生",
        received_on=datetime.date(2026, 11, 1),
        due_on=datetime.date(2026, 12, 31),
    )
    report = services.evidence_purge_due()
    assert (report.purged, report.held) == ([], [photo.id])
    photo.refresh_from_db()
    assert photo.purged_at is None and photo.file
    assert not AuditEntry.objects.filter(action="evidence.purge").exists()

    complaint.status = "closed"
    complaint.save(update_fields=["status"])
    policy = ResultReviewPolicy.objects.create(
        region_prefix="22", effective_from=datetime.date(2020, 1, 1), required=True, working_days=5
    )
    review = ResultReview.objects.create(
        plan=scene.plan, policy=policy, digest="0" * 64, submitted_at=timezone.now(), due_on=timezone.localdate()
    )
    assert services.evidence_purge_due().held == [photo.id]  # results waiting for the bureau: kept
    review.status = "approved"
    review.save(update_fields=["status"])
    assert services.evidence_purge_due().purged == [photo.id]


def test_a_lengthened_retention_period_keeps_evidence_longer(scene):
    photo = add(scene, scene.theory, "room_photo")
    held_long_ago(scene, photo)
    EvidenceRetentionPolicy.objects.create(
        region_prefix="22", effective_from=datetime.date(2019, 1, 1), retention_months=120
    )
    report = services.evidence_purge_due()
    assert (report.purged, report.extended) == ([], [photo.id])
    photo.refresh_from_db()
    assert photo.retain_until == datetime.date(2029, 3, 1) and photo.purged_at is None
