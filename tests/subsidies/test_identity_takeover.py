"""Issue 13's attack, replayed: a new account types a stranger's name and ID number (both printed on the stranger's
paper certificate) and tries to become them. It gets no binding, no certificate, no PDF and no subsidy claim;
every refusal tells it how to bind by proof. The real holder, bound by proof, still has all of it."""

import pytest
from django.test import Client

from accounts.models import IdentityBinding, User
from subsidies.models import Claim
from tests.factories import bind

from .conftest import ACCOUNT

pytestmark = pytest.mark.django_db

SIGNUP = {"username": "squatter2026", "password1": "Gongjiang-2026!", "password2": "Gongjiang-2026!"}


def _signed_up() -> tuple[Client, User]:
    client = Client()
    assert client.post("/accounts/signup/", SIGNUP).status_code == 302
    return client, User.objects.get(username=SIGNUP["username"])


def _says_how_to_bind(response) -> None:
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "identity_unbound"
    assert "统一身份认证" in body["message"] and "绑定码" in body["message"]


def test_a_new_account_typing_a_strangers_name_and_id_gets_no_binding(issued, finalised_plan):
    victim = issued[0].person
    client, attacker = _signed_up()
    response = client.post(
        f"/api/v1/assessments/plans/{finalised_plan.id}/registrations",
        {"level": "4", "name": victim.name, "id_number": victim.id_number, "pledge": True, "work_years": 9},
        content_type="application/json",
    )
    _says_how_to_bind(response)
    attacker.refresh_from_db()
    assert attacker.person_id is None
    assert not IdentityBinding.objects.filter(person=victim).exists()


def test_the_stranger_sees_no_certificate_and_no_pdf(issued):
    cert = issued[0]
    client, _attacker = _signed_up()
    assert client.get("/api/v1/certificates").json()["items"] == []
    assert client.get(f"/api/v1/certificates/{cert.id}").status_code == 404
    assert client.get(f"/api/v1/certificates/{cert.id}/pdf").status_code == 404
    assert client.get(f"/certificates/{cert.id}/pdf/").status_code == 404
    mine = client.get("/certificates/mine/").content.decode()
    assert cert.number not in mine and 'id="unbound"' in mine and 'href="/accounts/bind/code/"' in mine


def test_the_stranger_files_no_claim(issued):
    cert = issued[0]
    client, _attacker = _signed_up()
    response = client.post(
        "/api/v1/subsidies/claims",
        {"certificate_id": cert.id, "account_kind": "bank_card", "account_number": ACCOUNT, "insurance_months": 24},
        content_type="application/json",
    )
    _says_how_to_bind(response)
    assert not Claim.objects.exists()
    page = client.get("/subsidies/")
    assert page.status_code == 403 and "绑定码" in page.content.decode()


def test_a_link_made_without_proof_counts_for_nothing(issued):
    """An account linked to a person before bindings needed proof (the old registration did that) acts as nobody."""
    cert = issued[0]
    client, attacker = _signed_up()
    User.objects.filter(pk=attacker.pk).update(person=cert.person)
    assert client.get("/api/v1/certificates").json()["items"] == []
    assert client.get(f"/api/v1/certificates/{cert.id}/pdf").status_code == 404


def test_the_holder_bound_by_proof_keeps_everything(issued):
    cert = issued[0]
    client, holder = _signed_up()
    bind(holder, cert.person)
    assert [c["number"] for c in client.get("/api/v1/certificates").json()["items"]] == [cert.number]
    assert client.get(f"/api/v1/certificates/{cert.id}/pdf")["Content-Type"] == "application/pdf"
    response = client.post(
        "/api/v1/subsidies/claims",
        {"certificate_id": cert.id, "account_kind": "bank_card", "account_number": ACCOUNT, "insurance_months": 24},
        content_type="application/json",
    )
    assert response.status_code == 201 and Claim.objects.get().person == cert.person


def test_every_my_page_tells_an_unbound_account_how_to_bind(issued, finalised_plan):
    client, _attacker = _signed_up()
    for path in ("/certificates/mine/", "/certificates/careers/", "/assessments/my/"):
        page = client.get(path).content.decode()
        assert 'id="unbound"' in page and "绑定码" in page and 'href="/accounts/bind/code/"' in page, path
