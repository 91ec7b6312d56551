"""Promise 7 (slow, PostGIS): a writer killed in the middle of a transaction leaves no half-written
rows and no lock behind. A separate process opens a transaction, saves a work (with its history and
audit rows) and records a payment, and is killed (SIGKILL) or has its connection terminated by the
server at three points; the works, money and history tables are unchanged afterwards and the same
rows can be written at once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection

from infra.finance.models import Allocation
from infra.works.models import Work
from infra.works.services import work_update
from tests.infra.api.register import build_register
from tests.reliability.conftest import FIGURES, tables_checksum
from tests.reliability.servers import ROOT, child_env, postgis_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHILD = """
import os, sys, time, django
from datetime import date
django.setup()
from django.db import connection, transaction
from infra.finance.models import Allocation
from infra.finance.services import disbursement_create
from infra.works.models import Work
from infra.works.services import work_update
work_id, allocation_id, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with transaction.atomic():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        print("pid", cursor.fetchone()[0], flush=True)
    work = Work.objects.get(pk=work_id)
    if stop == "begin":
        print("ready", flush=True); time.sleep(120)
    work_update(work=work, user=None, expected_version=work.version, description="half-written")
    if stop == "work":
        print("ready", flush=True); time.sleep(120)
    disbursement_create(allocation=Allocation.objects.get(pk=allocation_id), amount=1_000_000, paid_on=date(2024, 6, 1),
                        voucher_number="PC-KILLED", user=None)
    print("ready", flush=True); time.sleep(120)
"""


@pytest.mark.parametrize("how", ["sigkill", "terminate-connection"])
@pytest.mark.parametrize("stop", ["begin", "work", "payment"])
def test_a_writer_killed_mid_transaction_leaves_nothing_half_written(how, stop):
    if connection.vendor != "postgresql":
        pytest.skip("PostGIS only")
    call_command("load_reference", verbosity=0)
    register = build_register()
    work = register["A-1"]
    allocation = Allocation.objects.get(work=work)
    before = tables_checksum()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(work.pk), str(allocation.pk), stop], cwd=ROOT,
                             env=child_env(postgis_url(connection.settings_dict)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        backend, ready = None, False
        for _ in range(20):  # bounded: a few lines at most
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith("pid"):
                backend = int(line.split()[1])
            if line.startswith("ready"):
                ready = True
                break
        if not ready:  # the child died (or talked too much) before reaching the point: say why
            child.kill()
            pytest.fail(f"the child never reached {stop!r}: {child.stderr.read()[-2000:]}")
        assert backend
        if how == "sigkill":
            os.kill(child.pid, signal.SIGKILL)
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    finally:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)
    # The server notices the dead client and rolls its transaction back; wait (bounded) for that.
    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
            if cursor.fetchone()[0] == 0:
                break
            cursor.execute("SELECT pg_sleep(0.1)")
    assert tables_checksum() == before, f"{how} at {stop}: rows were half-written"
    # No lock left behind: the same work can be saved at once.
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")
    current = Work.objects.get(pk=work.pk)
    work_update(work=current, user=None, expected_version=current.version, description="after the fault")
    FIGURES["faults survived"] += 1
