"""Candidates caught by a cancellation: their choice (continue or refund) and the organisation's refunds.

Mounted at /assessments in config/api.py.
"""

import datetime
from decimal import Decimal

from ninja import Router, Schema

from core.schema_types import IsoDate

from . import cancellations
from .models import CancellationChoice

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
    plan: str
    organisation: str
    candidate: str
    level: str
    qualification: str
    change_kind: str
    effective_on: datetime.date
    basis: str
    choice: str
    choice_label: str
    state_label: str
    chosen_at: datetime.datetime | None
    refund_amount: Decimal | None
    refunded_on: datetime.date | None
    refund_reference: str


class PlanChoicesOut(Schema):
    plan_id: int
    summary: dict
    choices: list[ChoiceOut]


def choice_out(c: CancellationChoice) -> dict:
    return {
        "id": c.id,
        "registration_id": c.registration_id,
        "plan_id": c.plan_id,
        "plan": c.plan.title,
        "organisation": c.plan.organisation.name,
        "candidate": c.registration.person.name,
        "level": c.registration.level.label,
        "qualification": c.change.qualification.name,
        "change_kind": c.change.get_kind_display(),
        "effective_on": c.change.effective_on,
        "basis": c.change.basis,
        "choice": c.choice,
        "choice_label": c.get_choice_display(),
        "state_label": str(c.state_label),
        "chosen_at": c.chosen_at,
        "refund_amount": c.refund_amount,
        "refunded_on": c.refunded_on,
        "refund_reference": c.refund_reference,
    }


def _reload(actor, choice_id: int, plan_id: int | None = None) -> dict:
    qs = cancellations.plan_choices(actor, plan_id)[1] if plan_id else cancellations.my_choices(actor)
    return choice_out(qs.get(pk=choice_id))


@router.get("/my/cancellation-choices", response=list[ChoiceOut], summary="我的报名:职业资格取消后的选择")
def my_choices(request):
    return [choice_out(c) for c in cancellations.my_choices(request.auth)]


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
        "choices": [choice_out(c) for c in choices],
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
