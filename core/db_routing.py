"""Reads where they belong: public reads from the streaming replica, everything else from the primary.

With DATABASE_REPLICA_URL set (README, "Operations"), a request to one of PUBLIC_READ_PATHS (public verification,
the public directory, the public lists) reads from the `replica` alias: `PublicReadsMiddleware` chooses the alias
once per request, `PrimaryReplicaRouter` sends the ORM's reads there, and `public_connection` stands for
`django.db.connection` in code that queries by hand (certificates/verification.py's scan query). Writes, sessions
and accounts always go to the primary (`default`). Without DATABASE_REPLICA_URL none of this is installed.

A revocation must never be answered as valid once it is confirmed, however far the replica lags:

- every change of a certificate (certificates.verification_cache.certificates_changed, called for every status
  change) records, once its transaction has committed and before the change feed tells the web nodes to forget
  the old row, the primary's WAL position (`pg_current_wal_lsn()`, at or past the change's commit record) in
  Redis as the *fence*; the fence only moves forward;
- a request reads from the replica only when the replica's replay position (`pg_last_wal_replay_lsn()`, cached
  per process for REPLICA_LSN_CACHE_SECONDS and asked again before giving up on the replica) is at or past the
  fence; otherwise from the primary. No fence (Redis emptied), Redis unreachable, a replica that does not answer
  (skipped for REPLICA_RETRY_SECONDS): the primary. A revocation whose fence cannot be written fails loudly
  instead of being confirmed.

A new certificate, an organisation's directory entry and other public data that no revocation concerns may be
read from a replica that is some milliseconds behind the primary: it shows as it was that long ago.
"""

import contextlib
import contextvars
import hashlib
import logging
import re
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

log = logging.getLogger(__name__)

REPLICA = "replica"
FENCE_KEY = "db:replica-fence:{system}"  # per primary cluster: a fence of another (restored, rebuilt) means nothing
# Models that are never read from a replica, public request or not: who is signed in must not lag behind.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "contenttypes", "otp_totp", "otp_static", "admin"})
PRIMARY_ONLY_MODELS = frozenset({"accounts.User"})

# Set only if the new position is further on (positions are stored as 16 hexadecimal digits, so compare as text).
_ADVANCE = """
local current = redis.call('GET', KEYS[1])
if not current or ARGV[1] > current then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
"""

