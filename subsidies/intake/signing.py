"""Signed requests from a registered social-security channel.

Each request carries four headers:

    X-Channel-Key   the channel's key id (registered with the platform)
    X-Timestamp     Unix seconds when the channel signed it; refused outside the channel's allowed skew
    X-Nonce         16–64 characters [A-Za-z0-9_-], never reused by the channel (a reuse is a replay)
    X-Signature     base64 of the signature over the canonical string below

    canonical = METHOD "\n" PATH "\n" TIMESTAMP "\n" NONCE "\n" hex(SHA-256(body))

HMAC-SHA256 with the channel's shared secret, or Ed25519 with its private key (the platform holds the public key
only). The body is signed as sent, byte for byte: the request id inside it is covered by the signature.
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotAuthenticated

from ..models import IntakeChannel, IntakeNonce

NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def sign_hmac(secret_b64: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), message, hashlib.sha256).digest()).decode()


def sign_ed25519(private_key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message)).decode()


def _refused(code: str, message: str) -> NotAuthenticated:
    return NotAuthenticated(message, code=code)


def _signature_ok(channel: IntakeChannel, message: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    if channel.algorithm == IntakeChannel.Algorithm.HMAC:
        expected = hmac.new(base64.b64decode(channel.secret), message, hashlib.sha256).digest()
        return hmac.compare_digest(expected, signature)
    key = load_pem_public_key(channel.public_key.encode())
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify_request(request, *, now: datetime.datetime | None = None) -> IntakeChannel:
    """The channel that signed this request, or NotAuthenticated with a stable code saying why not:
    unknown_channel, stale_request, invalid_signature, replayed_request."""
    key_id = request.headers.get("X-Channel-Key", "").strip()
    timestamp = request.headers.get("X-Timestamp", "").strip()
    nonce = request.headers.get("X-Nonce", "").strip()
    signature = request.headers.get("X-Signature", "").strip()
    if not key_id:
        raise NotAuthenticated(_("须为登记渠道的签名请求(X-Channel-Key、X-Timestamp、X-Nonce、X-Signature)"))
    channel = IntakeChannel.objects.filter(key_id=key_id, active=True).select_related("region").first()
    if channel is None:
        raise _refused("unknown_channel", _("未登记或已停用的渠道密钥"))
    now = now or timezone.now()
    try:
        signed_at = datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC)
    except (ValueError, OverflowError, OSError):
        raise _refused("stale_request", _("请求时间戳无效")) from None
    if abs((now - signed_at).total_seconds()) > channel.max_skew_seconds:
        raise _refused("stale_request", _("请求时间与平台时间相差超过%(n)d秒") % {"n": channel.max_skew_seconds})
    if not NONCE_RE.fullmatch(nonce):
        raise _refused("invalid_signature", _("随机数(X-Nonce)应为16—64位字母、数字、下划线或连字符"))
    message = canonical(request.method, request.path, timestamp, nonce, request.body)
    if not _signature_ok(channel, message, signature):
        raise _refused("invalid_signature", _("签名验证失败"))
    # Only a correctly signed request uses up its nonce; nonces older than the skew window can no longer be replayed
    # (their timestamp would be refused), so they are dropped.
    IntakeNonce.objects.filter(
        channel=channel, seen_at__lt=now - datetime.timedelta(seconds=2 * channel.max_skew_seconds)
    ).delete()
    try:
        with transaction.atomic():
            IntakeNonce.objects.create(channel=channel, nonce=nonce, seen_at=now)
    except IntegrityError:
        raise _refused("replayed_request", _("该请求已处理过(随机数重复),疑为重放")) from None
    return channel
