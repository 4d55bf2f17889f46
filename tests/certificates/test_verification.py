import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.actors import Actor
from accounts.identity import mask_id_number
from assessments.models import Registration
from certificates import services
from certificates.models import Certificate, VerificationLog
from core.errors import NotFound
from tests.conftest import client_for
from tests.factories import bound_user, issued_certificates

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    return Certificate.objects.order_by("number").first()


def api(client, token):
    return client.get(f"/api/v1/verify/{token}")


def test_a_valid_certificate_verifies_with_masked_data(client, issued):
    r = api(client, issued.token)
    data = r.json()
    assert r.status_code == 200 and data["status"] == "valid"
    c = data["certificate"]
    assert c["number"] == issued.number and c["holder_name"] == issued.holder_name
    assert c["id_number"] != issued.id_number and "*" in c["id_number"] and c["id_number"][-4:] == issued.id_number[-4:]
    assert c["level"] in ("三级/高级工", "四级/中级工")
    page = client.get(f"/v/{issued.token}").content.decode()
    assert 'data-status="valid"' in page and issued.id_number not in page
    assert VerificationLog.objects.filter(result="valid", channel="api").count() == 1


def test_every_status_shows_on_the_page_and_in_the_api(client, issued, org_admin, cc_officer):
    a = Actor.for_user(org_admin)
    services.certificate_suspend(actor=a, certificate_id=issued.id, reason="核查中")
    assert api(client, issued.token).json()["status"] == "suspended"
    assert 'data-status="suspended"' in client.get(f"/v/{issued.token}").content.decode()
    services.certificate_reinstate(actor=a, certificate_id=issued.id, reason="核查无误")
    assert api(client, issued.token).json()["status"] == "valid"
    services.certificate_revoke(
        actor=Actor.for_user(cc_officer),
        certificate_id=issued.id,
        reason="考试作弊",
        effective_on=datetime.date(2026, 11, 20),
    )
    data = api(client, issued.token).json()
    assert data["status"] == "revoked" and data["status_reason"] == "考试作弊" and data["status_since"] == "2026-11-20"
    page = client.get(f"/v/{issued.token}").content.decode()
    assert 'data-status="revoked"' in page and "考试作弊" in page


def test_expired_and_superseded(client, finalised_plan, org_admin, issue):
    issue(finalised_plan, org_admin)
    a, b = Certificate.objects.order_by("number")[:2]
    Certificate.objects.filter(pk=a.id).update(valid_until=datetime.date(2020, 1, 1))
    assert api(client, a.token).json()["status"] == "expired"
    new = services.certificate_replace(
        actor=Actor.for_user(org_admin),
        certificate_id=b.id,
        reason="姓名更正",
        corrections={"holder_name": b.holder_name + "新"},
    )
    old = api(client, b.token).json()
    assert old["status"] == "superseded" and old["superseded_by"] == new.number
    assert api(client, new.token).json()["status"] == "valid"
    assert new.number[:16] == b.number[:16] and new.number != b.number


def test_altered_tokens_are_forged_never_valid(client, issued):
    token = issued.token
    for i in (0, len(token) // 3, len(token) // 2, len(token) - 1):
        ch = "A" if token[i] != "A" else "B"
        altered = token[:i] + ch + token[i + 1 :]
        assert api(client, altered).json()["status"] == "forged", i
    assert api(client, "garbage").json()["status"] == "forged"
    assert 'data-status="forged"' in client.get("/v/not.a.real.token").content.decode()


def test_a_changed_database_record_is_forged(client, issued):
    Certificate.objects.filter(pk=issued.id).update(holder_name="李鬼")
    assert api(client, issued.token).json()["status"] == "forged"


def test_a_well_signed_token_for_a_missing_certificate_is_unknown(client, issued):
    token = issued.token
    Certificate.objects.filter(pk=issued.id).update(number="S000099999999263999999")
    assert api(client, token).json()["status"] == "unknown"


def test_unreadable_keys_are_never_valid(client, issued, settings, tmp_path):
    settings.SIGNING_KEYS_DIR = tmp_path / "missing"
    settings.SIGNING_KEYS_GENERATE = False
    r = api(client, issued.token)
    assert r.status_code == 503 and r.json()["code"] == "verification_unavailable"
    page = client.get(f"/v/{issued.token}")
    assert page.status_code == 503 and "valid" not in page.content.decode().split('data-status="')[1][:6]


def test_lookup_needs_all_three_and_is_rate_limited(client, issued, settings):
    cache.clear()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "verify_lookup": (2, 60)}
    q = {"number": issued.number, "name": issued.holder_name, "id_number": issued.id_number}
    assert client.get("/api/v1/verify/lookup", q).json()["status"] == "valid"
    wrong = client.get("/api/v1/verify/lookup", {**q, "name": "别人"}).json()
    assert wrong["status"] == "unknown" and "certificate" not in wrong  # nothing leaks on a mismatch
    r = client.get("/api/v1/verify/lookup", q)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    page = client.post("/verify/", q)
    assert page.status_code == 429
    cache.clear()


