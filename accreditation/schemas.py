import datetime

from ninja import Field, Schema

from accounts.identity import mask_phone
from core.schema_types import IsoDate

from .models import Filing


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
    region_code: str = Field(alias="region.code")
    region_name: str = Field(alias="region.full_name")
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
    occupation_code: str = Field(alias="occupation.code")
    occupation_name: str = Field(alias="occupation.name")
    levels: list[str]
    level_labels: list[str]

    @staticmethod
    def resolve_levels(line) -> list[str]:
        return [lv.code for lv in line.sorted_levels]

    @staticmethod
    def resolve_level_labels(line) -> list[str]:
        return [lv.label for lv in line.sorted_levels]


class AttachmentOut(Schema):
    id: int
    title: str
    content_type: str
    size: int
    uploaded_at: datetime.datetime


class FilingOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str = Field(alias="organisation.name")
    status: str
    status_label: str = Field(alias="get_status_display")
    status_reason: str
    national_code: str
    note: str
    submitted_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    number_prefix: str | None = Field(alias="organisation.number_prefix")
    scope: list[ScopeLineOut] = Field(alias="scope_lines")
    attachments: list[AttachmentOut]


class ReasonIn(Schema):
    reason: str


class ApproveIn(Schema):
    valid_until: IsoDate | None = None
    national_code: str | None = None
    reason: str = ""


class DirectoryEntryOut(Schema):
    """An organisation as the public directory shows it: read from `Organisation` with its `public_filing`
    attached (see selectors.directory); the scope only while the filing is in force, the phone masked."""

    id: int
    name: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    credit_code: str
    region_code: str = Field(alias="region.code")
    region_name: str = Field(alias="region.full_name")
    number_prefix: str | None
    status: str
    status_label: str
    status_reason: str
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    scope: list[ScopeLineOut]
    contact_phone: str

    @staticmethod
    def resolve_status(org) -> str:
        return org.public_filing.status if org.public_filing else ""

    @staticmethod
    def resolve_status_label(org) -> str:
        return org.public_filing.get_status_display() if org.public_filing else ""

    @staticmethod
    def resolve_status_reason(org) -> str:
        filing = org.public_filing
        return filing.status_reason if filing and filing.status in ("suspended", "revoked") else ""

    @staticmethod
    def resolve_valid_from(org) -> datetime.date | None:
        return org.public_filing.valid_from if org.public_filing else None

    @staticmethod
    def resolve_valid_until(org) -> datetime.date | None:
        return org.public_filing.valid_until if org.public_filing else None

    @staticmethod
    def resolve_scope(org) -> list:
        filing = org.public_filing
        return list(filing.scope_lines.all()) if filing and filing.status in Filing.IN_FORCE else []

    @staticmethod
    def resolve_contact_phone(org) -> str:
        return mask_phone(org.contact_phone)


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


class AppointmentScopeOut(Schema):
    occupation_code: str = Field(alias="occupation.code")
    occupation_name: str = Field(alias="occupation.name")
    max_level: str | None

    @staticmethod
    def resolve_max_level(scope) -> str | None:
        return scope.max_level.code if scope.max_level else None


class AppointmentOut(Schema):
    id: int
    role: str
    role_label: str = Field(alias="get_role_display")
    person_name: str = Field(alias="person.name")
    person_id_number: str = Field(alias="person.masked_id_number")
    organisation_id: int | None
    bureau_id: int | None
    scopes: list[AppointmentScopeOut]
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
    provider_name: str = Field(alias="provider.name")
    trainer_name: str = Field(alias="trainer.name")
    trainee_name: str = Field(alias="trainee.name")
    trainee_id_number: str = Field(alias="trainee.masked_id_number")
    occupation_code: str = Field(alias="occupation.code")
    occupation_name: str = Field(alias="occupation.name")
    start: datetime.date
    end: datetime.date


class ImportReportOut(Schema):
    total: int
    created: int
    errors: list[dict]
