import base64
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import call_command

from certificates import signing
from certificates.signing import (
    CredentialInvalid,
    SigningKeysError,
    SigningKeysMissing,
    fields_digest,
    jwks,
    jws_sign,
    jws_verify,
    public_keys,
    rotate,
    token_check,
    token_sign,
)

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "S000022000102263000001"
OTHER_NUMBER = "S000022000102263000002"
FIELDS = {
    "name": "张三",
    "id_type": "居民身份证",
    "id_number": "220102199001011234",
    "occupation": "电工",
    "direction": "--",
    "level": "三级/高级工",
    "number": NUMBER,
    "organisation": "吉林省某某职业技能评价中心",
    "issued": "2026-03-01",
}
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


@pytest.fixture
def keys_dir(settings, tmp_path) -> Path:
    """A fresh key directory per test, in development mode (first key generated on first use)."""
    settings.SIGNING_KEYS_DIR = tmp_path / "keys"
    settings.SIGNING_KEYS_GENERATE = True
    return settings.SIGNING_KEYS_DIR


def _b64d(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _keyring(keys_dir: Path) -> dict:
    return json.loads((keys_dir / "keyring.json").read_text())


# --- round trip and key files -----------------------------------------------------------------------------


def test_a_signed_token_checks_out(keys_dir):
    token = token_sign(NUMBER, FIELDS)
    check = token_check(token)
    assert check.signature_ok and check.reason == "ok"
    assert check.number == NUMBER and check.kid == _keyring(keys_dir)["active"]
    assert check.digest == fields_digest(FIELDS)
    assert check.matches(FIELDS)
    assert not check.matches({**FIELDS, "name": "张四"})


def test_the_token_is_short_and_url_safe(keys_dir):
    token = token_sign(NUMBER, FIELDS)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)
    _kid, number, digest, sig = token.split(".")
    assert number == NUMBER and len(digest) == 22 and len(sig) == 86
    assert len(token) < 160


def test_the_signature_covers_the_documented_message(keys_dir):
    """Anyone holding the JWKS can verify a token without this module."""
    token = token_sign(NUMBER, FIELDS)
    kid, number, digest, sig = token.split(".")
    (jwk,) = [k for k in jwks()["keys"] if k["kid"] == kid]
    public_key = Ed25519PublicKey.from_public_bytes(_b64d(jwk["x"]))
    public_key.verify(_b64d(sig), f"v1|{kid}|{number}|{digest}".encode("ascii"))


