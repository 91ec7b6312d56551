"""Imports: a dry run gives every row's verdict; a commit creates all rows or none."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from infra.interchange.imports.services import works_import
from infra.works.models import Work
from tests.infra.interchange.conftest import tables_checksum

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HEADER = "Mã công trình,Tên công trình,Loại công trình,Năm kế hoạch,Tổng mức đầu tư (đồng),Kinh độ,Vĩ độ,Hình học (WKT)\n"
GOOD = ("N-1,Trạm y tế bản Mới,health,2026,1.200.000.000,103.36,22.53,\n"
        "N-2,Đường bản Mới,road,2026,800000000,,,\"LINESTRING (103.35 22.52, 103.36 22.53)\"\n")
BAD = {
    "unknown category": "B-1,X,spaceport,2026,1,103.36,22.53,\n",
    "not allowed for this category": "B-2,X,road,2026,1,103.36,22.53,\n",
    "outside Lai Châu": "B-3,X,health,2026,1,105.85,21.03,\n",
    "invalid": 'B-4,X,school,2026,1,,,"POLYGON ((103.35 22.52, 103.37 22.54, 103.37 22.52, 103.35 22.54, 103.35 22.52))"\n',
    "Duplicate code PT-001": "PT-001,X,health,2026,1,103.36,22.53,\n",
    "Bad number": "B-6,X,health,2026,mười tỷ,103.36,22.53,\n",
    # 1.5 to a Vietnamese reader, 1500 to an English one: refused, saying how to write it.
    "dots may separate thousands": "B-7,X,health,2026,\"1,500\",103.36,22.53,\n",
    "Bad number in total_investment": "B-8,X,health,2026,\"1.234,567\",103.36,22.53,\n",
    # Word's manual line break pasted into a name: refused in the preview, where it is said.
    "invisible control character (U+000B)": "B-9,Trạm\x0by tế,health,2026,1,103.36,22.53,\n",
}


def _file(tmp_path, body: str, name: str = "works.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_dry_run_reports_each_row_and_writes_nothing(works, board, tmp_path):
    path = _file(tmp_path, GOOD + "".join(BAD.values()) + "N-1,Lặp,health,2026,1,103.36,22.53,\n")
    before = tables_checksum()
    report = works_import(user=board, path=path, name=path.name, dry_run=True)
    verdicts = {r.number: r for r in report.rows}
    assert verdicts[1].accepted and verdicts[2].accepted
    for number, expected in enumerate(BAD, start=3):
        assert any(expected.lower() in reason.lower() for reason in verdicts[number].reasons), verdicts[number].reasons
    assert any("appears twice" in reason for reason in verdicts[len(BAD) + 3].reasons)
    assert tables_checksum() == before


def test_the_province_outline_is_read_once_however_many_rows(works, board, tmp_path):
    """Rows inside and outside the province, in a short file and one five times longer: each row gets its own
    verdict, and checking them reads the same number of rows from the database (the outline once)."""
    inside, outside = "N-{},Trạm {},health,2026,1,103.36,22.53,\n", "B-{},X,health,2026,1,105.85,21.03,\n"
    queries = []
    for rows in (4, 20):
        path = _file(tmp_path, "".join((inside if i % 2 else outside).format(i, i) for i in range(rows)), f"w{rows}.csv")
        with CaptureQueriesContext(connection) as captured:
            report = works_import(user=board, path=path, name=path.name, dry_run=True)
        queries.append(len(captured.captured_queries))
        assert [r.accepted for r in report.rows] == [bool(i % 2) for i in range(rows)]
        assert all("outside Lai Châu" in " ".join(r.reasons) for r in report.rows[::2])
    assert queries[0] == queries[1], queries


def test_commit_with_any_bad_row_imports_nothing(works, board, tmp_path):
    path = _file(tmp_path, GOOD + BAD["outside Lai Châu"])
    before = tables_checksum()
    report = works_import(user=board, path=path, name=path.name, dry_run=False)
    assert not report.committed and report.created == 0
    assert tables_checksum() == before


def test_commit_imports_every_row(works_only, board, tmp_path):
    report = works_import(user=board, path=_file(tmp_path, GOOD), name="works.csv", dry_run=False)
    assert report.committed and report.created == 2
    assert Work.objects.get(code="N-1").total_investment == 1_200_000_000  # Vietnamese thousands separators
    assert Work.objects.get(code="N-2").geometry.geom_type == "LineString"


def test_only_the_board_may_import(works_only, auditor, planner, officer, tmp_path):
    from django.core.exceptions import PermissionDenied

    for user in (auditor, planner, officer):
        with pytest.raises(PermissionDenied):
            works_import(user=user, path=_file(tmp_path, GOOD), name="works.csv", dry_run=True)


def test_upload_preview_confirm(client, works_only, board, tmp_path):
    client.force_login(board)
    with _file(tmp_path, GOOD).open("rb") as handle:
        preview = client.post("/imports/", {"file": handle})
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "N-1" in page and "N-2" in page and 'name="confirm"' in page
    assert not Work.objects.filter(code="N-1").exists()
    done = client.post("/imports/", {"confirm": "1"})
    assert done.status_code == 200
    assert set(Work.objects.filter(code__startswith="N-").values_list("code", flat=True)) == {"N-1", "N-2"}
    again = client.post("/imports/", {"confirm": "1"})
    assert again.status_code == 400  # nothing waits any more: the file was removed


def test_preview_of_a_bad_file_shows_reasons_and_offers_no_confirm(client, works, board, tmp_path):
    client.force_login(board)
    with _file(tmp_path, GOOD + BAD["unknown category"]).open("rb") as handle:
        page = client.post("/imports/", {"file": handle}).content.decode()
    assert "spaceport" in page and 'name="confirm"' not in page


def test_template_has_vietnamese_headers_and_imports_as_filled(client, works_only, board, tmp_path):
    client.force_login(board)
    data = client.get("/imports/template.xlsx").content
    book = load_workbook(io.BytesIO(data))
    headers = [c.value for c in book["Công trình"][1]]
    assert headers[:3] == ["Mã công trình", "Tên công trình", "Loại công trình"]
    assert "Kinh độ" in headers and "X (Đông, m)" in headers
    # Text columns are text in Excel: a commune code typed 03549 stays 03549, a code 2022-01 stays text.
    sheet = book["Công trình"]
    for header in ("Mã công trình", "Tên công trình", "Mã xã khi phê duyệt"):
        letter = sheet.cell(row=1, column=headers.index(header) + 1).column_letter
        assert sheet.column_dimensions[letter].number_format == "@", header
    money = sheet.cell(row=1, column=headers.index("Tổng mức đầu tư (đồng)") + 1).column_letter
    assert sheet.column_dimensions[money].number_format != "@"
    path = tmp_path / "template.xlsx"
    path.write_bytes(data)
    report = works_import(user=board, path=path, name=path.name, dry_run=False)
    assert report.committed and Work.objects.filter(code="PT-2026-001").exists()


def test_import_command_dry_run_and_commit(works_only, board, tmp_path, capsys):
    path = _file(tmp_path, GOOD)
    call_command("import_works", str(path), "--user", board.username, "--dry-run")
    assert "row 1 N-1: accepted" in capsys.readouterr().out
    assert not Work.objects.filter(code="N-1").exists()
    call_command("import_works", str(path), "--user", board.username)
    assert Work.objects.filter(code__in=["N-1", "N-2"]).count() == 2
    with pytest.raises(CommandError, match="refused"):
        call_command("import_works", str(path), "--user", board.username)


def test_import_command_refuses_a_crs_off_the_list(works_only, board, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_works", str(_file(tmp_path, GOOD)), "--user", board.username, "--crs", "3857")


def test_a_row_longer_than_its_header_is_refused_not_cut(works_only, board, tmp_path):
    # An unquoted comma in a value ("103,36", "Cầu treo, dài 50m") made cells the header does not name; they were dropped.
    path = _file(tmp_path, "C-1,Cầu treo, dài 50m,bridge,2026,1,103.36,22.53,\n" + GOOD)
    report = works_import(user=board, path=path, name=path.name, dry_run=False)
    assert not report.committed and Work.objects.filter(code__in=["C-1", "N-1"]).count() == 0
    assert any("must be in quotes" in reason for reason in report.rows[0].reasons), report.rows[0].reasons


@pytest.mark.parametrize("written, read", [
    ("2025-03-04", "2025-03-04"), ("4/3/2025", "2025-03-04"), ("2025-03-04 00:00:00", "2025-03-04"),
    ("2025-03-041", None), ("2025-03-04 rác", None), ("2025-03-04/2025-06-30", None), ("2025-03-04T20:00:00Z", None),
    ("2025-W10-1", None), ("01/01/0025", None), ("1/1/2205", None), ("3/4/25", None),
])
def test_a_date_in_a_file_is_read_whole_or_refused(written, read):
    from infra.interchange.imports.readers import as_date

    try:
        found = as_date(written).isoformat()
    except ValueError:
        found = None
    assert found == read


def test_a_spreadsheet_date_with_a_time_of_day_is_refused():
    from datetime import datetime

    from infra.interchange.imports.readers import as_date

    assert as_date(datetime(2025, 3, 4)).isoformat() == "2025-03-04"
    with pytest.raises(ValueError):
        as_date(datetime(2025, 3, 4, 23, 59))  # which day is meant depends on the time zone
