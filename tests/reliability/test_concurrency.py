"""Promise 6: concurrent writers through the HTTP API of a live server on 127.0.0.1.

Writers PATCH the same few works (If-Match; a 412 is a conflict, re-read and retried) and record
payments against the same two allocations (a 400 over the limit or a 409 is a refusal); readers
read alongside. Afterwards: each work's version rose by exactly its accepted writes, history has
one entry per accepted write and every accepted text is in it, the money equals the accepted
payments and never exceeds the allocations, and the audit chain holds. Rows lost must be 0.

Fast: 8 writers × 5 s on PostGIS; on SpatiaLite, which serialises writers by locking the file, 4 writers
and 1 reader × 5 s. There a writer that cannot get the lock within the busy timeout must be told 503
(try again), never 500. Slow (make check-reliability): 24 writers × 60 s with 4 readers."""
from __future__ import annotations

import random
import sqlite3
import statistics
import threading
import time
from collections import Counter, defaultdict
from datetime import date

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from rest_framework.authtoken.models import Token

from infra.accounts.models import Role
from infra.audit.chain import verify_chain
from infra.finance.models import Allocation, CapitalKind, CapitalPlan, Disbursement, ProgrammeNode
from infra.finance.services import allocation_create
from infra.works.models import Work
from tests.factories import user_with_role
from tests.infra.api.register import build_register
from tests.reliability.conftest import FIGURES
from tests.reliability.servers import api_session, rounds

pytestmark = [pytest.mark.django_db(transaction=True)]


