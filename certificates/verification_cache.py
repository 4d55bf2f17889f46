"""Repeat scans answered from memory, kept honest by a change feed in Redis.

A scan's answer depends on three things: the token's signature (fixed once checked, as long as the key ring
is the same), the certificate's row (printed fields and status) and today's date (expiry, recomputed on every
answer). With VERIFICATION_LOG_REDIS_URL set, each web process keeps the rows of the tokens it has verified
(`VERIFICATION_CACHE_SIZE` of them, each for at most `VERIFICATION_CACHE_TTL` seconds), and one background
thread per process

- follows a Redis stream of changed certificate numbers (written after every committed change to a
  certificate, see `certificates_changed`) and drops those rows; each entry carries a sequence number, and a
  gap (a missed entry, Redis restarted) empties the whole cache;
- moves the verification log entries of this process to the Redis list of `verification_log` in one call per
  poll instead of one call per scan (or, with Redis unreachable, to the database).

While the feed cannot be read nothing is served from memory: every scan goes to the database, as without the
cache. A change made on one node is dropped there at once and on every other node within one poll
(`VERIFICATION_FEED_POLL_SECONDS`, half a second by default). A change the feed never carried (Redis down at
that very moment, a row edited outside Django) is bounded by the TTL. Log entries wait at most one poll in
memory; a worker killed with SIGKILL loses at most that much of the log (on a normal exit they are flushed).
"""

import atexit
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.db import close_old_connections, transaction
from django.dispatch import receiver

from core import db_routing

log = logging.getLogger(__name__)

STREAM_KEY = "verification:changes"
SEQ_KEY = "verification:changes:seq"
STREAM_MAXLEN = 10_000
ALL = "*"

# INCR and XADD together, so that sequence numbers reach the stream in order whoever publishes.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'seq', seq, 'numbers', ARGV[1])
return seq
"""


@dataclass
class Entry:
    number: str
    value: object
    stored_at: float


@dataclass(frozen=True)
class Config:
    url: str
    size: int
    ttl: float
    poll: float
    log_buffered: bool

    @property
    def cache_enabled(self) -> bool:
        return bool(self.url) and self.size > 0


_config: Config | None = None


def config() -> Config:
    """The settings this module reads, read once (again after a settings change in tests)."""
    global _config
    if _config is None:
        url = getattr(settings, "VERIFICATION_LOG_REDIS_URL", "")
        _config = Config(
            url=url,
            size=int(getattr(settings, "VERIFICATION_CACHE_SIZE", 0)),
            ttl=float(getattr(settings, "VERIFICATION_CACHE_TTL", 60)),
            poll=float(getattr(settings, "VERIFICATION_FEED_POLL_SECONDS", 0.5)),
            log_buffered=bool(url) and bool(getattr(settings, "VERIFICATION_LOG_BUFFERED", False)),
        )
    return _config


@receiver(setting_changed)
def _settings_changed(setting, **kwargs) -> None:
    global _config
    if setting.startswith("VERIFICATION_"):
        _config = None


def redis_url() -> str:
    return config().url


def enabled() -> bool:
    return config().cache_enabled


def log_buffered() -> bool:
    return config().log_buffered


class Feed:
    """One per process (re-created after a fork): the cache, the log buffer and the thread that serves both."""

    def __init__(self, conf: Config):
        import redis

        self.conf = conf
        # At least 10 ms: Redis reads BLOCK 0 as "wait forever", and a failing feed would retry in a busy loop.
        self.url, self.size, self.ttl, self.poll = conf.url, max(conf.size, 1), conf.ttl, max(conf.poll, 0.01)
        self.pid = os.getpid()
        self.client = redis.Redis.from_url(self.url, socket_timeout=self.poll + 2, socket_connect_timeout=1)
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.tokens_by_number: dict[str, set[str]] = {}
        self.generation = 0
        self.healthy = False
        self.last_id = "0-0"
        self.seq: int | None = None
        self.pending_log: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="verification-feed", daemon=True)
        self.thread.start()

    # --- the cache -------------------------------------------------------------------------------------------

    def get(self, token: str):
        if not self.healthy:
            return None
        entry = self.entries.get(token)
        if entry is None:
            return None
        if time.monotonic() - entry.stored_at > self.ttl:
            with self.lock:
                self._drop_token(token)
            return None
        return entry.value

    def put(self, token: str, number: str, value, generation: int) -> None:
        """Keep `value` unless something changed since `generation` was read (the row may predate the change)."""
        with self.lock:
            if not self.healthy or generation != self.generation:
                return
            now = time.monotonic()
            self.entries[token] = Entry(number, value, now)
            self.entries.move_to_end(token)  # kept in the order stored, which the TTL sweep below relies on
            self.tokens_by_number.setdefault(number, set()).add(token)
            while len(self.entries) > self.size:
                self._drop_token(next(iter(self.entries)))
            # Oldest first: rows past the TTL are of no use, so they do not wait for the size bound to go.
            while self.entries:
                oldest = next(iter(self.entries))
                if now - self.entries[oldest].stored_at <= self.ttl:
                    break
                self._drop_token(oldest)

    def drop(self, numbers) -> None:
        with self.lock:
            self.generation += 1
            if numbers == ALL:
                self.entries.clear()
                self.tokens_by_number.clear()
                return
            for number in numbers:
                for token in self.tokens_by_number.pop(number, ()):
                    self.entries.pop(token, None)

    def _drop_token(self, token: str) -> None:
        entry = self.entries.pop(token, None)
        if entry is not None:
            tokens = self.tokens_by_number.get(entry.number)
            if tokens is not None:
                tokens.discard(token)
                if not tokens:
                    del self.tokens_by_number[entry.number]

    # --- the log buffer ----------------------------------------------------------------------------------------

    def log(self, line: str) -> None:
        with self.lock:
            self.pending_log.append(line)

    def flush_log(self) -> None:
        from . import verification_log

        with self.lock:
            lines, self.pending_log = self.pending_log, []
        if not lines:
            return
        try:
            self.client.rpush(verification_log.QUEUE_KEY, *lines)
        except Exception:  # Redis gone: the database keeps them instead
            log.warning("verification log buffer unavailable; writing %d entries directly", len(lines))
            try:
                verification_log.save_lines(lines)
            except Exception:  # neither takes them: they wait for the next poll, the scans were answered
                with self.lock:
                    self.pending_log[:0] = lines
                raise
            finally:
                close_old_connections()

    # --- the thread --------------------------------------------------------------------------------------------

    def _start(self) -> None:
        """(Re)join the feed: from its newest entry, with an empty cache (anything may have changed meanwhile)."""
        newest = self.client.xrevrange(STREAM_KEY, count=1)
        if newest:
            self.last_id = newest[0][0].decode()
            self.seq = int(newest[0][1][b"seq"])
        else:
            self.last_id, self.seq = "0-0", None
        self.drop(ALL)
        self.healthy = True

    def _read(self) -> None:
        answer = self.client.xread({STREAM_KEY: self.last_id}, count=1000, block=int(self.poll * 1000))
        for _stream, items in answer or ():
            for entry_id, fields in items:
                self.last_id = entry_id.decode()
                seq = int(fields[b"seq"])
                numbers = fields[b"numbers"].decode()
                if self.seq is not None and seq != self.seq + 1:
                    log.warning("verification change feed skipped from %s to %s; emptying the cache", self.seq, seq)
                    numbers = ALL
                self.seq = seq
                self.drop(ALL if numbers == ALL else numbers.split(","))

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                if not self.healthy:
                    self._start()
                self._read()
            except Exception:
                if self.healthy:
                    log.warning("verification change feed unavailable; answering from the database", exc_info=True)
                self.healthy = False
                self.drop(ALL)
                self.stopping.wait(self.poll)
            try:
                self.flush_log()
            except Exception:
                log.exception("could not save the verification log buffer")

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not threading.current_thread():
            # Lines the thread has taken are still on their way (a daemon thread dies with the interpreter).
            self.thread.join(timeout=self.poll + 3)
        self.flush_log()


_feed: Feed | None = None
_feed_lock = threading.Lock()


def feed() -> Feed | None:
    """This process's feed, started on first use (after gunicorn's fork, never before it)."""
    global _feed
    conf = config()
    if not (conf.cache_enabled or conf.log_buffered):
        return None
    current = _feed
    if current is not None and current.pid == os.getpid() and current.conf is conf:
        return current
    with _feed_lock:
        if _feed is None or _feed.pid != os.getpid() or _feed.conf is not conf:
            if _feed is not None and _feed.pid == os.getpid():
                _feed.stop()
            _feed = Feed(conf)
        return _feed


def reset() -> None:
    """Stop this process's feed (tests, settings changes)."""
    global _feed
    with _feed_lock:
        if _feed is not None and _feed.pid == os.getpid():
            _feed.stop()
        _feed = None


