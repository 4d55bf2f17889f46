import datetime
from typing import Any

from django.utils import timezone
from ninja import Field, Schema

from core.schema_types import IsoDate


class ChallengeOut(Schema):
    token: str
    question: str


class ComplaintIn(Schema):
    kind: str
    description: str
    organisation_id: int | None = None
    certificate_number: str = ""
    plan_id: int | None = None
    qualification_id: int | None = None
    subject_name: str = ""
    region_code: str = ""
    reporter_name: str = ""
    reporter_contact: str = ""
    challenge_token: str = ""
    challenge_answer: str = ""
    website: str = ""  # the honeypot: people leave it empty


class ComplaintReceiptOut(Schema):
    number: str
    tracking_code: str
    due_on: datetime.date
    due_provisional: bool
    due_note: str


class TrackIn(Schema):
    code: str


class TrackOut(Schema):
    number: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    region_name: str
    received_on: datetime.date
    due_on: datetime.date
    due_provisional: bool
    due_note: str
    outcome: str
    outcome_label: str
    reply: str
    closed_on: datetime.date | None
    exposure_id: int | None


class SanctionOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    organisation_id: int | None
    organisation_name: str
    certificate_number: str
    reason: str
    decided_at: datetime.datetime

    @staticmethod
    def resolve_organisation_name(obj) -> str:
        return obj.organisation.name if obj.organisation_id else ""

    @staticmethod
    def resolve_certificate_number(obj) -> str:
        return obj.certificate.number if obj.certificate_id else ""


class NoteOut(Schema):
    id: int
    author: str
    text: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_author(obj) -> str:
        return obj.author.display_name if obj.author_id else ""


class ComplaintAttachmentOut(Schema):
    id: int
    title: str
    content_type: str
    size: int
    from_reporter: bool
    uploaded_at: datetime.datetime


class ComplaintOut(Schema):
    id: int
    number: str
    source: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    status: str
    status_label: str = Field(alias="get_status_display")
    region_code: str = Field(alias="region.code")
    region_name: str = Field(alias="region.full_name")
    subject: str = Field(alias="subject_label")
    organisation_id: int | None
    certificate_id: int | None
    certificate_number: str
    plan_id: int | None
    qualification: str
    received_on: datetime.date
    due_on: datetime.date
    due_provisional: bool
    overdue: bool
    assigned_to: str
    outcome: str

    @staticmethod
    def resolve_qualification(obj) -> str:
        return obj.qualification.name if obj.qualification_id else ""

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.is_open and obj.due_on < timezone.localdate()

    @staticmethod
    def resolve_assigned_to(obj) -> str:
        return obj.assigned_to.display_name if obj.assigned_to_id else ""


class ComplaintDetailOut(ComplaintOut):
    description: str
    subject_name: str
    reporter_name: str
    reporter_contact: str
    finding: str
    measures: str
    reply: str
    due_note: str
    notes: list[NoteOut]
    attachments: list[ComplaintAttachmentOut]
    sanctions: list[SanctionOut]

    @staticmethod
    def resolve_notes(obj):
        return obj.notes.select_related("author")

    @staticmethod
    def resolve_sanctions(obj):
        return obj.sanctions.select_related("organisation", "certificate")


class AcceptIn(Schema):
    assignee_id: int | None = None


class CaseAssignIn(Schema):
    assignee_id: int


class ReasonIn(Schema):
    reason: str


class NoteIn(Schema):
    text: str


class SanctionIn(Schema):
    kind: str
    reason: str
    certificate_id: int | None = None
    organisation_id: int | None = None


class CloseIn(Schema):
    outcome: str
    finding: str
    measures: str = ""
    reply: str
    publish: bool = False
    public_subject: str = ""


class ExposureSanctionOut(Schema):
    kind: str
    kind_label: str
    target: str


class ExposureOut(Schema):
    id: int
    reference: str
    region_name: str = Field(alias="region.full_name")
    category: str
    subject: str
    finding: str
    measures: str
    published_on: datetime.date
    sanctions: list[ExposureSanctionOut]

    @staticmethod
    def resolve_sanctions(obj) -> list[dict]:
        from .exposures import exposure_sanctions

        return exposure_sanctions(obj)


class RelianceIn(Schema):
    employer_id: int
    certificate_number: str
    holder_name: str
    purpose: str
    start: IsoDate
    end: IsoDate | None = None
    purpose_note: str = ""


class RelianceEndIn(Schema):
    end: IsoDate


