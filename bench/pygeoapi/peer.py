"""The pygeoapi peer of bench/ogc.py: its virtualenv, the view it serves, and both servers under gunicorn.

pygeoapi and everything it pulls in are pinned in requirements-bench-pygeoapi.txt and installed into
their own virtualenv, var/bench-pygeoapi-venv (made from the interpreter .venv was made from, rebuilt
only when that file changes), so they never move the project's pins. pygeoapi's PostgreSQL provider
reads one table or view; `_view` makes a view over works_work with the publication rule and
the very property expressions of /ogc/collections/works/items (taken from the app's own layer), so
the two servers answer with the same features.

`servers` runs both the same way: gunicorn, one sync worker, the same database with the same session
settings, one persistent database connection each (ours_settings.py; SQLAlchemy's pool). Besides wall
time a server reports the CPU it and its PostgreSQL backend spent (/proc/<pid>/schedstat): on a
shared machine wall time also counts the wait for a CPU, and Linux shares the CPU between session
groups, so every PostgreSQL backend of everyone on the machine competes in one group while each
Python server has its own; a database-bound server then looks slower than it is. This module is not a
benchmark itself (bench/run.py runs only bench/*.py); bench/ogc.py imports it after django.setup().
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = ROOT / "var" / "bench-pygeoapi-venv"
REQUIREMENTS = ROOT / "requirements-bench-pygeoapi.txt"
CONFIG = HERE / "config.yml"
VIEW = "bench_pygeoapi_works"


@dataclass(frozen=True)
class Server:
    """One gunicorn serving the works collection: where to ask, and which process answers."""

    name: str
    port: int
    worker: int
    backends: tuple[int, ...]
    items: str

    def get(self, path: str) -> bytes:
        """GET a path on a new connection (the sync worker closes each one); refuse anything but 200."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise AssertionError(f"{self.name} answered {response.status} to {path}: {body[:300]!r}")
        return body

    def cpu_ms(self) -> tuple[float, float, float]:
        """Return the time the worker and its database backends have spent on a CPU, and waiting for one, and
        the backends' part of the first (ms)."""
        running = waiting = database = 0
        for pid in (self.worker, *self.backends):
            tasks = list(Path(f"/proc/{pid}/task").glob("*/schedstat"))
            if not tasks:
                raise RuntimeError(f"{self.name}: process {pid} is gone (its database connection was replaced?)")
            for task in tasks:
                on_cpu, queued, _slices = task.read_text().split()
                running, waiting = running + int(on_cpu), waiting + int(queued)
                if pid != self.worker:
                    database += int(on_cpu)
        return running / 1e6, waiting / 1e6, database / 1e6

    def reset_peak(self) -> None:
        # Writing 5 to clear_refs resets the process's peak resident set (VmHWM) to its current size.
        Path(f"/proc/{self.worker}/clear_refs").write_text("5")

    def peak_mib(self) -> float:
        for line in Path(f"/proc/{self.worker}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmHWM for process {self.worker}")


