"""Each role sees its own scope; everything else is a 404, as if it did not exist."""

import pytest

from accounts.models import ApiToken, Role
from tests.conftest import client_for
from tests.factories import member

pytestmark = pytest.mark.django_db


def _get(user, org):
    return client_for(user).get(f"/api/v1/accreditation/organisations/{org.id}")


def test_a_city_officer_sees_organisations_in_their_city(cc_officer, org):
    assert _get(cc_officer, org).status_code == 200


def test_a_city_officer_cannot_see_another_citys_organisation(cc_officer, other_org):
    response = _get(cc_officer, other_org)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_province_officer_sees_every_city(province_officer, org, other_org):
    assert _get(province_officer, org).status_code == 200
    assert _get(province_officer, other_org).status_code == 200
    ids = {o["id"] for o in client_for(province_officer).get("/api/v1/accreditation/organisations").json()["items"]}
    assert {org.id, other_org.id} <= ids


def test_the_city_list_holds_only_the_city(cc_officer, org, other_org):
    ids = {o["id"] for o in client_for(cc_officer).get("/api/v1/accreditation/organisations").json()["items"]}
    assert org.id in ids and other_org.id not in ids


def test_an_organisation_sees_itself_but_not_another(org_admin, org, other_org):
    assert _get(org_admin, org).status_code == 200
    assert _get(org_admin, other_org).status_code == 404


def test_a_worker_sees_no_organisation_record(org):
    worker = member(Role.WORKER)
    assert _get(worker, org).status_code == 404


def test_anonymous_gets_401(client, org):
    response = client.get(f"/api/v1/accreditation/organisations/{org.id}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_token_acts_for_its_one_organisation(org_admin, org, other_org):
    created = client_for(org_admin).post(
        "/api/v1/accounts/tokens",
        {"organisation_id": org.id, "name": "HR system"},
        content_type="application/json",
    )
    assert created.status_code == 201
    raw = created.json()["key"]
    assert not ApiToken.objects.filter(key_hash__contains=raw).exists()
    assert raw not in str(list(ApiToken.objects.values()))  # only the hash is at rest
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    from django.test import Client

    assert Client().get(f"/api/v1/accreditation/organisations/{org.id}", **auth).status_code == 200
    assert Client().get(f"/api/v1/accreditation/organisations/{other_org.id}", **auth).status_code == 404

    token_id = created.json()["id"]
    assert client_for(org_admin).post(f"/api/v1/accounts/tokens/{token_id}/revoke").status_code == 200
    assert Client().get(f"/api/v1/accreditation/organisations/{org.id}", **auth).status_code == 401


def test_an_organisation_cannot_make_tokens_for_another(org_admin, other_org):
    response = client_for(org_admin).post(
        "/api/v1/accounts/tokens",
        {"organisation_id": other_org.id, "name": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not ApiToken.objects.exists()


def test_an_assessor_of_the_organisation_may_not_make_tokens(org):
    assessor = member(Role.ASSESSOR, organisation=org)
    response = client_for(assessor).post(
        "/api/v1/accounts/tokens", {"organisation_id": org.id, "name": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_another_organisation_cannot_revoke_my_token(org_admin, other_org_admin, org):
    created = (
        client_for(org_admin)
        .post(
            "/api/v1/accounts/tokens",
            {"organisation_id": org.id, "name": "HR"},
            content_type="application/json",
        )
        .json()
    )
    assert client_for(other_org_admin).post(f"/api/v1/accounts/tokens/{created['id']}/revoke").status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_me_lists_roles(cc_officer):
    data = client_for(cc_officer).get("/api/v1/accounts/me").json()
    assert data["roles"] == ["bureau_staff"]
    assert data["memberships"][0]["bureau"]


def test_a_garbage_bearer_token_is_401(org):
    from django.test import Client

    r = Client().get(f"/api/v1/accreditation/organisations/{org.id}", HTTP_AUTHORIZATION="Bearer sk_nonsense")
    assert r.status_code == 401
