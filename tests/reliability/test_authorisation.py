"""Promise 2: the authorisation matrix. Every role × two communes × every endpoint family × method:
other communes' private rows (proposed works, internal notes) never appear, and refused writes
change nothing (a checksum of the works, money and history tables before and after)."""
from __future__ import annotations

import json
from datetime import date

import pytest

from infra.finance.models import Allocation, CapitalKind, CapitalPlan, ProgrammeNode
from tests.infra.api.register import PHONG_THO, SI_LO_LAU
from tests.reliability.conftest import FIGURES, tables_checksum
from tests.reliability.matrix import HIDDEN, HIDDEN_WORKS, ROLES, body_of, leaks, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CODES = ("A-1", "R-1", "S-1", "B-1", "Q-1", "P-1", "P-2")

# Each family: URL templates; {id} is filled with every work of the register.
FAMILIES = {
    "pages": ["/", "/works/{id}/", "/works/{id}/history/", "/dashboard/", "/connectivity/", "/works/map.html", "/imports/",
              "/exports/"],
    "maintenance": ["/maintenance/", "/maintenance/works/{id}/", "/maintenance/layer.geojson", "/maintenance/calendar.ics",
                    "/maintenance/plan.xlsx"],
    "admin": ["/admin/", "/admin/works/work/", "/admin/works/work/{id}/change/", "/admin/works/work/{id}/history/",
              "/admin/works/stageevent/", "/admin/finance/allocation/", "/admin/finance/disbursement/",
              "/admin/maintenance/inspection/", "/admin/maintenance/schedule/", "/admin/works/document/"],
    "api": ["/api/works/", "/api/works/{id}/", "/api/works/?stage=proposed", "/api/works/?search=Lò",
            "/api/works/?format=json&ordering=-name", "/api/allocations/", "/api/disbursements/", "/api/schema/?format=json",
            "/api/connectivity/"],
    "layers": ["/layers/works.geojson", "/layers/communes.geojson", "/layers/villages.geojson", "/layers/links.geojson",
               "/layers/roads.geojson", "/layers/centres.geojson", "/layers/districts.geojson"],
    "ogc": ["/ogc/", "/ogc/collections", "/ogc/collections/works", "/ogc/collections/works/items?limit=1000",
            "/ogc/collections/works/items/{id}", "/ogc/collections/works/items?f=json&limit=1000&bbox=103,22,104,23",
            "/tiles/works/8/201/111.mvt", "/tiles/works/10/805/446.mvt", "/tiles/works/10/805/445.mvt"],
    "exports": ["/exports/csv", "/exports/xlsx", "/exports/geojson", "/exports/gpkg", "/exports/shp", "/exports/kml",
                "/exports/oc4ids.json", "/exports/audit-bundle.zip", "/exports/csv?stage=proposed"],
}


def _urls(family, register):
    for template in FAMILIES[family]:
        if "{id}" in template:
            for code in CODES:
                yield code, template.format(id=register[code].pk)
        else:
            yield None, template


# Roles that see everything have nothing to leak: their reads (5xx only) run in the slow part.
READ_ROLES = [pytest.param(role, marks=pytest.mark.slow) if not HIDDEN[role] else role for role in ROLES]


@pytest.mark.parametrize("role", READ_ROLES)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_reads_never_show_other_communes_private_rows(client, register, family, role):
    login(client, role)
    problems = []
    for code, url in _urls(family, register):
        response = client.get(url)
        FIGURES["authorisation requests"] += 1
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
            continue
        if code in HIDDEN_WORKS[role] and response.status_code == 200:
            problems.append(f"{url}: {code} reachable (200)")
        found = leaks(body_of(response), HIDDEN[role])
        if found:
            problems.append(f"{url}: shows {found}")
    assert not problems, problems


def test_the_scanner_sees_private_rows_where_they_are_allowed(client, register):
    """Positive control: the board sees the markers, so their absence elsewhere means something."""
    login(client, "board")
    from django.db import connection

    urls = ["/api/works/", "/exports/csv", "/exports/xlsx", "/layers/works.geojson", "/exports/kml",
            "/ogc/collections/works/items?limit=1000"]
    if connection.vendor == "postgresql":  # vector tiles are built by ST_AsMVT
        urls.append("/tiles/works/10/805/446.mvt")
    for url in urls:
        assert leaks(body_of(client.get(url)), HIDDEN["public"]), url


# --- writes -------------------------------------------------------------------------------

def _patch(client, work, body):
    return client.patch(f"/api/works/{work.pk}/", data=json.dumps(body), content_type="application/json",
                        HTTP_IF_MATCH=f'"{work.version}"')