def pygeoapi_venv() -> Path:
    """Return var/bench-pygeoapi-venv, (re)built from the pinned requirements when they changed."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV / "requirements.sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return VENV
    shutil.rmtree(VENV, ignore_errors=True)
    # The interpreter the project's .venv was made from (Debian's /usr/bin/python3.11), not .venv itself.
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    print(f"Building {VENV.relative_to(ROOT)} with {python} from {REQUIREMENTS.name}", flush=True)
    subprocess.run([str(python), "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    # Every package is pinned in the file, so --no-deps installs exactly it; `pip check` proves nothing is missing.
    subprocess.run([*pip, "install", "-q", "--no-deps", "-r", str(REQUIREMENTS)], check=True)
    subprocess.run([*pip, "check"], check=True, stdout=subprocess.DEVNULL)
    stamp.write_text(digest)
    return VENV


@contextmanager
def _view() -> Iterator[None]:
    """Create the view pygeoapi serves (the works the public sees, with the items layer's properties) for the block.

    It is dropped afterwards: a view left on works_work would make a later migration of that table fail
    in a database kept between runs.
    """
    from django.db import connection

    from infra.works.choices import PRIVATE_STAGES
    from infra.works.selectors import works_layer

    layer = works_layer()
    columns = ", ".join(f'{expression} AS "{name}"' for name, expression in layer.properties.items())
    # What the access policy lets an anonymous person see, written as it writes it (works_visible): "not private".
    stages = sorted(str(stage) for stage in PRIVATE_STAGES)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW IF EXISTS {VIEW}")
        cursor.execute(
            f"CREATE VIEW {VIEW} AS SELECT t.id, {layer.geometry} AS geometry, {columns} FROM {layer.table} t "
            f"{layer.joins} WHERE NOT (t.stage IN ({', '.join(['%s'] * len(stages))}))",
            stages,
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP VIEW IF EXISTS {VIEW}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _backends(db: str, application: str) -> tuple[int, ...]:
    """Return the pids of the PostgreSQL backends serving connections with this application name."""
    import psycopg2

    with psycopg2.connect(host="127.0.0.1", user="postgres", dbname=db) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s", [db, application])
        pids = tuple(row[0] for row in cursor.fetchall())
    connection.close()
    if not pids:
        raise RuntimeError(f"no database connection named {application!r} on {db}")
    return pids


def _worker_of(master: int) -> int:
    """Return the pid of the one worker a gunicorn master has forked."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == master:
            return int(stat.parent.name)
    raise RuntimeError(f"gunicorn {master} has no worker")


@contextmanager
def _gunicorn(name: str, argv: list[str], *, port: int, env: dict, items: str, db: str, application: str,
              workers: int = 1) -> Iterator[Server]:
    """Run one gunicorn with `workers` sync workers until the block ends; yield it once its items answer.

    With more than one worker, `worker` is one of them, and the CPU figures are not meaningful."""
    log = tempfile.TemporaryFile()
    # No control socket: gunicorn's default path is per user, and two servers (or other people's) would share it.
    process = subprocess.Popen(
        [*argv, "--config", str(HERE / "gunicorn.conf.py"), "--workers", str(int(workers)), "--bind", f"127.0.0.1:{port}",
         "--no-control-socket"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{name} did not start:\n{log.read().decode(errors='replace')[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not listen on {port} within 120 s") from None
                time.sleep(0.2)
        probe = Server(name, port, _worker_of(process.pid), (), items)
        probe.get(f"{items}?limit=1&f=json")  # the worker loads the application and connects on its first request
        yield Server(name, port, probe.worker, _backends(db, application), items)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def servers(*, db: str, url: str, workers: int = 1) -> Iterator[dict[str, Server]]:
    """Serve our app and pygeoapi over the same database, each with `workers` sync workers; yield
    {"ours": …, "pygeoapi": …}."""
    venv = pygeoapi_venv()
    with ExitStack() as stack:
        stack.enter_context(_view())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pygeoapi-")))
        base = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
        ports = {"ours": _free_port(), "pygeoapi": _free_port()}
        # config.yml reads these from the environment; pygeoapi needs its OpenAPI document generated first.
        peer_env = {**base, "BENCH_DB": db, "BENCH_TABLE": VIEW, "BENCH_PORT": str(ports["pygeoapi"]),
                    "PYGEOAPI_CONFIG": str(CONFIG), "PYGEOAPI_OPENAPI": str(work / "openapi.yml")}
        subprocess.run([str(venv / "bin" / "pygeoapi"), "openapi", "generate", str(CONFIG), "--output-file",
                        str(work / "openapi.yml")], env=peer_env, check=True, capture_output=True)
        ours_env = {**base, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "ours_settings", "DEBUG": "0",
                    "ALLOWED_HOSTS": "127.0.0.1"}
        started = {
            "ours": stack.enter_context(_gunicorn(
                "our app", [sys.executable, "-m", "gunicorn", "--pythonpath", str(HERE), "infra.wsgi:application"],
                port=ports["ours"], env=ours_env, items="/ogc/collections/works/items", db=db, application="bench-ours",
                workers=workers)),
            "pygeoapi": stack.enter_context(_gunicorn(
                "pygeoapi", [str(venv / "bin" / "gunicorn"), "pygeoapi.flask_app:APP"], port=ports["pygeoapi"], env=peer_env,
                items="/collections/works/items", db=db, application="pygeoapi", workers=workers)),
        }
        yield started


def same_features(answers: dict[str, bytes]) -> int:
    """Check that every answer holds the same features (ids, in order) with the same property names; return how many."""
    documents = {name: json.loads(body) for name, body in answers.items()}
    ids, names = {}, {}
    for name, document in documents.items():
        features = document["features"]
        if document.get("numberReturned", len(features)) != len(features):
            raise AssertionError(f"{name}: numberReturned {document['numberReturned']} but {len(features)} features")
        ids[name] = [feature["id"] for feature in features]
        names[name] = set(features[0]["properties"]) if features else set()
    (first, first_ids), *others = ids.items()
    for name, other_ids in others:
        if other_ids != first_ids:
            raise AssertionError(f"{name} answered {len(other_ids)} features, {first} {len(first_ids)}, "
                                 "or not the same ones: not a fair comparison")
        if names[name] != names[first]:
            raise AssertionError(f"property names differ: {sorted(names[name] ^ names[first])}")
    return len(first_ids)
