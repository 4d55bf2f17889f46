"""Issue 13's attacks on an appointed assessor who has no login yet: a stranger signs up, types the assessor's name
and ID number into a registration, and tries to enter marks on the assessor's panel. Nothing is bound and no mark
is stored; the real assessor, bound by proof, scores."""

import datetime

import pytest
from django.test import Client

from accounts.actors import Actor
from accounts.invitations import invitation_accept, invitation_create
from accounts.models import IdentityBinding, Membership, Role, User
from accreditation.people import appointment_register
from assessments.models import PanelMember, Registration, Score
from core.errors import PermissionDenied
from occupations.models import StandardLevel
from tests.conftest import client_for
from tests.factories import UserFactory, appointed_since, bind, checked_in, make_ric, member

from .conftest import make_candidates
from .test_scoring import A, exams_held

pytestmark = pytest.mark.django_db

SIGNUP = {"username": "squatter2026", "password1": "Gongjiang-2026!", "password2": "Gongjiang-2026!"}


@pytest.fixture
def panel(plan, filed_org, org_admin):
    """An assessor the organisation registered (no login), seated on the theory panel of a plan whose exam is held
    (the standard asks for one theory assessor for this small session)."""
    StandardLevel.objects.filter(standard__occupation__code="6-31-01-03").update(
        staffing={"theory": {"per_candidates": 15, "min": 1}, "skills": {"per_candidates": 5, "min": 1}}
    )
    appointment = appointment_register(
        actor=A(org_admin),
        role="assessor",
        valid_from=appointed_since(),
        name="李考评",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1985, 3, 20), seq=612),
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
        organisation_id=filed_org.id,
    )
    PanelMember.objects.create(plan=plan, kind="theory", appointment=appointment)
    # The standard asks for two on the theory panel (the rules are checked before every mark).
    invigilator = appointment_register(
        actor=A(org_admin),
        role="assessor",
        valid_from=appointed_since(),
        name="赵监考",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1984, 6, 2), seq=613),
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
        organisation_id=filed_org.id,
    )
    PanelMember.objects.create(plan=plan, kind="theory", appointment=invigilator)
    regs = make_candidates(plan, org_admin, "4", 2)
    exams_held(plan)
    checked_in(plan, regs, kinds=["theory"])
    return appointment, regs


def _marks(regs) -> dict:
    return {"entries": [{"registration_id": r.id, "value": "95"} for r in regs]}


def test_a_stranger_cannot_become_the_assessor_by_registering(plan, panel):
    appointment, _regs = panel
    client = Client()
    assert client.post("/accounts/signup/", SIGNUP).status_code == 302
    response = client.post(
        f"/api/v1/assessments/plans/{plan.id}/registrations",
        {
            "level": "4",
            "name": appointment.person.name,
            "id_number": appointment.person.id_number,
            "pledge": True,
            "work_years": 20,
        },
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["code"] == "identity_unbound"
    assert User.objects.get(username=SIGNUP["username"]).person_id is None
    assert not IdentityBinding.objects.filter(person=appointment.person).exists()
    assert not Registration.objects.filter(person=appointment.person).exists()


def test_a_stranger_cannot_score_as_the_appointed_assessor(plan, panel):
    _appointment, regs = panel
    client = Client()
    client.post("/accounts/signup/", SIGNUP)
    response = client.post(
        f"/api/v1/assessments/plans/{plan.id}/scores/theory", _marks(regs), content_type="application/json"
    )
    assert response.status_code == 404  # the plan is not even visible to an unrelated account
    assert not Score.objects.exists()


def test_an_assessor_login_not_bound_by_proof_is_told_how_to_bind(plan, filed_org, panel):
    """Even holding the organisation's assessor role, an account scores only as the person it is bound to."""
    _appointment, regs = panel
    login = member(Role.ASSESSOR, organisation=filed_org)
    response = client_for(login).post(
        f"/api/v1/assessments/plans/{plan.id}/scores/theory", _marks(regs), content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "identity_unbound"
    assert not Score.objects.exists()


def test_the_assessor_bound_by_proof_scores(plan, filed_org, panel):
    appointment, regs = panel
    login = member(Role.ASSESSOR, organisation=filed_org)
    bind(login, appointment.person)
    checked_in(plan, regs)  # only candidates checked in at the session are scored (assessments/examday)
    response = client_for(login).post(
        f"/api/v1/assessments/plans/{plan.id}/scores/theory", _marks(regs), content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    assert Score.objects.filter(assessor=appointment).count() == 2


def test_registering_a_bound_stranger_as_assessor_gives_nothing_until_they_accept(plan, filed_org, org_admin):
    """The organisation registers (and seats) a person who already has an account bound by proof. The registration
    is a record about that person: no account gets a role, and nobody scores on the seat, until the person's own
    account accepts the organisation's invitation. Someone else's account cannot accept it for them."""
    StandardLevel.objects.filter(standard__occupation__code="6-31-01-03").update(
        staffing={"theory": {"per_candidates": 15, "min": 1}, "skills": {"per_candidates": 5, "min": 1}}
    )
    id_number = make_ric(birth=datetime.date(1987, 2, 14), seq=714)
    stranger = UserFactory()
    appointment = appointment_register(
        actor=A(org_admin),
        role="assessor",
        valid_from=appointed_since(),
        name="钱明",
        id_type="ric",
        id_number=id_number,
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
        organisation_id=filed_org.id,
    )
    bind(stranger, appointment.person)  # the person's own account, bound by proof before or after: same answer
    PanelMember.objects.create(plan=plan, kind="theory", appointment=appointment)
    regs = make_candidates(plan, org_admin, "4", 1)
    exams_held(plan)
    checked_in(plan, regs, kinds=["theory"])

    assert not Membership.objects.filter(user=stranger).exists()
    assert Role.ASSESSOR not in Actor.for_user(stranger).roles
    response = client_for(stranger).post(
        f"/api/v1/assessments/plans/{plan.id}/scores/theory", _marks(regs), content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "invitation_required"
    assert not Score.objects.exists()

    _invitation, raw = invitation_create(
        actor=A(org_admin),
        role=Role.ASSESSOR,
        name="钱明",
        id_type="ric",
        id_number=id_number,
        organisation_id=filed_org.id,
    )
    intruder = member(Role.WORKER, person=make_person(seq=715))
    with pytest.raises(PermissionDenied):  # the link alone is not enough
        invitation_accept(actor=Actor.for_user(intruder), token=raw)
    assert not Membership.objects.filter(role=Role.ASSESSOR, organisation=filed_org).exists()

    invitation_accept(actor=Actor.for_user(stranger), token=raw)
    assert Membership.objects.filter(user=stranger, role=Role.ASSESSOR, organisation=filed_org).exists()
    response = client_for(stranger).post(
        f"/api/v1/assessments/plans/{plan.id}/scores/theory", _marks(regs), content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    assert Score.objects.filter(assessor=appointment).count() == 1


def make_person(seq: int):
    from accounts.models import Person

    return Person.objects.create(
        name="孙无关", id_type="ric", id_number=make_ric(birth=datetime.date(1990, 1, 9), seq=seq)
    )
