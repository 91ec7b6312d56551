"""Connectivity stored and served: the command, the run and its inputs, the API, the page, who sees what.

The network is drawn in conftest.py; every expected figure below is worked out from that drawing,
and the same assertions pass on PostGIS and on SpatiaLite, so both give the same numbers.
"""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from gis.models import BaseRoad
from infra.accounts.models import Role
from infra.network.models import CommuneResult, ProposalGain, Run, VillageResult
from infra.network.selectors import village_link_join, village_link_status
from infra.network.services import run_compute, runs_prune
from tests.factories import user_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.infra.network.urls")]


@pytest.fixture
def drawn(network):
    # Only the hand-drawn roads: the reference national roads would add paths of their own.
    BaseRoad.objects.exclude(code__in=["A", "B"]).delete()
    return network


@pytest.fixture
def run(drawn):
    call_command("connectivity", verbosity=0)
    return Run.objects.get()


def _village(run, code):
    return VillageResult.objects.get(run=run, village__code=code)


def test_the_command_stores_a_run_with_its_inputs_and_counts(run):
    assert (run.tolerance_m, run.attach_m, run.bridge_reach_m, run.access_m) == (5.0, 500.0, 50.0, 2000.0)
    assert run.stage_threshold == "completed"
    assert (run.base_roads, run.works_built, run.proposals, run.communes, run.components) == (2, 1, 2, 1, 1)
    assert run.started_at <= run.finished_at and run.duration_ms >= 0
    assert not run.has_demo


def test_each_village_gets_its_link_path_length_and_hardened_share(run):
    v1, v2, v3, v4 = (_village(run, code) for code in ("V1", "V2", "V3", "V4"))

    assert (v1.status, v1.path_m, v1.hardened_share, v1.path_all_season) == ("hardened", pytest.approx(1000, abs=0.01),
                                                                           1.0, True)
    assert (v2.status, v2.path_m, v2.hardened_share, v2.path_all_season) == ("unhardened", pytest.approx(2000, abs=0.01),
                                                                           0.5, False)
    assert (v3.status, v3.path_m, v3.attach_m) == ("none", None, None)  # 3 km from anything built
    assert (v4.status, v4.path_m) == ("hardened", pytest.approx(1500, abs=0.01))  # over the completed work W
    assert v1.attach_m == pytest.approx(0, abs=0.01)
    assert v2.path.srid == 4326 and v2.path.geom_type == "MultiLineString"


def test_the_commune_and_the_area_get_their_indicators(run):
    commune = CommuneResult.objects.get(run=run)

    for row in (commune, run):
        assert (row.villages, row.villages_connected, row.villages_hardened) == (4, 3, 2)
        assert (row.people, row.people_not_connected) == (1000, 400)
        assert (row.poor_households, row.poor_households_not_connected) == (100, 40)
        assert row.people_near_all_season == 600  # V1, V2 (1 km from road A) and V4; not V3
        assert row.rural_access_index == pytest.approx(0.6)
    assert commune.centre_attach_m == pytest.approx(0, abs=0.01)


def test_proposals_are_weighed_one_by_one_and_together(run, drawn):
    p = ProposalGain.objects.get(run=run, work=drawn["works"]["P"])
    h = ProposalGain.objects.get(run=run, work=drawn["works"]["H"])
    together = ProposalGain.objects.get(run=run, work__isnull=True)

    assert (p.rank, p.villages, p.people, p.poor_households) == (1, 1, 400, 40)
    assert (p.villages_hardened, p.people_hardened, p.people_near_all_season) == (1, 400, 400)
    assert p.people_per_million == pytest.approx(0.2)  # 400 people for 2,000 million VND
    assert (h.rank, h.villages, h.people) == (2, 0, 0)
    assert sorted(together.work_ids) == sorted([drawn["works"]["P"].pk, drawn["works"]["H"].pk])
    assert (together.villages, together.people, together.investment, together.rank) == (1, 400, 2_500_000_000, None)


def test_a_lower_threshold_counts_the_approved_proposal_as_built(drawn):
    run = run_compute(threshold="approved")

    assert _village(run, "V3").status == "hardened"
    assert run.proposals == 1  # only H, at "proposed", is still a proposal


def test_bad_inputs_are_refused_before_anything_is_written(drawn):
    with pytest.raises(ValidationError):
        run_compute(threshold="cancelled")
    with pytest.raises(ValidationError):
        run_compute(tolerance_m=-1)
    with pytest.raises(CommandError):
        call_command("connectivity", "--together", "999999", verbosity=0)
    assert not Run.objects.exists()


def test_a_chosen_set_of_proposals_is_stored(drawn):
    p = drawn["works"]["P"]
    call_command("connectivity", "--together", str(p.pk), verbosity=0)

    assert ProposalGain.objects.filter(work=p).count() == 1  # the one-work set is the single proposal itself


def test_old_runs_are_pruned(drawn):
    for _ in range(3):
        run_compute()
    assert runs_prune(keep=1) == 2
    assert Run.objects.count() == 1


def test_the_map_can_read_each_villages_status(run, drawn):
    ids = {code: v.pk for code, v in drawn["villages"].items()}

    statuses = village_link_status()

    assert statuses == {ids["V1"]: "hardened", ids["V2"]: "unhardened", ids["V3"]: "none", ids["V4"]: "hardened"}
    join, status = village_link_join(village_alias="t")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.id, {status} FROM geo_village t {join} ORDER BY t.id")
        assert dict(cursor.fetchall()) == statuses


def test_the_api_answers_404_before_the_first_run(drawn):
    response = Client().get("/api/connectivity/")

    assert response.status_code == 404


def test_the_public_sees_indicators_and_only_published_proposals(run, drawn):
    data = Client().get("/api/connectivity/").json()

    assert data["area"]["villages_connected"] == 3 and data["area"]["rural_access_index"] == 0.6
    assert data["run"]["inputs"]["tolerance_m"] == 5.0
    assert [c["share_hardened"] for c in data["communes"]] == [0.5]
    assert {v["code"]: v["status"] for v in data["villages"]} == {"V1": "hardened", "V2": "unhardened", "V3": "none",
                                                                   "V4": "hardened"}
    # H is only "proposed": the public may not see it, nor a set that includes it.
    assert [g["work"]["code"] for g in data["proposals"]] == ["P"]
    assert data["sets"] == []


def test_the_board_sees_every_proposal(run, drawn):
    client = Client()
    client.force_login(user_with_role(Role.BOARD))

    data = client.get("/api/connectivity/").json()

    assert [g["work"]["code"] for g in data["proposals"]] == ["P", "H"]
    assert len(data["sets"]) == 1 and data["sets"][0]["people"] == 400


def test_village_paths_come_as_geojson(run):
    response = Client().get("/api/connectivity/villages/?limit=2")

    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    data = response.json()
    assert data["numberMatched"] == 4 and data["numberReturned"] == 2
    assert Client().get("/api/connectivity/villages/?limit=0").status_code == 400


def test_the_page_shows_communes_villages_and_proposals(run, english):
    # Pages speak Vietnamese unless English is chosen with the language switch (a cookie).
    client = Client()
    client.cookies["django_language"] = "en"
    page = client.get("/connectivity/").content.decode()

    assert "Phong Thổ" in page and "Bản V2" in page
    assert "connected by an unhardened road" in page and "60.0 %" in page
    assert ">P<" in page and ">H<" not in page


def test_the_page_says_when_nothing_was_computed(drawn, english):
    response = Client().get("/connectivity/")

    assert response.status_code == 200
    assert b"manage.py connectivity" in response.content
