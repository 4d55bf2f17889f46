import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from accounts.identity import mask_id_number, mask_name
from core.schema_types import IsoDate


class RuleOut(Schema):
    code: str
    label: str
    met: bool
    facts: str
    verified: bool
    awaiting: bool = False


class CalculationOut(Schema):
    base: str
    uplift_percent: int
    shortage: bool
    uncapped: str
    ceiling: str | None
    amount: str
    text: str


class PolicyRefOut(Schema):
    id: int
    code: str
    name: str
    region: str
    effective_from: str
    version_basis: str
    basis_date: str | None


class AssessmentOut(Schema):
    eligible: bool
    awaiting: bool = False
    assessed_on: str
    policy: PolicyRefOut | None
    shortage: bool
    amount: str | None
    calculation: CalculationOut | None
    rules: list[RuleOut]


class DecisionOut(Schema):
    step: str
    step_label: str = Field(alias="get_step_display")
    outcome: str
    actor: str = Field(alias="actor_label")
    reason: str
    policy_code: str | None
    amount: Decimal | None
    at: datetime.datetime

    @staticmethod
    def resolve_policy_code(obj) -> str | None:
        return obj.policy.code if obj.policy_id else None


class ObjectionOut(Schema):
    id: int
    text: str
    raised_on: datetime.date
    due_on: datetime.date
    status: str
    status_label: str = Field(alias="get_status_display")
    resolution: str


class ClaimOut(Schema):
    """A claim as its claimant, its filer and the bureau read it: the ID number and the account masked."""

    id: int
    status: str
    status_label: str = Field(alias="get_status_display")
    certificate_id: int
    certificate_number: str = Field(alias="certificate.number")
    holder_name: str = Field(alias="person.name")
    id_number: str
    occupation_code: str = Field(alias="occupation.code")
    occupation_name: str = Field(alias="occupation.name")
    level: str = Field(alias="level.code")
    level_label: str = Field(alias="level.label")
    region_code: str = Field(alias="region.code")
    region_name: str = Field(alias="region.full_name")
    category: str
    category_label: str = Field(alias="get_category_display")
    insurance_months_declared: int | None
    account_kind: str
    account_number: str = Field(alias="masked_account")
    bank_name: str
    filed_by_organisation: str | None
    claimed_on: datetime.date
    due_on: datetime.date | None
    due_provisional: bool
    overdue: bool
    publicity_starts_on: datetime.date | None
    publicity_ends_on: datetime.date | None
    policy_code: str | None
    amount: Decimal | None
    is_shortage: bool
    decision_reason: str
    payment_failure_reason: str
    paid_on: datetime.date | None
    bank_reference: str

    @staticmethod
    def resolve_id_number(obj) -> str:
        return mask_id_number(obj.person.id_number)

    @staticmethod
    def resolve_filed_by_organisation(obj) -> str | None:
        return obj.filed_by_organisation.name if obj.filed_by_organisation_id else None

    @staticmethod
    def resolve_overdue(obj) -> bool:
        """Lists annotate `overdue` (selectors.with_overdue); a single claim is asked here."""
        overdue = getattr(obj, "overdue", None)
        if overdue is None:
            from .selectors import with_overdue

            overdue = with_overdue(type(obj).objects.filter(pk=obj.pk)).values_list("overdue", flat=True).first()
        return bool(overdue)

    @staticmethod
    def resolve_policy_code(obj) -> str | None:
        return obj.policy.code if obj.policy_id else None


class ClaimDetailOut(ClaimOut):
    assessment: AssessmentOut | None
    current: AssessmentOut
    decisions: list[DecisionOut]
    objections: list[ObjectionOut]

    @staticmethod
    def resolve_assessment(obj) -> dict | None:
        return obj.assessment or None

    @staticmethod
    def resolve_current(obj) -> dict:
        """Eligibility worked out again now, beside the one recorded at the last decision."""
        from .eligibility import assess

        return assess([obj])[0].as_dict()

    @staticmethod
    def resolve_decisions(obj):
        return obj.decisions.select_related("policy")


class ClaimIn(Schema):
    certificate_id: int
    category: str = "employee"
    insurance_months: int | None = None
    account_kind: str
    account_number: str
    bank_name: str = ""
    region_code: str = ""
    military_months: int | None = None
    transferred_from: str = ""
    declares_not_paid_elsewhere: bool = False


class PreviewOut(Schema):
    certificate_id: int
    region_code: str
    assessment: AssessmentOut


class AccountIn(Schema):
    account_kind: str
    account_number: str
    bank_name: str = ""


class ReviewIn(Schema):
    decision: str
    reason: str = ""


class ClaimReasonIn(Schema):
    reason: str = ""


class ObjectionIn(Schema):
    text: str
    contact: str = ""


