"""Promise 7c (slow): PostgreSQL restarted in `immediate` mode under load loses no acknowledged write.

A private PostgreSQL 15 cluster (its own folder and port on 127.0.0.1, never the shared one) gets the
schema and the register; gunicorn serves it with the project's gunicorn.conf.py; writers PATCH works
(If-Match) and record payments while readers read. Twice during the load the cluster is restarted with
`pg_ctl restart -m immediate` (every backend killed without a checkpoint; crash recovery on start).

Afterwards, read from the cluster: every acknowledged (2xx) write is there; writes refused during the
outages were answered 503 (never 500) and are either wholly absent or wholly present (a write whose
answer was lost may have committed: then its history and audit rows are there too); each work's
version rose by exactly its history rows; payments stay within their allocations; the audit chain
verifies; and the server, never restarted (same arbiter, same workers), accepted writes again after
the last restart.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import requests

from tests.reliability.conftest import FIGURES
from tests.reliability.servers import PG_BIN, ROOT, Gunicorn, PrivateCluster, api_session, child_env, rounds

pytestmark = [pytest.mark.slow]

WRITERS, READERS, SECONDS, RESTART_AT = 6, 1, 45, (12, 28)

SETUP = """
import json, django
django.setup()
from datetime import date
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from infra.accounts.models import Role
from infra.finance.models import Allocation, CapitalKind, CapitalPlan, ProgrammeNode
from infra.finance.services import allocation_create
from tests.factories import user_with_role
from tests.infra.api.register import build_register
call_command("load_reference", verbosity=0)
register = build_register()
board = user_with_role(Role.BOARD, username="restarter")
line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT, source="central")
allocations = [Allocation.objects.get(work=register["A-1"]).pk,
               allocation_create(capital_plan=plan, programme_line=line, work=register["R-1"], amount=300_000_000,
                                 allocated_on=date(2023, 1, 2), user=board).pk]
print(json.dumps({"token": Token.objects.create(user=board).key, "allocations": allocations,
                  "works": [register[c].pk for c in ("A-1", "R-1", "Q-1")]}))
"""

FACTS = """
import json, sys, django
django.setup()
from django.db.models import Sum
from infra.audit.chain import verify_chain
from infra.finance.models import Allocation, Disbursement
from infra.works.models import Work
asked = json.loads(sys.argv[1])
works = {pk: {"version": Work.objects.get(pk=pk).version,
              "history": list(Work.history.filter(id=pk).values_list("description", flat=True))} for pk in asked["works"]}
payments = {a: dict(Disbursement.objects.filter(allocation_id=a).values_list("voucher_number", "amount"))
            for a in asked["allocations"]}
limits = {a: Allocation.objects.get(pk=a).amount for a in asked["allocations"]}
checked, broken = verify_chain()
print(json.dumps({"works": works, "payments": payments, "limits": limits, "disbursement_history": Disbursement.history.count(),
                  "disbursements": Disbursement.objects.count(), "audit_checked": checked, "audit_broken": str(broken or "")}))
