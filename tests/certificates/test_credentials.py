"""Certificates as Verifiable Credentials (VC-JWT, Open Badges 3.0) and the Bitstring Status Lists.

Signatures are checked the way an outside verifier would: the JWKS fetched from /.well-known/jwks.json and
Ed25519 verified with `cryptography`, not with the platform's own signing module.
"""

import base64
import datetime
import gzip
import hashlib
import json
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.cache import cache

from accounts.actors import Actor
from accounts.models import User
from certificates import credentials, services, signing
from certificates.models import Certificate
from tests.conftest import client_for

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
def certs(finalised_plan, org_admin, issue) -> list[Certificate]:
    issue(finalised_plan, org_admin)
    return list(Certificate.objects.select_related("level").order_by("number"))


@pytest.fixture
def holder(certs) -> User:
    return User.objects.create_user("holder", password="x-1234567", person=certs[0].person)


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
    id_entry, name_entry = subject["identifier"]
    assert id_entry["hashed"] is True and id_entry["identityType"] == "nationalIdentityNumber"
    expected = hashlib.sha256((cert.id_number + id_entry["salt"]).encode()).hexdigest()
    assert id_entry["identityHash"] == f"sha256${expected}"
    assert name_entry == {
        "type": "IdentityObject",
        "identityHash": cert.holder_name,
        "identityType": "name",
        "hashed": False,
    }
    assert cert.id_number not in b64url(token.split(".")[1]).decode()

    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"] and achievement["achievementType"] == "Certificate"
    assert achievement["name"] == f"电工 {cert.level.label}" and cert.level.label in ("三级/高级工", "四级/中级工")
    assert achievement["criteria"]["narrative"] == "国家职业技能标准·电工(2018年版)"
    assert achievement["fieldOfStudy"] == "6-31-01-03"

    assert vc["credentialStatus"] == [
        {
            "id": f"{SITE}/api/v1/credentials/status/{purpose}#{cert.pk}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(cert.pk),
            "statusListCredential": f"{SITE}/api/v1/credentials/status/{purpose}",
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


def status_list(client, purpose: str) -> tuple[dict, bytes]:
    r = client.get(f"/api/v1/credentials/status/{purpose}")
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
    assert (bit(bits, revoked.pk), bit(bits, suspended.pk), bit(bits, valid.pk)) == (1, 0, 0)

    vc, bits = status_list(client, "suspension")
    assert vc["credentialSubject"]["statusPurpose"] == "suspension" and len(bits) * 8 >= 131_072
    assert (bit(bits, revoked.pk), bit(bits, suspended.pk), bit(bits, valid.pk)) == (0, 1, 0)


def test_a_lifted_suspension_clears_its_bit_once_the_cached_list_expires(client, certs, org_admin):
    a = Actor.for_user(org_admin)
    services.certificate_suspend(actor=a, certificate_id=certs[0].id, reason="核查中")
    first = client.get("/api/v1/credentials/status/suspension").content
    services.certificate_reinstate(actor=a, certificate_id=certs[0].id, reason="核查无误")
    assert client.get("/api/v1/credentials/status/suspension").content == first  # served from the cache
    cache.clear()  # what the 60-second expiry does
    _vc, bits = status_list(client, "suspension")
    assert bit(bits, certs[0].pk) == 0


def test_a_superseded_certificate_counts_as_revoked(client, certs, org_admin):
    old = certs[0]
    new = services.certificate_replace(
        actor=Actor.for_user(org_admin), certificate_id=old.id, reason="姓名更正", corrections={"holder_name": "王五"}
    )
    _vc, bits = status_list(client, "revocation")
    assert (bit(bits, old.pk), bit(bits, new.pk)) == (1, 0)


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


def test_the_list_length_covers_every_certificate(certs):
    flagged, length = credentials.status_list_bits("revocation")
    assert flagged == [] and length == 131_072 and max(c.pk for c in certs) < length
