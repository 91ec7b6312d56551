"""The bad-file corpus: each refused with its own message, and nothing written."""
from __future__ import annotations

import io
import sqlite3
import stat
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from infra.interchange.imports.services import works_import
from tests.infra.interchange.conftest import tables_checksum

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

POINT_CSV = "code,name,category,approved_year,lon,lat\nH-1,Trạm,health,2026,103.36,22.53\n"


def _zip(path: Path, members: dict[str, bytes], *, link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def _shapefile_parts(stem: str = "works") -> dict[str, bytes]:
    return {f"{stem}.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96, f"{stem}.shx": b"\x00" * 100,
            f"{stem}.dbf": b"\x03" + b"\x00" * 40}


def _gpkg_with(tmp_path: Path, sql: str) -> Path:
    path = tmp_path / "evil.gpkg"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 1196444487")  # "GPKG"
        db.execute("CREATE TABLE gpkg_contents (table_name TEXT)")
        db.execute(sql)
    return path


CORPUS = {
    "zip bomb": (lambda t: _zip(t / "bomb.zip", {**_shapefile_parts(), "works.cpg": b"\x00" * (60 * 1024 * 1024)}),
                 "zip bomb"),
    "zip slip": (lambda t: _zip(t / "slip.zip", {**_shapefile_parts(), "../../../tmp/evil.shp": b"x"}), "unsafe path"),
    "absolute member": (lambda t: _zip(t / "abs.zip", {**_shapefile_parts(), "/etc/cron.d/x.dbf": b"x"}), "unsafe path"),
    "symlink member": (lambda t: _zip(t / "link.zip", _shapefile_parts(), link="works.prj"), "link"),
    "vrt in a zip": (lambda t: _zip(t / "vrt.zip", {**_shapefile_parts(), "works.vrt": b"<OGRVRTDataSource/>"}),
                     ".shp, .shx, .dbf"),
    "vsi member name": (lambda t: _zip(t / "vsi.zip", {**_shapefile_parts(), "x/vsicurl/a.dbf": b"x"}), "unsafe path"),
    "vsicurl in a shapefile part": (lambda t: _zip(t / "vsi2.zip", {**_shapefile_parts(), "works.cpg": b"/vsicurl/http://x"}),
                                    "/vsi"),
    "kml external entity": (lambda t: _write(t / "xxe.kml", '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM '
                                             '"file:///etc/passwd">]><kml><Placemark><name>&x;</name></Placemark></kml>'),
                            "DOCTYPE"),
    "billion laughs": (lambda t: _write(t / "lol.kml", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                                        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                                        "<kml><Document><name>&lol2;</name></Document></kml>"), "billion laughs"),
    "vrt file": (lambda t: _write(t / "layer.vrt", "<OGRVRTDataSource/>"), ".vrt"),
    "vrt content as kml": (lambda t: _write(t / "works.kml", '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>'
                                            "/vsicurl/http://example.invalid/x.shp</SrcDataSource></OGRVRTLayer>"
                                            "</OGRVRTDataSource>"), "VRT"),
    "vsicurl in a csv": (lambda t: _write(t / "works.csv", POINT_CSV + 'H-2,x,health,2026,"/vsicurl/http://x",1\n'), "/vsi"),
    "csv named gpkg": (lambda t: _write(t / "works.gpkg", POINT_CSV), "does not match"),
    "png named xlsx": (lambda t: _bytes(t / "works.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "does not match"),
    "zip named csv": (lambda t: _zip(t / "works.csv", {"a.txt": b"x"}), "does not match"),
    "text named zip": (lambda t: _write(t / "works.zip", POINT_CSV), "does not match"),
    "json named kml": (lambda t: _write(t / "works.kml", '{"type": "FeatureCollection"}'), "does not match"),
    "program": (lambda t: _bytes(t / "setup.exe", b"MZ" + b"\x00" * 64), "not accepted"),
    "empty": (lambda t: _bytes(t / "works.csv", b""), "empty"),
    "oversized": (lambda t: _bytes(t / "works.csv", b"a" * (21 * 1024 * 1024)), "larger than"),
    "gpkg loading an extension": (lambda t: _gpkg_with(t, "CREATE VIEW works AS SELECT load_extension('/tmp/x.so')"),
                                  "extensions"),
    "sqlite that is not a geopackage": (lambda t: _sqlite(t / "plain.gpkg"), "does not match"),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    return path


@pytest.mark.parametrize("case", list(CORPUS))
def test_hostile_file_is_refused_with_its_message_and_nothing_changes(case, works, board, tmp_path):
    make, message = CORPUS[case]
    path = make(tmp_path)
    before = tables_checksum()
    with pytest.raises(ValidationError) as refused:
        works_import(user=board, path=path, name=path.name, dry_run=False)
    assert message.lower() in " ".join(refused.value.messages).lower(), refused.value.messages
    assert tables_checksum() == before


def test_oversized_upload_is_refused_by_the_page_before_it_is_read(client, board, works):
    client.force_login(board)
    before = tables_checksum()
    upload = io.BytesIO(b"a" * (21 * 1024 * 1024))
    upload.name = "works.csv"
    response = client.post("/imports/", {"file": upload})
    assert response.status_code == 400 and "20 MB" in response.content.decode()
    assert tables_checksum() == before


def test_hostile_upload_through_the_page_is_refused_and_not_kept(client, board, works, tmp_path, settings):
    client.force_login(board)
    before = tables_checksum()
    path = CORPUS["kml external entity"][0](tmp_path)
    with path.open("rb") as handle:
        response = client.post("/imports/", {"file": handle})
    assert response.status_code == 400 and "DOCTYPE" in response.content.decode()
    assert tables_checksum() == before
    from infra.interchange.views import UPLOADS

    assert not any(UPLOADS.glob("*/upload")) if UPLOADS.exists() else True