"""


def _child(script: str, url: str, *args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=child_env(url), capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _workers(arbiter: int) -> set[int]:
    children = Path(f"/proc/{arbiter}/task/{arbiter}/children")
    return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


@pytest.fixture
def cluster():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries are not in {PG_BIN}")
    made = PrivateCluster()
    try:
        yield made
    finally:
        made.remove()


def test_postgres_restarted_immediately_under_load_loses_no_acknowledged_write(cluster, tmp_path):
    # given the schema and the register in a private cluster, served by gunicorn
    cluster.psql("postgres", "CREATE DATABASE infra_rel")
    cluster.psql("infra_rel", "CREATE EXTENSION postgis")
    url = cluster.url("infra_rel")
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=child_env(url),
                              capture_output=True, text=True, timeout=900)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    made = _child(SETUP, url)
    before = _child(FACTS, url, json.dumps(made))
    server = Gunicorn(url, workers=2, threads=4, log=tmp_path / "gunicorn.log")
    workers_before = _workers(server.process.pid)
    base, works, allocations = server.url, made["works"], made["allocations"]
    headers = {"Authorization": f"Token {made['token']}", "Accept-Language": "en"}

    lock = threading.Lock()
    accepted_texts, tried_texts = defaultdict(list), defaultdict(list)
    accepted_pay, tried_pay = {}, {}
    outcomes, errors = Counter(), []
    restarted_at: list[float] = []
    accepted_after_restart = []
    deadline = time.monotonic() + SECONDS

    def note(kind: str) -> None:
        with lock:
            outcomes[kind] += 1

    def writer(n: int) -> None:
        rng = random.Random(n)
        session = api_session(headers)
        for i in rounds(deadline):
            try:
                if rng.random() < 0.6:
                    work, text = rng.choice(works), f"r{n}-{i}"
                    got = session.get(f"{base}/api/works/{work}/", timeout=60)
                    if got.status_code != 200:
                        note(f"reads refused ({got.status_code})")
                        if got.status_code != 503:
                            errors.append(f"GET {got.status_code} {got.text[:200]}")
                        time.sleep(0.05)
                        continue
                    with lock:
                        tried_texts[work].append(text)
                    r = session.patch(f"{base}/api/works/{work}/", json={"description": text},
                                      headers={"If-Match": got.headers["ETag"]}, timeout=60)
                    if r.status_code == 200:
                        with lock:
                            accepted_texts[work].append(text)
                            if restarted_at and len(restarted_at) == len(RESTART_AT):
                                accepted_after_restart.append(text)
                        note("patches accepted")
                    elif r.status_code == 412:
                        note("conflicts (412)")
                    else:
                        note(f"writes refused ({r.status_code})")
                else:
                    allocation, amount, voucher = rng.choice(allocations), rng.randint(1, 30) * 1_000_000, f"PR-{n}-{i}"
                    with lock:
                        tried_pay[voucher] = (allocation, amount)
                    r = session.post(f"{base}/api/disbursements/", json={
                        "allocation": allocation, "amount": amount, "paid_on": "2024-06-01", "voucher_number": voucher},
                        timeout=60)
                    if r.status_code == 201:
                        with lock:
                            accepted_pay[voucher] = (allocation, amount)
                        note("payments accepted")
                    elif r.status_code in (400, 409):
                        note(f"payments refused ({r.status_code})")
                    else:
                        note(f"writes refused ({r.status_code})")
                if r.status_code >= 500 and r.status_code != 503:
                    errors.append(f"{r.request.method} {r.status_code} {r.text[:300]}")
                if r.status_code == 503:
                    time.sleep(0.05)  # the database is away: do not spin
            except requests.RequestException as exc:
                with lock:
                    errors.append(f"transport: {exc}")

    def reader(n: int) -> None:
        session = api_session()
        for i in rounds(deadline):
            r = session.get(f"{base}/api/works/" if i % 2 else f"{base}/api/works/{works[0]}/", timeout=60)
            note("reads" if r.status_code == 200 else f"reads refused ({r.status_code})")
            if r.status_code not in (200, 503):
                with lock:
                    errors.append(f"GET {r.status_code}")
            time.sleep(0.02)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    started = time.monotonic()
    # when PostgreSQL is restarted in immediate mode twice during the load
    try:
        for thread in threads:
            thread.start()
        for at in RESTART_AT:
            time.sleep(max(0.0, started + at - time.monotonic()))
            cluster.restart_immediate()
            restarted_at.append(time.monotonic())
    finally:
        for thread in threads:
            thread.join(timeout=SECONDS + 300)
    assert not any(t.is_alive() for t in threads), "a client did not finish"
    final = requests.get(f"{base}/api/works/{works[0]}/", headers=headers, timeout=60)
    same_server = server.process.poll() is None and _workers(server.process.pid) == workers_before
    server.stop()

    # then every acknowledged write is there, the rest is all-or-nothing, and the server recovered by itself
    assert not errors, errors[:10]
    after = _child(FACTS, url, json.dumps(made))
    lost = applied_unacknowledged = 0
    for work in map(str, works):
        recorded = after["works"][work]["history"]
        added = len(recorded) - len(before["works"][work]["history"])
        assert after["works"][work]["version"] - before["works"][work]["version"] == added, work
        lost += sum(1 for text in accepted_texts[int(work)] if text not in recorded)
        unacknowledged = set(tried_texts[int(work)]) - set(accepted_texts[int(work)])
        applied_unacknowledged += sum(1 for text in unacknowledged if text in recorded)
        assert added == len(accepted_texts[int(work)]) + sum(1 for text in unacknowledged if text in recorded)
    stored = {voucher: (int(a), amount) for a, rows in after["payments"].items() for voucher, amount in rows.items()}
    lost += sum(1 for voucher, paid in accepted_pay.items() if stored.get(voucher) != paid)
    applied_unacknowledged += sum(1 for voucher in set(tried_pay) - set(accepted_pay) if voucher in stored)
    assert all(stored[v] == tried_pay[v] for v in stored if v in tried_pay), "a payment was stored with other values"
    for allocation, limit in after["limits"].items():
        assert sum(after["payments"][allocation].values()) <= limit
    assert after["disbursements"] - before["disbursements"] == after["disbursement_history"] - before["disbursement_history"]
    assert after["audit_broken"] == "", after["audit_broken"]
    assert lost == 0
    assert final.status_code == 200 and accepted_after_restart, "the server did not take writes again after the restart"
    assert same_server, "gunicorn or one of its workers was restarted"
    assert outcomes["writes refused (503)"] + outcomes["reads refused (503)"] > 0, "no request met the outage"

    FIGURES["PostgreSQL restarts survived"] += len(restarted_at)
    FIGURES["writes acknowledged around restarts"] += len(accepted_pay) + sum(map(len, accepted_texts.values()))
    FIGURES["writes refused during restarts (503)"] += outcomes["writes refused (503)"]
    FIGURES["writes applied though their answer was lost"] += applied_unacknowledged
    FIGURES["audit entries verified"] += after["audit_checked"]
    FIGURES["rows lost"] += lost
