"""The import template: the importable columns with Vietnamese headers, and a sheet explaining them."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from infra.interchange.columns import GEOMETRY_COLUMNS, PROJECTED_COLUMNS, TEXT, WORK_COLUMNS
from infra.interchange.crs import ALLOWED_CRS
from infra.works.choices import Category, Stage

__all__ = ["template_xlsx"]

TEXT_FORMAT = "@"

_EXAMPLE = {"code": "PT-2026-001", "name": "Nhà văn hóa bản Ví dụ", "category": "culture", "stage": "proposed",
            "approved_year": 2026, "total_investment": 1_500_000_000, "approved_commune": "03549",
            "beneficiary_households": 120, "beneficiary_poor_households": 40, "beneficiary_women": 260,
            "lon": 103.36, "lat": 22.53}


def template_xlsx() -> bytes:
    """Return the template workbook: fill one row per work, with lon/lat (WGS84), X/Y (with a CRS) or WKT."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Công trình"
    columns = [c for c in WORK_COLUMNS if c.importable and not c.internal] + list(GEOMETRY_COLUMNS) + list(PROJECTED_COLUMNS)
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([_EXAMPLE.get(c.key) for c in columns])
    # Text columns are formatted as text, so Excel keeps what is typed: a commune code 03549 would
    # otherwise become the number 3549 and a work code 2022-01 a date.
    for index, column in enumerate(columns, start=1):
        if column.kind == TEXT:
            sheet.column_dimensions[get_column_letter(index)].number_format = TEXT_FORMAT
            sheet.cell(row=2, column=index).number_format = TEXT_FORMAT
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("Hướng dẫn")
    notes.append(["Cột", "Khóa", "Ghi chú"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in columns:
        notes.append([column.header, column.key, ""])
    notes.append([])
    notes.append(["Loại công trình", ", ".join(Category.values)])
    notes.append(["Giai đoạn", ", ".join(Stage.values)])
    notes.append(["Hệ tọa độ (EPSG)", ", ".join(str(c) for c in ALLOWED_CRS)])
    notes.append(["Tọa độ", "Kinh độ/Vĩ độ theo WGS84 (hoặc VN-2000 địa lý, EPSG 4756); X = Đông, Y = Bắc (mét) theo "
                  "EPSG 9205 hoặc 3405; hoặc WKT cho đường và vùng."])
    notes.append(["Xã khi phê duyệt", "Mã xã hiện nay (03549) hoặc mã@ngày cho xã trước 2025 (03562@2025-06-30)."])
    notes.append(["Số", "Chỉ chữ số; có thể tách hàng nghìn bằng dấu chấm (1.500.000). Không dùng số thập phân."])
    notes.append(["Ngày", "ngày/tháng/năm (03/04/2025 là ngày 3 tháng 4) hoặc năm-tháng-ngày (2025-04-03); không kèm giờ."])
    notes.append(["CSV", "Giá trị có dấu phẩy phải đặt trong dấu ngoặc kép."])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