def _run(live_server, *, writers: int, readers: int, seconds: float):
    assert live_server.url.startswith("http://localhost") or live_server.url.startswith("http://127.0.0.1")
    base = live_server.url.replace("localhost", "127.0.0.1")
    call_command("load_reference", verbosity=0)
    register = build_register()
    board = user_with_role(Role.BOARD, username="racer")
    token = Token.objects.create(user=board).key
    targets = [register[c] for c in ("A-1", "R-1", "Q-1")]
    versions_before = {w.pk: Work.objects.get(pk=w.pk).version for w in targets}
    history_before = {w.pk: Work.history.filter(id=w.pk).count() for w in targets}
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT, source="central")
    allocations = [Allocation.objects.get(work=register["A-1"]),
                   allocation_create(capital_plan=plan, programme_line=line, work=register["R-1"], amount=200_000_000,
                                     allocated_on=date(2023, 1, 2), user=board)]
    paid_before = {a.pk: Disbursement.objects.filter(allocation=a).aggregate(s=Sum("amount"))["s"] or 0 for a in allocations}
    disbursements_before = Disbursement.objects.count()

    lock = threading.Lock()
    accepted_texts = defaultdict(list)      # work id -> descriptions accepted
    accepted_pay = defaultdict(int)         # allocation id -> amount accepted
    accepted_pay_count = Counter()
    outcomes = Counter()
    errors = []
    latencies = []
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Token {token}", "Accept-Language": "en"}

    def writer(n: int) -> None:
        rng = random.Random(n)
        session = api_session(headers)
        for i in rounds(deadline):
            try:
                if rng.random() < 0.6:
                    work = rng.choice(targets)
                    text = f"w{n}-{i}"
                    for _attempt in range(20):
                        etag = session.get(f"{base}/api/works/{work.pk}/", timeout=30).headers["ETag"]
                        r = session.patch(f"{base}/api/works/{work.pk}/", json={"description": text},
                                          headers={"If-Match": etag}, timeout=30)
                        if r.status_code == 412:
                            with lock:
                                outcomes["conflicts (412, retried)"] += 1
                            continue
                        break
                    with lock:
                        if r.status_code == 200:
                            accepted_texts[work.pk].append(text)
                            outcomes["patches accepted"] += 1
                        elif r.status_code == 412:
                            outcomes["patches given up after retries"] += 1
                        elif r.status_code == 503:
                            outcomes["writes refused as busy (503)"] += 1
                        else:
                            errors.append(f"PATCH {r.status_code} {r.text[:200]}")
                else:
                    allocation = rng.choice(allocations)
                    amount = rng.randint(1, 40) * 1_000_000
                    r = session.post(f"{base}/api/disbursements/", json={
                        "allocation": allocation.pk, "amount": amount, "paid_on": "2024-06-01",
                        "voucher_number": f"PC-{n}-{i}"}, timeout=30)
                    with lock:
                        if r.status_code == 201:
                            accepted_pay[allocation.pk] += amount
                            accepted_pay_count[allocation.pk] += 1
                            outcomes["payments accepted"] += 1
                        elif r.status_code in (400, 409):
                            outcomes[f"payments refused ({r.status_code})"] += 1
                        elif r.status_code == 503:
                            outcomes["writes refused as busy (503)"] += 1
                        else:
                            errors.append(f"POST {r.status_code} {r.text[:200]}")
            except requests.RequestException as exc:
                with lock:
                    errors.append(f"transport: {exc}")

    def reader(n: int) -> None:
        session = api_session()
        urls = [f"{base}/api/works/", f"{base}/api/works/{targets[0].pk}/", f"{base}/layers/works.geojson"]
        for i in rounds(deadline):
            started = time.monotonic()
            r = session.get(urls[i % len(urls)], timeout=30)
            with lock:
                latencies.append(time.monotonic() - started)
                outcomes["reads"] += 1
                if r.status_code != 200:
                    errors.append(f"GET {r.status_code}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    threads += [threading.Thread(target=reader, args=(n,)) for n in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    assert not any(t.is_alive() for t in threads), "a client did not finish"
    assert not errors, errors[:10]

    lost = 0
    for work in targets:
        current = Work.objects.get(pk=work.pk)
        texts = accepted_texts[work.pk]
        assert current.version - versions_before[work.pk] == len(texts)
        assert Work.history.filter(id=work.pk).count() - history_before[work.pk] == len(texts)
        recorded = set(Work.history.filter(id=work.pk).values_list("description", flat=True))
        lost += sum(1 for text in texts if text not in recorded)
    for allocation in allocations:
        allocation.refresh_from_db()
        paid = Disbursement.objects.filter(allocation=allocation).aggregate(s=Sum("amount"))["s"] or 0
        assert paid - paid_before[allocation.pk] == accepted_pay[allocation.pk]
        assert paid <= allocation.amount
    assert Disbursement.objects.count() - disbursements_before == sum(accepted_pay_count.values())
    checked, broken = verify_chain()
    assert broken is None, broken
    assert lost == 0

    FIGURES["concurrent writers"] = max(FIGURES["concurrent writers"], writers)
    FIGURES["concurrent readers"] = max(FIGURES["concurrent readers"], readers)
    for name, count in outcomes.items():
        FIGURES[name] += count
    FIGURES["audit entries verified"] += checked
    FIGURES["rows lost"] += lost
    if latencies:
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
        FIGURES["p95 read latency ms"] = max(FIGURES["p95 read latency ms"], round(p95 * 1000))
    assert outcomes["patches accepted"] > 0 and outcomes["payments accepted"] > 0


def test_concurrent_writers_fast(live_server):
    if connection.vendor == "sqlite":
        _run(live_server, writers=4, readers=1, seconds=5)
    else:
        _run(live_server, writers=8, readers=2, seconds=5)


@pytest.mark.slow
def test_concurrent_writers_slow(live_server):
    if connection.vendor == "sqlite":
        _run(live_server, writers=8, readers=2, seconds=30)
    else:
        _run(live_server, writers=24, readers=4, seconds=60)


def test_sqlite_connections_wait_as_long_as_configured():
    # Loading mod_spatialite sets SQLite's busy timeout to 5 s behind Django's back; the project sets it back.
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's busy timeout")
    connection.ensure_connection()
    waited = connection.connection.execute("PRAGMA busy_timeout").fetchone()[0]
    assert waited == int(connection.settings_dict["OPTIONS"]["timeout"] * 1000)


@pytest.mark.slow
def test_sqlite_writer_kept_waiting_past_its_timeout_is_told_503_and_can_save_after(live_server):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's file lock")
    call_command("load_reference", verbosity=0)
    work = build_register()["A-1"]
    token = Token.objects.create(user=user_with_role(Role.BOARD, username="waiter")).key
    session = api_session({"Authorization": f"Token {token}", "Accept-Language": "en"})
    url = f"{live_server.url}/api/works/{work.pk}/"
    history_before = Work.history.filter(id=work.pk).count()
    # Another program holds SQLite's write lock for longer than the server's busy timeout.
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        etag = session.get(url, timeout=60).headers["ETag"]  # reading is still allowed
        refused = session.patch(url, json={"description": "chờ khóa"}, headers={"If-Match": etag}, timeout=120)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert refused.status_code == 503, refused.text[:500]
    assert refused.headers["Retry-After"] and "not answering" in refused.json()["detail"]
    assert Work.history.filter(id=work.pk).count() == history_before
    saved = session.patch(url, json={"description": "chờ khóa"}, headers={"If-Match": etag}, timeout=120)
    assert saved.status_code == 200
    assert Work.history.filter(id=work.pk).count() == history_before + 1
    FIGURES["writes refused as busy (503)"] += 1
