"""Binding by code and accepting an invitation, in Debian's chromium (issue 13, items 3 and 4).

- At the exam's check-in the organisation checks a candidate's papers and issues a one-time code; the candidate,
  who has never had an account, signs up, binds with the code and sees their certificate.
- An organisation invites the assessor it registered; the assessor opens the link, signs up, binds with the code
  the organisation handed over after checking their papers, accepts, sets up the second factor the role needs,
  and scores the candidates of their panel."""

import datetime

import pytest

from accounts.actors import Actor
from accounts.models import IdentityBinding, Membership, Role, User
from accreditation import people
from assessments.models import PanelMember, Plan, Score
from certificates import issuance
from certificates.models import Certificate
from occupations.models import StandardLevel
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.factories import PASSWORD, make_ric

from . import steps
from .conftest import login, logout, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Gongjiang-2026!"


def _issue_code(page, base: str, shots, *, place: str, name: str, id_number: str) -> str:
    """The organisation's desk: papers checked in person, then the code shown once."""
    page.goto(f"{base}/accounts/binding-codes/")
    page.select_option("select[name=place]", place)
    page.fill("input[name=name]", name)
    page.fill("input[name=id_number]", id_number)
    page.check("input[name=papers_checked]")
    shots(page, "desk")
    page.click("#issue-submit")
    code = page.inner_text("#binding-code").strip()
    shots(page, "code-slip")
    return code


def _sign_up(page, base: str, username: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    page.click("#signup-submit")


def _bind_with_code(page, name: str, id_number: str, code: str) -> None:
    page.fill("input[name=name]", name)
    page.fill("input[name=id_number]", id_number)
    page.fill("input[name=code]", code)
    page.click("#bind-submit")


@pytest.fixture
def certificate(org, org_admin, cc_officer, settings, tmp_path_factory):
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    finalise(Plan.objects.get(pk=plan.id))
    batch = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=plan.id)
    issuance.issue_batch_run(batch.id)
    return Certificate.objects.get(person=reg.person)


def test_a_candidate_binds_with_the_code_from_the_check_in_and_sees_their_certificate(
    live_server, page, shots, certificate, org_admin
):
    base = live_server.url
    holder = certificate.person
    login(page, base, org_admin.username, PASSWORD)
    code = _issue_code(page, base, shots, place="exam_checkin", name=holder.name, id_number=holder.id_number)
    logout(page)

    page.goto(f"{base}/accounts/signup/")
    _sign_up(page, base, "checkin_worker")
    page.wait_for_url(f"{base}/accounts/me/")
    page.goto(f"{base}/certificates/mine/")
    assert certificate.number not in page.inner_text("main") and page.is_visible("#unbound")
    shots(page, "unbound-certificates")
    page.click("#unbound a:has-text('使用绑定码绑定')")
    _bind_with_code(page, holder.name, holder.id_number, code.lower())  # typed as it comes, lower case too
    page.wait_for_url(f"{base}/accounts/me/")
    assert page.get_attribute("#identity-status", "data-status") == "bound"
    shots(page, "bound")
    user = User.objects.get(username="checkin_worker")
    assert IdentityBinding.objects.get(user=user).channel == "code" and user.person == holder
    page.goto(f"{base}/certificates/mine/")
    assert certificate.number in page.inner_text("main")
    shots(page, "my-certificates")


@pytest.fixture
def panel(org, org_admin, cc_officer, settings, tmp_path_factory):
    """A plan of one candidate whose exam has been held, and an assessor the organisation registered and seated on
    both panels, who has no account yet."""
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    file_organisation(org, org_admin, cc_officer)
    StandardLevel.objects.filter(standard__occupation__code="6-31-01-03", level__code="4").update(
        staffing={"theory": {"per_candidates": 15, "min": 1}, "skills": {"per_candidates": 5, "min": 1}}
    )
    plan = make_plan(org, org_admin, levels=("4",))
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    appointment = people.appointment_register(
        actor=Actor.for_user(org_admin),
        role="assessor",
        name="孙考评",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1986, 4, 16), seq=131),
        organisation_id=org.id,
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
    )
    for kind in ("theory", "skills"):
        PanelMember.objects.create(plan=plan, kind=kind, appointment=appointment)
    steps.exam_day_arrives(plan)
    return plan, reg, appointment


def test_an_assessor_accepts_an_invitation_sets_up_the_second_factor_and_scores(
    live_server, page, shots, panel, org, org_admin
):
    plan, reg, appointment = panel
    person = appointment.person
    base = live_server.url

    # The organisation invites the assessor it registered, and (papers checked in person) hands over a code.
    login(page, base, org_admin.username, PASSWORD)
    page.goto(f"{base}/accounts/invitations/")
    page.select_option("select[name=role]", "assessor")
    page.fill("input[name=name]", person.name)
    page.fill("input[name=id_number]", person.id_number)
    page.click("#invite-submit")
    link = page.inner_text("#invite-url").strip()
    shots(page, "invited")
    code = _issue_code(page, base, shots, place="organisation", name=person.name, id_number=person.id_number)
    logout(page)

    # The assessor opens the link: signs up, binds with the code, comes back and accepts.
    page.goto(link)
    assert page.get_attribute("#invitation", "data-step") == "sign_in"
    page.click("#invite-signup")
    _sign_up(page, base, "sun_assessor")
    page.wait_for_url(link)
    assert page.get_attribute("#invitation", "data-step") == "bind"
    assert not Membership.objects.filter(user__username="sun_assessor").exists()  # no role before the proof
    shots(page, "invitation-bind")
    page.click("#invite-bind-code")
    _bind_with_code(page, person.name, person.id_number, code)
    page.wait_for_url(link)
    assert page.get_attribute("#invitation", "data-step") == "accept"
    shots(page, "invitation-accept")
    page.click("#invite-accept")

    # The role needs a second factor: the site asks for an authenticator before anything else.
    page.wait_for_url(lambda url: "/accounts/second-factor/enrol/" in url)
    shots(page, "second-factor")
    second_factor(page, "sun_assessor")
    user = User.objects.get(username="sun_assessor")
    assert Membership.objects.filter(user=user, role=Role.ASSESSOR, organisation=org).exists()
    assert user.totpdevice_set.filter(confirmed=True).exists()

    page.on("dialog", lambda dialog: dialog.accept())  # "提交后不能修改" asks for confirmation
    steps.scores_enter(
        page, base, shots, plan_id=plan.id, registration_id=reg.id, marks={"theory": "81", "skills": "88"}
    )
    scores = Score.objects.filter(assessor=appointment, registration=reg)
    assert sorted(scores.values_list("kind", "value")) == [("skills", 88), ("theory", 81)]
    assert all(s.submitted_at is not None for s in scores)
