import datetime
from typing import Any

from ninja import Schema

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
    kind_label: str
    organisation_id: int | None
    organisation_name: str
    certificate_number: str
    reason: str
    decided_at: datetime.datetime


class NoteOut(Schema):
    id: int
    author: str
    text: str
    created_at: datetime.datetime


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
    kind_label: str
    status: str
    status_label: str
    region_code: str
    region_name: str
    subject: str
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
    region_name: str
    category: str
    subject: str
    finding: str
    measures: str
    published_on: datetime.date
    sanctions: list[ExposureSanctionOut]


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
    employer_name: str
    certificate_number: str
    holder_name: str
    purpose: str
    purpose_label: str
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
    rule_label: str
    status: str
    status_label: str
    certificate_id: int
    certificate_number: str
    employer_id: int
    employer_name: str
    other_employer_id: int | None
    other_employer_name: str
    period_start: datetime.date
    period_end: datetime.date
    evidence: dict[str, Any]
    complaint_id: int | None
    resolution: str


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
    inspection_number: str
    organisation_name: str
    item: str
    item_label: str
    requirement: str
    working_days: int
    ordered_on: datetime.date
    due_on: datetime.date
    due_provisional: bool
    due_note: str
    status: str
    status_label: str
    overdue: bool
    evidence_text: str
    submitted_at: datetime.datetime | None
    verified_at: datetime.datetime | None
    review_note: str


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
    organisation_name: str
    kind: str
    kind_label: str
    status: str
    status_label: str
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
