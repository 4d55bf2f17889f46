"""Certificates as Verifiable Credentials (VC-JWT, Open Badges 3.0) and the Bitstring Status Lists.

Signatures are checked the way an outside verifier would: the JWKS fetched from /.well-known/jwks.json and
Ed25519 verified with `cryptography`, not with the platform's own signing module.
"""

import base64
import datetime
import gzip
import hashlib
import json
import threading
import time
from unittest import mock

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import ric

from accounts.actors import Actor
from accounts.identity import mask_id_number
from accounts.models import User
from certificates import credentials, services, signing, status_index
from certificates.issuance import printed_fields
from certificates.models import STATUS_LIST_CAPACITY, Certificate, StatusList
from occupations.models import Level
from tests.conftest import client_for, require_postgres
from tests.factories import PersonFactory, bound_user, issued_certificates

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


# --- mounting and independent verification (shared with test_reporting) -------------------------------------


def b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify_jwt(client, token: str) -> tuple[dict, dict]:
    """Header and claims of a compact JWS, after checking its Ed25519 signature against the published JWKS."""
    header_segment, payload_segment, signature_segment = token.split(".")
    header = json.loads(b64url(header_segment))
    assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt"
    keys = {k["kid"]: k for k in client.get("/.well-known/jwks.json").json()["keys"]}
    jwk = keys[header["kid"]]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    public_key = Ed25519PublicKey.from_public_bytes(b64url(jwk["x"]))
    public_key.verify(b64url(signature_segment), f"{header_segment}.{payload_segment}".encode("ascii"))
    return header, json.loads(b64url(payload_segment))


