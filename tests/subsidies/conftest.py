"""Shared set-up for subsidy tests: the seed policies, certificates, workers, a second 长春 officer."""

import datetime
import io
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from accounts.actors import Actor
from accounts.models import Role
from certificates.models import Certificate
from occupations.models import Level, Occupation
from subsidies import services
from subsidies.models import ShortageOccupation
from tests.certificates import conftest as certificate_fixtures
from tests.factories import PersonFactory, issued_certificates, make_ric, member, region, subsidy_policies

# The certificate tests' finalised plan, their per-session signing keys and their issue step.
_keys = certificate_fixtures._keys
finalised_plan = certificate_fixtures.finalised_plan
issue = certificate_fixtures.issue

D = datetime.date
ACCOUNT = "6222020200001234567"
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _policies(request):
    """The seed policies (subsidies/data/policies.json), as `load_subsidy_policies` loads them, and the demo's 2026
    continuation (the 2025 versions ended with 2025, and most tests claim today). Tests marked `no_demo_policies`
    see only the real versions."""
    if request.node.get_closest_marker("django_db"):
        subsidy_policies(demo=not request.node.get_closest_marker("no_demo_policies"))


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """These tests sign in with force_login; hashing every factory user's password with PBKDF2 only costs time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Anonymous objections are rate-limited per address; each test starts with no hits counted."""
    from django.core.cache import cache

    cache.clear()


def A(user) -> Actor:
    return Actor.for_user(user)


def make_certificate(
    person,
    *,
    occupation: str = "6-31-01-03",
    level: str = "4",
    issued_on: datetime.date | None = None,
    region_code: str = "220102",
    status: str = Certificate.Status.VALID,
) -> Certificate:
    """A certificate row as issuance leaves it (tests of rules need dates and regions issuance cannot give)."""
    occ = Occupation.objects.get(code=occupation)
    lv = Level.objects.get(code=level)
    number = f"S000022000777{(issued_on or D(2026, 1, 1)).year % 100:02d}{lv.number_digit}{next(_serial):06d}"
    return Certificate.objects.create(
        number=number,
        person=person,
        occupation=occ,
        level=lv,
        holder_name=person.name,
        id_type="居民身份证",
        id_number=person.id_number,
        occupation_name=occ.name,
        organisation_name="测试评价机构",
        issued_on=issued_on or timezone.localdate(),
        region_code=region_code,
        status=status,
        token=f"test-token-{number}",
    )


_people = itertools.count(1)


def valid_person(**kw):
    """A person whose ID number passes python-stdnum's checks (its data lacks some district codes, e.g. 220102)."""
    n = next(_people)
    return PersonFactory(
        id_number=make_ric(region="220104", birth=D(1985, 1, 1) + datetime.timedelta(days=n), seq=n), **kw
    )


def worker_user(person=None):
    return member(Role.WORKER, person=person or PersonFactory())


def submit(user, cert, *, today=None, months=24, category="employee", region_code="", account=ACCOUNT):
    return services.claim_submit(
        actor=A(user),
        certificate_id=cert.id,
        category=category,
        insurance_months=months,
        account_kind="bank_card",
        account_number=account,
        bank_name="中国工商银行",
        region_code=region_code,
        today=today,
    )


def shortage(occupation: str, year: int, region_code: str = "220100") -> None:
    ShortageOccupation.objects.get_or_create(
        region=region(region_code), year=year, occupation=Occupation.objects.get(code=occupation)
    )


def no_shortage(occupation: str, year: int) -> None:
    ShortageOccupation.objects.filter(year=year, occupation__code=occupation).delete()


def xlsx(rows: list[list]) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("upload.xlsx", buf.getvalue())


@pytest.fixture
def cc_officer2(changchun_bureau):
    return member(Role.BUREAU_STAFF, bureau=changchun_bureau)


@pytest.fixture
def worker():
    return worker_user()


@pytest.fixture
def issued(finalised_plan, org_admin):
    """Seven certificates of a finalised plan (电工: four at level 4, three at level 3) as issuance leaves them
    today, signed with the session's keys."""
    return issued_certificates(finalised_plan, org_admin)


@pytest.fixture
def holder(issued):
    """A worker signed in as the holder of the first real level-4 certificate."""
    cert = issued[0]
    user = worker_user(cert.person)
    user.cert = cert
    return user
