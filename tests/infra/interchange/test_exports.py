"""Exports: who may have them, and what each file holds."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile

import pytest
from openpyxl import load_workbook

from infra.interchange.columns import WORK_COLUMNS
from tests.infra.interchange.conftest import FORMULA_NAME

pytestmark = pytest.mark.django_db


def _download(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("url", ["/exports/", "/exports/csv", "/exports/oc4ids.json", "/exports/audit-bundle.zip",
                                 "/imports/", "/imports/template.xlsx"])
def test_the_public_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_roles_without_export_get_403(client, officer, works):
    client.force_login(officer)
    assert client.get("/exports/csv").status_code == 403
    assert client.get("/exports/").status_code == 403


def test_audit_bundle_is_for_auditors_only(client, board, planner, works):
    for user in (board, planner):
        client.force_login(user)
        assert client.get("/exports/audit-bundle.zip").status_code == 403
        assert client.get("/exports/gpkg").status_code == 200


def test_export_page_lists_formats_for_the_role(client, auditor, board, works):
    client.force_login(board)
    page = client.get("/exports/?year=2022").content.decode()
    assert "works.gpkg" in page and "audit-bundle.zip" not in page and "year=2022" in page
    client.force_login(auditor)
    assert "audit-bundle.zip" in client.get("/exports/").content.decode()


def test_bad_filter_is_a_400_with_the_reason(client, board, works):
    client.force_login(board)
    response = client.get("/exports/csv?commune=99999@2020-01-01")
    assert response.status_code == 400
    assert "99999" in response.content.decode()


def _csv_rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so that Excel reads Vietnamese"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_has_vietnamese_headers_one_row_per_work_and_keeps_vietnamese(client, board, works):
    rows = _csv_rows(_download(client, board, "/exports/csv"))
    assert len(rows) == 5
    assert list(rows[0])[:3] == ["Mã công trình", "Tên công trình", "Loại công trình"]
    by_code = {r["Mã công trình"]: r for r in rows}
    assert by_code["PT-001"]["Tên công trình"] == "Trạm y tế xã Phong Thổ"
    assert by_code["PT-001"]["Tổng mức đầu tư (đồng)"] == "3500000000"
    assert by_code["PT-001"]["Đã phân bổ (đồng)"] == "1700000000"  # 2,000 million less a 300 million reversal
    assert by_code["PT-001"]["Mã xã khi phê duyệt"] == "03562@2025-06-30"
    assert by_code["PT-001"]["Ghi chú nội bộ"] == "Chỉ nội bộ"
    assert float(by_code["PT-001"]["Kinh độ"]) == pytest.approx(103.3612345678, abs=1e-9)


def test_csv_neutralises_formulas_and_keeps_numbers(client, board, works):
    by_code = {r["Mã công trình"]: r for r in _csv_rows(_download(client, board, "/exports/csv"))}
    assert by_code["PT-002"]["Tên công trình"] == "'" + FORMULA_NAME
    assert by_code["PT-002"]["Mô tả"] == "'+SUM(1,2)"
    assert by_code["PT-005"]["Tên công trình"] == "'@Nhà văn hóa -bản Mới"
    for row in by_code.values():
        for column in WORK_COLUMNS:
            value = row.get(column.header) or ""
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column.key, value)
    assert by_code["PT-002"]["Tổng mức đầu tư (đồng)"] == "0"


def test_filters_select_by_former_commune_category_stage_and_year(client, board, works):
    def codes(query):
        return sorted(r["Mã công trình"] for r in _csv_rows(_download(client, board, "/exports/csv?" + query)))

    assert codes("commune=03562@2025-06-30") == ["PT-001"]
    assert codes("category=road,school") == ["PT-002", "PT-003"]
    assert codes("stage=approved") == ["PT-001", "PT-005"]
    assert codes("year=2022") == ["PT-001", "PT-003"]
    assert codes("year=2022&category=school") == ["PT-003"]


def test_xlsx_sheets_money_formats_frozen_header_filters_and_no_formulas(client, auditor, works):
    book = load_workbook(io.BytesIO(_download(client, auditor, "/exports/xlsx")))
    assert book.sheetnames == ["Công trình", "Kế hoạch vốn", "Phân bổ", "Giải ngân", "Duy tu", "Lịch sử"]
    sheet = book["Công trình"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}6"
    headers = [c.value for c in sheet[1]]
    money = headers.index("Tổng mức đầu tư (đồng)") + 1
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert rows["PT-001"][money - 1].value == 3_500_000_000 and "₫" in rows["PT-001"][money - 1].number_format
    # a text a spreadsheet would run: written as it is, held as text, marked with the quote prefix (no apostrophe shown)
    name = rows["PT-002"][1]
    assert (name.value, name.data_type, name.quotePrefix) == (FORMULA_NAME, "s", True)
    assert not rows["PT-001"][1].quotePrefix  # plain text is not marked
    allocations = book["Phân bổ"]
    amounts = [r[8].value for r in allocations.iter_rows(min_row=2)]
    assert sorted(amounts) == [-300_000_000, 2_000_000_000], "a reversal is a negative number, still a number"
    vouchers = [(r[2].value, r[2].data_type, r[2].quotePrefix) for r in book["Giải ngân"].iter_rows(min_row=2)]
    assert vouchers == [("=CMD|' /C calc'!A0", "s", True)]
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2"
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    assert book["Lịch sử"].max_row >= 6
    assert book["Lịch sử"]["A1"].value == "Thời điểm (giờ Việt Nam)"  # the bundle's history files are in UTC


def test_geopackage_opens_in_ogrinfo_with_every_layer_and_count(client, board, works, tmp_path):
    path = tmp_path / "works.gpkg"
    path.write_bytes(_download(client, board, "/exports/gpkg"))
    result = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True)
    counts = {}
    layer = None
    for line in result.stdout.splitlines():
        if line.startswith("Layer name: "):
            layer = line.split(": ", 1)[1]
        elif line.startswith("Feature Count: "):
            counts[layer] = int(line.split(": ", 1)[1])
    from gis.models import AdminUnit, BaseRoad, Village

    assert counts == {
        "works_point": 2, "works_line": 1, "works_polygon": 1, "works_multipoint": 1,
        "communes_2025": AdminUnit.objects.filter(level="commune", valid_to__isnull=True, boundary__isnull=False).count(),
        "communes_pre2025": AdminUnit.objects.filter(level="commune", valid_to__isnull=False).count(),
        "villages": Village.objects.count(), "roads": BaseRoad.objects.count(),
        "village_links": Village.objects.filter(commune__centre__isnull=False).count(),
    }
    assert counts["communes_2025"] > 30 and counts["communes_pre2025"] == 17


def test_a_geopackage_says_null_where_a_work_has_no_value(client, board, works, tmp_path):
    # GDAL's CSV reader made every missing text an empty one: a filter "contractor IS NULL" in QGIS found nothing.
    import sqlite3

    path = tmp_path / "works.gpkg"
    path.write_bytes(_download(client, board, "/exports/gpkg"))
    with sqlite3.connect(path) as gpkg:
        rows = dict(gpkg.execute("SELECT code, contractor FROM works_point").fetchall())
        descriptions = dict(gpkg.execute("SELECT code, description FROM works_point").fetchall())
    assert rows["PT-005"] is None and rows["PT-001"]  # no contractor; a contractor's name
    assert descriptions["PT-005"] is None and descriptions["PT-001"] == "Xây mới trạm y tế đạt chuẩn quốc gia"


def test_shapefile_zip_has_one_shapefile_per_type_in_utf8(client, board, works):
    archive = zipfile.ZipFile(io.BytesIO(_download(client, board, "/exports/shp")))
    names = set(archive.namelist())
    for layer in ("works_point", "works_line", "works_polygon", "works_multipoint"):
        assert {f"{layer}.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} <= names
        assert archive.read(f"{layer}.cpg").strip() == b"UTF-8"


def test_geojson_and_kml_hold_every_work(client, board, works):
    collection = json.loads(_download(client, board, "/exports/geojson"))
    assert {f["properties"]["code"] for f in collection["features"]} == {f"PT-00{i}" for i in range(1, 6)}
    assert all("internal_notes" not in f["properties"] for f in collection["features"])
    kml = _download(client, board, "/exports/kml").decode()
    assert kml.count("<Placemark") == 5 and "Trạm y tế xã Phong Thổ" in kml


def test_command_line_export_with_filters_and_progress(works, board, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "out.csv"
    call_command("export", "csv", str(path), "--user", board.username, "--category", "road")
    rows = _csv_rows(path.read_bytes())
    assert [r["Mã công trình"] for r in rows] == ["PT-002"]
    assert "[" in capsys.readouterr().err  # the progress bar



def test_a_command_line_export_that_fails_leaves_no_partial_file_and_the_old_one_whole(works, board, tmp_path, monkeypatch):
    # It used to write straight into the path: a failure (or Ctrl-C) left a header and some rows that looked
    # like a complete CSV, and a file already there was lost.
    from django.core.management import call_command

    from infra.interchange.exports import tabular

    path = tmp_path / "out.csv"
    path.write_bytes(b"the export of yesterday")
    real = tabular.csv_write
    written = []

    def interrupted(out, **kwargs):
        written.append(real(out, **kwargs))  # the whole CSV is written, then the run is interrupted
        raise KeyboardInterrupt

    monkeypatch.setattr(tabular, "csv_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        call_command("export", "csv", str(path), "--user", board.username, "--no-progress")
    assert written == [5], "the export did not get as far as writing rows"
    assert path.read_bytes() == b"the export of yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    monkeypatch.setattr(tabular, "csv_write", real)
    call_command("export", "csv", str(path), "--user", board.username, "--no-progress")
    assert len(_csv_rows(path.read_bytes())) == 5 and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def _long_line() -> str:
    """A road of 1,500 vertices: its WKT is longer than an Excel cell holds."""
    points = ", ".join(f"{103.355 + i * 1.234567891e-6:.14f} {22.525 + (i % 2) * 1.234567891e-6:.14f}" for i in range(1500))
    return f"LINESTRING ({points})"


def test_text_no_excel_cell_or_xml_holds_is_said_so_instead_of_cut_or_failing(client, auditor, board, works):
    # openpyxl cut a text at 32,767 characters without a word (a WKT then ended mid-coordinate) and refused
    # control characters, failing the whole workbook; a KML holding one was no XML at all.
    from django.contrib.gis.geos import GEOSGeometry

    from infra.works.models import Work
    from infra.works.services import work_create

    wkt = _long_line()
    assert len(GEOSGeometry(wkt).wkt) > 32_767
    work = work_create(user=board, code="PT-LONG", name="Đường bản Lả", category="road",
                       geometry=GEOSGeometry(wkt, srid=4326), approved_year=2024)
    # Typed or imported today, such text is refused (infra.cells.printable); rows stored before that still hold it.
    Work.objects.filter(pk=work.pk).update(name="Đường\x1fbản Lả", description="Mô tả\x0bdòng 2")
    book = load_workbook(io.BytesIO(_download(client, auditor, "/exports/xlsx")))
    sheet = book["Công trình"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "PT-LONG")
    geometry = row[headers.index("Hình học (WKT)")]
    assert geometry.startswith("(văn bản dài ") and "Excel" in geometry and "CSV" in geometry
    assert row[headers.index("Tên công trình")] == "Đường\ufffdbản Lả"
    assert "Mô tả\ufffddòng 2" in row
    for ws in book.worksheets:
        for values in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and len(v) >= 32_767 for v in values), ws.title
    # The KML is XML again, the name shown with U+FFFD; the CSV keeps every character and the whole WKT.
    from xml.etree import ElementTree

    kml = ElementTree.fromstring(_download(client, board, "/exports/kml"))
    names = [e.text for e in kml.iter("{http://www.opengis.net/kml/2.2}name")]
    assert "Đường\ufffdbản Lả" in names
    rows = {r["Mã công trình"]: r for r in _csv_rows(_download(client, board, "/exports/csv"))}
    assert rows["PT-LONG"]["Mô tả"] == "Mô tả\x0bdòng 2" and rows["PT-LONG"]["Tên công trình"] == "Đường\x1fbản Lả"
    whole = rows["PT-LONG"]["Hình học (WKT)"]
    assert GEOSGeometry(whole).equals_exact(GEOSGeometry(wkt), 1e-12)
    assert f"dài {len(whole):,} ký tự".replace(",", ".") in geometry  # the note tells the whole text's length


def test_cell_text_says_what_a_cell_cannot_hold_and_keeps_the_rest():
    from infra.cells import EXCEL_CELL_MAX, cell_text, xml_text

    assert cell_text("x" * EXCEL_CELL_MAX) == "x" * EXCEL_CELL_MAX
    assert cell_text("x" * (EXCEL_CELL_MAX + 1)).startswith("(văn bản dài 32.768 ký tự")
    assert cell_text("a\tb\nc\rd") == "a\tb\nc\rd"  # what XML allows stays
    assert xml_text("a\x00b\x08c\x0bd\x0ce\x1ff\ud800g\ufffe") == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffd"
    assert cell_text(1_500_000) == 1_500_000 and cell_text(None) is None


@pytest.mark.django_db(transaction=True)
def test_an_export_reads_one_state_of_the_database(board):
    # A workbook's sheets and a bundle's files are read one after the other: a payment recorded meanwhile was in
    # some and not others. On PostgreSQL everything is now read from one state, and writers go on; on SQLite an
    # export holds no transaction, so that it keeps no writer (a save, another export, an import) waiting.
    import threading

    from django.db import connection

    from infra.accounts.models import Organisation
    from infra.interchange.exports import export_write, one_state
    from infra.works.selectors import WorkFilters

    seen = []
    export_write(fmt="csv", out=io.BytesIO(), user=board, filters=WorkFilters(), base_url="http://testserver/",
                 progress=lambda _done: seen.append((connection.in_atomic_block, _isolation(connection))))
    assert seen and not connection.in_atomic_block
    postgis = connection.vendor == "postgresql"
    assert all(inside == postgis for inside, _level in seen)
    if postgis:
        assert {level for _inside, level in seen} == {"repeatable read"}

    def write_meanwhile():
        from django.db import connection as own

        try:
            Organisation.objects.create(name="Ghi trong lúc xuất")
        finally:
            own.close()

    with one_state():
        before = Organisation.objects.count()
        writer = threading.Thread(target=write_meanwhile)
        writer.start()
        writer.join(timeout=20)
        assert not writer.is_alive(), "the write waited for the export"
        during = Organisation.objects.count()
    assert Organisation.objects.count() == before + 1  # the writer went on
    assert during == (before if postgis else before + 1)  # one state on PostgreSQL; statement by statement on SQLite


def _isolation(connection) -> str | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        return cursor.fetchone()[0]


def test_coordinates_come_out_as_written_in_every_format(client, board, works):
    # SpatiaLite wrote 103.1 as 103.0999999999999 (its default 15 decimals showed the double's noise) in the
    # WKT of the CSV and workbook, in GeoJSON, KML, and the GeoPackage and Shapefile made from the WKT.
    from django.contrib.gis.geos import GEOSGeometry

    from infra.works.services import work_create

    line = "LINESTRING (103.1 22.4830231, 103.35 22.5, 103.123456789012 22.400000001)"
    work_create(user=board, code="PT-EXACT", name="Đường thẳng", category="road", geometry=GEOSGeometry(line, srid=4326),
                approved_year=2024)
    written = [(103.1, 22.4830231), (103.35, 22.5), (103.123456789012, 22.400000001)]
    rows = {r["Mã công trình"]: r for r in _csv_rows(_download(client, board, "/exports/csv"))}
    assert rows["PT-EXACT"]["Hình học (WKT)"].replace(", ", ",").replace(" (", "(") == \
        "LINESTRING(103.1 22.4830231,103.35 22.5,103.123456789012 22.400000001)"
    collection = json.loads(_download(client, board, "/exports/geojson"))
    feature = next(f for f in collection["features"] if f["properties"]["code"] == "PT-EXACT")
    assert [tuple(p) for p in feature["geometry"]["coordinates"]] == written
    kml = _download(client, board, "/exports/kml").decode()
    assert "103.1,22.4830231 103.35,22.5 103.123456789012,22.400000001" in kml
    point = rows["PT-001"]["Hình học (WKT)"]
    assert "103.3612345678 22.5312345678" in point  # the fixture's point, ten decimals


def test_a_sheet_says_which_rows_did_not_fit_instead_of_dropping_them_unsaid(monkeypatch):
    from openpyxl import Workbook

    from infra.interchange.exports.sheets import SheetWriter

    monkeypatch.setattr(SheetWriter, "ROWS", 5)  # Excel's 1,048,576, made small
    book = Workbook(write_only=True)
    sheet = SheetWriter(book, "Lịch sử", ["Mã", "Số tiền"])
    for number in range(10):
        sheet.append([f"W-{number}", number * 1_000])
    sheet.close()
    out = io.BytesIO()
    book.save(out)
    rows = list(load_workbook(io.BytesIO(out.getvalue()))["Lịch sử"].iter_rows(values_only=True))
    assert len(rows) == 5 and rows[0] == ("Mã", "Số tiền")
    assert [r[0] for r in rows[1:4]] == ["W-0", "W-1", "W-2"]
    assert rows[4][0].startswith("(còn 7 dòng nữa không vừa một trang tính Excel")
    assert sheet.rows == 3 and sheet.left_out == 7


def test_the_shapefile_zip_lists_every_text_it_cut(client, board, works):
    # dBASE holds 254 bytes of a text; GDAL cut longer ones quietly. truncated.csv now says which, so a cut
    # name or description is never taken for the whole one.
    from django.contrib.gis.geos import Point

    from infra.works.services import work_create

    stored = ("Nhà văn hóa " + "bản Thèn Thầu xã Dào San " * 9).strip()  # 236 letters, over 300 bytes in UTF-8
    assert len(stored) <= 255 and len(stored.encode()) > 254
    work_create(user=board, code="PT-TEN", name=stored, category="culture",
                geometry=Point(103.36, 22.53, srid=4326), approved_year=2024, description="ngắn")
    archive = zipfile.ZipFile(io.BytesIO(_download(client, board, "/exports/shp")))
    cut = list(csv.DictReader(io.StringIO(archive.read("truncated.csv").decode("utf-8"))))
    assert cut == [{"layer": "works_point", "code": "PT-TEN", "field": "name", "bytes": str(len(stored.encode())),
                    "bytes_kept_at_most": "254"}]
    empty = zipfile.ZipFile(io.BytesIO(_download(client, board, "/exports/shp?year=2022")))
    assert empty.read("truncated.csv").decode() == "layer,code,field,bytes,bytes_kept_at_most\n"


@pytest.mark.parametrize("text", [FORMULA_NAME, "+SUM(1,2)", "-5 hộ", "@Nhà văn hóa", "'=A1", "'bản Mới", "\tThu", "Bản Mới"])
def test_a_workbook_s_text_is_read_back_as_it_was_written(text, tmp_path):
    from openpyxl import Workbook

    from infra.interchange.exports.sheets import SheetWriter
    from infra.interchange.imports.readers import _xlsx

    book = Workbook(write_only=True)
    sheet = SheetWriter(book, "Công trình", ["Mã công trình", "Tên công trình"])
    sheet.append(["PT-900", text])
    sheet.close()
    path = tmp_path / "works.xlsx"
    book.save(path)
    cell = load_workbook(path)["Công trình"]["B2"]
    assert cell.data_type == "s" and cell.value == text
    assert cell.quotePrefix == text.startswith(("=", "+", "-", "@", "\t", "\r", "'"))
    assert _xlsx(path).rows[0].values["name"] == text  # a leading tab too, as the CSV gives it back


def test_a_workbook_exported_with_apostrophes_is_still_read_as_it_was_meant(tmp_path):
    # Workbooks exported before their cells were marked escaped such text with an apostrophe, as a CSV does.
    from openpyxl import Workbook

    from infra.interchange.imports.readers import _xlsx

    book = Workbook()
    book.active.title = "Công trình"
    book.active.append(["Mã công trình", "Tên công trình", "Mô tả"])
    book.active.append(["PT-900", "'" + FORMULA_NAME, "''=A1"])
    for cell in book.active[2]:
        cell.data_type = "s"
    path = tmp_path / "works.xlsx"
    book.save(path)
    values = _xlsx(path).rows[0].values
    assert (values["name"], values["description"]) == (FORMULA_NAME, "'=A1")
