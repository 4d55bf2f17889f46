"""A worker who has never had an account signs in through the local identity provider (统一身份认证), in Debian's
chromium: the platform's button, the provider's login and consent, back to the platform bound to the person the
provider vouches for, and their certificate is there. The token call goes from the platform to the provider over
HTTP; the ID token is RS256-signed, with a nonce, behind a state. Also on a phone."""

import pytest

from accounts.actors import Actor
from accounts.models import IdentityBinding, User
from assessments.models import Plan
from certificates import issuance
from certificates.models import Certificate
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.oidc import CITIZEN_PASSWORD, citizen

from .steps import no_horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def certificate(org, org_admin, cc_officer, local_idp, settings, tmp_path_factory):
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    finalise(Plan.objects.get(pk=plan.id))
    batch = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=plan.id)
    issuance.issue_batch_run(batch.id)
    return Certificate.objects.get(person=reg.person)


def _sign_in_through_the_provider(page, base: str, shots, username: str) -> None:
    page.goto(f"{base}/login/")
    shots(page, "login")
    page.click("#oidc-login")
    page.wait_for_selector("#idp-authorize")
    assert page.url.startswith(f"{base}/dev-idp/authorize?")
    assert "code_challenge_method=S256" in page.url and "nonce=" in page.url and "state=" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", CITIZEN_PASSWORD)
    shots(page, "provider-consent")
    page.click("#idp-allow")


def test_a_worker_signs_in_through_the_provider_is_bound_and_sees_their_certificate(
    live_server, page, phone, shots, certificate
):
    base = live_server.url
    holder = certificate.person
    citizen("zhang", holder.name, holder.id_number, "L3")
    assert not User.objects.filter(person=holder).exists()

    _sign_in_through_the_provider(page, base, shots, "zhang")
    page.wait_for_url(f"{base}/accounts/me/")
    assert page.get_attribute("#identity-status", "data-status") == "bound"
    assert holder.name in page.inner_text("#identity-status")
    assert holder.id_number not in page.content()  # masked
    shots(page, "bound")
    user = User.objects.get(person=holder)
    assert IdentityBinding.objects.get(user=user).channel == "oidc"

    page.goto(f"{base}/certificates/mine/")
    assert certificate.number in page.inner_text("main")
    shots(page, "my-certificates")

    # On a phone, later: the provider signs the worker straight into the same account.
    _sign_in_through_the_provider(phone, base, shots, "zhang")
    phone.wait_for_url(f"{base}/")
    phone.goto(f"{base}/certificates/mine/")
    assert certificate.number in phone.inner_text("main")
    assert no_horizontal_overflow(phone)
    shots(phone, "phone-my-certificates")
    assert User.objects.filter(person=holder).count() == 1


def test_a_worker_signs_up_then_binds_from_the_account_page(live_server, page, shots, certificate):
    base = live_server.url
    holder = certificate.person
    citizen("zhang", holder.name, holder.id_number, "L3")
    page.goto(f"{base}/login/")
    page.click("#signup-link")
    page.fill("input[name=username]", "zhang_worker")
    page.fill("input[name=password1]", "Gongjiang-2026!")
    page.fill("input[name=password2]", "Gongjiang-2026!")
    page.fill("input[name=phone]", "13804310000")
    shots(page, "signup")
    page.click("#signup-submit")
    page.wait_for_url(f"{base}/accounts/me/")
    assert page.get_attribute("#identity-status", "data-status") == "unbound"
    shots(page, "unbound")

    page.click("#oidc-link")
    page.wait_for_selector("#idp-authorize")
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", CITIZEN_PASSWORD)
    page.click("#idp-allow")
    page.wait_for_url(f"{base}/accounts/me/")
    assert page.get_attribute("#identity-status", "data-status") == "bound"
    shots(page, "linked-and-bound")
    assert User.objects.get(username="zhang_worker").person == holder
    page.goto(f"{base}/certificates/mine/")
    assert certificate.number in page.inner_text("main")
