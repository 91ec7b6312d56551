"""The real reference geography: both vintages, successions, aliases, and an idempotent loader."""
from __future__ import annotations

import csv
import json
import shutil
import time
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import F

from gis.models import AdminUnit, AdminUnitLevel, AdminUnitSuccession, BaseRoad
from gis.reference import FORMER_VALID_TO, load_geography
from infra.accounts.models import Organisation
from infra.finance.models import CapitalDecision, CapitalPlan, ProgrammeNode
from infra.finance.reference import load_plan_245

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
REFERENCE_MODELS = (AdminUnit, AdminUnitSuccession, BaseRoad, Organisation, ProgrammeNode, CapitalDecision, CapitalPlan)


def _snapshot() -> dict[str, list[tuple]]:
    """Every field of every reference row, geometries as hex WKB, so any change shows."""
    snapshot = {}
    for model in REFERENCE_MODELS:
        fields = [field.attname for field in model._meta.concrete_fields]
        rows = []
        for obj in model.objects.order_by("pk"):
            values = []
            for name in fields:
                value = getattr(obj, name)
                values.append(value.hexewkb if hasattr(value, "hexewkb") else value)
            rows.append(tuple(values))
        snapshot[model.__name__] = rows
    return snapshot


def _history_counts() -> dict[str, int]:
    return {model.__name__: model.history.count() for model in REFERENCE_MODELS if hasattr(model, "history")}


def _former_phong_tho_rows() -> list[dict[str, str]]:
    with (FIXTURES / "geo" / "lai_chau_admin_units_old_to_new_2025.csv").open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["old_district_code"] == "109"]


def _commune(code: str, *, on: date) -> AdminUnit:
    return AdminUnit.objects.valid_on(on).get(level=AdminUnitLevel.COMMUNE, code=code)


def test_loading_again_changes_no_row_and_writes_no_history(reference):
    # given
    before, history_before = _snapshot(), _history_counts()
    # when
    geography = load_geography(fixtures_dir=FIXTURES)
    plan = load_plan_245(fixtures_dir=FIXTURES)
    # then
    assert _snapshot() == before
    assert _history_counts() == history_before
    assert geography["created"] == geography["updated"] == 0
    assert plan["created"] == plan["updated"] == 0
    assert all(len(rows) > 0 for rows in before.values())


def test_loading_restores_an_edited_row_with_one_history_row(reference):
    unit = AdminUnit.objects.current().get(level=AdminUnitLevel.COMMUNE, code="03562")
    name = unit.name
    unit.name = "Sì Lở Lầu (edited)"
    unit.save()
    history_before = AdminUnit.history.count()

    counts = load_geography(fixtures_dir=FIXTURES)

    unit.refresh_from_db()
    assert unit.name == name
    assert counts["updated"] == 1
    assert AdminUnit.history.count() == history_before + 1


def test_second_load_is_fast(reference):
    started = time.perf_counter()
    load_geography(fixtures_dir=FIXTURES)
    assert time.perf_counter() - started < 3


def test_thirty_eight_current_communes_of_lai_chau(reference):
    current = AdminUnit.objects.current().filter(level=AdminUnitLevel.COMMUNE)
    assert current.count() == 38
    assert set(current.values_list("unit_type", flat=True)) == {"Xã", "Phường"}
    assert current.filter(unit_type="Phường").count() == 2
    province = AdminUnit.objects.get(level=AdminUnitLevel.PROVINCE, code="12")
    assert set(current.values_list("parent", flat=True)) == {province.pk}
    assert not current.filter(boundary__isnull=True).exists()
    assert not current.filter(centre__isnull=True).exists()


def test_seventeen_former_phong_tho_units_each_succeeded_once(reference):
    rows = _former_phong_tho_rows()
    former = AdminUnit.objects.filter(level=AdminUnitLevel.COMMUNE, valid_to=FORMER_VALID_TO, parent__code="109")
    assert former.count() == len(rows) == 17
    assert former.filter(unit_type="Thị trấn").count() == 1
    for row in rows:
        unit = former.get(code=row["old_code"])
        (succession,) = unit.successions.all()
        assert succession.successor.code == row["new_code"]
        assert succession.successor.valid_to is None
        assert succession.effective_on == date(2025, 7, 1)
        assert "1670/NQ-UBTVQH15" in succession.legal_basis


