import pytest
from django.core.management import CommandError, call_command

from accounts.actors import Actor
from core.audit import audit_record, audit_verify
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _three_entries(user=None):
    actor = Actor.for_user(user)
    for i in range(3):
        audit_record(
            actor=actor,
            action="thing.change",
            object_type="thing",
            object_id=i,
            before={"status": "a"},
            after={"status": "b", "n": i},
        )


def test_an_untouched_chain_verifies(operator):
    _three_entries(operator)
    report = audit_verify()
    assert report.ok and report.checked >= 3
    call_command("audit_verify")


def test_an_edited_entry_is_detected():
    _three_entries()
    target = AuditEntry.objects.filter(action="thing.change").order_by("seq")[1]
    AuditEntry.objects.filter(pk=target.pk).update(after={"status": "c", "n": 1})
    report = audit_verify()
    assert not report.ok and report.seq == target.seq and "altered" in report.problem
    with pytest.raises(CommandError):
        call_command("audit_verify")


def test_an_entry_rehashed_after_editing_breaks_the_next_link():
    _three_entries()
    entries = list(AuditEntry.objects.filter(action="thing.change").order_by("seq"))
    from core.audit import _entry_hash

    forged = entries[0]
    forged.actor_label = "someone else"
    AuditEntry.objects.filter(pk=forged.pk).update(actor_label=forged.actor_label, hash=_entry_hash(forged))
    report = audit_verify()
    assert not report.ok and report.seq == entries[1].seq


def test_a_deleted_entry_is_detected():
    _three_entries()
    middle = AuditEntry.objects.filter(action="thing.change").order_by("seq")[1]
    AuditEntry.objects.filter(pk=middle.pk).delete()
    report = audit_verify()
    assert not report.ok and "missing" in report.problem
    with pytest.raises(CommandError):
        call_command("audit_verify")


def test_a_deleted_last_entry_is_detected():
    _three_entries()
    AuditEntry.objects.filter(pk=AuditEntry.objects.order_by("-seq").first().pk).delete()
    report = audit_verify()
    assert not report.ok and "removed" in report.problem


def test_entries_cannot_be_changed_through_the_model():
    _three_entries()
    entry = AuditEntry.objects.first()
    entry.action = "other"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_bureau_staff_search_only_their_region(cc_officer, jlc_officer):
    from tests.conftest import client_for

    audit_record(actor=Actor(), action="org.x", object_type="o", object_id=1, region_code="220102")
    audit_record(actor=Actor(), action="org.x", object_type="o", object_id=2, region_code="220202")
    seen = client_for(cc_officer).get("/api/v1/oversight/audit?action=org.x").json()["items"]
    assert [e["object_id"] for e in seen] == ["1"]
    seen = client_for(jlc_officer).get("/api/v1/oversight/audit?action=org.x").json()["items"]
    assert [e["object_id"] for e in seen] == ["2"]
    assert client_for(cc_officer).get("/api/v1/oversight/audit/verify").json()["ok"] is True


def test_a_worker_cannot_run_the_chain_check():
    from accounts.models import Role
    from tests.conftest import client_for
    from tests.factories import member

    r = client_for(member(Role.WORKER)).get("/api/v1/oversight/audit/verify")
    assert r.status_code == 403