def test_jwks_is_published(client, issued):
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in keys)
    assert issued.token.split(".")[0] in {k["kid"] for k in keys}


def test_holders_organisations_and_bureaus_see_certificates(
    issued, org_admin, other_org_admin, cc_officer, jlc_officer
):

    holder = bound_user("holder", password="x-1234567", person=issued.person)
    for user, status in (
        (holder, 200),
        (org_admin, 200),
        (cc_officer, 200),
        (other_org_admin, 404),
        (jlc_officer, 404),
    ):
        assert client_for(user).get(f"/api/v1/certificates/{issued.id}").status_code == status, user
    pdf = client_for(holder).get(f"/certificates/{issued.id}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert issued.number in client_for(holder).get("/certificates/mine/").content.decode()


def test_what_each_channel_shows_of_the_holder(client, issued, org_admin, other_org_admin):
    """SECURITY.md, "What verification shows of the holder": whoever holds the token (the QR on the paper, which
    prints the full name) or types the full name into the lookup sees the full name, so a paper whose name was
    changed is caught; the ID number is masked everywhere public; the PDF (the certificate itself, full ID number
    included) only for those who may hold it."""
    cache.clear()
    masked = mask_id_number(issued.id_number)
    page = client.get(f"/v/{issued.token}").content.decode()
    assert f'id="holder">{issued.holder_name}<' in page and masked in page and issued.id_number not in page
    scan = client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]
    assert (scan["holder_name"], scan["id_number"]) == (issued.holder_name, masked)
    q = {"number": issued.number, "name": issued.holder_name, "id_number": issued.id_number}
    looked_up = client.get("/api/v1/verify/lookup", q).json()["certificate"]
    assert (looked_up["holder_name"], looked_up["id_number"]) == (issued.holder_name, masked)
    lookup_page = client.post("/verify/", q).content.decode()
    assert 'data-status="valid"' in lookup_page, lookup_page[lookup_page.find("<main") :][:600]
    assert issued.holder_name in lookup_page and issued.id_number not in lookup_page
    pdf = client_for(org_admin).get(f"/api/v1/certificates/{issued.id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client_for(other_org_admin).get(f"/api/v1/certificates/{issued.id}/pdf").status_code == 404
    assert client.get(f"/api/v1/certificates/{issued.id}/pdf").status_code == 401
    cache.clear()


def test_other_tenants_cannot_change_status(issued, other_org_admin, jlc_officer):
    for user in (other_org_admin, jlc_officer):
        with pytest.raises(NotFound):
            services.certificate_revoke(actor=Actor.for_user(user), certificate_id=issued.id, reason="x")
    assert Certificate.objects.get(pk=issued.id).status == "valid"


@pytest.mark.django_db(transaction=True)
def test_a_scan_survives_a_dead_database_connection(client, finalised_plan, org_admin, issue):
    """After a database restart the first scan must not fail: the hot path retries on a new connection."""
    from django.db import connection

    from tests.conftest import require_postgres

    require_postgres("needs a PostgreSQL connection that can die under it")
    issue(finalised_plan, org_admin)
    cert = Certificate.objects.order_by("number").first()
    assert api(client, cert.token).json()["status"] == "valid"
    connection.connection.close()  # what a restarted server leaves behind: a socket that no longer works
    r = api(client, cert.token)
    assert r.status_code == 200 and r.json()["status"] == "valid"


# --- certificates earned before a cancellation (notice section 四) ------------------------------------------


def _cancel_electrician(operator, effective_on: datetime.date):
    from occupations import changes
    from occupations.models import Occupation, Qualification

    qual = Qualification.objects.create(name="电工(测试资格)", kind="evaluation", status="listed")
    Occupation.objects.filter(code="6-31-01-03").update(qualification=qual)
    op = Actor.for_user(operator)
    change = changes.change_create(
        actor=op, qualification_id=qual.id, kind="cancel", effective_on=effective_on, basis="人社部发〔2026〕99号"
    )
    return changes.change_confirm(actor=op, change_id=change.id)


def test_a_certificate_earned_before_a_cancellation_verifies_with_its_note(
    client, issued, operator, django_assert_num_queries, monkeypatch
):
    change = _cancel_electrician(operator, issued.issued_on + datetime.timedelta(days=1))
    # Verified on the day the cancellation takes effect, the day after the certificate was issued.
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: change.effective_on)
    with django_assert_num_queries(2):  # the certificate (with its catalogue entry joined) and the log entry
        data = api(client, issued.token).json()
    assert data["status"] == "valid"
    note = data["certificate"]["catalogue_note"]
    assert (
        "电工(测试资格)" in note and "继续有效" in note and "能力水平的证明" in note and "人社部发〔2026〕99号" in note
    )
    page = client.get(f"/v/{issued.token}").content.decode()
    assert 'id="catalogue-note"' in page and "继续有效" in page
    lookup = {"number": issued.number, "name": issued.holder_name, "id_number": issued.id_number}
    assert "继续有效" in client.get("/api/v1/verify/lookup", lookup).json()["certificate"]["catalogue_note"]


