"""Webhooks: subscriptions, signed deliveries checked by a receiver written here, retries, the log, replay,
automatic disabling, secret rotation, and SSRF protection."""

import datetime
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from accounts.actors import Actor
from certificates import services as certificate_services
from certificates.models import Certificate
from certificates.webhooks import services
from certificates.webhooks.models import Delivery, Subscription
from core.errors import ValidationFailed
from core.models import AuditEntry, Notification
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SUBS = "/api/v1/webhooks/subscriptions"


class Endpoint(ThreadingHTTPServer):
    """An organisation's system: records what arrives and checks each signature with its own code."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[dict] = []
        self.statuses: list[int] = []  # answers to give, in order; 204 once exhausted
        self.secret = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def verify(self, headers: dict, body: bytes, secret: str | None = None) -> bool:
        """Stripe-style check: t=…,v1=… with HMAC-SHA256 over "t." + body, at most five minutes old."""
        parts = [p.split("=", 1) for p in headers.get("X-Skillcert-Signature", "").split(",")]
        stamp = next((v for k, v in parts if k == "t"), "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return False
        key = (secret or self.secret).encode()
        mac = hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return any(k == "v1" and hmac.compare_digest(mac, v) for k, v in parts)


class _Handler(BaseHTTPRequestHandler):
    server: Endpoint

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = dict(self.headers.items())
        self.server.received.append({"headers": headers, "body": body, "valid": self.server.verify(headers, body)})
        status = self.server.statuses.pop(0) if self.server.statuses else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def endpoint(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT = 2.0
    server = Endpoint()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscription(endpoint, org, org_admin):
    response = client_for(org_admin).post(
        SUBS,
        {"organisation_id": org.id, "url": endpoint.url, "events": ["certificate.issued", "certificate.revoked"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    endpoint.secret = response.json()["secret"]
    return Subscription.objects.get(pk=response.json()["id"])


def test_a_subscription_shows_its_secret_once(subscription, org_admin):
    assert subscription.secret.startswith("whsec_")
    listed = client_for(org_admin).get(SUBS).json()["items"]
    assert listed[0]["id"] == subscription.id and "secret" not in listed[0]
    assert "secret" not in client_for(org_admin).get(f"{SUBS}/{subscription.id}").json()
    entry = AuditEntry.objects.get(action="webhook.subscription_create")
    assert subscription.secret not in json.dumps(entry.after)


def test_issuance_is_delivered_signed_and_logged(subscription, endpoint, finalised_plan, org_admin, issue):
    issue(finalised_plan, org_admin)
    assert len(endpoint.received) == 7
    assert all(r["valid"] for r in endpoint.received)
    first = endpoint.received[0]
    assert first["headers"]["X-Skillcert-Event"] == "certificate.issued"
    payload = json.loads(first["body"])
    number = payload["data"]["certificate"]["number"]
    cert = Certificate.objects.get(number=number)
    assert payload["type"] == "certificate.issued" and payload["organisation_id"] == cert.organisation_id
    assert cert.id_number not in first["body"].decode() and "*" in payload["data"]["certificate"]["id_number_masked"]
    assert payload["id"] == first["headers"]["X-Skillcert-Event-Id"]
    assert Delivery.objects.filter(status="delivered", attempts=1, last_status_code=204).count() == 7
    # A body altered on the way no longer verifies.
    assert not endpoint.verify(first["headers"], first["body"].replace(b"issued", b"revoked"))
    assert not endpoint.verify(first["headers"], first["body"], secret="whsec_someone-else")


def test_only_subscribed_events_are_delivered(
    subscription, endpoint, finalised_plan, org_admin, issue, django_capture_on_commit_callbacks
):
    issue(finalised_plan, org_admin)
    cert = Certificate.objects.order_by("number").first()
    actor = Actor.for_user(org_admin)
    with django_capture_on_commit_callbacks(execute=True):
        certificate_services.certificate_suspend(actor=actor, certificate_id=cert.id, reason="核查中")
    with django_capture_on_commit_callbacks(execute=True):
        certificate_services.certificate_revoke(actor=actor, certificate_id=cert.id, reason="核查属实,撤销")
    events = [r["headers"]["X-Skillcert-Event"] for r in endpoint.received]
    assert events.count("certificate.issued") == 7
    assert events[7:] == ["certificate.revoked"]  # suspension was not subscribed to
    body = json.loads(endpoint.received[-1]["body"])
    assert body["data"]["certificate"]["status"] == "revoked"
    assert body["data"]["certificate"]["status_reason"] == "核查属实,撤销"


def test_a_failing_endpoint_is_retried_with_backoff_then_delivered(
    subscription, endpoint, finalised_plan, org_admin, issue
):
    endpoint.statuses = [500] * 7
    issue(finalised_plan, org_admin)
    delivery = Delivery.objects.order_by("id").first()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 500
    assert "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at >= timezone.now() + datetime.timedelta(seconds=25)
    assert services.deliveries_due() == 0  # not due yet
    assert services.deliveries_due(now=timezone.now() + datetime.timedelta(seconds=31)) == 7
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.active


def test_an_endpoint_that_keeps_failing_is_disabled_and_the_organisation_told(
    subscription, endpoint, finalised_plan, org_admin, issue, settings
):
    settings.WEBHOOK_DISABLE_AFTER = 3
    endpoint.statuses = [503] * 100
    issue(finalised_plan, org_admin)
    subscription.refresh_from_db()
    assert not subscription.active and "连续3次推送失败" in subscription.disabled_reason
    assert len(endpoint.received) == 3  # the rest were parked, not sent
    assert Notification.objects.filter(user=org_admin, title__contains="事件推送已停用").exists()
    assert AuditEntry.objects.filter(action="webhook.subscription_auto_disable").exists()
    assert Delivery.objects.filter(status="pending", next_attempt_at__isnull=True).count() >= 4

    # Fixed and enabled again: the parked deliveries go out.
    endpoint.statuses = []
    response = client_for(org_admin).post(
        f"{SUBS}/{subscription.id}/active", {"active": True}, content_type="application/json"
    )
    assert response.status_code == 200
    services.deliveries_due(now=timezone.now() + datetime.timedelta(hours=7))
    assert Delivery.objects.exclude(status="delivered").count() == 0


def test_a_given_up_delivery_can_be_replayed_with_the_same_event_id(
    subscription, endpoint, finalised_plan, org_admin, issue, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    endpoint.statuses = [500]
    issue(finalised_plan, org_admin)
    failed = Delivery.objects.get(status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org_admin).post(f"/api/v1/webhooks/deliveries/{failed.id}/replay")
    assert response.status_code == 201, response.content
    replay = Delivery.objects.get(pk=response.json()["id"])
    assert replay.replay_of_id == failed.id and replay.event_id == failed.event_id
    assert replay.status == "delivered"
    assert AuditEntry.objects.filter(action="webhook.delivery_replay").exists()
    page = client_for(org_admin).get(f"/certificates/webhooks/{subscription.id}/").content.decode()
    assert "重新推送" in page and "HTTP 500" in page


def test_rotation_signs_with_both_secrets_for_a_while(
    subscription, endpoint, finalised_plan, org_admin, issue, settings
):
    old = endpoint.secret
    response = client_for(org_admin).post(f"{SUBS}/{subscription.id}/rotate")
    new = response.json()["secret"]
    assert new != old and new.startswith("whsec_")
    issue(finalised_plan, org_admin)
    sample = endpoint.received[0]
    assert endpoint.verify(sample["headers"], sample["body"], secret=new)
    assert endpoint.verify(sample["headers"], sample["body"], secret=old)
    Subscription.objects.filter(pk=subscription.id).update(
        previous_secret_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    delivery = Delivery.objects.order_by("id").first()
    client_for(org_admin).post(f"/api/v1/webhooks/deliveries/{delivery.id}/replay")
    services.deliveries_due()
    late = endpoint.received[-1]
    assert endpoint.verify(late["headers"], late["body"], secret=new)
    assert not endpoint.verify(late["headers"], late["body"], secret=old)
    assert AuditEntry.objects.filter(action="webhook.secret_rotate").exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.5/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pass@example.com/hook",
        "not a url",
    ],
)
def test_private_addresses_and_odd_urls_are_refused(url, org, org_admin):
    response = client_for(org_admin).post(
        SUBS, {"organisation_id": org.id, "url": url, "events": ["certificate.issued"]}, content_type="application/json"
    )
    assert response.status_code == 422, (url, response.content)
    assert response.json()["details"]["field"] == "url"
    assert not Subscription.objects.exists()


def test_https_is_required_in_production(settings, org, org_admin):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with pytest.raises(ValidationFailed, match="https"):
        services.subscription_create(
            actor=Actor.for_user(org_admin),
            organisation_id=org.id,
            url="http://127.0.0.1:9/hook",
            events=["certificate.issued"],
        )


def test_the_address_is_checked_again_at_delivery(subscription, endpoint, finalised_plan, org_admin, issue, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []  # e.g. the operator withdrew the exemption
    issue(finalised_plan, org_admin)
    assert endpoint.received == []
    delivery = Delivery.objects.order_by("id").first()
    assert delivery.status == "pending" and "内网" in delivery.last_error


def test_unknown_events_are_refused(endpoint, org, org_admin):
    response = client_for(org_admin).post(
        SUBS,
        {"organisation_id": org.id, "url": endpoint.url, "events": ["certificate.eaten"]},
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["details"]["field"] == "events"


def test_other_tenants_see_nothing_and_change_nothing(subscription, other_org_admin, org, cc_officer):
    other = client_for(other_org_admin)
    assert other.get(SUBS).json()["count"] == 0
    assert other.get(f"{SUBS}/{subscription.id}").status_code == 404
    assert other.post(f"{SUBS}/{subscription.id}/rotate").status_code == 404
    assert other.post(f"{SUBS}/{subscription.id}/delete").status_code == 404
    response = other.post(
        SUBS,
        {"organisation_id": org.id, "url": "https://example.com/", "events": ["certificate.issued"]},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert client_for(None).get(SUBS).status_code == 401
    assert client_for(cc_officer).get("/certificates/webhooks/").status_code == 403
    assert other.get(f"/certificates/webhooks/{subscription.id}/").status_code == 404
    subscription.refresh_from_db()
    assert subscription.active


def test_the_page_creates_a_subscription_and_shows_the_secret_once(endpoint, org, org_admin):
    client = client_for(org_admin)
    response = client.post(
        "/certificates/webhooks/",
        {"organisation_id": org.id, "url": endpoint.url, "events": ["certificate.issued", "certificate.replaced"]},
    )
    assert response.status_code == 200
    sub = Subscription.objects.get()
    assert sub.secret in response.content.decode()
    assert sub.secret not in client.get(f"/certificates/webhooks/{sub.id}/").content.decode()
    assert sub.secret not in client.get("/certificates/webhooks/").content.decode()