@pytest.mark.parametrize(
    ("former_name", "successor_name"),
    [("Vàng Ma Chải", "Sì Lở Lầu"), ("Lả Nhì Thàng", "Đoàn Kết"), ("Tông Qua Lìn", "Dào San"), ("Nậm Xe", "Sin Suối Hồ")],
)
def test_former_commune_has_its_successor(reference, former_name, successor_name):
    former = AdminUnit.objects.get(level=AdminUnitLevel.COMMUNE, name=former_name, valid_to=FORMER_VALID_TO)
    assert [s.successor.name for s in former.successions.all()] == [successor_name]


def test_a_reused_code_resolves_to_two_units_by_vintage(reference):
    old = _commune("03562", on=date(2022, 1, 1))
    new = _commune("03562", on=date(2026, 1, 1))
    assert old.pk != new.pk
    assert (old.name, new.name) == ("Vàng Ma Chải", "Sì Lở Lầu")
    assert AdminUnitSuccession.objects.filter(predecessor=old, successor=new).exists()


def test_valid_on_gives_the_units_of_each_vintage(reference):
    communes = AdminUnit.objects.filter(level=AdminUnitLevel.COMMUNE)
    in_2022 = set(communes.valid_on(date(2022, 1, 1)).values_list("code", flat=True))
    in_2026 = communes.valid_on(date(2026, 1, 1))
    assert in_2022 == {row["old_code"] for row in _former_phong_tho_rows()}
    assert in_2026.count() == 38
    assert not in_2026.filter(valid_to__isnull=False).exists()
    assert AdminUnit.objects.valid_on(date(2022, 1, 1)).filter(level=AdminUnitLevel.DISTRICT, code="109").exists()
    assert not AdminUnit.objects.valid_on(date(2026, 1, 1)).filter(level=AdminUnitLevel.DISTRICT).exists()


@pytest.mark.parametrize(
    ("alias", "name"), [("Tung Qua Lìn", "Tông Qua Lìn"), ("Ma Li Pho", "Ma Ly Pho"), ("Lản Nhì Thàng", "Lả Nhì Thàng")]
)
def test_known_spelling_variants_are_searchable_as_aliases(reference, alias, name):
    found = [unit for unit in AdminUnit.objects.filter(level=AdminUnitLevel.COMMUNE) if alias in unit.aliases]
    assert [unit.name for unit in found] == [name]
    assert found[0].valid_to == FORMER_VALID_TO


def test_every_current_centre_lies_inside_its_boundary(reference):
    current = AdminUnit.objects.current().filter(level=AdminUnitLevel.COMMUNE)
    assert current.filter(centre__within=F("boundary")).count() == current.count() == 38


def test_boundaries_are_valid_multipolygons(reference):
    with_boundary = AdminUnit.objects.filter(boundary__isnull=False)
    assert with_boundary.count() == 40  # province, former district, 38 current units
    assert not with_boundary.filter(boundary__isvalid=False).exists()
    assert {unit.boundary.geom_type for unit in with_boundary} == {"MultiPolygon"}


def test_text_is_nfc(reference):
    for unit in AdminUnit.objects.all():
        for text in [unit.name, unit.unit_type, unit.centre_address, *unit.aliases]:
            assert unicodedata.is_normalized("NFC", text)


def test_base_roads_have_stable_unique_codes_and_classes(reference):
    roads = BaseRoad.objects.all()
    assert roads.count() == 6
    assert set(roads.values_list("road_class", flat=True)) == {"national", "provincial"}
    assert roads.get(code="QL12-196").geometry.geom_type == "MultiLineString"
    assert all("CC BY-SA 4.0" in road.source for road in roads)
    assert not roads.filter(is_demo=True).exists()


def test_an_invalid_polygon_is_repaired_not_dropped(reference, tmp_path):
    # given a copy of the fixtures where one commune is a self-intersecting "bow tie"
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    path = tmp_path / "fixtures" / "geo" / "lai_chau_communes_2025.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    feature = next(f for f in data["features"] if f["properties"]["code"] == "03549")
    x, y = feature["properties"]["admin_center_lon"], feature["properties"]["admin_center_lat"]
    bow_tie = [[x - 0.01, y - 0.01], [x + 0.01, y + 0.01], [x + 0.01, y - 0.01], [x - 0.01, y + 0.01], [x - 0.01, y - 0.01]]
    feature["geometry"] = {"type": "Polygon", "coordinates": [bow_tie]}
    path.write_text(json.dumps(data), encoding="utf-8")

    # when
    counts = load_geography(fixtures_dir=tmp_path / "fixtures")

    # then
    unit = AdminUnit.objects.current().get(level=AdminUnitLevel.COMMUNE, code="03549")
    assert counts["repaired_boundaries"] == 1
    assert unit.boundary.valid
    assert unit.boundary.geom_type == "MultiPolygon"
    assert len(unit.boundary) == 2
