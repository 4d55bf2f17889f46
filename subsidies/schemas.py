import datetime
from decimal import Decimal

from ninja import Schema

from core.schema_types import IsoDate


class RuleOut(Schema):
    code: str
    label: str
    met: bool
    facts: str
    verified: bool


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
    assessed_on: str
    policy: PolicyRefOut | None
    shortage: bool
    amount: str | None
    calculation: CalculationOut | None
    rules: list[RuleOut]


class DecisionOut(Schema):
    step: str
    step_label: str
    outcome: str
    actor: str
    reason: str
    policy_code: str | None
    amount: Decimal | None
    at: datetime.datetime


class ObjectionOut(Schema):
    id: int
    text: str
    raised_on: datetime.date
    due_on: datetime.date
    status: str
    status_label: str
    resolution: str


class ClaimOut(Schema):
    id: int
    status: str
    status_label: str
    certificate_id: int
    certificate_number: str
    holder_name: str
    id_number: str
    occupation_code: str
    occupation_name: str
    level: str
    level_label: str
    region_code: str
    region_name: str
    category: str
    category_label: str
    insurance_months_declared: int | None
    account_kind: str
    account_number: str
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


class ClaimDetailOut(ClaimOut):
    assessment: AssessmentOut | None
    current: AssessmentOut
    decisions: list[DecisionOut]
    objections: list[ObjectionOut]


class ClaimIn(Schema):
    certificate_id: int
    category: str = "employee"
    insurance_months: int | None = None
    account_kind: str
    account_number: str
    bank_name: str = ""
    region_code: str = ""


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


class BatchIn(Schema):
    month: str | None = None
    region_code: str = ""


class PaymentLineOut(Schema):
    claim_id: int
    holder_name: str
    account_number: str
    amount: Decimal
    status: str
    status_label: str
    bank_reference: str
    failure_reason: str


class BatchOut(Schema):
    id: int
    region_code: str
    region_name: str
    month: str
    status: str
    status_label: str
    line_count: int
    total: Decimal
    exported_at: datetime.datetime | None
    lines: list[PaymentLineOut]


class PaidIn(Schema):
    bank_reference: str
    paid_on: IsoDate | None = None


class FailedIn(Schema):
    reason: str


class PolicyAmountOut(Schema):
    level: str
    level_label: str
    amount: Decimal


class PolicyOut(Schema):
    id: int
    code: str
    name: str
    region_code: str
    region_name: str
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


class PublicityOut(Schema):
    id: int
    name: str
    id_number: str
    occupation_name: str
    level_label: str
    region_name: str
    amount: Decimal | None
    publicity_ends_on: datetime.date | None


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
