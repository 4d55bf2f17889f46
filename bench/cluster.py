"""What bench/drill.py and bench/bench_scale.py share: the running deployment (deploy/cluster), its processes, a
load generator that records every answer, wrk, and the database's view of replication."""

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SCRIPT = ROOT / "deploy" / "cluster"


def cluster(*args: str, check: bool = True) -> str:
    return subprocess.run([str(SCRIPT), *args], check=check, capture_output=True, text=True).stdout


def deploy_env() -> dict:
    """The environment the deployment's nodes run with (deploy/cluster env)."""
    env = {}
    for line in cluster("env").splitlines():
        m = re.match(r"export (\w+)=(.*)$", line)
        if m:
            env[m.group(1)] = m.group(2)
    return env


def require_running(*, skip: bool = False) -> dict:
    """The deployment's environment; exits if it does not answer (with 0 when `skip`: `make bench` runs every
    bench_*.py, and this one has nothing to measure without a deployment)."""
    env = deploy_env()
    lb = env["DEPLOY_LB_URL"]
    try:
        host, port = lb.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=3)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
    except OSError:
        ok = False
    if not ok:
        message = f"the deployment does not answer on {lb}: start it with deploy/cluster up"
        if skip:
            print(f"skipped: {message}")
            sys.exit(0)
        sys.exit(message)
    return env


def setup_django(env: dict, *, through_pooler: bool = False) -> None:
    """Django in this process on the deployment's primary (directly, so that a drill on the pooler does not stop
    the driver), enqueuing to the deployment's broker."""
    os.environ.update(env)
    if not through_pooler:
        os.environ["DATABASE_URL"] = env["DEPLOY_PRIMARY_DIRECT_URL"]
        os.environ.pop("DATABASE_TRANSACTION_POOLING", None)
    os.environ.pop("DATABASE_REPLICA_URL", None)
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()


def pidfile(env: dict, name: str) -> int | None:
    path = Path(env["DEPLOY_DIR"]) / "run" / f"{name}.pid"
    try:
        pid = int(path.read_text().split()[0])
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError):
        return None


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds these processes have used so far (from /proc; a process gone counts 0)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError):
            pass
    return total


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_tree(pid: int, sig: int = 9) -> list[int]:
    """SIGKILL a process and its children, as a machine that dies takes them all."""
    victims = [pid, *children(pid)]
    for p in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, sig)
    return victims


def haproxy_servers(env: dict, backend: str = "web") -> dict[str, str]:
    """The web nodes' states in one of the balancer's backends (`web`, or `public` for public reads)."""
    sock = Path(env["DEPLOY_DIR"]) / "run" / "haproxy.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    states = {}
    for line in data.decode().splitlines():
        cols = line.split(",")
        if len(cols) > 17 and cols[0] == backend and cols[1] not in ("BACKEND", "FRONTEND"):
            states[cols[1]] = cols[17]
    return states


@dataclass
class Answer:
    at: float
    status: int  # 0: no answer (connection refused, reset, timeout)
    ms: float
    path: str = ""
    degraded: bool = False  # /healthz said the node serves without the primary


@dataclass
class Load:
    """Threads that GET paths through the balancer as fast as they are answered, recording every answer."""

    base: str
    paths: list[str]
    threads: int = 8
    answers: list[Answer] = field(default_factory=list)

    def start(self) -> "Load":
        self.stop_flag = threading.Event()
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.workers = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)]
        for w in self.workers:
            w.start()
        return self

    def _run(self, index: int) -> None:
        host, port = self.base.removeprefix("http://").split(":")
        conn = None
        i = index * max(len(self.paths) // self.threads, 1)
        while not self.stop_flag.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            start = time.monotonic()
            status, degraded = 0, False
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=10)
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                status = response.status
                degraded = path == "/healthz" and b'"degraded"' in body[:64]
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            end = time.monotonic()
            with self.lock:
                self.answers.append(Answer(end - self.t0, status, (end - start) * 1000, path, degraded))

    def now(self) -> float:
        return time.monotonic() - self.t0

    def stop(self) -> list[Answer]:
        self.stop_flag.set()
        for w in self.workers:
            w.join(timeout=15)
        return self.answers


def summary(answers: list[Answer], since: float = 0.0, until: float = 1e9) -> dict:
    window = [a for a in answers if since <= a.at < until]
    errors = [a for a in window if a.status != 200]
    latencies = sorted(a.ms for a in window) or [0.0]
    seconds = max((until if until < 1e9 else max((a.at for a in window), default=since)) - since, 1e-9)
    return {
        "requests": len(window),
        "errors": len(errors),
        "error_statuses": sorted({a.status for a in errors}),
        "first_error_at": min((a.at for a in errors), default=None),
        "last_error_at": max((a.at for a in errors), default=None),
        "rps": len(window) / seconds,
        "p99_ms": latencies[min(int(len(latencies) * 0.99), len(latencies) - 1)],
    }


def replica_lag(env: dict) -> dict:
    """The replica's distance behind the primary, as the primary sees it."""
    import psycopg

    with psycopg.connect(env["DEPLOY_PRIMARY_DIRECT_URL"], autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), "
            "extract(epoch FROM replay_lag) * 1000 FROM pg_stat_replication"
        ).fetchone()
    if row is None:
        return {"bytes": None, "ms": None}
    return {"bytes": int(row[0] or 0), "ms": float(row[1] or 0.0)}


def certificate_scans(url: str) -> int:
    """Index scans of the certificates table on one server (each first scan is one)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(
            conn.execute(
                "SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'certificates_certificate'"
            ).fetchone()[0]
        )


def wrk(url: str, duration: int, connections: int, script: Path) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    factor = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * factor,
        "non2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def wrk_script(path: Path, prefix: str, tokens: list[str], *, each_once: bool) -> Path:
    """A wrk request generator: every token once across threads (first scans), or a random one each time."""
    pick = "next_token()" if each_once else "tokens[math.random(#tokens)]"
    path.write_text(
        "tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\n"
        "math.randomseed(42)\n"
        "counter = 0\n"
        "setup = function(thread) thread:set('offset', counter); counter = counter + 1 end\n"
        "i = nil\n"
        "next_token = function() i = (i or offset * math.floor(#tokens / 2)) + 1; return tokens[i % #tokens + 1] end\n"
        f"request = function() return wrk.format('GET', '{prefix}' .. {pick}) end\n"
    )
    return path


def fresh_factory_sequences() -> None:
    """tests.factories numbers usernames and the like from 0 in every process; a bench or drill run adds to a
    database that earlier runs filled, so start the sequences where no earlier run can have been."""
    import factory

    from tests import factories

    start = int(time.time() * 10) % 10**9
    for value in vars(factories).values():
        if isinstance(value, type) and issubclass(value, factory.Factory) and value._meta.model is not None:
            value.reset_sequence(start)
