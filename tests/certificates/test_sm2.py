"""国密 beside Ed25519 (issue 15 item 3): SM2-with-SM3 certificate tokens for the regions that choose them, checked
with implementations that are not the platform's: gmssl (pure Python) and the OpenSSL command line."""

import base64
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from gmssl import sm2 as gmssl_sm2

from certificates import signing
from certificates.models import Certificate
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db


def b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@pytest.fixture
def sm2_certs(sm2_region, finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    return list(Certificate.objects.order_by("number"))


def _published_sm2_key(client, kid: str) -> dict:
    document = client.get("/.well-known/sm2-keys.json").json()
    return next(key for key in document["keys"] if key["kid"] == kid)


def test_a_region_that_chose_sm2_gets_sm2_tokens_that_verify(client, sm2_certs):
    cert = sm2_certs[0]
    kid = cert.token.split(".")[0]
    key = _published_sm2_key(client, kid)
    assert key["crv"] == "SM2" and key["active"] is True
    assert kid not in {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert client.get(f"/api/v1/verify/{cert.token}").json()["status"] == "valid"


def test_gmssl_verifies_the_token_from_the_published_key(client, sm2_certs):
    cert = sm2_certs[0]
    kid, number, digest, signature = cert.token.split(".")
    key = _published_sm2_key(client, kid)
    point = (b64url(key["x"]) + b64url(key["y"])).hex()
    verifier = gmssl_sm2.CryptSM2(public_key=point, private_key="")
    verifier.public_key = point  # gmssl's constructor lstrip("04")s a key that starts with "04": 1 in 256 flaked
    message = f"v1|{kid}|{number}|{digest}".encode()
    assert verifier.verify_with_sm3(b64url(signature).hex(), message)
    assert not verifier.verify_with_sm3(b64url(signature).hex(), message.replace(b"v1|", b"v2|"))


def test_openssl_verifies_the_token_from_the_published_pem(client, sm2_certs, tmp_path):
    cert = sm2_certs[1]
    kid, number, digest, signature = cert.token.split(".")
    (tmp_path / "key.pem").write_text(_published_sm2_key(client, kid)["pem"])
    (tmp_path / "message").write_bytes(f"v1|{kid}|{number}|{digest}".encode())
    raw = b64url(signature)
    (tmp_path / "sig").write_bytes(encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:])))
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "key.pem"), "-rawin"]
    command += ["-in", str(tmp_path / "message"), "-sigfile", str(tmp_path / "sig"), "-digest", "sm3"]
    command += ["-pkeyopt", "distid:1234567812345678"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stdout + done.stderr


def test_an_altered_sm2_token_is_forged(client, sm2_certs):
    token = sm2_certs[0].token
    kid, number, digest, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert client.get(f"/api/v1/verify/{kid}.{number}.{digest}.{flipped}").json()["status"] == "forged"
    other = sm2_certs[1].number
    assert client.get(f"/api/v1/verify/{kid}.{other}.{digest}.{signature}").json()["status"] == "forged"


def test_sm2_rotation_keeps_old_tokens_valid_and_credentials_stay_eddsa(client, sm2_certs, org_admin):
    old_kid = sm2_certs[0].token.split(".")[0]
    rotation = signing.rotate(signing.SM2)
    assert rotation.retired == old_kid
    assert client.get(f"/api/v1/verify/{sm2_certs[0].token}").json()["status"] == "valid"
    new_token = signing.token_sign(sm2_certs[0].number, {"x": 1}, alg=signing.SM2)
    assert new_token.split(".")[0] == rotation.active != old_kid
    published = {k["kid"]: k for k in client.get("/.well-known/sm2-keys.json").json()["keys"]}
    assert published[old_kid]["retired"] and not published[old_kid]["active"] and published[rotation.active]["active"]
    # The W3C credential is still EdDSA, signed by a key of the JWKS.
    from tests.conftest import client_for

    token = client_for(org_admin).get(f"/api/v1/certificates/{sm2_certs[0].id}/credential").content.decode()
    header = __import__("json").loads(b64url(token.split(".")[0]))
    assert header["alg"] == "EdDSA" and header["kid"] in {
        k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]
    }


def test_a_region_without_a_choice_stays_eddsa(client, finalised_plan, org_admin, issue):
    issue(finalised_plan, org_admin)
    kid = Certificate.objects.first().token.split(".")[0]
    assert kid in {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}


def test_choosing_sm2_without_an_sm2_key_is_a_server_problem_not_a_forgery():
    signing.token_sign("S000022000102263000001", {})
    with pytest.raises(signing.SigningKeysError, match="--algorithm SM2"):
        signing.token_sign("S000022000102263000001", {}, alg=signing.SM2)


def test_a_jws_naming_an_sm2_key_is_refused(sm2_region):
    ring = signing._ring()
    with pytest.raises(signing.CredentialInvalid):
        header = base64.urlsafe_b64encode(
            f'{{"alg":"EdDSA","kid":"{ring.active_sm2}","typ":"vc+jwt"}}'.encode()
        ).rstrip(b"=")
        signing.jws_verify(f"{header.decode()}.e30.AAAA")
