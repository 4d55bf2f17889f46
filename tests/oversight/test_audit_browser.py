"""The audit trail page: bureau staff search their region's entries; the chain's integrity is shown."""

import pytest

from accounts.actors import Actor
from core.audit import audit_record
from core.models import AuditEntry
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _entries(actor, region_code: str, n: int, action: str = "thing.change"):
    for i in range(n):
        audit_record(
            actor=actor, action=action, object_type="thing", object_id=f"{region_code}-{i}", region_code=region_code
        )


def test_an_officer_searches_their_own_region(cc_officer, jlc_officer):
    _entries(Actor.for_user(cc_officer), "220102", 3)
    _entries(Actor.for_user(jlc_officer), "220202", 2)
    c = client_for(cc_officer)
    html = c.get("/oversight/audit/").content.decode()
    assert "220102-0" in html and "220202-0" not in html
    assert 'data-ok="true"' in html
    html = c.get("/oversight/audit/?object_type=thing&object_id=220102-1").content.decode()
    assert "220102-1" in html and "220102-0" not in html
    html = c.get(f"/oversight/audit/?actor={cc_officer.username}").content.decode()
    assert "220102-2" in html
    assert "220102-0" not in c.get("/oversight/audit/?since=2000-01-01&until=2000-01-02").content.decode()
    # Someone else's region stays out of reach even when asked for by object.
    assert "thing:220202-0" not in c.get("/oversight/audit/?object_id=220202-0").content.decode()


def test_the_audit_trail_is_paginated_keeping_the_filters(cc_officer):
    _entries(Actor.for_user(cc_officer), "220102", 55)
    c = client_for(cc_officer)
    first = c.get("/oversight/audit/?action=thing.").content.decode()
    assert "action=thing.&amp;page=2" in first
    second = c.get("/oversight/audit/?action=thing.&page=2").content.decode()
    assert second.count("220102-") >= 5 and "220102-54" not in second


def test_a_tampered_chain_is_shown_as_broken(cc_officer):
    _entries(Actor.for_user(cc_officer), "220102", 3)
    c = client_for(cc_officer)
    assert 'data-ok="true"' in c.get("/oversight/audit/").content.decode()
    target = AuditEntry.objects.filter(action="thing.change").order_by("seq")[1]
    AuditEntry.objects.filter(pk=target.pk).update(reason="edited afterwards")
    # The result is cached for a few minutes; "recheck" walks the chain again.
    html = c.get("/oversight/audit/?recheck=1").content.decode()
    assert 'data-ok="false"' in html and f"第 {target.seq} 条" in html


def test_the_audit_trail_is_for_bureau_staff(client, org_admin):
    assert client_for(org_admin).get("/oversight/audit/").status_code == 403
    assert client.get("/oversight/audit/").status_code == 302