def test_the_first_key_is_created_on_first_use_with_private_files(keys_dir):
    assert not keys_dir.exists()
    token_sign(NUMBER, FIELDS)
    ring = _keyring(keys_dir)
    kid = ring["active"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-1", kid)
    assert ring["keys"][kid]["retired"] is None and ring["keys"][kid]["created"]
    pem = keys_dir / f"{kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    assert b"BEGIN PRIVATE KEY" in pem.read_bytes()  # PKCS8
    assert not [p for p in keys_dir.iterdir() if p.name.endswith(".tmp")]


# --- tampering --------------------------------------------------------------------------------------------


def test_every_altered_character_is_detected(keys_dir):
    token = token_sign(NUMBER, FIELDS)
    rotate()  # a second real kid exists now, so an altered kid can name a key that is in the ring
    assert token_check(token).signature_ok
    checked = 0
    for i, original in enumerate(token):
        for replacement in TOKEN_ALPHABET:
            if replacement == original:
                continue
            altered = token[:i] + replacement + token[i + 1 :]
            check = token_check(altered)
            assert not check.signature_ok, f"position {i}: {original!r} -> {replacement!r} still verifies"
            assert check.reason in {"malformed", "unknown_key", "bad_signature"}
            checked += 1
    assert checked == len(token) * (len(TOKEN_ALPHABET) - 1)


def test_a_dropped_or_added_character_is_detected(keys_dir):
    token = token_sign(NUMBER, FIELDS)
    for i in range(len(token)):
        assert not token_check(token[:i] + token[i + 1 :]).signature_ok
        assert not token_check(token[:i] + "A" + token[i:]).signature_ok
    assert not token_check(token + "A").signature_ok


def test_a_non_canonical_signature_encoding_is_rejected(keys_dir):
    """86 base64 characters carry 516 bits for 512: changing only the 4 spare bits keeps the bytes the same."""
    token = token_sign(NUMBER, FIELDS)
    head, sig = token.rsplit(".", 1)
    same_bytes = [
        c
        for c in TOKEN_ALPHABET[:-1]
        if c != sig[-1] and _b64d(sig[:-1] + c) == _b64d(sig)  # what a lenient decoder would accept
    ]
    assert same_bytes, "expected spare bits in the last character"
    for c in same_bytes:
        check = token_check(f"{head}.{sig[:-1]}{c}")
        assert not check.signature_ok and check.reason == "malformed"


def test_well_formed_but_wrong_tokens_are_rejected(keys_dir):
    token = token_sign(NUMBER, FIELDS)
    kid, number, digest, sig = token.split(".")
    other = token_sign(OTHER_NUMBER, FIELDS)
    other_digest = fields_digest({**FIELDS, "name": "李四"})

    cases = {
        "another number": f"{kid}.{OTHER_NUMBER}.{digest}.{sig}",
        "another digest": f"{kid}.{number}.{other_digest}.{sig}",
        "another token's signature": f"{kid}.{number}.{digest}.{other.split('.')[3]}",
        "zero signature": f"{kid}.{number}.{digest}.{'A' * 86}",
    }
    for label, forged in cases.items():
        check = token_check(forged)
        assert not check.signature_ok and check.reason == "bad_signature", label

    unknown = token_check(f"k1999a.{number}.{digest}.{sig}")
    assert not unknown.signature_ok and unknown.reason == "unknown_key" and unknown.kid == "k1999a"


def test_a_token_from_another_key_with_the_same_kid_is_rejected(keys_dir):
    """An impostor who copies our kid but signs with their own key."""
    kid = token_sign(NUMBER, FIELDS).split(".")[0]
    impostor = Ed25519PrivateKey.generate()
    digest = fields_digest(FIELDS)
    sig = impostor.sign(f"v1|{kid}|{NUMBER}|{digest}".encode())
    encoded = base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    check = token_check(f"{kid}.{NUMBER}.{digest}.{encoded}")
    assert not check.signature_ok and check.reason == "bad_signature"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "...",
        "....",
        "a.b.c.d",
        "a.b.c.d.e",
        "🙂" * 10,
        "证书.S000022000102263000001.x.y",
        "x" * 10_000,
        "\x00" * 600,
        "%2e%2e%2f",
        "k.S٠٠٠٠٢٢٠٠٠١٠٢٢٦٣٠٠٠٠٠١.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 86,  # Arabic-Indic digits
        "k.S000022000102263000001.AAAAAAAAAAAAAAAAAAAAAA==." + "A" * 86,
        "k.S000022000102263000001.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 85,
        "k.S000022000102263000001.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 86 + "==",
        "k.S000022000102263000001.AAAAAAAAAAAAAAAAAAAAAA." + "+" * 86,
        "k.s000022000102263000001.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 86,  # lower-case letter
        "k.S0000.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 86,  # too short for any certificate number
        "../x.S000022000102263000001.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 86,
        None,
        123,
        b"bytes.are.not.str",
        ["a", "b"],
    ],
)
def test_garbage_is_malformed_and_never_raises(keys_dir, garbage):
    check = token_check(garbage)
    assert not check.signature_ok and check.reason == "malformed"
    assert check.kid is None and check.number is None and check.digest is None


def test_a_valid_token_with_decorations_is_malformed(keys_dir):
    token = token_sign(NUMBER, FIELDS)
    for decorated in (token + "\n", " " + token, token.upper(), token + "=", token + "." + "A" * 400):
        check = token_check(decorated)
        assert not check.signature_ok


def test_overlong_input_is_malformed_before_any_parsing(keys_dir):
    token = token_sign(NUMBER, FIELDS)
    assert token_check("x" * 513).reason == "malformed"
    assert token_check(token + "." * 600).reason == "malformed"


