"""Shared set-up for assessment tests: a filed organisation, a published plan, approved candidates."""

import datetime

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accounts.services import person_get_or_create
from accreditation import services as filings
from accreditation.models import Organisation
from assessments import plans
from assessments.models import Plan, Registration
from assessments.registration import _create_registration, registration_review
from tests.accreditation.conftest import pdf_upload
from tests.factories import OrganisationFactory, filed, make_ric, member, region

SCOPE = [
    {"occupation_code": "6-31-01-03", "levels": ["5", "4", "3"]},
    {"occupation_code": "4-03-02-01", "levels": ["5", "4", "3", "2"]},
]


def file_organisation(org: Organisation, admin, officer, scope=SCOPE) -> Organisation:
    a, o = Actor.for_user(admin), Actor.for_user(officer)
    f = filings.filing_create(actor=a, organisation_id=org.id, scope=scope)
    filings.filing_attach(actor=a, filing_id=f.id, title="表", upload=pdf_upload())
    filings.filing_submit(actor=a, filing_id=f.id)
    filings.filing_start_review(actor=o, filing_id=f.id)
    filings.filing_approve(actor=o, filing_id=f.id)
    org.refresh_from_db()
    return org


def component_times(closes: datetime.date, kinds=("theory", "skills")) -> list[dict]:
    day = closes + datetime.timedelta(days=3)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))
    out = []
    for i, kind in enumerate(kinds):
        s = start + datetime.timedelta(hours=3 * i)
        out.append(
            {"kind": kind, "starts_at": s, "ends_at": s + datetime.timedelta(minutes=120), "room": f"{i + 1}号考场"}
        )
    return out


def make_plan(
    org, admin, *, occupation="6-31-01-03", levels=("4", "3"), capacity=100, publish=True, kinds=("theory", "skills")
) -> Plan:
    today = timezone.localdate()
    closes = today + datetime.timedelta(days=10)
    plan = plans.plan_create(
        actor=Actor.for_user(admin),
        organisation_id=org.id,
        occupation_code=occupation,
        levels=list(levels),
        title="2026年第四期电工职业技能等级认定",
        venue="长春市朝阳区卫星路8号实训楼",
        capacity=capacity,
        registration_opens=today - datetime.timedelta(days=1),
        registration_closes=closes,
        components=component_times(closes, kinds),
        fee=200,
    )
    if publish:
        plans.plan_publish(actor=Actor.for_user(admin), plan_id=plan.id)
        plan.refresh_from_db()
    return plan


def make_candidates(
    plan: Plan, admin, level: str, n: int, *, start: int = 1, approve: bool = True, work_years: int = 12
) -> list[Registration]:
    """n candidates at `level`, each with enough work years to be eligible, approved by the organisation."""
    actor = Actor.for_user(admin)
    regs = []
    for i in range(start, start + n):
        person = person_get_or_create(
            actor=actor,
            name=f"考生{level}-{i}",
            id_type="ric",
            id_number=make_ric(birth=datetime.date(1990, 1, 1) + datetime.timedelta(days=i), seq=i % 900 + 1),
        )
        reg = _create_registration(
            actor,
            plan,
            plan.levels.get(code=level),
            person,
            {
                "work_years": work_years,
                "prior_certificates": [
                    {"occupation_code": plan.occupation.code, "level": str(int(level) + 1), "issued_on": "2015-06-30"}
                ]
                if level != "5"
                else [],
            },
            source="bulk",
        )
        if approve:
            registration_review(actor=actor, registration_id=reg.id, decision="approve")
            reg.refresh_from_db()
        regs.append(reg)
    return regs


@pytest.fixture
def filed_org(org, org_admin, cc_officer):
    """`org` filed by 长春's bureau for SCOPE, written directly (tests/factories.py::filed); the filing's own steps
    are tested in tests/accreditation."""
    return filed(org, cc_officer, SCOPE)


@pytest.fixture
def plan(filed_org, org_admin):
    return make_plan(filed_org, org_admin)


@pytest.fixture
def other_filed_org(cc_officer):
    other = OrganisationFactory(name="长春另一评价机构", region=region("220104"))
    admin = member(Role.ORG_ADMIN, organisation=other)
    filed(other, cc_officer, SCOPE)
    other.admin = admin
    return other
