"""Ed25519 signatures for certificates: the key ring, the short QR token and JWS credentials.

The key ring lives in files (settings.SIGNING_KEYS_DIR), not in the database, so that verification needs no
database and private keys never end up in a backup dump or an admin page:

    keyring.json      {"active": kid, "keys": {kid: {"created": iso8601, "retired": iso8601 | null}}}
    {kid}.pem         the PKCS8 private key, mode 600

Only the active key signs. A retired key keeps verifying what it signed, so rotation never invalidates an
issued certificate. Several processes (web nodes, workers, the rotate command) share the directory: writes are
atomic renames under an exclusive lock, and readers re-read keyring.json whenever the file changes.

A certificate token is `{kid}.{number}.{digest}.{sig}`; the signature covers the certificate number and a
digest of the printed fields, so a verifier can tell a forged token from a certificate whose data changed.
"""

import base64
import binascii
import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError, UnsupportedAlgorithmError
from joserfc.jwk import OKPKey

from . import sm2

KEYRING_FILE = "keyring.json"
LOCK_FILE = ".keyring.lock"
TOKEN_MAX_LENGTH = 512
JWS_MAX_LENGTH = 64 * 1024
JWS_ALG = "EdDSA"
DIGEST_BYTES = 16
SIGNATURE_BYTES = 64

# A kid is part of the token and of a file name: no ".", no "|", no "/".
_KID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
# National numbers are 22 characters (S000022000102263000001); imported historical certificates (职业资格证书)
# carry older all-digit numbers, and the eight-level system adds formats: any 8–32 capital letters or digits.
_NUMBER_RE = re.compile(r"[A-Z0-9]{8,32}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")

#: Algorithms a key of the ring may have. Credentials (JWS) are always EdDSA, for interoperability; certificate
#: tokens are EdDSA or, where a region chose it, SM2 with SM3 (国密, GB/T 32918 with the default user ID).
EDDSA = "EdDSA"
SM2 = "SM2"
ALGORITHMS = (EDDSA, SM2)
SM2_USER_ID = b"1234567812345678"

OK = "ok"
MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
WRONG_TYPE = "wrong_type"


class SigningKeysError(ImproperlyConfigured):
    """The key ring is missing or broken: a server problem, never a reason to call a certificate forged."""


class SigningKeysMissing(SigningKeysError):
    pass


class CredentialInvalid(ValueError):
    """A JWS that does not verify; `reason` is a stable code (malformed, unknown_key, bad_signature, ...)."""

    def __init__(self, reason: str, message: str = ""):
        self.reason = reason
        super().__init__(message or reason)


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking a token's signature.

    kid, number and digest are what the token claims (None when it is malformed); trust them only when
    signature_ok is True, and then still compare the digest with the current fields (`matches()`).
    """

    signature_ok: bool
    kid: str | None = None
    number: str | None = None
    digest: str | None = None
    reason: str = MALFORMED

    def matches(self, fields: dict) -> bool:
        """True only for a good signature over exactly these printed fields."""
        return self.signature_ok and self.digest is not None and hmac.compare_digest(self.digest, fields_digest(fields))


@dataclass(frozen=True)
class PublicKeyInfo:
    kid: str
    created: str
    retired: str | None
    active: bool
    x: str  # the raw 32-byte public key (EdDSA), or the point's x coordinate (SM2), base64url without padding
    alg: str = EDDSA
    y: str = ""  # SM2 only


class Rotation(NamedTuple):
    active: str
    retired: str | None


@dataclass(frozen=True)
class _Key:
    kid: str
    created: str
    retired: str | None
    private_key: Any = field(repr=False)  # Ed25519PrivateKey, or tongsuopy's SM2 EllipticCurvePrivateKey
    alg: str = EDDSA

    @functools.cached_property
    def public_key(self) -> Any:
        return self.private_key.public_key()

    def sign(self, message: bytes) -> bytes:
        """64 bytes: the Ed25519 signature, or SM2's r ‖ s (32 bytes each, as the token has a fixed width)."""
        if self.alg == EDDSA:
            return self.private_key.sign(message)
        return sm2.sign(self.private_key, message)

    def verify(self, signature: bytes, message: bytes) -> bool:
        if self.alg == EDDSA:
            try:
                self.public_key.verify(signature, message)
            except InvalidSignature:
                return False
            return True
        return sm2.verify(self.public_key, signature, message)