# --- the fields digest ------------------------------------------------------------------------------------


def test_the_digest_is_truncated_sha256_of_canonical_json():
    canonical = json.dumps(FIELDS, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert "张三" in canonical  # not \u escaped
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()[:16]).rstrip(b"=").decode()
    assert fields_digest(FIELDS) == expected


def test_the_digest_ignores_dict_order():
    assert fields_digest(dict(reversed(list(FIELDS.items())))) == fields_digest(FIELDS)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_the_digest_changes_with_any_one_character_of_any_field(name):
    value = FIELDS[name]
    base = fields_digest(FIELDS)
    seen = {base}
    for i in range(len(value)):
        altered = value[:i] + ("X" if value[i] != "X" else "Y") + value[i + 1 :]
        digest = fields_digest({**FIELDS, name: altered})
        assert digest not in seen
        seen.add(digest)
    assert fields_digest({**FIELDS, name: value + " "}) != base
    assert fields_digest({k: v for k, v in FIELDS.items() if k != name}) != base


def test_a_changed_name_breaks_the_match_but_not_the_signature(keys_dir):
    check = token_check(token_sign(NUMBER, FIELDS))
    assert check.signature_ok
    assert check.digest != fields_digest({**FIELDS, "name": "张叁"})
    assert not check.matches({**FIELDS, "name": "张叁"})


def test_signing_rejects_a_bad_certificate_number(keys_dir):
    for number in ("", "S0000", "s000022000102263000001", "S00002200010226300000١", "S0000|2200010226", "S" * 33):
        with pytest.raises(ValueError):
            token_sign(number, FIELDS)


# --- rotation ---------------------------------------------------------------------------------------------


def test_rotation_retires_the_old_key_which_keeps_verifying(keys_dir):
    old_token = token_sign(NUMBER, FIELDS)
    old_kid = old_token.split(".")[0]

    rotation = rotate()

    assert rotation.retired == old_kid and rotation.active != old_kid
    assert token_check(old_token).signature_ok
    new_token = token_sign(NUMBER, FIELDS)
    assert new_token.split(".")[0] == rotation.active and token_check(new_token).signature_ok
    ring = _keyring(keys_dir)
    assert ring["active"] == rotation.active
    assert ring["keys"][old_kid]["retired"] is not None and ring["keys"][rotation.active]["retired"] is None
    assert {k["kid"] for k in jwks()["keys"]} == {old_kid, rotation.active}
    infos = {info.kid: info for info in public_keys()}
    assert infos[rotation.active].active and not infos[old_kid].active and infos[old_kid].retired


def test_a_retired_key_never_signs_again(keys_dir):
    first = token_sign(NUMBER, FIELDS).split(".")[0]
    second = rotate().active
    third = rotate().active
    for i in range(20):
        assert token_sign(f"S00002200010226300{i:04d}", FIELDS).split(".")[0] == third
    header = json.loads(_b64d(jws_sign({"n": 1}, typ="vc+jwt").split(".")[0]))
    assert header["kid"] == third
    assert len({first, second, third}) == 3


def test_a_keyring_whose_active_key_is_retired_refuses_to_sign_until_rotated(keys_dir):
    token = token_sign(NUMBER, FIELDS)
    ring = _keyring(keys_dir)
    ring["keys"][ring["active"]]["retired"] = "2026-01-01T00:00:00+00:00"
    (keys_dir / "keyring.json").write_text(json.dumps(ring))
    with pytest.raises(SigningKeysError, match="rotate_signing_key"):
        token_sign(NUMBER, FIELDS)
    with pytest.raises(SigningKeysError):
        jws_sign({}, typ="JWT")
    assert token_check(token).signature_ok
    rotation = rotate()
    assert token_sign(NUMBER, FIELDS).split(".")[0] == rotation.active
    assert _keyring(keys_dir)["keys"][rotation.retired]["retired"] == "2026-01-01T00:00:00+00:00"


