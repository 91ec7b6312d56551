"""VN-2000 files land where the EPSG definitions put them, checked against PROJ run on its own."""
from __future__ import annotations

import subprocess

import pytest
from django.core.exceptions import ValidationError

from infra.interchange.crs import crs_check
from infra.interchange.imports.services import works_import
from infra.works.models import Work

pytestmark = pytest.mark.django_db

# Known points near the commune seat of xã Phong Thổ, in VN-2000 / TM-3 103-00 (EPSG:9205), metres.
TM3_POINTS = {"VN-1": (536834.725, 2492389.424), "VN-2": (537912.5, 2493001.75), "VN-3": (535120.0, 2491500.0)}


def _proj(points: list[tuple[float, float]], source: int) -> list[tuple[float, float]]:
    """Transform with GDAL/PROJ's command-line tool, outside this process and outside our code."""
    text = "".join(f"{x!r} {y!r}\n" for x, y in points)
    result = subprocess.run(["gdaltransform", "-s_srs", f"EPSG:{source}", "-t_srs", "EPSG:4326", "-output_xy"],
                            input=text, capture_output=True, text=True, check=True)
    return [tuple(float(v) for v in line.split()[:2]) for line in result.stdout.splitlines() if line.strip()]


def test_tm3_csv_points_land_where_proj_puts_them(reference, board, tmp_path):
    path = tmp_path / "survey.csv"
    lines = ['Mã công trình,Tên công trình,Loại công trình,Năm kế hoạch,"X (Đông, m)","Y (Bắc, m)"']
    lines += [f"{code},Điểm đo {code},health,2026,{x},{y}" for code, (x, y) in TM3_POINTS.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = works_import(user=board, path=path, name=path.name, crs=9205, dry_run=False)
    assert report.committed, [(r.code, r.reasons) for r in report.refused]
    expected = dict(zip(TM3_POINTS, _proj(list(TM3_POINTS.values()), 9205), strict=True))
    for code, (lon, lat) in expected.items():
        point = Work.objects.get(code=code).geometry
        assert point.x == pytest.approx(lon, abs=1e-8) and point.y == pytest.approx(lat, abs=1e-8)
        assert 103.0 < point.x < 103.5 and 22.4 < point.y < 22.7  # Phong Thổ, not the sea off Africa


def test_geopackage_in_tm3_is_read_with_its_own_epsg_code(reference, board, tmp_path):
    source = tmp_path / "points.csv"
    source.write_text("code,name,category,approved_year,wkt\n" + "".join(
        f'{code},Điểm {code},health,2026,"POINT ({x} {y})"\n' for code, (x, y) in TM3_POINTS.items()), encoding="utf-8")
    gpkg = tmp_path / "survey.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(source), "-oo", "GEOM_POSSIBLE_NAMES=wkt",
                    "-oo", "KEEP_GEOM_COLUMNS=NO", "-a_srs", "EPSG:9205", "-nln", "survey"], check=True)
    report = works_import(user=board, path=gpkg, name=gpkg.name, dry_run=False)
    assert report.crs == 9205 and report.committed, [(r.code, r.reasons) for r in report.refused]
    expected = dict(zip(TM3_POINTS, _proj(list(TM3_POINTS.values()), 9205), strict=True))
    for code, (lon, lat) in expected.items():
        point = Work.objects.get(code=code).geometry
        assert point.x == pytest.approx(lon, abs=1e-8) and point.y == pytest.approx(lat, abs=1e-8)


def _shapefile_zip(tmp_path, rows: str, *, srs: int, prj: bool = True):
    """A zipped Shapefile made by ogr2ogr from CSV rows (code, name, category, year, wkt) in EPSG `srs`."""
    import zipfile

    source = tmp_path / "p.csv"
    source.write_text(f"code,name,category,year,wkt\n{rows}", encoding="utf-8")
    folder = tmp_path / "shp"
    folder.mkdir()
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(folder / "survey.shp"), str(source), "-oo",
                    "GEOM_POSSIBLE_NAMES=wkt", "-oo", "KEEP_GEOM_COLUMNS=NO", "-a_srs", f"EPSG:{srs}"], check=True)
    archive = tmp_path / "survey.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in folder.iterdir():
            if prj or part.suffix != ".prj":
                z.write(part, arcname=part.name)
    return archive


def test_shapefile_prj_of_vn2000_utm48_is_recognised(reference, board, tmp_path):
    lonlat = (103.36, 22.53)
    utm = subprocess.run(["gdaltransform", "-s_srs", "EPSG:4326", "-t_srs", "EPSG:3405", "-output_xy"],
                         input=f"{lonlat[0]} {lonlat[1]}\n", capture_output=True, text=True, check=True).stdout.split()
    archive = _shapefile_zip(tmp_path, f'U-1,Điểm UTM,health,2026,"POINT ({utm[0]} {utm[1]})"\n', srs=3405)
    report = works_import(user=board, path=archive, name=archive.name, dry_run=False)
    assert report.crs == 3405 and report.committed, [(r.code, r.reasons) for r in report.refused]
    (lon, lat), = _proj([(float(utm[0]), float(utm[1]))], 3405)
    point = Work.objects.get(code="U-1").geometry
    assert point.x == pytest.approx(lon, abs=1e-8) and point.y == pytest.approx(lat, abs=1e-8)


@pytest.mark.parametrize("value", ["EPSG:3857", "32648", "+proj=longlat +nadgrids=@http://x", "4326; DROP", "", "9205.0"])
def test_only_allow_listed_integer_codes_are_accepted(value):
    with pytest.raises(ValidationError):
        crs_check(value)


def test_allow_listed_codes_pass():
    assert [crs_check(v) for v in ("4326", 4756, "EPSG:9205", " 3405 ")] == [4326, 4756, 9205, 3405]



def test_a_shapefile_without_its_prj_is_refused_until_a_system_is_chosen(reference, board, tmp_path):
    # Degrees inside the province may be WGS84 or VN-2000 (about 200 m apart): nothing is guessed.
    archive = _shapefile_zip(tmp_path, 'P-1,Điểm,health,2026,"POINT (103.36 22.53)"\n', srs=4326, prj=False)
    with pytest.raises(ValidationError, match=r"\.prj"):
        works_import(user=board, path=archive, name=archive.name, dry_run=True)
    report = works_import(user=board, path=archive, name=archive.name, crs=4756, dry_run=True)
    assert report.crs == 4756 and report.ok, [(r.code, r.reasons) for r in report.refused]


def test_coordinates_that_disagree_with_the_chosen_system_are_refused(reference, board, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("code,name,category,year,lon,lat,wkt\n"
                    'E-1,Điểm,health,2026,,,"SRID=4756;POINT (103.36 22.53)"\n'  # the EWKT's own SRID against 4326
                    'E-2,Điểm,health,2026,,,"SRID=4326;POINT (103.36 22.53)"\n'
                    "E-3,Điểm,health,2026,103.36,22.53,\n", encoding="utf-8")
    verdicts = {r.code: r for r in works_import(user=board, path=path, name=path.name, dry_run=True).rows}
    assert "SRID 4756" in " ".join(verdicts["E-1"].reasons) and verdicts["E-2"].accepted and verdicts["E-3"].accepted
    # Longitude and latitude under a projected system were taken as WGS84 without a word: now refused.
    report = works_import(user=board, path=path, name=path.name, crs=9205, dry_run=True)
    assert "X/Y" in " ".join({r.code: r for r in report.rows}["E-3"].reasons)