@dataclass(frozen=True)
class _Ring:
    stamp: tuple[int, int, int]
    active: str
    keys: dict[str, _Key]
    active_sm2: str | None = None

    def signing_key(self, alg: str = EDDSA) -> _Key:
        if alg == SM2:
            if self.active_sm2 is None:
                raise SigningKeysError(
                    "a region signs with SM2 but the key ring has no active SM2 key: "
                    "run `python manage.py rotate_signing_key --algorithm SM2`"
                )
            key = self.keys[self.active_sm2]
        else:
            key = self.keys[self.active]
        # Only a hand-edited ring can say so; verification still works, and a rotation repairs it.
        if key.retired is not None:
            raise SigningKeysError(
                f"the active signing key {key.kid} is marked retired and may not sign: "
                "run `python manage.py rotate_signing_key` to make a new active key"
            )
        return key


# Per process, keyed by directory (tests point SIGNING_KEYS_DIR elsewhere). Replacing a dict entry is atomic,
# so concurrent threads at worst load the same ring twice.
_rings: dict[Path, _Ring] = {}


# --- encoding ---------------------------------------------------------------------------------------------


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(segment: str, size: int | None = None) -> bytes | None:
    """Decode base64url strictly, or None.

    Only the one canonical spelling is accepted: base64 ignores the unused low bits of the last character, so
    without the re-encoding check two tokens differing in their last character could carry the same bytes.
    """
    if size is not None and len(segment) != (size * 4 + 2) // 3:
        return None
    if len(segment) % 4 == 1 or not _B64URL_RE.fullmatch(segment):
        return None
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    if (size is not None and len(raw) != size) or _b64e(raw) != segment:
        return None
    return raw


# --- the key ring -----------------------------------------------------------------------------------------


def _directory() -> Path:
    return _path(str(settings.SIGNING_KEYS_DIR))


@functools.lru_cache(maxsize=8)
def _path(directory: str) -> Path:
    return Path(directory)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _parse_keyring(raw: bytes, path: Path) -> dict[str, Any]:
    """Validate keyring.json; kids become file names, so they are checked before any path is built."""
    try:
        meta = json.loads(raw)
    except ValueError as error:
        raise SigningKeysError(f"{path} is not valid JSON: {error}") from error
    keys = meta.get("keys") if isinstance(meta, dict) else None
    if not isinstance(keys, dict) or not keys:
        raise SigningKeysError(f'{path} must be {{"active": kid, "keys": {{kid: {{...}}}}}} with at least one key')
    for kid, entry in keys.items():
        if not _KID_RE.fullmatch(kid):
            raise SigningKeysError(f"{path}: invalid key id {kid!r}")
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("created"), str)
            or not isinstance(entry.get("retired"), str | None)
        ):
            raise SigningKeysError(f'{path}: key {kid} needs "created" (ISO 8601) and "retired" (ISO 8601 or null)')
        if entry.get("alg", EDDSA) not in ALGORITHMS:
            raise SigningKeysError(f"{path}: key {kid} has an unknown algorithm {entry.get('alg')!r}")
    active = meta.get("active")
    if not isinstance(active, str) or active not in keys or keys[active].get("alg", EDDSA) != EDDSA:
        raise SigningKeysError(f"{path}: the active key {active!r} is not an EdDSA key of the key list")
    active_sm2 = meta.get("active_sm2")
    if active_sm2 is not None and (
        not isinstance(active_sm2, str) or active_sm2 not in keys or keys[active_sm2].get("alg") != SM2
    ):
        raise SigningKeysError(f"{path}: the active SM2 key {active_sm2!r} is not an SM2 key of the key list")
    return meta


