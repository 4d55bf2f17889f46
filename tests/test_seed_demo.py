import pytest
from django.core.management import call_command

from accounts.models import Membership, Role, User
from core.audit import audit_verify

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_has_one_login_per_role(capsys):
    call_command("seed_demo")
    counts = (User.objects.count(), Membership.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Membership.objects.count()) == counts
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles >= {
        Role.BUREAU_STAFF,
        Role.ORG_ADMIN,
        Role.ASSESSOR,
        Role.SUPERVISOR,
        Role.TRAINER,
        Role.WORKER,
    }
    assert User.objects.filter(is_superuser=True).exists()
    out = capsys.readouterr().out
    assert "cc_officer" in out and "demo-2026" in out
    assert User.objects.get(username="cc_officer").check_password("demo-2026")
    assert audit_verify().ok


def test_seed_demo_has_a_school_with_a_graduating_class_and_a_career_path_for_worker1():
    from assessments.models import GraduatingClass
    from certificates.careers import pathways_for

    call_command("seed_demo")
    graduating = GraduatingClass.objects.get()
    assert graduating.plan.organisation.is_school
    assert graduating.registrations.filter(status="approved", source="school").count() == 10
    worker = User.objects.get(username="worker1").person
    assert [p.target for p in pathways_for(worker)] == ["助理工程师"]
