"""Two writers at once: one holds its transaction open while another writes (PostgreSQL)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, connections, transaction


def someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


def run_while_held(hold: Callable[[], object], then: Callable[[], object]) -> None:
    """Run `hold` (which writes, then waits) in one thread and `then` in another once it has written;
    let `hold` commit only once `then` has finished or is waiting for a lock (or after 10 s)."""
    written, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                hold()
                written.set()
                assert release.wait(10)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            assert written.wait(10)
            then()
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert written.wait(10)
    deadline = time.monotonic() + 10
    while not done.is_set() and not someone_waits_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    release.set()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