_alias: contextvars.ContextVar[str | None] = contextvars.ContextVar("public_read_alias", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def lsn_value(text: str | None) -> int | None:
    """'16/B374D848' -> an integer that orders like the WAL position."""
    if not text:
        return None
    high, low = str(text).split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _fence_text(value: int) -> str:
    return f"{value:016x}"


# --- the fence ------------------------------------------------------------------------------------------------

_redis_clients: dict[str, object] = {}


def _redis():
    url = settings.DATABASE_REPLICA_FENCE_REDIS_URL
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        _redis_clients[url] = client
    return client


_system_identifier: list[str] = []
_replica_identifier: list[str] = []
# The primary's system identifier as last read from it, per primary (its address): what a process that starts
# while the primary is down trusts, never the replica's word alone (a replica of a rebuilt primary's old cluster
# would otherwise find that cluster's fence, long passed, and answer revoked certificates as valid).
PRIMARY_ID_KEY = "db:primary-system:{where}"


def fence_key() -> str:
    """The fence's key for this primary. A streaming replica shares its system identifier, so a process that starts
    while the primary is down can still answer public reads from the replica once it is sure of the identifier."""
    if not _system_identifier:
        _system_identifier.append(_read_system_identifier())
    return FENCE_KEY.format(system=_system_identifier[0])


def _primary_id_key() -> str:
    db = settings.DATABASES[DEFAULT_DB_ALIAS]
    where = hashlib.sha256(f"{db.get('HOST')}:{db.get('PORT')}/{db.get('NAME')}".encode()).hexdigest()[:16]
    return PRIMARY_ID_KEY.format(where=where)


def _system_identifier_of(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT system_identifier FROM pg_control_system()")
        return str(cursor.fetchone()[0])


def _read_system_identifier() -> str:
    try:
        identifier = _system_identifier_of(DEFAULT_DB_ALIAS)
    except Exception:
        if not replica_configured():
            raise
        log.warning("primary unavailable; taking its system identifier from Redis", exc_info=True)
        remembered = _redis().get(_primary_id_key())
        if remembered is None or remembered.decode() != replica_system_identifier():
            raise RuntimeError("the primary's system identifier is unknown or not the replica's") from None
        return remembered.decode()
    if replica_configured():
        with contextlib.suppress(Exception):  # best effort: only a primary-less start needs it
            _redis().set(_primary_id_key(), identifier)
    return identifier


def replica_system_identifier() -> str:
    """The replica's system identifier (read once per process)."""
    if not _replica_identifier:
        _replica_identifier.append(_system_identifier_of(REPLICA))
    return _replica_identifier[0]


def _replica_is_ours() -> bool:
    """Whether the replica replays this primary's cluster: positions of two clusters mean nothing to each other."""
    try:
        ours = replica_system_identifier() == _system_identifier[0]
    except Exception:
        log.warning("replica unavailable; public reads go to the primary", exc_info=True)
        ours = False
    else:
        if not ours:
            log.error("the replica is not a copy of the primary's cluster; public reads go to the primary")
    if not ours:  # asked again after the back-off, not on every request
        skip_replica()
    return ours


def primary_position() -> int:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return lsn_value(cursor.fetchone()[0])


def record_fence(attempts: int = 3) -> int:
    """Move the fence to the primary's current WAL position. Raises if Redis cannot take it."""
    position = _fence_text(primary_position())
    for attempt in range(attempts):
        try:
            _redis().eval(_ADVANCE, 1, fence_key(), position)
            return int(position, 16)
        except Exception:
            if attempt == attempts - 1:
                log.error("could not record the replica fence; public reads of this change may be stale")
                raise
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def primary_changed() -> None:
    """Call in the transaction that changes what public reads show (a certificate's status): once it commits, no
    public read is answered from a replica that has not replayed it. Register this before anything that makes
    other nodes read the changed rows again (the verification change feed)."""
    if replica_configured():
        transaction.on_commit(record_fence)


def fence() -> int | None:
    """The fence, or None when it cannot be known (then only the primary will do)."""
    try:
        value = _redis().get(fence_key())
    except Exception:
        log.warning("replica fence unreadable; public reads go to the primary", exc_info=True)
        return None
    if value is None:
        # Redis lost it (restarted, emptied): every committed change is at or before the primary's position now.
        try:
            _redis().set(fence_key(), _fence_text(primary_position()), nx=True)
        except Exception:
            log.warning("could not set the replica fence again", exc_info=True)
        return None
    return int(value, 16)


# --- the replica's position ---------------------------------------------------------------------------------

_state = threading.local()


def skip_replica() -> None:
    """This process reads public data from the primary for REPLICA_RETRY_SECONDS, and the replica's connection,
    which may be broken, is dropped (a new one is made when it is tried again)."""
    _state.down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    _state.replay = None
    with contextlib.suppress(Exception):  # already broken: closing it may fail too
        connections[REPLICA].close()


def _replay_position(max_age: float) -> int | None:
    """The replica's replay position, at most `max_age` seconds old; None if the replica cannot say."""
    now = time.monotonic()
    if getattr(_state, "down_until", 0.0) > now:
        return None
    cached = getattr(_state, "replay", None)
    if cached is not None and now - cached[1] <= max_age:
        return cached[0]
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            # A promoted replica keeps answering its last replayed position: ask whether it still follows one.
            cursor.execute("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()")
            recovering, replayed = cursor.fetchone()
            value = lsn_value(replayed) if recovering else None
    except Exception:
        log.warning("replica unavailable; public reads go to the primary", exc_info=True)
        skip_replica()
        return None
    if value is None:  # not in recovery: no longer a replica of anything (promoted); not trusted
        skip_replica()
        return None
    _state.replay = (value, time.monotonic())
    return value


def choose_public_alias() -> str:
    """The alias a public read may use now: the replica if it has replayed past the fence, else the primary."""
    if not replica_configured():
        return DEFAULT_DB_ALIAS
    if getattr(_state, "down_until", 0.0) > time.monotonic():
        return DEFAULT_DB_ALIAS
    wanted = fence()
    if wanted is None or not _replica_is_ours():
        return DEFAULT_DB_ALIAS
    replayed = _replay_position(settings.REPLICA_LSN_CACHE_SECONDS)
    if replayed is not None and replayed >= wanted:
        return REPLICA
    replayed = _replay_position(0)  # the cached position may simply be old
    if replayed is not None and replayed >= wanted:
        return REPLICA
    return DEFAULT_DB_ALIAS


def reset() -> None:
    """Forget this thread's cached replica position and back-off (tests, drills)."""
    _state.__dict__.clear()


@contextlib.contextmanager
def public_reads(alias: str | None = None):
    """`with public_reads() as alias:` reads in the block go where choose_public_alias() says (chosen once)."""
    token = _alias.set(alias or choose_public_alias())
    try:
        yield _alias.get()
    finally:
        _alias.reset(token)


def current_alias() -> str:
    return _alias.get() or DEFAULT_DB_ALIAS


# --- the router, the middleware and the connection ------------------------------------------------------------


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = _alias.get()
        if alias is None or alias == DEFAULT_DB_ALIAS:
            return DEFAULT_DB_ALIAS
        meta = model._meta
        if meta.app_label in PRIMARY_ONLY_APPS or meta.label in PRIMARY_ONLY_MODELS:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's WAL, schema included


class PublicReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.paths = re.compile("|".join(f"(?:{p})" for p in settings.PUBLIC_READ_PATHS))

    def __call__(self, request):
        if not self.paths.match(request.path_info):
            return self.get_response(request)
        with public_reads() as alias:
            response = self.get_response(request)
        if alias == REPLICA and response.status_code == 503 and request.method in ("GET", "HEAD"):
            # The replica went away during the request (config.views answers a lost database with 503): skip it
            # for a while and answer this read from the primary instead of failing it.
            log.warning("replica failed during a public read; answering it from the primary")
            skip_replica()
            with public_reads(DEFAULT_DB_ALIAS):
                response = self.get_response(request)
        return response


class _PublicConnection:
    """Stands for `django.db.connection` in hand-written public queries: the connection of the alias this request
    reads public data from (the primary outside a public request)."""

    def __getattr__(self, name):
        return getattr(connections[current_alias()], name)

    def __setattr__(self, name, value):
        setattr(connections[current_alias()], name, value)

    def __delattr__(self, name):
        delattr(connections[current_alias()], name)

    def __eq__(self, other):
        return connections[current_alias()] == other

    __hash__ = None


public_connection = _PublicConnection()
