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


def test_seed_demo_gives_demo_people_citizens_at_the_local_identity_provider(capsys):
    """Each citizen is a person of the demo: a certificate holder without an account (binds on first sign-in), one
    below the assurance needed, a newcomer, and worker1's 张伟, already linked; how to sign in is printed."""
    from django.core.cache import cache

    from accounts.models import OidcIdentity
    from certificates.models import Certificate
    from devidp.models import Citizen

    cache.clear()  # the demo files public reports, limited per address: earlier runs in this process count
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    citizens = {c.username: c for c in Citizen.objects.all()}
    assert set(citizens) == {"citizen_a", "citizen_b", "citizen_new", "citizen_zhangwei"}
    for username in citizens:
        assert f"统一身份认证登录 {username} / demo-2026" in out
    holder = Certificate.objects.filter(id_number=citizens["citizen_a"].id_number, status="valid").get()
    assert holder.holder_name == citizens["citizen_a"].name and not User.objects.filter(person=holder.person).exists()
    assert (citizens["citizen_a"].assurance, citizens["citizen_b"].assurance) == ("L3", "L2")
    worker1 = User.objects.get(username="worker1")
    assert citizens["citizen_zhangwei"].id_number == worker1.person.id_number
    assert OidcIdentity.objects.get(user=worker1).subject == citizens["citizen_zhangwei"].subject
    assert all(c.check_password("demo-2026") for c in citizens.values())
