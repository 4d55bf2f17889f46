"""The signature on every delivery, and how a receiver checks it.

Header `X-Skillcert-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, where each v1 is
HMAC-SHA256(secret, "<t>." + raw request body) in lowercase hex: one per secret in force (two for a while after a
rotation, so receivers can switch at their own pace). A receiver recomputes the HMAC over the exact bytes it
received with its secret, compares in constant time, and refuses a timestamp older than a few minutes (replay).
"""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Skillcert-Signature"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret_list: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secret_list)])


def signature_valid(header: str, secret: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does (the tests' receiver uses it, and the README shows it)."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [v for k, v in fields if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = sign(secret, int(stamps[0]), body)
    return any(hmac.compare_digest(expected, v) for k, v in fields if k == "v1")
