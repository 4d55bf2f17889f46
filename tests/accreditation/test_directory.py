import pytest

from accounts.actors import Actor
from accreditation import services

pytestmark = pytest.mark.django_db


def test_the_directory_shows_only_filed_organisations(client, approved, draft_other):
    items = client.get("/api/v1/directory/").json()["items"]
    assert [i["name"] for i in items] == [approved.organisation.name]
    entry = items[0]
    assert entry["status"] == "approved" and entry["number_prefix"] == "S000022000001"
    assert {s["occupation_code"] for s in entry["scope"]} == {"6-31-01-03", "4-03-02-07"}
    assert "****" in entry["contact_phone"]


def test_suspended_and_revoked_organisations_show_as_such(client, approved, cc_officer):
    services.filing_suspend(actor=Actor.for_user(cc_officer), filing_id=approved.id, reason="督查整改")
    entry = client.get("/api/v1/directory/").json()["items"][0]
    assert entry["status"] == "suspended" and entry["status_reason"] == "督查整改"
    services.filing_revoke(actor=Actor.for_user(cc_officer), filing_id=approved.id, reason="违规发证")
    entry = client.get(f"/api/v1/directory/{approved.organisation_id}").json()
    assert entry["status"] == "revoked" and entry["scope"] == []
    html = client.get("/directory/").content.decode()
    assert "撤销" in html and approved.organisation.name in html


def test_search_by_name_occupation_and_region(client, approved):
    name = approved.organisation.name
    assert client.get("/api/v1/directory/?q=测试评价").json()["count"] == 1
    assert client.get("/api/v1/directory/?q=不存在").json()["count"] == 0
    assert client.get("/api/v1/directory/?occupation=6-31-01-03").json()["count"] == 1
    assert client.get("/api/v1/directory/?occupation=6-18-02-04").json()["count"] == 0
    assert client.get("/api/v1/directory/?region=220100").json()["count"] == 1
    assert client.get("/api/v1/directory/?region=220200").json()["count"] == 0
    assert name in client.get("/directory/?occupation=6-31-01-03").content.decode()


def test_an_unfiled_organisation_is_404_in_the_directory(client, draft):
    assert client.get(f"/api/v1/directory/{draft.organisation_id}").status_code == 404
    assert client.get(f"/directory/{draft.organisation_id}/").status_code == 404


@pytest.fixture
def draft_other(other_org, other_org_admin):
    from .conftest import SCOPE

    return services.filing_create(actor=Actor.for_user(other_org_admin), organisation_id=other_org.id, scope=SCOPE)
