import os

import pytest
from django.conf import settings
from django.test import Client

from accounts.actors import Actor
from occupations.models import Level
from occupations.services import reference_load

from .factories import BureauFactory, OrganisationFactory, Role, member, region
from .worker import real_worker, worker_env  # noqa: F401  (fixtures for the real-worker tests)

IN_CI = os.environ.get("CI") == "true"
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def require_postgres(reason: str = "needs PostgreSQL row locks; SQLite serialises writers") -> None:
    """Race and locking tests need PostgreSQL; skipping is allowed on SQLite, never in CI."""
    if not ON_POSTGRES:
        if IN_CI:
            pytest.fail("CI must run on PostgreSQL (DATABASE_URL)")
        pytest.skip(f"{reason} (set DATABASE_URL to run)")


@pytest.fixture(scope="session", autouse=True)
def _eager_tasks():
    """Tasks run in-process in tests, even when CELERY_BROKER_URL is set; the real-worker test opts out."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in English (the test client's language switch) leaves its thread in English, as Django's
    LocaleMiddleware does not switch back; the next test starts in the site's language."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing passwords at production strength costs ~0.5 s per user; tests need correct, not slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _ReferenceSnapshot:
    """The reference tables as loaded once per session, written back after a transactional test's flush.

    Loading the whole 大典 and every division from the files takes about a second (more on a busy machine);
    writing the same rows back with one executemany per table takes a fraction of that, which matters with a
    few hundred transactional and browser tests."""

    def __init__(self) -> None:
        from django.apps import apps

        self.models = [m for m in apps.get_app_config("occupations").get_models() if m.__name__ in REFERENCE_MODELS]
        self.rows: dict = {}

    def take(self) -> None:
        for model in self.models:
            names = [f.attname for f in model._meta.concrete_fields]
            self.rows[model] = list(model.objects.order_by("pk").values_list(*names))

    def restore(self) -> None:
        from django.core.management.color import no_style
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            for model in self.models:
                fields = model._meta.concrete_fields
                columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
                marks = ", ".join(["%s"] * len(fields))
                table = connection.ops.quote_name(model._meta.db_table)  # names from the models, not input
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(
                    sql,
                    [
                        [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                        for row in self.rows[model]
                    ],
                )
            # The rows keep their ids; the tables' id sequences must move past them, or the next row a test creates
            # collides with one of them (a `flush` that restarts the sequences, as the fuzzing's world runs, left
            # them at 1 on PostgreSQL).
            for statement in connection.ops.sequence_reset_sql(no_style(), self.models):
                cursor.execute(statement)


# What occupations.services.reference_load writes (CatalogueChange and CalendarDay are the tests' own).
REFERENCE_MODELS = {
    "ClassificationEdition",
    "Region",
    "Level",
    "Qualification",
    "OccupationCategory",
    "Occupation",
    "WorkType",
    "LicensingOverlap",
    "OccupationCodeMapping",
    "Standard",
    "StandardLevel",
    "EquivalenceRule",
}
_snapshot: _ReferenceSnapshot | None = None


# Only for measuring what the full reference data costs the suite (README, "Tests on the full data"):
# TEST_REFERENCE=reduced loads the hand-typed occupations (and the 小类, 中类, 大类 above them) and the divisions
# of one province (吉林) under the 34 provinces, about what the platform knew before the whole 大典 came, plus the
# regions the subsidy policies name (厦门). Tests that count or look for other rows fail with it; never set in CI.
REDUCED_REFERENCE = os.environ.get("TEST_REFERENCE") == "reduced"


def _reduced_reference_load() -> None:
    import csv
    import json
    import re
    from unittest import mock

    from occupations import services

    data = services.DATA_DIR
    kept = {o["code"] for o in json.loads((data / "occupations.json").read_text(encoding="utf-8"))["occupations"]}
    with (data / "code_mappings.csv").open(encoding="utf-8", newline="") as f:
        kept |= {m["new_code"] for m in csv.DictReader(f)}
    policies = "".join(
        p.read_text(encoding="utf-8") for p in (data.parent.parent / "subsidies" / "data").glob("*.json")
    )
    named = {code for code in re.findall(r"\b\d{6}\b", policies)}
    named |= {code[:4] + "00" for code in named}
    full_regions, full_classification = services._region_rows, services._classification_rows

    def regions() -> list[dict]:
        return [r for r in full_regions() if r["kind"] == "province" or r["code"][:2] == "22" or r["code"] in named]

    def classification() -> tuple[list[dict], list[dict], list[dict]]:
        categories, occupations, work_types = full_classification()
        ancestors = {o["code"][:n] for o in occupations if o["code"] in kept for n in (1, 4, 7)}
        return (
            [c for c in categories if c["code"] in ancestors],
            [o for o in occupations if o["code"] in kept],
            [w for w in work_types if w["occupation"] in kept],
        )

    with (
        mock.patch.object(services, "_region_rows", regions),
        mock.patch.object(services, "_classification_rows", classification),
    ):
        reference_load()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Reference data is loaded once into the test database, as `make run` loads it."""
    global _snapshot
    with django_db_blocker.unblock():
        if REDUCED_REFERENCE:
            _reduced_reference_load()
        else:
            reference_load()
        _snapshot = _ReferenceSnapshot()
        _snapshot.take()


