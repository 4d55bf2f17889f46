import datetime
from decimal import Decimal

from ninja import Schema

from core.schema_types import IsoDate, IsoDateTime


class ComponentIn(Schema):
    kind: str
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    room: str = ""


class ComponentOut(ComponentIn):
    kind_label: str


class PlanIn(Schema):
    organisation_id: int
    occupation_code: str
    levels: list[str]
    title: str
    venue: str
    capacity: int
    registration_opens: IsoDate
    registration_closes: IsoDate
    components: list[ComponentIn]
    fee: Decimal = Decimal("0")
    work_type: str = ""
    description: str = ""


class PlanOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    region_name: str
    occupation_code: str
    occupation_name: str
    standard: str
    work_type: str
    levels: list[str]
    level_labels: list[str]
    title: str
    venue: str
    capacity: int
    registered: int
    registration_opens: datetime.date
    registration_closes: datetime.date
    fee: Decimal
    description: str
    status: str
    status_label: str
    status_reason: str
    components: list[ComponentOut]


class RescheduleIn(Schema):
    components: list[ComponentIn]
    reason: str


class ReasonIn(Schema):
    reason: str


class EvidenceIn(Schema):
    work_years: Decimal = Decimal("0")
    apprenticeship_completed: bool = False
    education: list[dict] = []
    prior_certificates: list[dict] = []
    titles: list[dict] = []
    credentials: list[dict] = []


class RegistrationIn(EvidenceIn):
    level: str
    name: str
    id_type: str = "ric"
    id_number: str
    phone: str = ""
    employer_name: str = ""
    work_history: str = ""
    pledge: bool


class RegistrationOut(Schema):
    id: int
    plan_id: int
    plan_title: str
    person_name: str
    person_id_number: str
    level: str
    level_label: str
    status: str
    status_label: str
    source: str
    employer_name: str
    work_years: Decimal
    eligibility_status: str
    eligibility: dict
    review_reason: str
    outcome: str
    marks_hidden: bool = False
    created_at: datetime.datetime


class ReviewIn(Schema):
    decision: str
    reason: str = ""


class ImportReportOut(Schema):
    total: int
    created: int
    errors: list[dict]