def test_a_rotation_by_another_process_is_noticed(keys_dir, tmp_path):
    before = token_sign(NUMBER, FIELDS).split(".")[0]  # the ring is now cached in this process
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SIGNING_KEYS_DIR": str(keys_dir),
        "VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from certificates import signing; print(signing.rotate().active)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    after = result.stdout.strip()
    assert after != before
    assert token_sign(NUMBER, FIELDS).split(".")[0] == after
    assert {k["kid"] for k in jwks()["keys"]} == {before, after}


def test_concurrent_rotations_keep_the_ring_consistent(keys_dir):
    token_sign(NUMBER, FIELDS)
    results, errors = [], []

    def worker():
        try:
            results.append(rotate())
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ring = _keyring(keys_dir)
    assert len(ring["keys"]) == 9
    assert [kid for kid, entry in ring["keys"].items() if entry["retired"] is None] == [ring["active"]]
    assert len({r.active for r in results}) == 8
    assert all((keys_dir / f"{kid}.pem").exists() for kid in ring["keys"])


# --- production mode and a broken ring -------------------------------------------------------------------


def test_production_without_keys_fails_with_a_clear_message(settings, tmp_path):
    settings.SIGNING_KEYS_DIR = tmp_path / "keys"
    settings.SIGNING_KEYS_GENERATE = False
    for call in (lambda: token_sign(NUMBER, FIELDS), jwks, lambda: jws_sign({}, typ="JWT")):
        with pytest.raises(SigningKeysMissing, match="rotate_signing_key"):
            call()
    # A missing key ring is the server's fault: verification must not answer "forged".
    with pytest.raises(SigningKeysMissing):
        token_check("k2026a." + NUMBER + ".AAAAAAAAAAAAAAAAAAAAAA." + "A" * 86)
    assert not (tmp_path / "keys").exists()


def test_production_works_once_a_key_was_created_by_rotation(settings, tmp_path):
    settings.SIGNING_KEYS_DIR = tmp_path / "keys"
    settings.SIGNING_KEYS_GENERATE = False
    rotation = rotate()
    assert rotation.retired is None
    assert token_check(token_sign(NUMBER, FIELDS)).kid == rotation.active


def test_a_missing_key_file_is_a_clear_error(keys_dir):
    kid = token_sign(NUMBER, FIELDS).split(".")[0]
    rotate()
    (keys_dir / f"{kid}.pem").unlink()
    signing._rings.clear()  # as a freshly started process would
    with pytest.raises(SigningKeysError, match=re.escape(f"{kid}.pem")):
        token_sign(NUMBER, FIELDS)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"active": "a", "keys": {}}',
        '{"active": "missing", "keys": {"a": {"created": "2026-01-01T00:00:00+00:00", "retired": null}}}',
        '{"active": "../x", "keys": {"../x": {"created": "2026-01-01T00:00:00+00:00", "retired": null}}}',
        '{"active": "a", "keys": {"a": {"retired": null}}}',
        '{"active": ["a"], "keys": {"a": {"created": "2026-01-01T00:00:00+00:00", "retired": null}}}',
    ],
)
def test_a_broken_keyring_is_a_clear_error(keys_dir, content):
    keys_dir.mkdir(parents=True)
    (keys_dir / "keyring.json").write_text(content)
    with pytest.raises(SigningKeysError, match=r"keyring\.json"):
        token_sign(NUMBER, FIELDS)
    with pytest.raises(SigningKeysError):
        rotate()  # never overwrites a ring it cannot read


# --- JWKS -------------------------------------------------------------------------------------------------


def test_jwks_publishes_public_ed25519_keys_only(keys_dir):
    token_sign(NUMBER, FIELDS)
    rotate()
    keys = jwks()["keys"]
    assert len(keys) == 2
    for jwk in keys:
        assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}
        assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("OKP", "Ed25519", "sig", "EdDSA")
        assert len(_b64d(jwk["x"])) == 32
    json.dumps(jwks())  # serialisable as is


# --- JWS credentials --------------------------------------------------------------------------------------

CLAIMS = {
    "iss": "https://skills.example.gov.cn",
    "sub": "urn:cert:" + NUMBER,
    "iat": 1767225600,
    "vc": {"type": ["VerifiableCredential"], "credentialSubject": {"name": "张三", "level": "三级/高级工"}},
}


