"""The social-security channel: signed requests (HMAC and Ed25519), replay and staleness refused, idempotent by the
channel's request id, the same eligibility as on the site, decisions sent back, the social-security card as the
default account where the region says so."""

import base64
import json
import secrets
import time
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client

from subsidies import services
from subsidies.intake.signing import canonical, sign_ed25519, sign_hmac
from subsidies.models import ChannelNotice, Claim, IntakeChannel, IntakeRequest, SubsidyPolicy
from tests.factories import region

from .conftest import A, make_certificate, valid_person

pytestmark = pytest.mark.django_db
URL = "/api/v1/subsidies/intake/claims"
NOTICES = "/api/v1/subsidies/intake/notices"
SECRET = base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def hmac_channel():
    return IntakeChannel.objects.create(
        code="jl12333",
        name="吉林12333",
        region=region("220000"),
        key_id="jl12333-2026",
        algorithm="hmac-sha256",
        secret=SECRET,
    )


@pytest.fixture
def ed_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def ed_channel(ed_key):
    pem = ed_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return IntakeChannel.objects.create(
        code="ssc", name="电子社保卡", region=region("220000"), key_id="ssc-1", algorithm="ed25519", public_key=pem
    )


def signed(channel, body: dict | bytes, *, path=URL, method="POST", key=None, ts=None, nonce=None, tamper=None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    ts = str(ts if ts is not None else int(time.time()))
    nonce = nonce or secrets.token_urlsafe(18)
    message = canonical(method, path, ts, nonce, raw)
    signature = sign_ed25519(key, message) if key is not None else sign_hmac(channel.secret, message)
    if tamper is not None:
        raw = tamper(raw)
    headers = {
        "HTTP_X_CHANNEL_KEY": channel.key_id,
        "HTTP_X_TIMESTAMP": ts,
        "HTTP_X_NONCE": nonce,
        "HTTP_X_SIGNATURE": signature,
    }
    c = Client()
    if method == "GET":
        return c.get(path, **headers)
    return c.generic(method, path, raw, content_type="application/json", **headers)


@pytest.fixture
def holder():
    person = valid_person()
    cert = make_certificate(person, level="4")
    return person, cert


def body_for(person, cert, **kw) -> dict:
    return {
        "request_id": kw.pop("request_id", "REQ-" + secrets.token_hex(6)),
        "name": person.name,
        "id_number": person.id_number,
        "certificate_number": cert.number,
        "insurance_months": 24,
        "account_number": "6222020200001234567",
        **kw,
    }


def test_a_signed_hmac_claim_is_decided_like_one_from_the_site(hmac_channel, holder):
    person, cert = holder
    r = signed(hmac_channel, body_for(person, cert, request_id="R1"))
    assert r.status_code == 201, r.content
    data = r.json()
    claim = Claim.objects.get(pk=data["claim_id"])
    assert claim.intake_channel == hmac_channel and claim.intake_request_id == "R1" and claim.status == "submitted"
    assert data["assessment"]["eligible"] and Decimal(data["amount"]) == claim.amount
    assert data["account"].endswith("4567") and "6222020200001234567" not in r.content.decode()
    assert claim.decisions.get().actor_label == "channel:jl12333"
    assert ChannelNotice.objects.get(claim=claim).status == "submitted"


def test_an_ed25519_channel_signs_with_its_private_key(ed_channel, ed_key, holder):
    person, cert = holder
    assert signed(ed_channel, body_for(person, cert), key=ed_key).status_code == 201
    other = Ed25519PrivateKey.generate()
    r = signed(ed_channel, body_for(person, cert), key=other)
    assert r.status_code == 401 and r.json()["code"] == "invalid_signature"


def test_a_tampered_body_or_unknown_key_is_refused(hmac_channel, holder):
    person, cert = holder
    r = signed(
        hmac_channel,
        body_for(person, cert),
        tamper=lambda raw: raw.replace(b'"insurance_months": 24', b'"insurance_months": 99'),
    )
    assert r.status_code == 401 and r.json()["code"] == "invalid_signature"
    hmac_channel.active = False
    hmac_channel.save()
    r = signed(hmac_channel, body_for(person, cert))
    assert r.status_code == 401 and r.json()["code"] == "unknown_channel"
    assert not Claim.objects.exists()


def test_no_headers_at_all_is_401(hmac_channel):
    r = Client().post(URL, "{}", content_type="application/json")
    assert r.status_code == 401 and set(r.json()) >= {"code", "message", "details"}


@pytest.mark.parametrize(("offset", "status"), [(-299, 201), (299, 201), (-301, 401), (301, 401)])
def test_the_timestamp_must_be_within_the_channels_skew(hmac_channel, holder, offset, status):
    person, cert = holder
    r = signed(hmac_channel, body_for(person, cert), ts=int(time.time()) + offset)
    assert r.status_code == status, r.content
    if status == 401:
        assert r.json()["code"] == "stale_request"


def test_a_replayed_nonce_is_refused_even_with_a_fresh_request_id(hmac_channel, holder):
    person, cert = holder
    nonce = secrets.token_urlsafe(18)
    assert signed(hmac_channel, body_for(person, cert, request_id="A"), nonce=nonce).status_code == 201
    r = signed(hmac_channel, body_for(person, cert, request_id="B"), nonce=nonce)
    assert r.status_code == 401 and r.json()["code"] == "replayed_request"
    assert IntakeRequest.objects.count() == 1


def test_the_same_request_id_gets_the_same_answer_and_another_body_is_refused(hmac_channel, holder):
    person, cert = holder
    body = body_for(person, cert, request_id="IDEM-1")
    first = signed(hmac_channel, body)
    again = signed(hmac_channel, body)  # a retry: new nonce, same request id and body
    assert first.status_code == again.status_code == 201
    assert again.json()["claim_id"] == first.json()["claim_id"] and again.json()["replayed"] is True
    assert Claim.objects.count() == 1
    changed = signed(hmac_channel, {**body, "insurance_months": 36})
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_conflict"


def test_an_ineligible_claim_is_answered_with_the_reasons_and_the_answer_is_kept(hmac_channel, holder):
    person, cert = holder
    body = body_for(person, cert, request_id="NO-1", insurance_months=6)
    r = signed(hmac_channel, body)
    assert r.status_code == 409 and r.json()["code"] == "not_eligible"
    assert any(rule["code"] == "insurance" and not rule["met"] for rule in r.json()["details"]["assessment"]["rules"])
    assert not Claim.objects.exists()
    assert signed(hmac_channel, body).json()["code"] == "not_eligible"


def test_the_certificate_must_be_the_persons(hmac_channel, holder):
    person, cert = holder
    r = signed(hmac_channel, body_for(person, cert, name="别人"))
    assert r.status_code == 422 and r.json()["code"] == "certificate_mismatch"


def test_the_social_security_card_is_the_default_account_where_the_region_says_so(hmac_channel, holder):
    person, cert = holder
    SubsidyPolicy.objects.filter(code="cc-2026-demo").update(ss_card_default_account=False)
    body = body_for(person, cert, account_number="", ss_card_account="8800112233445566")
    refused = signed(hmac_channel, {**body, "request_id": "SS-1"})
    assert refused.status_code == 422 and "社保卡金融账户不是默认收款账户" in refused.json()["message"]
    SubsidyPolicy.objects.filter(code="cc-2026-demo").update(ss_card_default_account=True)
    r = signed(hmac_channel, {**body, "request_id": "SS-2"})
    assert r.status_code == 201 and r.json()["account_kind"] == "social_security_card"


def test_decisions_go_back_on_the_channel(hmac_channel, holder, cc_officer):
    person, cert = holder
    claim_id = signed(hmac_channel, body_for(person, cert, request_id="DEC-1")).json()["claim_id"]
    services.claim_review(actor=A(cc_officer), claim_id=claim_id, decision="reject", reason="证书信息与社保登记不符")
    r = signed(hmac_channel, b"", path=NOTICES, method="GET")
    assert r.status_code == 200
    notices = r.json()
    assert [n["status"] for n in notices] == ["submitted", "rejected"]
    assert notices[1]["request_id"] == "DEC-1" and "证书信息与社保登记不符" in notices[1]["body"]
    later = Client().get(f"{NOTICES}?after={notices[-1]['id']}")
    assert later.status_code == 401
