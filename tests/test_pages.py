import pytest

from accounts.models import Role
from tests.conftest import client_for
from tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db


def test_home_for_visitors_is_public_and_chinese(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<html lang="zh-hans">' in html and "职业技能等级认定平台" in html
    assert 'name="viewport"' in html
    assert "cdn" not in html.lower() and "//" not in html.split("href=")[1][:5]


def test_login_and_logout(client):
    """A worker signs in with the password alone (staff pass a second factor too: tests/accounts/)."""
    worker = member(Role.WORKER)
    r = client.post("/login/", {"username": worker.username, "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/"
    assert "panel-worker" in client.get("/").content.decode()
    client.post("/logout/")
    assert "panel-worker" not in client.get("/").content.decode()


def test_a_wrong_password_is_refused(client, cc_officer):
    r = client.post("/login/", {"username": cc_officer.username, "password": "wrong"})
    assert r.status_code == 200 and "_auth_user_id" not in client.session


def test_login_is_throttled(client, cc_officer, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": (3, 300)}
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        client.post("/login/", {"username": cc_officer.username, "password": "wrong"})
    r = client.post("/login/", {"username": cc_officer.username, "password": PASSWORD})
    assert r.status_code == 429 and "_auth_user_id" not in client.session
    cache.clear()


@pytest.mark.parametrize(
    ("role", "panel"),
    [(Role.ORG_ADMIN, "panel-org_admin"), (Role.ASSESSOR, "panel-assessor"), (Role.TRAINER, "panel-trainer")],
)
def test_each_org_role_gets_its_home_panel(org, role, panel):
    html = client_for(member(role, organisation=org)).get("/").content.decode()
    assert panel in html


def test_only_an_employers_admin_is_offered_claims_for_staff(org):
    """The link led a social organisation's (or a school's) admin to a 403."""
    from tests.factories import OrganisationFactory

    assert org.kind != "Y"
    html = client_for(member(Role.ORG_ADMIN, organisation=org)).get("/").content.decode()
    assert "/subsidies/employer/" not in html
    employer = OrganisationFactory(kind="Y")
    html = client_for(member(Role.ORG_ADMIN, organisation=employer)).get("/").content.decode()
    assert "/subsidies/employer/" in html


def test_bureau_supervisor_and_worker_panels(cc_officer, changchun_bureau):
    assert "panel-bureau" in client_for(cc_officer).get("/").content.decode()
    sup = member(Role.SUPERVISOR, bureau=changchun_bureau)
    assert "panel-supervisor" in client_for(sup).get("/").content.decode()
    assert "panel-worker" in client_for(member(Role.WORKER)).get("/").content.decode()


def test_admin_is_for_operators(operator, cc_officer):
    assert client_for(operator).get("/admin/").status_code == 200
    assert client_for(cc_officer).get("/admin/").status_code == 302


def test_static_assets_are_served_locally(client):
    from django.contrib.staticfiles import finders

    assert finders.find("css/site.css")


def test_token_page_for_org_admin(org_admin, org, cc_officer):
    c = client_for(org_admin)
    assert c.get("/accounts/tokens/").status_code == 200
    r = c.post("/accounts/tokens/new/", {"organisation_id": org.id, "name": "对接"}, follow=True)
    assert "sk_" in r.content.decode()
    assert "sk_" not in c.get("/accounts/tokens/").content.decode().split("<table")[0]  # shown once
    assert client_for(cc_officer).get("/accounts/tokens/").status_code == 403


def test_the_audit_log_records_the_request_id(org_admin, org):
    from core.models import AuditEntry

    client_for(org_admin).post(
        "/api/v1/accounts/tokens",
        {"organisation_id": org.id, "name": "x"},
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-1234567890",
    )
    entry = AuditEntry.objects.get(action="api_token.create")
    assert entry.request_id == "req-1234567890" and entry.organisation_id == org.id
    assert entry.actor_label == f"user:{org_admin.username}"
