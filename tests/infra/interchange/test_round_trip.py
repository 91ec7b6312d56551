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


@pytest.mark.parametrize("fmt", list(FILES))
def test_export_then_import_reproduces_the_works(fmt, works_only, board, tmp_path):
    # given: the works, exported
    before = _snapshot()
    path = tmp_path / FILES[fmt]
    with path.open("wb") as out:
        export_write(fmt=fmt, out=out, user=board, filters=filters_parse({}), base_url="http://testserver/")
    StageEvent.objects.all().delete()
    Work.objects.all().delete()
    # when: the file is imported
    report = works_import(user=board, path=path, name=path.name, dry_run=False)
    # then: the same works, field for field
    assert report.committed, [(r.code, r.reasons) for r in report.refused]
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