def test_a_jws_round_trips(keys_dir):
    token = jws_sign(CLAIMS, typ="vc+jwt")
    assert jws_verify(token) == CLAIMS
    assert jws_verify(token, typ="vc+jwt") == CLAIMS
    header = json.loads(_b64d(token.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": _keyring(keys_dir)["active"], "typ": "vc+jwt"}


def test_a_jws_verifies_independently_with_cryptography_and_the_jwks(keys_dir):
    token = jws_sign(CLAIMS, typ="vc+jwt")
    header_segment, payload_segment, signature_segment = token.split(".")
    header = json.loads(_b64d(header_segment))
    assert header["alg"] == "EdDSA"
    (jwk,) = [k for k in jwks()["keys"] if k["kid"] == header["kid"]]
    public_key = Ed25519PublicKey.from_public_bytes(_b64d(jwk["x"]))
    public_key.verify(_b64d(signature_segment), f"{header_segment}.{payload_segment}".encode("ascii"))
    assert json.loads(_b64d(payload_segment)) == CLAIMS
    with pytest.raises(InvalidSignature):
        public_key.verify(_b64d(signature_segment), f"{header_segment}.{payload_segment}x".encode("ascii"))


def test_a_jws_from_a_retired_key_still_verifies(keys_dir):
    token = jws_sign(CLAIMS, typ="vc+jwt")
    rotate()
    assert jws_verify(token) == CLAIMS


def test_a_tampered_jws_is_rejected(keys_dir):
    token = jws_sign(CLAIMS, typ="vc+jwt")
    header_segment, _, signature_segment = token.split(".")
    forged_payload = base64.urlsafe_b64encode(json.dumps({**CLAIMS, "sub": "x"}).encode()).rstrip(b"=").decode()
    with pytest.raises(CredentialInvalid) as raised:
        jws_verify(f"{header_segment}.{forged_payload}.{signature_segment}")
    assert raised.value.reason == "bad_signature"
    for i, original in enumerate(token):
        replacement = "A" if original != "A" else "B"
        with pytest.raises(CredentialInvalid):
            jws_verify(token[:i] + replacement + token[i + 1 :])


def _segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_jws_with_another_alg_or_key_is_rejected(keys_dir):
    token = jws_sign(CLAIMS, typ="vc+jwt")
    header_segment, payload_segment, signature_segment = token.split(".")
    header = json.loads(_b64d(header_segment))
    cases = {
        "malformed": [
            f"{_segment({**header, 'alg': 'none'})}.{payload_segment}.",
            f"{_segment({**header, 'alg': 'HS256'})}.{payload_segment}.{signature_segment}",
            f"{_segment({**header, 'alg': 'Ed25519'})}.{payload_segment}.{signature_segment}",
            "not a jwt",
            "a.b",
            "",
            "é.é.é",
            "x" * 100_000,
        ],
        "unknown_key": [f"{_segment({**header, 'kid': 'k1999a'})}.{payload_segment}.{signature_segment}"],
        "bad_signature": [f"{_segment({**header, 'typ': 'JWT'})}.{payload_segment}.{signature_segment}"],
    }
    for reason, tokens in cases.items():
        for bad in tokens:
            with pytest.raises(CredentialInvalid) as raised:
                jws_verify(bad)
            assert raised.value.reason == reason, bad[:60]
    with pytest.raises(CredentialInvalid) as raised:
        jws_verify(token, typ="JWT")
    assert raised.value.reason == "wrong_type"
    assert isinstance(raised.value, ValueError)


# --- the management command -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_rotates_and_says_which_keys(keys_dir, capsys):
    from core.models import AuditEntry

    old = token_sign(NUMBER, FIELDS).split(".")[0]
    call_command("rotate_signing_key")
    out = capsys.readouterr().out
    new = _keyring(keys_dir)["active"]
    assert new != old and new in out and old in out
    entry = AuditEntry.objects.get(action="signing_key.rotate", object_id=new)
    assert entry.before == {"active": old} and entry.after == {"active": new}
