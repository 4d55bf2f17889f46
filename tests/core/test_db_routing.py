"""The router's rules without a replica running (tests/deploy runs them against a real primary and replica)."""

from django.contrib.sessions.models import Session

from accounts.models import Person, User
from certificates.models import Certificate
from core import db_routing


def test_wal_positions_order_as_numbers():
    assert db_routing.lsn_value("16/B374D848") > db_routing.lsn_value("16/B374D847")
    assert db_routing.lsn_value("1/0") > db_routing.lsn_value("0/FFFFFFFF")
    assert db_routing.lsn_value(None) is None
    # Stored as fixed-width hexadecimal, so Redis compares them as text in the same order.
    assert db_routing._fence_text(db_routing.lsn_value("1/0")) > db_routing._fence_text(db_routing.lsn_value("0/FF"))


def test_public_reads_go_to_the_chosen_alias_but_never_sessions_accounts_or_writes():
    router = db_routing.PrimaryReplicaRouter()
    assert router.db_for_read(Certificate) == "default"  # outside a public request
    with db_routing.public_reads("replica"):
        assert router.db_for_read(Certificate) == "replica"
        assert router.db_for_read(Person) == "replica"
        assert router.db_for_read(User) == "default"
        assert router.db_for_read(Session) == "default"
        assert router.db_for_write(Certificate) == "default"
        assert db_routing.current_alias() == "replica"
    assert db_routing.current_alias() == "default"
    assert router.allow_migrate("replica", "certificates") is False
    assert router.allow_migrate("default", "certificates") is True


def test_without_a_replica_everything_stays_on_the_default_database(settings):
    assert "replica" not in settings.DATABASES
    assert db_routing.choose_public_alias() == "default"
    assert db_routing.public_connection.alias == "default"
    assert "core.db_routing.PrimaryReplicaRouter" not in settings.DATABASE_ROUTERS
    assert "core.db_routing.PublicReadsMiddleware" not in settings.MIDDLEWARE