def _stage(client, work):
    return client.post(f"/api/works/{work.pk}/stage/", data=json.dumps({"to_stage": "approved", "occurred_on": "2024-04-01"}),
                       content_type="application/json", HTTP_IF_MATCH=f'"{work.version}"')


def _allocate(client, work):
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT, source="central")
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    return client.post("/api/allocations/", data=json.dumps({
        "capital_plan": plan.pk, "programme_line": line.pk, "work": work.pk, "amount": 1_000_000,
        "allocated_on": "2024-05-01"}), content_type="application/json")


def _pay(client, work):
    allocation = Allocation.objects.filter(work=work).first() or Allocation.objects.first()
    return client.post("/api/disbursements/", data=json.dumps({
        "allocation": allocation.pk, "amount": 1_000, "paid_on": "2024-05-02", "voucher_number": "PC-M"}),
        content_type="application/json")


def _create(client, where):
    x, y = where
    return client.post("/api/works/", data=json.dumps({
        "code": f"NEW-{x}", "name": "Công trình mới", "category": "culture", "approved_year": 2025,
        "geometry": {"type": "Point", "coordinates": [x + 0.001, y + 0.001]}}), content_type="application/json")


def _admin_change(client, work):
    return client.post(f"/admin/works/work/{work.pk}/change/", {"name": "Đổi tên qua admin", "_save": "1"})


OPS = {
    "patch-name": lambda c, w: _patch(c, w, {"name": "Tên mới"}),
    "patch-notes": lambda c, w: _patch(c, w, {"internal_notes": "ghi đè"}),
    "patch-progress": lambda c, w: _patch(c, w, {"progress": 55}),
    "stage": _stage,
    "allocation": _allocate,
    "disbursement": _pay,
    "admin-change": _admin_change,
}
# Who may do what to which work (A-1 approved and R-1 under construction in Phong Thổ,
# S-1 designed in Sì Lở Lầu, P-1 / P-2 proposed in each).
def _allowed(role, op, code):
    if role == "board":
        # The admin form needs every field (refused as invalid, nothing written); money goes to approved works only.
        return op != "admin-change" and not (op == "allocation" and code.startswith("P-"))
    if role == "officer-pt" and op == "patch-progress" and code == "R-1":
        return True
    return False


WRITE_CASES = [(role, op, code) for role in ROLES for op in OPS
               for code in (("R-1", "S-1", "P-2") if op != "stage" else ("P-1", "P-2"))
               if not (op == "patch-progress" and code not in ("R-1",))]


def _one_write(client, register, role, op, code) -> str | None:
    """Try one write; return what went wrong, if anything."""
    work = register[code]
    work.refresh_from_db()
    before = tables_checksum()
    response = OPS[op](client, work)
    FIGURES["authorisation writes tried"] += 1
    if response.status_code >= 500:
        return f"{op} {code}: {response.status_code}"
    if _allowed(role, op, code):
        if not 200 <= response.status_code < 300 or tables_checksum() == before:
            return f"{op} {code}: should be allowed, got {response.status_code} {response.content[:300]!r}"
        return None
    if response.status_code < 300 and not (op == "admin-change" and response.status_code == 200):
        return f"{op} {code}: should be refused, got {response.status_code}"
    if tables_checksum() != before:
        return f"{op} {code}: refused ({response.status_code}) but the tables changed"
    FIGURES["refused writes with checksum unchanged"] += 1
    return None


@pytest.mark.parametrize("role", ROLES)
def test_writes_are_allowed_exactly_as_the_policy_says_and_refusals_change_nothing(client, register, role):
    """Every write operation × work of both communes, each in a savepoint rolled back afterwards."""
    from django.db import transaction

    login(client, role)
    problems = []
    for _role, op, code in (case for case in WRITE_CASES if case[0] == role):
        savepoint = transaction.savepoint()
        try:
            problem = _one_write(client, register, role, op, code)
        finally:
            transaction.savepoint_rollback(savepoint)
        if problem:
            problems.append(problem)
    assert not problems, problems


CREATE_CASES = [(role, where) for role in ROLES for where in ("pt", "sll")]


@pytest.mark.parametrize("role,where", CREATE_CASES)
def test_creating_works_follows_the_policy(client, register, role, where):
    login(client, role)
    before = tables_checksum()
    response = _create(client, PHONG_THO if where == "pt" else SI_LO_LAU)
    FIGURES["authorisation writes tried"] += 1
    allowed = role == "board" or (role == "officer-pt" and where == "pt") or (role == "officer-sll" and where == "sll")
    if allowed:
        assert response.status_code == 201, response.content[:500]
    else:
        assert 400 <= response.status_code < 500, response.content[:500]
        assert tables_checksum() == before
        FIGURES["refused writes with checksum unchanged"] += 1