def test_no_note_before_the_cancellation_takes_effect_or_for_later_certificates(client, issued, operator):
    change = _cancel_electrician(operator, timezone.localdate() + datetime.timedelta(days=30))
    assert api(client, issued.token).json()["certificate"]["catalogue_note"] == ""
    from certificates.verification import _certificate_by_number, catalogue_note

    cert = _certificate_by_number(issued.number)
    assert catalogue_note(cert, today=change.effective_on) != ""
    Certificate.objects.filter(pk=issued.pk).update(issued_on=change.effective_on)
    # Earned on the day too: a result final before the cancellation would still earn the note (a graduating class).
    finalised = timezone.make_aware(datetime.datetime.combine(change.effective_on, datetime.time(10)))
    Registration.objects.filter(pk=issued.registration_id).update(finalised_at=finalised)
    # (the signed fields changed, so the token is now forged; the rule itself is what is checked here)
    cert = _certificate_by_number(issued.number)
    assert catalogue_note(cert, today=change.effective_on) == ""


@pytest.mark.django_db(transaction=True)
def test_the_scan_query_is_planned_once_per_connection(client, finalised_plan, org_admin, issue, settings):
    from django.db import connection

    from tests.conftest import require_postgres

    require_postgres("prepared statements are PostgreSQL's")
    issue(finalised_plan, org_admin)
    issued = Certificate.objects.order_by("number").first()
    for _ in range(2):
        assert api(client, issued.token).json()["status"] == "valid"
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert len([s for s in prepared if "certificate_scan(" in s]) == 1

    # Behind a pooler in transaction mode nothing stays prepared on the client's side; the scan goes through the
    # PL/pgSQL function, whose plan the server process keeps (tests/certificates/test_scan_function.py).
    settings.VERIFICATION_PREPARED_STATEMENTS = False
    connection.close()
    assert api(client, issued.token).json()["status"] == "valid"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 0


# --- first scans without a second signature check (issue 19, item 4) ---------------------------------------


def test_a_token_identical_to_the_stored_one_skips_only_the_signature_check(client, issued, monkeypatch):
    from certificates import signing

    calls = []
    real = signing._Key.verify
    monkeypatch.setattr(signing._Key, "verify", lambda self, sig, msg: calls.append(1) or real(self, sig, msg))
    assert api(client, issued.token).json()["status"] == "valid"
    assert calls == []  # the stored token's own signature, checked at issuance
    # Altered in one character of any part, including the signature: checked in full, and forged.
    token = issued.token
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert api(client, altered).json()["status"] == "forged" and calls == [1]
    # The stored row's printed fields changed: the digest still has to match, so the same token is forged.
    Certificate.objects.filter(pk=issued.id).update(occupation_name="焊工")
    assert api(client, issued.token).json()["status"] == "forged"


def test_the_shortcut_needs_the_key_still_in_the_ring(client, issued, monkeypatch):
    import dataclasses

    from certificates import signing

    ring = signing._ring()
    kid = issued.token.split(".", 1)[0]
    without = dataclasses.replace(ring, keys={k: v for k, v in ring.keys.items() if k != kid})
    monkeypatch.setattr(signing, "_ring", lambda: without)
    body = api(client, issued.token).json()
    assert body["status"] == "forged"


def test_a_revoked_certificate_is_still_answered_revoked_on_a_first_scan(client, issued, cc_officer):
    Certificate.objects.filter(pk=issued.id).update(status=Certificate.Status.REVOKED, status_reason="撤销")
    assert api(client, issued.token).json()["status"] == "revoked"