def _load_private_key(path: Path, alg: str = EDDSA) -> Any:
    if alg == SM2:
        try:
            return sm2.load_private_key(path.read_bytes())
        except FileNotFoundError as error:
            raise SigningKeysError(f"{path} is listed in {KEYRING_FILE} but missing") from error
        except ValueError as error:
            raise SigningKeysError(f"{path} is not an SM2 private key: {error}") from error
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as error:
        raise SigningKeysError(f"{path} is listed in {KEYRING_FILE} but missing") from error
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise SigningKeysError(f"{path} is not an unencrypted PKCS8 PEM private key: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeysError(f"{path} is not an Ed25519 key")
    return key


def _load(directory: Path, previous: _Ring | None) -> _Ring:
    path = directory / KEYRING_FILE
    with path.open("rb") as fh:
        # The stamp comes from the file actually read, so a rename racing with us is noticed on the next call.
        st = os.fstat(fh.fileno())
        raw = fh.read()
    meta = _parse_keyring(raw, path)
    keys = {}
    for kid, entry in meta["keys"].items():
        known = previous.keys.get(kid) if previous else None
        alg = entry.get("alg", EDDSA)
        private_key = known.private_key if known else _load_private_key(directory / f"{kid}.pem", alg)
        keys[kid] = _Key(kid, entry["created"], entry["retired"], private_key, alg)
    return _Ring((st.st_ino, st.st_mtime_ns, st.st_size), meta["active"], keys, meta.get("active_sm2"))


def _ring() -> _Ring:
    """The current key ring: cached, re-read when keyring.json changes (rotation by another process)."""
    directory = _directory()
    path = directory / KEYRING_FILE
    try:
        st = path.stat()
    except FileNotFoundError:
        if not settings.SIGNING_KEYS_GENERATE:
            raise SigningKeysMissing(
                f"No signing keys: {path} does not exist. Create the first key with "
                "`python manage.py rotate_signing_key` (with SIGNING_KEYS_DIR pointing at persistent storage "
                "shared by every web node and worker), or restore the key directory from backup."
            ) from None
        _rotate(directory, first_only=True)
        st = path.stat()
    cached = _rings.get(directory)
    if cached is not None and cached.stamp == (st.st_ino, st.st_mtime_ns, st.st_size):
        return cached
    ring = _load(directory, cached)
    _rings[directory] = ring
    return ring


_ring_checked_at: dict[Path, float] = {}


def ring_recent(max_age: float = 1.0) -> _Ring:
    """The key ring as of at most `max_age` seconds ago: for answers remembered from an earlier check, which
    must stop when the ring changes (a key withdrawn) but need not look at the file on every request."""
    directory = _directory()
    cached = _rings.get(directory)
    checked = _ring_checked_at.get(directory)
    now = time.monotonic()
    if cached is not None and checked is not None and now - checked < max_age:
        return cached
    ring = _ring()
    _ring_checked_at[directory] = now
    return ring


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write beside `path` and rename over it, so another process sees the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself must survive a crash
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def _exclusive(directory: Path):
    """An exclusive lock across processes and threads (flock is per open file), held while the ring changes."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _new_kid(directory: Path, keys: dict) -> str:
    day = timezone.localdate().isoformat()
    n = 1
    # Skip a file left by an interrupted rotation too: never overwrite a private key.
    while f"{day}-{n}" in keys or (directory / f"{day}-{n}.pem").exists():
        n += 1
    return f"{day}-{n}"


def _rotate(directory: Path, *, first_only: bool, alg: str = EDDSA) -> Rotation | None:
    with _exclusive(directory):
        path = directory / KEYRING_FILE
        if path.exists():
            if first_only:  # another process created the first key while we waited for the lock
                return None
            meta = _parse_keyring(path.read_bytes(), path)
        else:
            meta = {"active": None, "keys": {}}
        if alg == SM2 and meta["active"] is None:
            raise SigningKeysError("create the EdDSA key first: credentials are always signed with EdDSA")
        now = _now()
        kid = _new_kid(directory, meta["keys"])
        if alg == SM2:
            pem = sm2.generate_private_key_pem()
        else:
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        # The key file first: a reader that sees the new keyring.json must find its key.
        _write_atomic(directory / f"{kid}.pem", pem, 0o600)
        slot = "active_sm2" if alg == SM2 else "active"
        previous = meta.get(slot)
        keys = dict(meta["keys"])
        if previous is not None:
            keys[previous] = {**keys[previous], "retired": keys[previous]["retired"] or now}
        keys[kid] = {"created": now, "retired": None} | ({"alg": SM2} if alg == SM2 else {})
        ring = {"active": kid if alg == EDDSA else meta["active"], "keys": keys}
        if alg == SM2 or meta.get("active_sm2"):
            ring["active_sm2"] = kid if alg == SM2 else meta["active_sm2"]
        document = json.dumps(ring, indent=2, ensure_ascii=False) + "\n"
        _write_atomic(path, document.encode(), 0o644)
    _ring_checked_at.clear()  # this process sees its own rotation at once
    return Rotation(kid, previous)


def rotate(alg: str = EDDSA) -> Rotation:
    """Create a key of `alg` and make it the one that signs for that algorithm; the previous key of that algorithm
    is retired but keeps verifying.

    Also creates the first key of an empty directory (the way to set up production; EdDSA first).
    """
    if alg not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {alg!r}: {', '.join(ALGORITHMS)}")
    rotation = _rotate(_directory(), first_only=False, alg=alg)
    assert rotation is not None
    return rotation


def public_keys() -> list[PublicKeyInfo]:
    """Every key, active and retired, in the order they were created."""
    ring = _ring()
    infos = []
    for key in ring.keys.values():
        if key.alg == SM2:
            x, y = sm2.public_point(key.public_key)
            infos.append(
                PublicKeyInfo(key.kid, key.created, key.retired, key.kid == ring.active_sm2, _b64e(x), SM2, _b64e(y))
            )
        else:
            raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            infos.append(PublicKeyInfo(key.kid, key.created, key.retired, key.kid == ring.active, _b64e(raw)))
    return infos


def jwks() -> dict:
    """The public JWK Set for /.well-known/jwks.json: the EdDSA keys (tokens and credentials); retired keys stay
    listed so old signatures verify. SM2 keys are in sm2_keys(): JOSE registers no SM2 curve, and a JWK Set
    parser that meets an unknown `crv` may refuse the whole set."""
    return {
        "keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": info.x, "kid": info.kid, "use": "sig", "alg": JWS_ALG}
            for info in public_keys()
            if info.alg == EDDSA
        ]
    }


def sm2_keys() -> dict:
    """/.well-known/sm2-keys.json: the SM2 keys that sign certificate tokens of the regions that chose 国密, as
    JWK-shaped entries (kty EC, crv SM2, the point's coordinates) and as SubjectPublicKeyInfo PEM, with how a token
    is signed: SM2 with SM3 (GB/T 32918.2), the default user ID, over `v1|{kid}|{number}|{digest}`, the signature
    as r ‖ s, base64url, in the token's last part."""
    ring = _ring()
    return {
        "algorithm": "SM2 with SM3 (GB/T 32918.2-2016), user ID 1234567812345678",
        "signed_message": "v1|{kid}|{number}|{digest} (ASCII), the first three parts of the token joined",
        "signature": "r || s, 32 bytes each, base64url without padding: the token's fourth part",
        "keys": [
            {
                "kty": "EC",
                "crv": "SM2",
                "x": info.x,
                "y": info.y,
                "kid": info.kid,
                "use": "sig",
                "alg": "SM2SM3",
                "created": info.created,
                "retired": info.retired,
                "active": info.active,
                "pem": sm2.public_pem(ring.keys[info.kid].public_key).decode("ascii"),
            }
            for info in public_keys()
            if info.alg == SM2
        ],
    }


# --- certificate tokens -----------------------------------------------------------------------------------


def fields_digest(fields: dict) -> str:
    """A short digest of the printed fields, so a token also pins the data printed on the certificate."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _b64e(hashlib.sha256(canonical.encode()).digest()[:DIGEST_BYTES])


def _token_message(kid: str, number: str, digest: str) -> bytes:
    return f"v1|{kid}|{number}|{digest}".encode("ascii")


def token_sign(number: str, fields: dict, *, alg: str = EDDSA) -> str:
    """The QR token for a certificate, signed with the active key of `alg` (the region's choice)."""
    if not isinstance(number, str) or not _NUMBER_RE.fullmatch(number):
        raise ValueError(f"not a certificate number: {number!r}")
    key = _ring().signing_key(alg)
    digest = fields_digest(fields)
    signature = key.sign(_token_message(key.kid, number, digest))
    return f"{key.kid}.{number}.{digest}.{_b64e(signature)}"


def token_claims(token: object) -> str | None:
    """The certificate number a well-formed token names (nothing checked yet), or None for a malformed token."""
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 4 or not _NUMBER_RE.fullmatch(parts[1]):
        return None
    return parts[1]


def token_check(token: object, *, stored: str | None = None) -> TokenCheck:
    """Check a token's signature. Never raises on bad input (anything a URL can carry): it says why instead.

    `stored`: the token the platform stored for the certificate the token names, when the caller has read it. A
    token identical to it, byte for byte, carries the very signature issuance made and checked-in keys sign; its
    Ed25519 (or SM2) check is skipped, which is most of a first scan's CPU. Its key must still be in the ring (a
    key removed from the ring fails its tokens, as before) and the caller still compares the digest with the
    current printed fields (`matches()`), so altered printed data is `forged` as before. A key withdrawn from the
    ring fails its stored tokens within a second (`ring_recent`), as it does remembered answers. Any other token,
    even one differing in a single character, is verified in full. (Whoever can rewrite a certificate's stored token can
    also rewrite its status: the database is trusted for status either way.)

    Raises SigningKeysError only when the server's own key ring is missing or broken.
    """
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH or not token.isascii():
        return TokenCheck(signature_ok=False, reason=MALFORMED)
    parts = token.split(".")
    if len(parts) != 4:
        return TokenCheck(signature_ok=False, reason=MALFORMED)
    kid, number, digest, signature_segment = parts
    if stored is not None and hmac.compare_digest(token.encode(), stored.encode()):
        # Issuance made this very token (well-formed, signature checked then); its key must still be in the ring,
        # as of at most a second ago (the ring remembered answers are checked against, see ring_recent).
        if ring_recent().keys.get(kid) is None:
            return TokenCheck(signature_ok=False, reason=UNKNOWN_KEY, kid=kid, number=number, digest=digest)
        return TokenCheck(signature_ok=True, reason=OK, kid=kid, number=number, digest=digest)
    signature = _b64d(signature_segment, SIGNATURE_BYTES)
    if (
        not _KID_RE.fullmatch(kid)
        or not _NUMBER_RE.fullmatch(number)
        or _b64d(digest, DIGEST_BYTES) is None
        or signature is None
    ):
        return TokenCheck(signature_ok=False, reason=MALFORMED)
    claimed = {"kid": kid, "number": number, "digest": digest}
    key = _ring().keys.get(kid)
    if key is None:
        return TokenCheck(signature_ok=False, reason=UNKNOWN_KEY, **claimed)
    if not key.verify(signature, _token_message(kid, number, digest)):
        return TokenCheck(signature_ok=False, reason=BAD_SIGNATURE, **claimed)
    return TokenCheck(signature_ok=True, reason=OK, **claimed)


# --- JWS for verifiable credentials -----------------------------------------------------------------------


class _EdDSAOnly(jws.JWSRegistry):
    """Accepts EdDSA and nothing else, without joserfc's RFC 9864 warning on every call: "EdDSA" is the name
    VC-JWT and Open Badges verifiers look for today."""

    def get_alg(self, name: str):
        if name != JWS_ALG:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


_JWS_REGISTRY = _EdDSAOnly(algorithms=[JWS_ALG])


def jws_sign(claims: dict, *, typ: str) -> str:
    """A compact JWS over the claims (JSON values only), signed with the active key."""
    key = _ring().signing_key()
    header = {"alg": JWS_ALG, "kid": key.kid, "typ": typ}
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return jws.serialize_compact(header, payload, OKPKey.import_key(key.private_key), registry=_JWS_REGISTRY)


def jws_verify(token: str, *, typ: str | None = None) -> dict:
    """The claims of a JWS signed by any key of the ring (active or retired); raises CredentialInvalid.

    Only the signature (and `typ`, when given) is checked: expiry and status are the caller's to judge.
    """
    if not isinstance(token, str) or len(token) > JWS_MAX_LENGTH or not token.isascii():
        raise CredentialInvalid(MALFORMED)
    segments = token.split(".")
    if len(segments) != 3 or len(segments[0]) > 1024 or any(_b64d(segment) is None for segment in segments):
        raise CredentialInvalid(MALFORMED)
    try:
        header = json.loads(_b64d(segments[0]) or b"")
    except ValueError:
        raise CredentialInvalid(MALFORMED) from None
    if not isinstance(header, dict) or header.get("alg") != JWS_ALG:
        raise CredentialInvalid(MALFORMED, "the header must name alg EdDSA")
    kid = header.get("kid")
    key = _ring().keys.get(kid) if isinstance(kid, str) else None
    if key is None or key.alg != EDDSA:
        raise CredentialInvalid(UNKNOWN_KEY, f"no key {kid!r} in the key ring")
    if typ is not None and header.get("typ") != typ:
        raise CredentialInvalid(WRONG_TYPE, f"expected typ {typ!r}")
    try:
        obj = jws.deserialize_compact(token, OKPKey.import_key(key.public_key), registry=_JWS_REGISTRY)
    except BadSignatureError:
        raise CredentialInvalid(BAD_SIGNATURE) from None
    except (JoseError, ValueError, TypeError):
        raise CredentialInvalid(MALFORMED) from None
    try:
        claims = json.loads(obj.payload or b"")
    except (ValueError, RecursionError):
        raise CredentialInvalid(MALFORMED, "the payload is not JSON") from None
    if not isinstance(claims, dict):
        raise CredentialInvalid(MALFORMED, "the payload is not a JSON object")
    return claims