@atexit.register
def _flush_at_exit() -> None:
    if _feed is not None and _feed.pid == os.getpid():
        _feed.stop()


def lookup(token: str):
    """(cached value or None, generation to pass to `store`)."""
    current = feed() if config().cache_enabled else None
    if current is None:
        return None, None
    return current.get(token), current.generation


def store(token: str, number: str, value, generation: int | None) -> None:
    current = _feed if enabled() else None
    if current is not None and generation is not None and current.pid == os.getpid():
        current.put(token, number, value, generation)


def publish(numbers) -> None:
    """Tell every web node that these certificates (or ALL) changed; this node forgets them at once."""
    joined = ALL if numbers == ALL else ",".join(sorted(set(numbers)))
    if not joined:
        return
    local = _feed
    if local is not None and local.pid == os.getpid():
        local.drop(numbers)
    url = redis_url()
    if not url:
        return
    try:
        from .verification_log import _redis

        _redis(url).eval(_PUBLISH, 2, SEQ_KEY, STREAM_KEY, joined, STREAM_MAXLEN)
    except Exception:  # other nodes see it within VERIFICATION_CACHE_TTL
        log.warning("could not publish a certificate change to the verification feed", exc_info=True)


def certificates_changed(numbers=ALL) -> None:
    """Call after changing certificates other than through Certificate.save() (e.g. a bulk update).

    The feed is written once the transaction commits, so no node can reload the row as it was before; and before
    it, the primary's position is recorded, so that no node reloads it from a replica that has not replayed it.
    """
    db_routing.primary_changed()
    if not redis_url():
        return
    numbers = numbers if numbers == ALL else list(numbers)
    transaction.on_commit(lambda: publish(numbers))
