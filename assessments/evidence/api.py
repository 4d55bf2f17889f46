"""Exam evidence API, mounted under /api/v1/assessments: list a session's evidence, add to it."""

import datetime

from django.urls import reverse
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile

from accounts.actors import Actor

from . import selectors, services
from .models import SessionEvidence

router = Router(tags=["exam evidence"])


class EvidenceOut(Schema):
    id: int
    kind: str = Field(alias="component.kind")
    evidence_kind: str = Field(alias="kind")
    title: str
    sha256: str
    size: int
    content_type: str
    video_location: str
    retain_until: datetime.date
    added_at: datetime.datetime
    download: str | None

    @staticmethod
    def resolve_download(e: SessionEvidence) -> str | None:
        return reverse("assessments:evidence_download", args=[e.id]) if e.file else None


class SessionEvidenceOut(Schema):
    plan_id: int
    kind: str
    missing: list[str]
    evidence: list[EvidenceOut]


class SessionEvidenceIn(Schema):
    evidence_kind: str
    title: str
    video_location: str = ""
    video_sha256: str = ""


@router.get("/plans/{plan_id}/evidence/{kind}", response=SessionEvidenceOut, summary="考场的考务资料与缺失项")
def session_evidence(request, plan_id: int, kind: str):
    plan, component = selectors.evidence_session(Actor.from_request(request), plan_id, kind)
    items = list(component.evidence.select_related("component"))
    return {
        "plan_id": plan.id,
        "kind": kind,
        "missing": selectors.session_missing(component, {e.kind for e in items}),
        "evidence": items,
    }


@router.post("/plans/{plan_id}/evidence/{kind}", response=EvidenceOut, summary="添加考务资料(文件,或录像位置与哈希)")
def evidence_add(
    request, plan_id: int, kind: str, payload: Form[SessionEvidenceIn], file: File[UploadedFile] | None = None
):
    evidence = services.evidence_add(
        actor=Actor.from_request(request),
        plan_id=plan_id,
        kind=kind,
        evidence_kind=payload.evidence_kind,
        title=payload.title,
        upload=file,
        video_location=payload.video_location,
        video_sha256=payload.video_sha256,
    )
    return evidence
