"""Servers the fault tests start and kill themselves (gunicorn, a private PostgreSQL cluster), and the
clients that load them.

Everything listens on 127.0.0.1 on a free port, and every wait and loop is bounded in time and count.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgis_url(settings: dict, *, name: str | None = None) -> str:
    """Return the postgis:// URL of a Django DATABASES entry (or of another database on its server)."""
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    login = f"{user}{':' + password if password else ''}@" if user else ""
    return f"postgis://{login}{settings.get('HOST') or '127.0.0.1'}:{settings.get('PORT') or 5432}/{name or settings['NAME']}"


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """Return the environment of a child process of the project, pointed at a database."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "RELIABILITY")}
    env.update({"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "infra.settings", "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def rounds(deadline: float, *, most: int = 100_000):
    """Yield 0, 1, 2… until time.monotonic() passes the deadline or `most` rounds were made."""
    for i in range(most):
        if time.monotonic() > deadline:
            return
        yield i


def api_session(headers: dict[str, str] | None = None) -> requests.Session:
    """A keep-alive HTTP session sending these headers (a token, a language) with every request."""
    session = requests.Session()
    session.headers.update(headers or {})
    return session


def wait_until(predicate, *, seconds: float, every: float = 0.1, what: str) -> None:
    """Poll predicate until it is true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


class Gunicorn:
    """The project served by gunicorn with its own gunicorn.conf.py, in a process group of its own."""

    def __init__(self, database_url: str, *, workers: int = 1, threads: int = 4, media_root: Path | None = None,
                 log: Path | None = None, extra: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        extra = {**(extra or {}), "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers),
                 "GUNICORN_THREADS": str(threads)}
        if media_root is not None:
            extra["MEDIA_ROOT"] = str(media_root)
        self.log = log or Path(tempfile.gettempdir()) / f"rel-gunicorn-{self.port}.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "infra.wsgi:application", "--config", str(ROOT / "gunicorn.conf.py")],
                cwd=ROOT, env=child_env(database_url, **extra), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        try:
            wait_until(self._answers, seconds=120, every=0.25, what=f"gunicorn on {self.url} (log: {self.log})")
        except BaseException:
            self.kill()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
        try:
            return requests.get(f"{self.url}/api/", timeout=10).status_code < 500
        except requests.RequestException:
            return False

    def kill(self) -> None:
        """SIGKILL the arbiter and its workers at once: no handler runs, nothing is flushed."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


class PrivateCluster:
    """A throw-away PostgreSQL 15 cluster in a temporary folder, listening on 127.0.0.1 on a free port.

    Run as the postgres OS user when the tests run as root (initdb refuses root). Trust
    authentication, local only. `restart_immediate` is what a power cut plus restart does to it.
    """

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 server binaries are not in {PG_BIN}")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="infra_rel_pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.owner = None
        if os.geteuid() == 0:
            self.owner = pwd.getpwnam("postgres")
            os.chown(self.dir, self.owner.pw_uid, self.owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n"
                       "max_connections = 60\nshared_buffers = 32MB\nlogging_collector = off\n")
        self.start()

    def _run(self, tool: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / tool), *args]
        if self.owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr or result.stdout}")
        return result

    def url(self, name: str) -> str:
        return f"postgis://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "start")

    def restart_immediate(self) -> None:
        """Stop without a checkpoint (every backend killed, as in a crash), then start: crash recovery replays WAL."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "immediate", "-w", "-t", "120", "restart")

    def psql(self, database: str, sql: str) -> str:
        return self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                         "-XAtqv", "ON_ERROR_STOP=1", "-c", sql).stdout

    def remove(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "60", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class StandbyCluster(PrivateCluster):
    """A hot standby of a PrivateCluster: a base backup of it (pg_basebackup -R: streaming from it), on a free
    port of its own, read-only. `replay(False)` pauses the replay of what it receives, `replay(True)` resumes."""

    def __init__(self, primary: PrivateCluster):  # noqa: super().__init__ would make a new cluster
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="infra_rel_pg_standby-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.owner = primary.owner
        if self.owner is not None:
            os.chown(self.dir, self.owner.pw_uid, self.owner.pw_gid)
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D", str(self.data),
                  "-R", "-X", "stream", "-c", "fast")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nport = {self.port}\nunix_socket_directories = '{self.dir}'\nhot_standby = on\n")
        self.start()

    def replay(self, on: bool) -> None:
        self.psql("postgres", "SELECT pg_wal_replay_resume()" if on else "SELECT pg_wal_replay_pause()")
        wanted = "not paused" if on else "paused"
        wait_until(lambda: self.psql("postgres", "SELECT pg_get_wal_replay_pause_state()").strip() == wanted,
                   seconds=30, what=f"the standby's replay {wanted}")

    def catch_up(self, primary: PrivateCluster) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        target = primary.psql("postgres", "SELECT pg_current_wal_lsn()").strip()
        wait_until(lambda: self.psql("postgres", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn").strip() == "t",
                   seconds=60, what=f"the standby replaying up to {target}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
