"""Two editors save the same work at the same moment: exactly one wins, the other is told why."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection, connections

from infra.works.choices import Category
from infra.works.models import Work
from infra.works.services import StaleVersion, work_create, work_update
from tests.factories import PHONG_THO_POINT

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_saves_one_wins_one_is_refused():
    call_command("load_reference", verbosity=0)
    work = work_create(user=None, code="RACE-1", name="Nhà văn hóa", category=Category.CULTURE,
                       geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2022, stage_date=date(2022, 8, 1))
    read_version = work.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def editor(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            work_update(work=work, user=None, expected_version=read_version, name=f"Tên của {name}")
            outcomes[name] = "saved"
        except StaleVersion as exc:
            outcomes[name] = "refused: " + ",".join(sorted(exc.changed))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=editor, args=(name,)) for name in ("An", "Bình")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["refused", "saved"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    loser = next(name for name, outcome in outcomes.items() if outcome != "saved")
    assert "name" in outcomes[loser]  # told what the other person changed
    stored = Work.objects.get(pk=work.pk)
    assert stored.name == f"Tên của {winner}"
    assert stored.version == read_version + 1
    assert stored.history.count() == 2  # creation and the one winning edit: nothing half-written
    assert connection.vendor in ("postgresql", "sqlite")
