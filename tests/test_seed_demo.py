import pytest
from django.core.management import call_command

from accounts.models import Membership, Role, User
from oversight.audit import audit_verify

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
