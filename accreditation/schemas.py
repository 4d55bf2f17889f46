import datetime

from ninja import Schema

from core.schema_types import IsoDate


class OrganisationIn(Schema):
    name: str
    kind: str
    credit_code: str
    region_code: str
    contact_name: str
    contact_phone: str
    address: str = ""
    contact_email: str = ""
    provides_training: bool = False


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    credit_code: str
    region_code: str
    region_name: str
    contact_name: str
    contact_phone: str
    provides_training: bool
    number_prefix: str | None
    created_at: datetime.datetime


class ScopeLineIn(Schema):
    occupation_code: str
    levels: list[str]


class FilingIn(Schema):
    organisation_id: int
    scope: list[ScopeLineIn]
    note: str = ""


class ScopeIn(Schema):
    scope: list[ScopeLineIn]
    note: str | None = None


class ScopeLineOut(Schema):
    occupation_code: str
    occupation_name: str
    levels: list[str]
    level_labels: list[str]


class AttachmentOut(Schema):
    id: int
    title: str
    content_type: str
    size: int
    uploaded_at: datetime.datetime


class FilingOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    status: str
    status_label: str
    status_reason: str
    national_code: str
    note: str
    submitted_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    number_prefix: str | None
    scope: list[ScopeLineOut]
    attachments: list[AttachmentOut]


class ReasonIn(Schema):
    reason: str


class ApproveIn(Schema):
    valid_until: IsoDate | None = None
    national_code: str | None = None
    reason: str = ""


class DirectoryEntryOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    credit_code: str
    region_code: str
    region_name: str
    number_prefix: str | None
    status: str
    status_label: str
    status_reason: str
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    scope: list[ScopeLineOut]
    contact_phone: str


class AppointmentScopeIn(Schema):
    occupation_code: str
    max_level: str | None = None


class AppointmentIn(Schema):
    role: str
    name: str
    id_type: str = "ric"
    id_number: str
    phone: str = ""
    organisation_id: int | None = None
    bureau_id: int | None = None
    scopes: list[AppointmentScopeIn]
    valid_from: IsoDate | None = None
    valid_until: IsoDate | None = None
    qualification_note: str = ""


class AppointmentOut(Schema):
    id: int
    role: str
    role_label: str
    person_name: str
    person_id_number: str
    organisation_id: int | None
    bureau_id: int | None
    scopes: list[dict]
    valid_from: datetime.date
    valid_until: datetime.date | None
    status: str


class TrainingRecordIn(Schema):
    provider_id: int
    trainee_name: str
    trainee_id_type: str = "居民身份证"
    trainee_id_number: str
    trainer_name: str
    trainer_id_type: str = "居民身份证"
    trainer_id_number: str
    occupation_code: str
    start: IsoDate
    end: IsoDate


class TrainingRecordOut(Schema):
    id: int
    provider_id: int
    provider_name: str
    trainer_name: str
    trainee_name: str
    trainee_id_number: str
    occupation_code: str
    occupation_name: str
    start: datetime.date
    end: datetime.date


class ImportReportOut(Schema):
    total: int
    created: int
    errors: list[dict]
