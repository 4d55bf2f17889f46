"""Candidates caught by a cancellation: their choice (continue or refund) and the organisation's refunds.

Mounted at /assessments in config/api.py.
"""

import datetime
from decimal import Decimal

from ninja import Field, Router, Schema

from core.schema_types import IsoDate

from ..models import CancellationChoice
from . import services as cancellations

router = Router(tags=["assessments"])


class ChoiceIn(Schema):
    choice: str


class RefundIn(Schema):
    amount: str
    refunded_on: IsoDate | None = None
    reference: str = ""


class ChoiceOut(Schema):
    id: int
    registration_id: int
    plan_id: int
    plan: str = Field(alias="plan.title")
    organisation: str = Field(alias="plan.organisation.name")
    candidate: str = Field(alias="registration.person.name")
    level: str = Field(alias="registration.level.label")
    qualification: str = Field(alias="change.qualification.name")
    change_kind: str = Field(alias="change.get_kind_display")
    effective_on: datetime.date = Field(alias="change.effective_on")
    basis: str = Field(alias="change.basis")
    choice: str
    choice_label: str = Field(alias="get_choice_display")
    state_label: str
    chosen_at: datetime.datetime | None
    refund_amount: Decimal | None
    refunded_on: datetime.date | None
    refund_reference: str

    @staticmethod
    def resolve_state_label(c: CancellationChoice) -> str:
        return str(c.state_label)


class PlanChoicesOut(Schema):
    plan_id: int
    summary: dict
    choices: list[ChoiceOut]


def _reload(actor, choice_id: int, plan_id: int | None = None) -> CancellationChoice:
    qs = cancellations.plan_choices(actor, plan_id)[1] if plan_id else cancellations.my_choices(actor)
    return qs.get(pk=choice_id)


@router.get("/my/cancellation-choices", response=list[ChoiceOut], summary="我的报名:职业资格取消后的选择")
def my_choices(request):
    return cancellations.my_choices(request.auth)


@router.post(
    "/cancellation-choices/{choice_id}/choose",
    response=ChoiceOut,
    summary="考生选择继续参加认定(continue)或退费(refund)",
)
def choose(request, choice_id: int, payload: ChoiceIn):
    cancellations.choice_make(actor=request.auth, choice_id=choice_id, choice=payload.choice)
    return _reload(request.auth, choice_id)


@router.get(
    "/plans/{plan_id}/cancellation-choices", response=PlanChoicesOut, summary="计划内考生的选择与退费情况(评价机构)"
)
def plan_choices(request, plan_id: int):
    plan, qs = cancellations.plan_choices(request.auth, plan_id)
    choices = list(qs)
    return {
        "plan_id": plan.id,
        "summary": cancellations.choices_summary(choices),
        "choices": choices,
    }


@router.post("/cancellation-choices/{choice_id}/refund", response=ChoiceOut, summary="登记退费(金额、日期、凭证号)")
def refund(request, choice_id: int, payload: RefundIn):
    c = cancellations.refund_record(
        actor=request.auth,
        choice_id=choice_id,
        amount=payload.amount,
        refunded_on=payload.refunded_on,
        reference=payload.reference,
    )
    return _reload(request.auth, choice_id, c.plan_id)
