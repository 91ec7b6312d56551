"""The columns of a work in every exported and imported file: one list, so all formats agree.

Headers of CSV and XLSX files are Vietnamese and fixed: they are a file format that other
offices' spreadsheets are built on, so they do not change with the language of the screen.
Imports also accept the English keys. Shapefile field names are at most 10 characters
(the dBASE limit); the mapping is documented in docs/interchange.md.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from infra.cells import FORMULA_STARTS, QUOTED_STARTS
from infra.finance.models import Allocation, Disbursement

__all__ = [
    "FORMULA_STARTS",
    "GEOMETRY_COLUMNS",
    "IMPORT_KEYS",
    "WORK_COLUMNS",
    "Column",
    "columns_for",
    "header_key",
    "neutralise",
    "unneutralise",
]

TEXT, INT, MONEY, BOOL, DATE, FLOAT = "text", "int", "money", "bool", "date", "float"


@dataclass(frozen=True)
class Column:
    """One attribute of a work: its key, Vietnamese header, Shapefile name, kind and SQL (alias t)."""

    key: str
    header: str
    shp: str
    kind: str
    sql: str
    importable: bool = True
    internal: bool = False  # only for those who may read internal notes (the policy's sees_internal)


# Expressions over the works table `t`, current commune `c`, approval commune `ac`, contractor `o`, and
# the money per work `al` (allocated) and `di` (disbursed), net of reversals (sql.JOINS builds them).
_A, _D = Allocation._meta.db_table, Disbursement._meta.db_table
_ALLOCATED = "COALESCE(al.amount, 0)"
_DISBURSED = "COALESCE(di.amount, 0)"
MONEY_JOINS = (
    f"LEFT JOIN (SELECT a.work_id, SUM(CASE WHEN a.reverses_id IS NULL THEN a.amount ELSE -a.amount END) AS amount "
    f"FROM {_A} a WHERE a.work_id IS NOT NULL GROUP BY a.work_id) al ON al.work_id = t.id "
    f"LEFT JOIN (SELECT a.work_id, SUM(CASE WHEN d.reverses_id IS NULL THEN d.amount ELSE -d.amount END) AS amount "
    f"FROM {_D} d JOIN {_A} a ON a.id = d.allocation_id WHERE a.work_id IS NOT NULL GROUP BY a.work_id) di "
    "ON di.work_id = t.id"
)
# A former unit is written code@last-day, as the API and the filters take it (DOMAIN.md §5).
_APPROVED_COMMUNE = "CASE WHEN ac.valid_to IS NULL THEN ac.code ELSE ac.code || '@' || {valid_to} END"

WORK_COLUMNS: tuple[Column, ...] = (
    Column("code", "Mã công trình", "code", TEXT, "t.code"),
    Column("name", "Tên công trình", "name", TEXT, "t.name"),
    Column("category", "Loại công trình", "category", TEXT, "t.category"),
    Column("stage", "Giai đoạn", "stage", TEXT, "t.stage"),
    Column("progress", "Tiến độ (%)", "progress", INT, "t.progress"),
    Column("approved_year", "Năm kế hoạch", "year", INT, "t.approved_year"),
    Column("total_investment", "Tổng mức đầu tư (đồng)", "investment", MONEY, "t.total_investment"),
    Column("allocated", "Đã phân bổ (đồng)", "allocated", MONEY, _ALLOCATED, importable=False),
    Column("disbursed", "Đã giải ngân (đồng)", "disbursed", MONEY, _DISBURSED, importable=False),
    Column("current_commune_code", "Mã xã hiện nay", "comm_code", TEXT, "c.code", importable=False),
    Column("current_commune", "Xã hiện nay", "commune", TEXT, "c.name", importable=False),
    Column("approved_commune", "Mã xã khi phê duyệt", "appr_code", TEXT, _APPROVED_COMMUNE),
    Column("approved_commune_name", "Xã khi phê duyệt", "appr_name", TEXT, "ac.name", importable=False),
    Column("description", "Mô tả", "descr", TEXT, "t.description"),
    Column("school_level", "Cấp học", "school_lvl", TEXT, "t.school_level"),
    Column("water_source", "Nguồn nước", "water_src", TEXT, "t.water_source"),
    Column("road_class", "Cấp đường", "road_class", TEXT, "t.road_class"),
    Column("road_surface", "Mặt đường", "road_surf", TEXT, "t.road_surface"),
    Column("all_season", "Đi lại quanh năm", "all_season", BOOL, "t.all_season"),
    Column("beneficiary_households", "Số hộ hưởng lợi", "benef_hh", INT, "t.beneficiary_households"),
    Column("beneficiary_poor_households", "Số hộ nghèo hưởng lợi", "benef_poor", INT, "t.beneficiary_poor_households"),
    Column("beneficiary_women", "Số phụ nữ hưởng lợi", "benef_wom", INT, "t.beneficiary_women"),
    Column("special_mechanism", "Cơ chế đặc thù", "special", BOOL, "t.special_mechanism"),
    Column("contractor", "Nhà thầu", "contractor", TEXT, "o.name"),
    Column("planned_start", "Khởi công dự kiến", "plan_start", DATE, "t.planned_start"),
    Column("planned_end", "Hoàn thành dự kiến", "plan_end", DATE, "t.planned_end"),
    Column("actual_start", "Khởi công thực tế", "act_start", DATE, "t.actual_start"),
    Column("actual_end", "Hoàn thành thực tế", "act_end", DATE, "t.actual_end"),
    Column("is_demo", "Dữ liệu mẫu", "is_demo", BOOL, "t.is_demo"),
    Column("internal_notes", "Ghi chú nội bộ", "notes", TEXT, "t.internal_notes", internal=True),
)

# Spreadsheets carry the geometry as text: a point also as longitude/latitude, anything as WKT.
GEOMETRY_COLUMNS: tuple[Column, ...] = (
    Column("lon", "Kinh độ", "lon", FLOAT, ""),
    Column("lat", "Vĩ độ", "lat", FLOAT, ""),
    Column("wkt", "Hình học (WKT)", "wkt", TEXT, ""),
)
# Projected coordinates in the import template (easting/northing in metres, with the file's CRS).
PROJECTED_COLUMNS: tuple[Column, ...] = (
    Column("x", "X (Đông, m)", "x", FLOAT, ""),
    Column("y", "Y (Bắc, m)", "y", FLOAT, ""),
)


def columns_for(*, internal: bool) -> tuple[Column, ...]:
    """Return the work columns a person may export (internal notes only when they may read them)."""
    return tuple(c for c in WORK_COLUMNS if internal or not c.internal)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


# Every name a column may go by in an imported file: key, Vietnamese header, Shapefile name.
IMPORT_KEYS: dict[str, str] = {}
for _column in (*WORK_COLUMNS, *GEOMETRY_COLUMNS, *PROJECTED_COLUMNS):
    for _name in (_column.key, _column.header, _column.shp):
        IMPORT_KEYS.setdefault(_fold(_name), _column.key)
for _alias, _key in {"x": "x", "y": "y", "longitude": "lon", "latitude": "lat", "lng": "lon"}.items():
    IMPORT_KEYS.setdefault(_alias, _key)


def header_key(header: Any) -> str | None:
    """Return the column key a header names, or None for a column this system does not read."""
    if header is None:
        return None
    return IMPORT_KEYS.get(_fold(header))


def neutralise(value: Any) -> Any:
    """Return text that no spreadsheet reads as a formula: prefix an apostrophe (CSV and the like; a workbook marks
    its cell instead, infra.cells.excel_cell). The apostrophe is escaped too (QUOTED_STARTS), so that unneutralise()
    gives back exactly what was exported. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(QUOTED_STARTS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo neutralise() on text read back from one of our files (a CSV, or a workbook exported before its cells
    were marked)."""
    if len(value) >= 2 and value[0] == "'" and value[1] in _ESCAPED_SECOND:
        return value[1:]
    return value


_ESCAPED_SECOND = "".join(QUOTED_STARTS)