class ResolveIn(Schema):
    upheld: bool
    resolution: str


class RecordsImportReportOut(Schema):
    total: int
    created: int
    errors: list[dict]
    unmatched: int | None = None


class DeclaredCertificateIn(Schema):
    id_number: str
    occupation_code: str
    level_code: str
    number: str
    issued_on: IsoDate
    issuer: str = ""
    verified: bool = False
    verification: str = ""
    region_code: str = ""


class DeclarationIn(Schema):
    occupation_code: str
    level_code: str
    number: str
    issued_on: IsoDate
    region_code: str
    issuer: str = ""


class DeclaredDecisionIn(Schema):
    decision: Literal["verified", "rejected"]
    verification: str = ""


class DeclaredCertificateOut(Schema):
    id: int
    number: str
    status: str
    occupation: str = Field(alias="occupation.code")
    level: str = Field(alias="level.code")
    issued_on: datetime.date
    region: str | None = Field(default=None, alias="region.code")
    verification: str = ""


class BankReturnReportOut(Schema):
    total: int
    created: int
    errors: list[dict]
    paid: int
    failed: int
    unchanged: int
    pending: int
    closed: bool


class BudgetIn(Schema):
    year: int
    amount: Decimal
    basis: str
    region_code: str = ""
    warn_percent: int = 80


class SupplementIn(Schema):
    amount: Decimal
    basis: str


class BudgetOut(Schema):
    id: int
    region: str
    year: int
    fund: str
    total: Decimal
    used: Decimal
    percent: float
    warn_percent: int
    text: str


class CityStatisticsOut(Schema):
    year: int
    cities: list[dict]
    total: dict
    by_level: list[dict]
    by_occupation: list[dict]


class BatchIn(Schema):
    month: str | None = None
    region_code: str = ""


class PaymentLineOut(Schema):
    claim_id: int
    holder_name: str
    account_number: str = Field(alias="masked_account")
    amount: Decimal
    status: str
    status_label: str = Field(alias="get_status_display")
    bank_reference: str
    failure_reason: str


class BatchOut(Schema):
    id: int
    region_code: str = Field(alias="region.code")
    region_name: str = Field(alias="region.full_name")
    month: str
    status: str
    status_label: str = Field(alias="get_status_display")
    line_count: int
    total: Decimal
    exported_at: datetime.datetime | None
    lines: list[PaymentLineOut]

    @staticmethod
    def resolve_lines(obj):
        return obj.lines.order_by("id")

    @staticmethod
    def resolve_line_count(obj) -> int:
        return obj.lines.count()

    @staticmethod
    def resolve_total(obj) -> Decimal:
        return sum((line.amount for line in obj.lines.all()), Decimal(0))


class PaidIn(Schema):
    bank_reference: str
    paid_on: IsoDate | None = None


class FailedIn(Schema):
    reason: str


class PolicyAmountOut(Schema):
    level: str = Field(alias="level.code")
    level_label: str = Field(alias="level.label")
    amount: Decimal


class PolicyOut(Schema):
    id: int
    code: str
    name: str
    region_code: str = Field(alias="region.code")
    region_name: str = Field(alias="region.full_name")
    effective_from: datetime.date
    effective_to: datetime.date | None
    version_basis: str
    claim_window_months: int
    insurance_months_required: int
    accepts_unemployment_benefit: bool
    excluded_groups: list[str]
    yearly_cap: int
    yearly_cap_shortage_extra: int
    shortage_uplift_percent: int
    amount_ceiling: Decimal | None
    basis: str
    amounts: list[PolicyAmountOut]

    @staticmethod
    def resolve_excluded_groups(obj) -> list[str]:
        return list(obj.excluded_groups or [])


class PublicityOut(Schema):
    """A claim on the public publicity list: the name and the ID number masked."""

    id: int
    name: str
    id_number: str
    occupation_name: str = Field(alias="occupation.name")
    level_label: str = Field(alias="level.label")
    region_name: str = Field(alias="region.name")
    amount: Decimal | None
    publicity_ends_on: datetime.date | None

    @staticmethod
    def resolve_name(obj) -> str:
        return mask_name(obj.person.name)

    @staticmethod
    def resolve_id_number(obj) -> str:
        return mask_id_number(obj.person.id_number)


class StatRowOut(Schema):
    label: str
    count: int
    amount: Decimal


class MonthOut(Schema):
    label: str
    claimed: int
    approved: int
    amount: Decimal


class StatisticsOut(Schema):
    year: int
    total: int
    approved: int
    approved_amount: Decimal
    paid: int
    paid_amount: Decimal
    by_status: list[dict]
    by_level: list[StatRowOut]
    by_occupation: list[StatRowOut]
    by_month: list[MonthOut]
