"""Export → import gives the works back: codes, attributes, geometry within 1e-7°."""
from __future__ import annotations

import pytest

from infra.interchange.exports import export_write
from infra.interchange.filters import filters_parse
from infra.interchange.imports.services import works_import
from infra.works.models import StageEvent, Work

pytestmark = pytest.mark.django_db

FIELDS = ["name", "category", "stage", "approved_year", "total_investment", "description", "school_level", "water_source",
          "road_class", "road_surface", "all_season", "beneficiary_households", "beneficiary_poor_households",
          "beneficiary_women", "special_mechanism", "contractor_id", "approved_commune_id", "current_commune_id",
          "planned_start", "planned_end", "actual_start", "actual_end", "progress", "is_demo"]
FILES = {"csv": "works.csv", "xlsx": "works.xlsx", "geojson": "works.geojson", "gpkg": "works.gpkg",
         "shp": "works-shapefiles.zip", "kml": "works.kml"}


def _snapshot() -> dict[str, dict]:
    return {w.code: {**{f: getattr(w, f) for f in FIELDS}, "geometry": w.geometry} for w in Work.objects.all()}


def _export_and_import_again(fmt: str, board, tmp_path) -> None:
    """Export every work in `fmt`, delete them, and import the file."""
    path = tmp_path / FILES[fmt]
    with path.open("wb") as out:
        export_write(fmt=fmt, out=out, user=board, filters=filters_parse({}), base_url="http://testserver/")
    StageEvent.objects.all().delete()
    Work.objects.all().delete()
    report = works_import(user=board, path=path, name=path.name, dry_run=False)
    assert report.committed, [(r.code, r.reasons) for r in report.refused]


@pytest.mark.parametrize("fmt", list(FILES))
def test_export_then_import_reproduces_the_works(fmt, works_only, board, tmp_path):
    # given: the works, exported
    before = _snapshot()
    # when: the file is imported, into a register without them
    _export_and_import_again(fmt, board, tmp_path)
    # then: the same works, field for field
    after = _snapshot()
    assert sorted(after) == sorted(before)
    for code, old in before.items():
        new = after[code]
        for name in FIELDS:
            assert new[name] == old[name], (fmt, code, name, old[name], new[name])
        assert new["geometry"].geom_type == old["geometry"].geom_type, (fmt, code)
        # A shapefile stores outer rings clockwise: compare in GEOS's normal form (same shape, same vertices).
        assert new["geometry"].normalize(clone=True).equals_exact(old["geometry"].normalize(clone=True), tolerance=1e-7), \
            (fmt, code, new["geometry"].wkt)


@pytest.mark.parametrize("fmt", list(FILES))
def test_a_text_that_starts_with_an_apostrophe_comes_back_as_it_was(fmt, works_only, board, tmp_path):
    # GeoJSON, KML, GeoPackage and Shapefile hold text as it is; the import took their leading apostrophe for the
    # CSV's escape, so "'=A1" came back "=A1". CSV and workbooks escape it, and give it back whole.
    names = {"PT-005": "'=A1 bản Mới", "PT-001": "'Trạm y tế"}
    for code, name in names.items():
        Work.objects.filter(code=code).update(name=name)
    _export_and_import_again(fmt, board, tmp_path)
    assert {code: Work.objects.get(code=code).name for code in names} == names