class RelianceOut(Schema):
    id: int
    employer_id: int
    employer_name: str = Field(alias="employer.name")
    certificate_number: str = Field(alias="certificate.number")
    holder_name: str = Field(alias="certificate.holder_name")
    purpose: str
    purpose_label: str = Field(alias="get_purpose_display")
    start: datetime.date
    end: datetime.date | None


class ImportOut(Schema):
    total: int
    created: int
    errors: list[dict]
    batch_id: int | None


class ScanIn(Schema):
    region_code: str = ""


class ScanOut(Schema):
    certificates: int
    raised: int
    reopened: int
    updated: int
    cleared: int


class FlagOut(Schema):
    id: int
    rule: str
    rule_label: str = Field(alias="get_rule_display")
    status: str
    status_label: str = Field(alias="get_status_display")
    certificate_id: int
    certificate_number: str = Field(alias="certificate.number")
    employer_id: int
    employer_name: str = Field(alias="employer.name")
    other_employer_id: int | None
    other_employer_name: str
    period_start: datetime.date
    period_end: datetime.date
    evidence: dict[str, Any]
    complaint_id: int | None
    resolution: str

    @staticmethod
    def resolve_other_employer_name(obj) -> str:
        return obj.other_employer.name if obj.other_employer_id else ""


class InspectionPlanIn(Schema):
    organisation_id: int
    scheduled_on: IsoDate
    reason: str


class DrawIn(Schema):
    count: int
    scheduled_on: IsoDate
    region_code: str = ""
    seed: int | None = None


class DrawOut(Schema):
    id: int
    region_code: str
    seed: int
    pool: list[int]
    chosen: list[int]
    inspection_ids: list[int]


class FindingItemIn(Schema):
    result: str
    note: str = ""


class FindingsIn(Schema):
    conducted_on: IsoDate
    results: dict[str, FindingItemIn]
    summary: str = ""


class RectificationIn(Schema):
    item: str
    requirement: str
    working_days: int
    ordered_on: IsoDate | None = None


class RectificationOut(Schema):
    id: int
    inspection_id: int
    inspection_number: str = Field(alias="inspection.number")
    organisation_name: str = Field(alias="inspection.organisation.name")
    item: str
    item_label: str
    requirement: str
    working_days: int
    ordered_on: datetime.date
    due_on: datetime.date
    due_provisional: bool
    due_note: str
    status: str
    status_label: str = Field(alias="get_status_display")
    overdue: bool
    evidence_text: str
    submitted_at: datetime.datetime | None
    verified_at: datetime.datetime | None
    review_note: str

    @staticmethod
    def resolve_item_label(obj) -> str:
        from .inspections import CHECKLIST

        return str(CHECKLIST.get(obj.item, obj.item))

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.is_overdue_on(timezone.localdate())


class RectificationReviewIn(Schema):
    accept: bool
    note: str = ""


class EscalateIn(Schema):
    action: str
    reason: str
    publish: bool = False


class ConclusionIn(Schema):
    conclusion: str


class InspectionOut(Schema):
    id: int
    number: str
    organisation_id: int
    organisation_name: str = Field(alias="organisation.name")
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    status: str
    status_label: str = Field(alias="get_status_display")
    reason: str
    scheduled_on: datetime.date
    conducted_on: datetime.date | None
    results: dict[str, Any]
    summary: str
    conclusion: str
    draw_id: int | None
    rectifications: list[RectificationOut]
    sanctions: list[SanctionOut]
    supervision_issues: list[dict[str, Any]]

    @staticmethod
    def resolve_rectifications(obj):
        return obj.rectifications.select_related("inspection__organisation")

    @staticmethod
    def resolve_sanctions(obj):
        return obj.sanctions.select_related("organisation", "certificate")

    @staticmethod
    def resolve_supervision_issues(obj) -> list:
        return []  # lists leave them out; InspectionDetailOut shows them to inspectors


class InspectionDetailOut(InspectionOut):
    """One inspection: with the supervisors' reports that flagged issues at the organisation, for inspectors."""

    @staticmethod
    def resolve_supervision_issues(obj, context) -> list:
        from .inspections import is_inspector, supervision_issues

        return supervision_issues(obj.organisation) if is_inspector(context["request"].auth, obj) else []


class DashboardPanelOut(Schema):
    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    note: str
    available: bool


class DashboardOut(Schema):
    scope: str
    region_code: str
    since: datetime.date
    until: datetime.date
    figures: dict[str, int]
    panels: list[DashboardPanelOut]