@pytest.fixture(autouse=True)
def _reference_after_flush(request):
    """Transactional tests flush the database after each test (pytest-django runs them after the others);
    put the reference data back for them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        if not Level.objects.exists():
            if _snapshot is not None:
                _snapshot.restore()
            else:
                reference_load()
    yield


@pytest.fixture
def changchun_bureau():
    return BureauFactory(name="长春市人社局(测试)", region=region("220100"))


@pytest.fixture
def jilin_city_bureau():
    return BureauFactory(name="吉林市人社局(测试)", region=region("220200"))


@pytest.fixture
def province_bureau():
    return BureauFactory(name="吉林省人社厅(测试)", region=region("220000"))


@pytest.fixture
def cc_officer(changchun_bureau):
    return member(Role.BUREAU_STAFF, bureau=changchun_bureau)


@pytest.fixture
def jlc_officer(jilin_city_bureau):
    return member(Role.BUREAU_STAFF, bureau=jilin_city_bureau)


@pytest.fixture
def province_officer(province_bureau):
    return member(Role.BUREAU_STAFF, bureau=province_bureau)


@pytest.fixture
def org():
    """An organisation in 长春市南关区."""
    return OrganisationFactory(name="长春测试评价机构", region=region("220102"))


@pytest.fixture
def other_org():
    """An organisation in 吉林市昌邑区: another tenant, another city."""
    return OrganisationFactory(name="吉林市测试评价机构", region=region("220202"))


@pytest.fixture
def org_admin(org):
    return member(Role.ORG_ADMIN, organisation=org)


@pytest.fixture
def other_org_admin(other_org):
    return member(Role.ORG_ADMIN, organisation=other_org)


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("operator", password="x-operator-1")


@pytest.fixture
def admin_client(admin_user) -> Client:
    """pytest-django's admin client, signed in like client_for: the admin asks for a passed second factor."""
    return client_for(admin_user)


def client_for(user=None) -> Client:
    """A test client signed in as `user`. force_login bypasses the password, and this also marks the session's
    second factor as passed, creating a confirmed TOTP device for the account if it has none (so a role granted
    after this call needs nothing more). Signing in for real, password then code, is tested in
    tests/accounts/test_second_factor.py and driven through the pages by tests/browser/conftest.py::login."""
    c = Client()
    if user is not None:
        c.force_login(user)
        pass_second_factor(c, user)
    return c


def pass_second_factor(client: Client, user) -> None:
    """Mark the client's session as having passed `user`'s second factor (see client_for)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def actor_for(user) -> Actor:
    return Actor.for_user(user)


@pytest.fixture
def local_idp(live_server, settings):
    """The local identity provider on the live server, trusted by the platform as its issuer. Returns the base URL."""
    from accounts.oidc.provider import forget_metadata

    base = live_server.url
    settings.SITE_URL = base
    settings.DEV_IDP_ISSUER = settings.OIDC_ISSUER = f"{base}/dev-idp"
    settings.DEV_IDP_REDIRECT_URIS = [f"{base}/accounts/oidc/callback/"]
    settings.DEV_IDP_CLIENTS = None
    forget_metadata()
    yield base
    forget_metadata()