def bit(bitstring: bytes, index: int) -> int:
    return (bitstring[index // 8] >> (7 - index % 8)) & 1


def decoded_list(encoded: str) -> bytes:
    assert encoded.startswith("u") and "=" not in encoded
    return gzip.decompress(b64url(encoded[1:]))


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _api(settings):
    settings.SITE_URL = SITE
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def certs(finalised_plan, org_admin) -> list[Certificate]:
    issued_certificates(finalised_plan, org_admin)
    return list(Certificate.objects.select_related("level").order_by("number"))


@pytest.fixture
def holder(certs) -> User:
    return bound_user("holder", password="x-1234567", person=certs[0].person)


def credential_url(cert: Certificate) -> str:
    return f"/api/v1/certificates/{cert.id}/credential"


# --- the credential ---------------------------------------------------------------------------------------


def test_the_credential_is_an_open_badge_signed_with_a_published_key(client, certs, holder, org):
    cert = certs[0]
    r = client_for(holder).get(credential_url(cert))
    assert r.status_code == 200 and r["Content-Type"] == "application/vc+jwt"
    assert "no-store" in r["Cache-Control"]
    token = r.content.decode()
    _header, vc = verify_jwt(client, token)

    assert vc["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == f"{SITE}/credentials/{cert.number}" and "proof" not in vc and "vc" not in vc
    assert vc["issuer"]["id"] == f"{SITE}/directory/{org.id}/"
    assert vc["issuer"]["type"] == ["Profile"] and vc["issuer"]["name"] == org.name
    assert vc["issuer"]["otherIdentifier"][0]["identifier"] == org.credit_code
    assert SITE in vc["description"] and "jwks.json" in vc["description"]
    # The JWT claims agree with the credential, as Open Badges 3.0 verifiers require.
    assert vc["iss"] == vc["issuer"]["id"] and vc["jti"] == vc["id"]
    assert vc["sub"] == vc["credentialSubject"]["id"] and vc["sub"].startswith("urn:uuid:")
    issued = datetime.datetime.fromisoformat(vc["validFrom"])
    assert issued.date() == cert.issued_on and issued.utcoffset() == datetime.timedelta(hours=8)
    assert vc["nbf"] == int(issued.timestamp()) and abs(vc["iat"] - time.time()) < 60

    subject = vc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    # The holder's name as printed, nothing derived from the ID number (see the brute-force test below).
    assert subject["identifier"] == [
        {"type": "IdentityObject", "identityHash": cert.holder_name, "identityType": "name", "hashed": False}
    ]
    assert cert.id_number not in b64url(token.split(".")[1]).decode()

    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"] and achievement["achievementType"] == "Certificate"
    assert achievement["name"] == f"电工 {cert.level.label}" and cert.level.label in ("三级/高级工", "四级/中级工")
    assert achievement["criteria"]["narrative"] == "国家职业技能标准·电工(2018年版)"
    assert achievement["fieldOfStudy"] == "6-31-01-03"

    assert vc["credentialStatus"] == [
        {
            "id": f"{SITE}/api/v1/credentials/status/o{cert.organisation_id}/{purpose}#{cert.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(cert.status_index),
            "statusListCredential": f"{SITE}/api/v1/credentials/status/o{cert.organisation_id}/{purpose}",
        }
        for purpose in ("revocation", "suspension")
    ]
    # The platform's own verifier agrees.
    assert signing.jws_verify(token, typ="vc+jwt")["jti"] == vc["jti"]


def test_an_altered_credential_fails_independent_verification(client, certs, holder):
    token = client_for(holder).get(credential_url(certs[0])).content.decode()
    header, payload, signature = token.split(".")
    claims = json.loads(b64url(payload))
    claims["credentialSubject"]["achievement"]["name"] = "电工 一级/高级技师"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidSignature):
        verify_jwt(client, f"{header}.{forged_payload}.{signature}")


def test_json_when_asked_for(certs, holder):
    r = client_for(holder).get(credential_url(certs[0]), HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and r.json()["media_type"] == "application/vc+jwt"
    assert r.json()["jwt"].count(".") == 2


def test_holder_issuer_and_bureau_get_the_credential_others_do_not(
    client, certs, holder, org_admin, cc_officer, other_org_admin, jlc_officer
):
    url = credential_url(certs[0])
    for user, status in (
        (holder, 200),
        (org_admin, 200),
        (cc_officer, 200),
        (other_org_admin, 404),
        (jlc_officer, 404),
    ):
        assert client_for(user).get(url).status_code == status, user
    r = client.get(url)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert client_for(holder).get("/api/v1/certificates/999999/credential").status_code == 404


def test_a_record_altered_after_issue_is_not_signed_again(certs, org_admin):
    Certificate.objects.filter(pk=certs[0].pk).update(holder_name="李鬼")
    r = client_for(org_admin).get(credential_url(certs[0]))
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_a_certificate_with_an_expiry_carries_valid_until_and_exp(client, certs, org_admin):
    Certificate.objects.filter(pk=certs[0].pk).update(valid_until=datetime.date(2030, 6, 30))
    _h, vc = verify_jwt(client, client_for(org_admin).get(credential_url(certs[0])).content.decode())
    assert vc["validUntil"] == "2030-06-30T23:59:59+08:00"
    assert vc["exp"] == int(datetime.datetime.fromisoformat(vc["validUntil"]).timestamp())


# --- status lists -----------------------------------------------------------------------------------------


def status_list(client, purpose: str, issuer: str = "") -> tuple[dict, bytes]:
    r = client.get(f"/api/v1/credentials/status/{issuer + '/' if issuer else ''}{purpose}")
    assert r.status_code == 200 and r["Content-Type"] == "application/vc+jwt"
    assert "max-age=60" in r["Cache-Control"]
    _header, vc = verify_jwt(client, r.content.decode())
    return vc, decoded_list(vc["credentialSubject"]["encodedList"])


def test_status_lists_show_revoked_and_suspended_certificates(client, certs, org_admin, cc_officer):
    revoked, suspended, valid = certs[0], certs[1], certs[2]
    services.certificate_revoke(actor=Actor.for_user(cc_officer), certificate_id=revoked.id, reason="考试作弊")
    services.certificate_suspend(actor=Actor.for_user(org_admin), certificate_id=suspended.id, reason="核查中")

    vc, bits = status_list(client, "revocation")
    assert vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert vc["id"] == f"{SITE}/api/v1/credentials/status/revocation"
    assert vc["issuer"] == SITE and vc["iss"] == SITE
    subject = vc["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert len(bits) * 8 >= 131_072
    assert (bit(bits, revoked.status_index), bit(bits, suspended.status_index), bit(bits, valid.status_index)) == (
        1,
        0,
        0,
    )

    vc, bits = status_list(client, "suspension")
    assert vc["credentialSubject"]["statusPurpose"] == "suspension" and len(bits) * 8 >= 131_072
    assert (bit(bits, revoked.status_index), bit(bits, suspended.status_index), bit(bits, valid.status_index)) == (
        0,
        1,
        0,
    )


def test_a_lifted_suspension_clears_its_bit_once_the_cached_list_expires(client, certs, org_admin):
    a = Actor.for_user(org_admin)
    services.certificate_suspend(actor=a, certificate_id=certs[0].id, reason="核查中")
    first = client.get("/api/v1/credentials/status/suspension").content
    services.certificate_reinstate(actor=a, certificate_id=certs[0].id, reason="核查无误")
    assert client.get("/api/v1/credentials/status/suspension").content == first  # served from the cache
    cache.clear()  # what the 60-second expiry does
    _vc, bits = status_list(client, "suspension")
    assert bit(bits, certs[0].status_index) == 0


def test_a_superseded_certificate_counts_as_revoked(client, certs, org_admin):
    old = certs[0]
    new = services.certificate_replace(
        actor=Actor.for_user(org_admin), certificate_id=old.id, reason="姓名更正", corrections={"holder_name": "王五"}
    )
    _vc, bits = status_list(client, "revocation")
    assert (bit(bits, old.status_index), bit(bits, new.status_index)) == (1, 0)


def test_an_unknown_purpose_is_404(client, certs):
    r = client.get("/api/v1/credentials/status/message")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_the_list_grows_in_blocks_to_cover_a_million_certificates():
    started = time.perf_counter()
    indices = [*range(3, 1_000_000, 997), 999_999]
    encoded = credentials.encode_status_list(indices, 1_048_576)
    assert time.perf_counter() - started < 2
    bits = decoded_list(encoded)
    assert len(bits) == 1_048_576 // 8
    assert bit(bits, 3) == 1 and bit(bits, 4) == 0 and bit(bits, 998_997) == 1 and bit(bits, 999_998) == 0
    assert bit(bits, 999_999) == 1 and bit(bits, 1_048_575) == 0
    assert credentials.decode_status_list(encoded) == bits
    with pytest.raises(ValueError):
        credentials.encode_status_list([], 1024)  # below the specification's 16 KB minimum


def test_the_list_length_covers_every_certificate_and_does_not_follow_their_number(certs, org_admin):
    flagged, length = credentials.status_list_bits("revocation")
    assert flagged == [] and length == STATUS_LIST_CAPACITY == 4_194_304
    assert max(c.status_index for c in certs) < length
    Certificate.objects.filter(pk=certs[0].pk).delete()
    assert credentials.status_list_bits("revocation")[1] == length  # fewer certificates, the same length


# --- credential re-identification ---------------------------------------------------------------------------


def candidate_numbers(masked: str) -> list[str]:
    """Every 身份证号 a masked one (220102********1234) can stand for: its hidden digits are a birth date, and the
    shown check digit keeps about one in eleven of those."""
    head, tail = masked[:6], masked[-4:]
    day, last, found = datetime.date(1930, 1, 1), timezone.localdate(), []
    while day <= last:
        number = head + day.strftime("%Y%m%d") + tail
        if ric.is_valid(number):
            found.append(number)
        day += datetime.timedelta(days=1)
    return found


def _strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values()), set(value))
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def confirmed_numbers(claims: dict, masked: str) -> list[str]:
    """The attack: hash every candidate, alone and with every string in the credential as a salt, and keep those
    whose digest the credential contains (an Open Badges identityHash is `sha256$` + hex)."""
    strings = _strings(claims)
    digests = {s.split("$", 1)[-1].lower() for s in strings}
    found = []
    for number in candidate_numbers(masked):
        if number in strings or any(
            hashlib.sha256((number + salt).encode()).hexdigest() in digests for salt in (*strings, "")
        ):
            found.append(number)
    return found


def test_the_credential_does_not_let_anyone_recover_the_id_number(client, certs, holder):
    """What the verification page shows (the masked ID number) plus the credential the holder shared: the old
    credential's salted identityHash gave the full number back in a fraction of a second; this one gives nothing."""
    cert = certs[0]
    masked = client.get(f"/api/v1/verify/{cert.token}").json()["certificate"]["id_number"]
    assert masked == mask_id_number(cert.id_number) and "*" in masked
    _header, claims = verify_jwt(client, client_for(holder).get(credential_url(cert)).content.decode())

    # The attack works: on the credential as it was (the entry it used to carry, same salt scheme), it confirms
    # exactly the holder's number, fast.
    salt = "3f9a0c1d2b4e5f60718293a4b5c6d7e8"
    then = json.loads(json.dumps(claims))
    then["credentialSubject"]["identifier"].insert(
        0,
        {
            "type": "IdentityObject",
            "identityHash": "sha256$" + hashlib.sha256((cert.id_number + salt).encode()).hexdigest(),
            "identityType": "nationalIdentityNumber",
            "hashed": True,
            "salt": salt,
        },
    )
    started = time.perf_counter()
    assert confirmed_numbers(then, masked) == [cert.id_number]
    assert time.perf_counter() - started < 5

    # On the credential the platform signs now, the same attack confirms nothing.
    assert len(candidate_numbers(masked)) > 1000
    assert confirmed_numbers(claims, masked) == []


# --- random status-list positions ---------------------------------------------------------------------------


def test_status_positions_are_random_unique_and_not_the_primary_keys(certs):
    positions = [c.status_index for c in certs]
    assert len(set(positions)) == len(certs) == 7
    assert all(0 <= p < STATUS_LIST_CAPACITY for p in positions)
    assert positions != [c.pk for c in certs]
    # Seven draws from four million: consecutive (as primary keys are) with probability about 10⁻³⁹.
    assert max(positions) - min(positions) > 1000


def test_a_position_already_taken_is_drawn_again(certs, org_admin, monkeypatch):
    """The draw skips positions other certificates hold (here: forced to offer a taken one first)."""
    taken = certs[0].status_index
    offered = iter([taken] * 9 + [12_345] * 20)
    monkeypatch.setattr(status_index, "random_position", lambda capacity: next(offered))
    new = services.certificate_replace(
        actor=Actor.for_user(org_admin),
        certificate_id=certs[1].id,
        reason="姓名更正",
        corrections={"holder_name": "王五"},
    )
    assert new.status_index == 12_345 and Certificate.objects.filter(status_index=taken).count() == 1


def test_a_position_clash_at_insert_is_drawn_again(certs, monkeypatch):
    """What a concurrent issuance causes: the position was free when drawn and is taken at the insert."""
    template = certs[0]
    clash = certs[1].status_index
    draws = iter([[clash], [777]])
    monkeypatch.setattr(status_index, "_draw", lambda count, status_list: next(draws))
    cert = Certificate(
        **{f.attname: getattr(template, f.attname) for f in Certificate._meta.concrete_fields if f.name != "id"}
    )
    cert.number, cert.token, cert.registration_id = "S000022000001269000999", "k.x.y.z", None
    cert.ecert_id = None  # a new certificate gets its own identifier on insert (the template's is taken)
    status_index.certificates_insert([cert])
    assert Certificate.objects.get(number="S000022000001269000999").status_index == 777


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuances_that_draw_the_same_positions_both_succeed():
    """Two issuances draw the same free positions at once (forced here): on PostgreSQL the second insert waits for
    the first transaction, fails on the unique constraint inside its savepoint, draws again and succeeds."""
    require_postgres()
    # The list is open before they start (after a flush no list exists, and the first issuance would open it, and
    # the second, waiting on that, would see the first's positions committed and not clash at all).
    status_index.open_status_list()
    level = Level.objects.get(code="4")
    person = PersonFactory()
    draws: dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(2)
    errors: list[Exception] = []
    local = threading.local()

    def sequence(capacity: int) -> int:  # both threads offer the same positions, in the same order
        local.next = getattr(local, "next", 100) + 1
        return local.next

    def run(name: str) -> None:
        certs = [
            Certificate(
                number=f"S00002200000126400{name}{i}",
                person=person,
                level=level,
                holder_name=person.name,
                id_type="居民身份证",
                id_number=person.id_number,
                occupation_name="电工",
                organisation_name="测试机构",
                issued_on=datetime.date(2026, 1, 5),
                region_code="220102",
                token=f"k.{name}.{i}",
            )
            for i in range(5)
        ]
        try:
            with transaction.atomic():
                barrier.wait()
                status_index.certificates_insert(certs)
                time.sleep(0.5)  # hold the positions uncommitted while the other inserts
        except Exception as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    original = status_index._draw

    def counted(count: int, status_list) -> list[int]:
        with lock:
            name = threading.current_thread().name
            draws[name] = draws.get(name, 0) + 1
        return original(count, status_list)

    threads = [threading.Thread(target=run, args=(n,), name=n) for n in ("1", "2")]
    with (
        mock.patch.object(status_index, "random_position", sequence),
        mock.patch.object(status_index, "_draw", counted),
    ):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    positions = list(Certificate.objects.values_list("status_index", flat=True))
    assert len(positions) == 10 and len(set(positions)) == 10
    assert sorted(draws.values()) == [1, 2]  # one of them clashed and drew again


# --- each issuer's own status lists, and an independent Open Badges 3.0 verifier ---------------------------------


def test_each_issuer_has_its_own_status_list_naming_it_as_issuer(client, certs, cc_officer):
    revoked = certs[0]
    services.certificate_revoke(actor=Actor.for_user(cc_officer), certificate_id=revoked.id, reason="考试作弊")
    key = f"o{revoked.organisation_id}"
    vc, bits = status_list(client, "revocation", key)
    assert vc["id"] == f"{SITE}/api/v1/credentials/status/{key}/revocation"
    assert vc["issuer"]["id"] == vc["iss"] == f"{SITE}/directory/{revoked.organisation_id}/"
    assert bit(bits, revoked.status_index) == 1
    # The platform-wide list that older credentials point at stays published, with the platform as issuer.
    old, old_bits = status_list(client, "revocation")
    assert old["issuer"] == SITE and bit(old_bits, revoked.status_index) == 1


def test_another_issuers_list_does_not_carry_this_issuers_bits(client, certs, cc_officer, other_org):
    services.certificate_revoke(actor=Actor.for_user(cc_officer), certificate_id=certs[0].id, reason="考试作弊")
    other = Certificate.objects.filter(pk=certs[1].pk)
    other.update(organisation=other_org)  # a certificate of another organisation, for its list to exist
    _vc, bits = status_list(client, "revocation", f"o{other_org.id}")
    assert bit(bits, certs[0].status_index) == 0


@pytest.mark.parametrize("issuer", ["o999999", "x1", "o0", "h" + "0" * 32, "o1' or 1=1"])
def test_an_unknown_issuer_has_no_list(client, certs, issuer):
    r = client.get(f"/api/v1/credentials/status/{issuer}/revocation")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def _ob3_verifier(client):
    """openbadgeslib's OB3Verifier with the platform's key, as taken from the published JWKS (not from our code)."""
    from cryptography.hazmat.primitives import serialization
    from openbadgeslib.ob3.verifier import OB3Verifier

    jwk = client.get("/.well-known/jwks.json").json()["keys"][-1]
    public_key = Ed25519PublicKey.from_public_bytes(b64url(jwk["x"]))
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return OB3Verifier(pubkey_pem=pem)


def _download(client):
    """The verifier's fetcher, pointed at the test server instead of the network (it would insist on https)."""

    def fetch(url: str) -> bytes:
        assert url.startswith(SITE), url
        response = client.get(url.removeprefix(SITE))
        assert response.status_code == 200, (url, response.status_code)
        return response.content

    return fetch


def test_a_strict_ob3_verifier_with_status_checks_accepts_the_credential(client, certs, holder):
    token = client_for(holder).get(credential_url(certs[0])).content.decode()
    credential = _ob3_verifier(client).verify(
        token, check_status=True, verify_status_list=True, download=_download(client)
    )
    assert credential.issuer.id == f"{SITE}/directory/{certs[0].organisation_id}/"


@pytest.mark.parametrize("change", ["revoke", "suspend"])
def test_the_strict_ob3_verifier_refuses_a_revoked_or_suspended_credential(
    client, certs, holder, org_admin, cc_officer, change
):
    from openbadgeslib.ob3.verifier import OB3VerificationError

    token = client_for(holder).get(credential_url(certs[0])).content.decode()
    change_status = {"revoke": services.certificate_revoke, "suspend": services.certificate_suspend}[change]
    change_status(actor=Actor.for_user(cc_officer), certificate_id=certs[0].id, reason="考试作弊")
    purpose = {"revoke": "revocation", "suspend": "suspension"}[change]
    with pytest.raises(OB3VerificationError, match=f"status '{purpose}' is set"):
        _ob3_verifier(client).verify(token, check_status=True, verify_status_list=True, download=_download(client))


def test_the_strict_ob3_verifier_accepts_an_imported_certificates_credential(client, cc_officer):
    from tests.certificates.test_reporting import qualification_row, upload

    assert upload(cc_officer, [qualification_row()]).status_code == 200
    cert = Certificate.objects.get(number="2201000300012345")
    token = client_for(cc_officer).get(credential_url(cert)).content.decode()
    credential = _ob3_verifier(client).verify(
        token, check_status=True, verify_status_list=True, download=_download(client)
    )
    assert credential.issuer.id.startswith(f"{SITE}/credentials/issuers/")


# --- several status lists: a full list sends new certificates to the next one --------------------------------


def fresh_certificates(template: Certificate, count: int, start: int = 0) -> list[Certificate]:
    """Unsaved, correctly signed certificates like `template` (new numbers), as issuance makes them."""
    made = []
    for i in range(start, start + count):
        cert = Certificate(
            **{f.attname: getattr(template, f.attname) for f in Certificate._meta.concrete_fields if f.name != "id"}
        )
        cert.level = template.level
        cert.number, cert.registration_id, cert.ecert_id = f"S000022000001269{i:06d}", None, None
        cert.token = signing.token_sign(cert.number, printed_fields(cert))
        made.append(cert)
    return made


@pytest.fixture
def small_lists(settings, certs):
    """Lists of 16 positions, full at half; list 0 (where `certs` are) is closed as if it had filled up."""
    settings.STATUS_LIST_CAPACITY, settings.STATUS_LIST_FILL = 16, 0.5
    StatusList.objects.filter(number=0).update(full_at=timezone.now())


@pytest.fixture
def insert(django_capture_on_commit_callbacks):
    """certificates_insert as an issuance's transaction commits (the lists are counted just after the commit)."""

    def run(certs: list[Certificate]) -> list[Certificate]:
        with django_capture_on_commit_callbacks(execute=True):
            status_index.certificates_insert(certs)
        return certs

    return run


def numbered_status_list(client, purpose: str, issuer: str, number: int) -> tuple[dict, bytes]:
    r = client.get(f"/api/v1/credentials/status/{issuer}/{number}/{purpose}")
    assert r.status_code == 200 and r["Content-Type"] == "application/vc+jwt" and "max-age=60" in r["Cache-Control"]
    _header, vc = verify_jwt(client, r.content.decode())
    return vc, decoded_list(vc["credentialSubject"]["encodedList"])


def test_a_list_past_its_fill_threshold_sends_later_certificates_to_the_next_list(certs, small_lists, insert):
    first = insert(fresh_certificates(certs[0], 10))
    assert {c.status_list for c in first} == {1}
    one = StatusList.objects.get(number=1)
    assert (one.capacity, one.assigned, one.full_at is not None) == (16, 10, True)  # past 8: full
    two = StatusList.objects.get(number=2)
    assert (two.capacity, two.assigned, two.full_at) == (16, 0, None)
    later = insert(fresh_certificates(certs[0], 1, start=10))
    assert later[0].status_list == 2 and StatusList.objects.get(number=2).assigned == 1
    # A batch larger than what is left of a list (up to 95 % of it, 15 of 16) spills into the next one.
    spilled = insert(fresh_certificates(certs[0], 20, start=11))
    assert [c.status_list for c in spilled] == [2] * 14 + [3] * 6
    rows = list(Certificate.objects.filter(status_list__gte=1).values_list("status_list", "status_index"))
    assert len(rows) == len(set(rows)) == 31 and all(0 <= index < 16 for _n, index in rows)
    # The certificates issued before stay where they were.
    assert set(Certificate.objects.filter(pk__in=[c.pk for c in certs]).values_list("status_list", flat=True)) == {0}


def test_a_count_lost_between_commit_and_count_is_made_good_by_the_recount(certs, small_lists):
    """A process that died after the certificates committed but before _counted ran leaves the list's count behind;
    the hourly recount sets it from the certificates and closes the list when it is past its threshold."""
    from certificates.tasks import status_lists_recount_task

    status_index.certificates_insert(fresh_certificates(certs[0], 5))  # no commit callbacks: the count is lost
    one = StatusList.objects.get(number=1)
    assert one.assigned == 0 and Certificate.objects.filter(status_list=1).count() == 5
    assert status_lists_recount_task.delay().get() == {1: 5}
    assert StatusList.objects.get(number=1).full_at is None
    status_index.certificates_insert(fresh_certificates(certs[0], 4, start=5))
    status_lists_recount_task.delay()
    one.refresh_from_db()
    assert one.assigned == 9 and one.full_at is not None  # past 8 of 16: full, and the next list open
    assert StatusList.objects.get(number=2).full_at is None


def test_a_certificate_on_a_new_list_verifies_and_its_revocation_shows_in_its_own_list_only(
    client, certs, small_lists, insert, org_admin, cc_officer, django_capture_on_commit_callbacks
):
    on_one = Certificate.objects.select_related("level").get(pk=insert(fresh_certificates(certs[0], 10))[0].pk)
    on_two = Certificate.objects.select_related("level").get(pk=insert(fresh_certificates(certs[0], 2, 10))[0].pk)
    assert (on_one.status_list, on_two.status_list) == (1, 2)
    key = f"o{on_two.organisation_id}"
    token = client_for(org_admin).get(credential_url(on_two)).content.decode()
    _h, vc = verify_jwt(client, token)
    assert [e["statusListCredential"] for e in vc["credentialStatus"]] == [
        f"{SITE}/api/v1/credentials/status/{key}/2/revocation",
        f"{SITE}/api/v1/credentials/status/{key}/2/suspension",
    ]
    assert vc["credentialStatus"][0]["statusListIndex"] == str(on_two.status_index)
    assert _ob3_verifier(client).verify(token, check_status=True, verify_status_list=True, download=_download(client))

    with django_capture_on_commit_callbacks(execute=True):  # the lists the verifier read are cached till then
        services.certificate_revoke(actor=Actor.for_user(cc_officer), certificate_id=on_two.id, reason="考试作弊")
    listed, bits = numbered_status_list(client, "revocation", key, 2)
    assert listed["id"] == f"{SITE}/api/v1/credentials/status/{key}/2/revocation"
    assert listed["issuer"]["id"] == listed["iss"] == f"{SITE}/directory/{on_two.organisation_id}/"
    assert len(bits) * 8 == 131_072 and bit(bits, on_two.status_index) == 1 and sum(map(int.bit_count, bits)) == 1
    for vc_other, other_bits in (
        numbered_status_list(client, "revocation", key, 1),
        status_list(client, "revocation", key),
    ):
        assert sum(map(int.bit_count, other_bits)) == 0, vc_other["id"]
    from openbadgeslib.ob3.verifier import OB3VerificationError

    with pytest.raises(OB3VerificationError, match="status 'revocation' is set"):
        _ob3_verifier(client).verify(token, check_status=True, verify_status_list=True, download=_download(client))
    # A certificate on list 1 is untouched by it.
    other = client_for(org_admin).get(credential_url(on_one)).content.decode()
    assert _ob3_verifier(client).verify(other, check_status=True, verify_status_list=True, download=_download(client))


def test_the_first_lists_old_urls_still_serve_its_certificates(client, certs, small_lists, insert, holder, cc_officer):
    insert(fresh_certificates(certs[0], 10))
    insert(fresh_certificates(certs[0], 2, 10))
    services.certificate_revoke(actor=Actor.for_user(cc_officer), certificate_id=certs[1].id, reason="考试作弊")
    token = client_for(holder).get(credential_url(certs[0])).content.decode()
    _h, vc = verify_jwt(client, token)
    key = f"o{certs[0].organisation_id}"
    assert vc["credentialStatus"][0]["statusListCredential"] == f"{SITE}/api/v1/credentials/status/{key}/revocation"
    assert _ob3_verifier(client).verify(token, check_status=True, verify_status_list=True, download=_download(client))
    for issuer in (key, ""):
        _vc, bits = status_list(client, "revocation", issuer)
        assert len(bits) * 8 == STATUS_LIST_CAPACITY and bit(bits, certs[1].status_index) == 1
        assert sum(map(int.bit_count, bits)) == 1  # nothing of lists 1 and 2 leaks into list 0


@pytest.mark.parametrize(
    "path", ["o{org}/0/revocation", "o{org}/3/revocation", "o{org}/1/message", "o999999/1/revocation"]
)
def test_a_list_never_opened_or_named_twice_is_404(client, certs, small_lists, insert, path):
    insert(fresh_certificates(certs[0], 1))
    r = client.get("/api/v1/credentials/status/" + path.format(org=certs[0].organisation_id))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_a_verifier_holding_the_current_list_gets_304_until_it_changes(
    client, certs, cc_officer, django_capture_on_commit_callbacks
):
    url = f"/api/v1/credentials/status/o{certs[0].organisation_id}/revocation"
    first = client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and len(etag) == 34
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert "max-age=60" in again["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH='"other", ' + etag).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):  # a status change starts a new generation of lists
        services.certificate_revoke(actor=Actor.for_user(cc_officer), certificate_id=certs[0].id, reason="考试作弊")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    _h, vc = verify_jwt(client, changed.content.decode())
    assert bit(decoded_list(vc["credentialSubject"]["encodedList"]), certs[0].status_index) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuances_past_the_fill_threshold_stay_unique_and_open_the_next_list(settings):
    """Two issuances at once both find list 1 open and both fill it (the threshold is passed by up to a batch):
    every (list, position) stays unique, positions that clashed are drawn again, and the next one goes to list 2."""
    require_postgres()
    settings.STATUS_LIST_CAPACITY, settings.STATUS_LIST_FILL = 16, 0.5
    StatusList.objects.update_or_create(
        number=0, defaults={"capacity": STATUS_LIST_CAPACITY, "full_at": timezone.now()}
    )
    StatusList.objects.create(number=1, capacity=16)  # open before they start, so that both find it so
    level = Level.objects.get(code="4")
    person = PersonFactory()
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def certificate(name: str) -> Certificate:
        return Certificate(
            number=f"S0000220000012650{name}",
            person=person,
            level=level,
            holder_name=person.name,
            id_type="居民身份证",
            id_number=person.id_number,
            occupation_name="电工",
            organisation_name="测试机构",
            issued_on=datetime.date(2026, 1, 5),
            region_code="220102",
            token=f"k.{name}",
        )

    def run(name: str) -> None:
        try:
            with transaction.atomic():
                barrier.wait()
                status_index.certificates_insert([certificate(f"{name}{i:02d}") for i in range(6)])
                time.sleep(0.3)
        except Exception as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("1", "2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = list(Certificate.objects.values_list("status_list", "status_index"))
    assert len(rows) == len(set(rows)) == 12 and {n for n, _i in rows} == {1}
    one = StatusList.objects.get(number=1)
    assert one.assigned == 12 and one.full_at is not None
    last = certificate("300")
    status_index.certificates_insert([last])
    assert last.status_list == 2


@pytest.mark.django_db(transaction=True)
def test_an_issuing_transaction_holds_no_lock_on_its_status_list():
    """Issuance locks the audit chain's head after inserting certificates, an import before (it creates people
    first): were the list's row locked inside either transaction, the two would deadlock. It is counted after the
    commit instead; while the inserting transaction is still open, anyone may lock the row at once."""
    require_postgres()
    from django.db import connections

    StatusList.objects.get_or_create(number=0, defaults={"capacity": STATUS_LIST_CAPACITY})  # gone if flushed
    level = Level.objects.get(code="4")
    person = PersonFactory()
    cert = Certificate(
        number="S000022000001266000001",
        person=person,
        level=level,
        holder_name=person.name,
        id_type="居民身份证",
        id_number=person.id_number,
        occupation_name="电工",
        organisation_name="测试机构",
        issued_on=datetime.date(2026, 1, 5),
        region_code="220102",
        token="k.lock",
    )
    inserted, release = threading.Event(), threading.Event()

    def issue() -> None:
        try:
            with transaction.atomic():
                status_index.certificates_insert([cert])
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=issue)
    thread.start()
    try:
        assert inserted.wait(10)
        with transaction.atomic():
            locked = list(StatusList.objects.select_for_update(nowait=True).filter(number=cert.status_list))
        assert len(locked) == 1 and locked[0].assigned == 0  # not counted before the commit
    finally:
        release.set()
        thread.join()
    assert StatusList.objects.get(number=cert.status_list).assigned == 1


def test_a_list_whose_count_fell_behind_stops_with_an_error_rather_than_drawing_for_ever(certs, small_lists, insert):
    insert(fresh_certificates(certs[0], 15))
    (free,) = set(range(16)) - set(Certificate.objects.filter(status_list=1).values_list("status_index", flat=True))
    last = fresh_certificates(certs[0], 1, start=15)[0]
    last.status_list, last.status_index = 1, free
    last.save()  # list 1 has no free position left
    StatusList.objects.filter(number=1).update(assigned=0, full_at=None)  # as if every count had been lost
    StatusList.objects.filter(number=2).delete()
    with pytest.raises(RuntimeError, match="no free positions"):
        status_index.certificates_insert(fresh_certificates(certs[0], 1, start=16))
