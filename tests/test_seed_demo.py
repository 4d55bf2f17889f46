import pytest
from django.core.management import call_command

from accounts.models import Membership, Role, User
from core.audit import audit_verify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The demo files public reports, which are limited per address: each test starts with the limits unused."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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
    }
    # The staff got their roles by accepting invitations, with accounts bound by a binding code, as anyone would.
    from accounts.models import IdentityBinding, Invitation

    for username in ("assessor1", "trainer1", "supervisor1"):
        user = User.objects.get(username=username)
        assert Invitation.objects.filter(accepted_by=user).exists(), username
        assert IdentityBinding.objects.get(user=user, ended_at__isnull=True).channel == "code"
    worker1 = User.objects.get(username="worker1")  # a worker: signed up and bound, no role needed
    assert IdentityBinding.objects.get(user=worker1, ended_at__isnull=True).channel == "code"
    assert not Membership.objects.filter(user=worker1).exists()
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


def test_demo_staff_get_an_authenticator_whose_secret_is_printed(capsys):
    import re

    from django.test import Client

    call_command("seed_demo")
    out = capsys.readouterr().out
    lines = {m.group(1): m.group(0) for m in re.finditer(r"^  (\S+) +密钥 [A-Z2-7 ]+$", out, re.M)}
    assert {"admin", "cc_officer", "employer_admin", "assessor1", "supervisor1", "school_admin"} <= set(lines)
    assert "worker1" not in lines and "trainer1" not in lines  # they sign in with the password alone
    assert out.count("otpauth://totp/") == len(lines)
    secret = re.search(r"密钥 ([A-Z2-7 ]+)$", lines["cc_officer"]).group(1)
    call_command("seed_demo")  # idempotent: the same secret, printed again
    assert secret in capsys.readouterr().out

    # A newcomer signs in as cc_officer with the printed password and the code the command gives.
    call_command("demo_totp_code", "cc_officer")
    code = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d{6}", code)
    c = Client()
    r = c.post("/login/", {"username": "cc_officer", "password": "demo-2026"})
    assert r["Location"].startswith("/accounts/second-factor/verify/")
    assert c.post(r["Location"], {"code": code})["Location"] == "/"
    assert "panel-bureau" in c.get("/").content.decode()
    # The same code is good once; the command then gives the next one, which is accepted too.
    call_command("demo_totp_code", "cc_officer")
    again = Client()
    r = again.post("/login/", {"username": "cc_officer", "password": "demo-2026"})
    assert again.post(r["Location"], {"code": capsys.readouterr().out.strip()})["Location"] == "/"


def test_demo_totp_code_is_for_demo_accounts_only(settings):
    from django.core.management.base import CommandError

    call_command("seed_demo")
    with pytest.raises(CommandError, match="不是演示"):
        call_command("demo_totp_code", "worker1")
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="生产环境"):
        call_command("demo_totp_code", "cc_officer")


def test_seed_demo_refuses_to_run_in_production(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="DJANGO_ENV=production"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_exits_non_zero_in_production(tmp_path):
    """As an operator would run it on a production node: a clear message and a failing exit status."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_ENV": "production",
        "SECRET_KEY": "p" * 60,
        "ALLOWED_HOSTS": "skills.example.gov.cn",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "seed_demo refuses to run in production" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists() or (tmp_path / "db.sqlite3").stat().st_size == 0
