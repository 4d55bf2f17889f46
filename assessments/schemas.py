import datetime
from decimal import Decimal

from ninja import Field, Schema

from core.schema_types import IsoDate, IsoDateTime

from .models import Registration


class ComponentIn(Schema):
    kind: str
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    room: str = ""


class ComponentOut(ComponentIn):
    kind_label: str = Field(alias="get_kind_display")


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
    """Read from a Plan; `registered` from the list's `active_count` annotation when there is one."""

    id: int
    organisation_id: int
    organisation_name: str = Field(alias="organisation.name")
    region_name: str = Field(alias="organisation.region.full_name")
    occupation_code: str = Field(alias="occupation.code")
    occupation_name: str = Field(alias="occupation.name")
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
    status_label: str = Field(alias="get_status_display")
    status_reason: str
    components: list[ComponentOut]

    @staticmethod
    def resolve_standard(plan) -> str:
        return str(plan.standard)

    @staticmethod
    def resolve_levels(plan) -> list[str]:
        return [lv.code for lv in sorted(plan.levels.all(), key=lambda lv: lv.rank)]

    @staticmethod
    def resolve_level_labels(plan) -> list[str]:
        return [lv.label for lv in sorted(plan.levels.all(), key=lambda lv: lv.rank)]

    @staticmethod
    def resolve_registered(plan) -> int:
        counted = getattr(plan, "active_count", None)
        return counted if counted is not None else plan.registrations.filter(status__in=Registration.ACTIVE).count()

    @staticmethod
    def resolve_components(plan) -> list:
        return list(plan.components.all())


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
    """Read from a Registration. A view that must hide the marks from this reader sets `marks_hidden` on it."""

    id: int
    plan_id: int
    plan_title: str = Field(alias="plan.title")
    person_name: str = Field(alias="person.name")
    person_id_number: str = Field(alias="person.masked_id_number")
    level: str = Field(alias="level.code")
    level_label: str = Field(alias="level.label")
    status: str
    status_label: str = Field(alias="get_status_display")
    source: str
    employer_name: str
    work_years: Decimal
    eligibility_status: str
    eligibility: dict
    review_reason: str
    outcome: str
    marks_hidden: bool = False
    created_at: datetime.datetime

    @staticmethod
    def resolve_marks_hidden(r) -> bool:
        return bool(getattr(r, "marks_hidden", False))

    @staticmethod
    def resolve_outcome(r) -> str:
        return "" if getattr(r, "marks_hidden", False) else r.outcome


class ReviewIn(Schema):
    decision: str
    reason: str = ""


class ImportReportOut(Schema):
    total: int
    created: int
    errors: list[dict]
