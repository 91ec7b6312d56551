"""The money, maintenance and history sheets of the audit workbook.

Money is written as numbers (integer VND) with a VND number format, dates as dates; every sheet
has a frozen bold header and filters. Text that a spreadsheet would run as a formula is held as
text, marked with the quote prefix (infra.cells.excel_cell), and text a cell cannot hold is said so. Sheets are
streamed (openpyxl's write-only mode).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from infra.cells import excel_cell
from infra.finance.models import Allocation, CapitalPlan, Disbursement
from infra.maintenance.models import Inspection, Record, Schedule
from infra.works.models import Work

__all__ = [
    "DATE_FORMAT",
    "VND_FORMAT",
    "SheetWriter",
    "allocations_sheet",
    "capital_plans_sheet",
    "disbursements_sheet",
    "history_sheet",
    "maintenance_sheet",
]

VND_FORMAT = '#,##0 "₫"'
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
_CHUNK = 2000


class SheetWriter:
    """One streamed sheet: a bold frozen header, formatted columns, filters over all rows.

    A worksheet holds at most ROWS rows (Excel's 1,048,576, the header's among them); openpyxl writes more
    without a word, and Excel then leaves them out on opening with only a "not loaded completely". Rows past
    what fits are left out here instead, and the sheet's last row says how many and where they are whole
    (at the national scale the history and maintenance sheets can be that long)."""

    ROWS = 1_048_576

    def __init__(self, book: Workbook, title: str, headers: Sequence[str], *, formats: dict[int, str] | None = None):
        self.sheet = book.create_sheet(title)
        # The sheet view is written before the first row, so the pane is frozen now.
        self.sheet.freeze_panes = "A2"
        self.width = len(headers)
        self.formats = formats or {}
        self.rows = 0
        self.left_out = 0
        bold = Font(bold=True)
        header_cells = []
        for text in headers:
            cell = excel_cell(self.sheet, text, always=True)
            cell.font = bold
            header_cells.append(cell)
        self.sheet.append(header_cells)

    def append(self, values: Sequence[Any]) -> None:
        if self.rows >= self.ROWS - 2:  # the header's row, and one kept for saying what did not fit
            self.left_out += 1
            return
        cells: list[Any] = []
        for index, value in enumerate(values):
            if isinstance(value, datetime):
                value = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
            value = excel_cell(self.sheet, value)  # infra.cells: a text no cell holds is said so, not cut
            if isinstance(value, Cell):  # a text a spreadsheet would run, marked as text
                cells.append(value)
                continue
            fmt = self.formats.get(index)
            if fmt is None and isinstance(value, datetime):
                fmt = DATETIME_FORMAT
            if fmt is not None and value is not None:
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.number_format = fmt
                cells.append(cell)
            else:
                cells.append(value)
        self.sheet.append(cells)
        self.rows += 1

    def close(self) -> None:
        self.sheet.auto_filter.ref = f"A1:{get_column_letter(self.width)}{self.rows + 1}"
        if self.left_out:
            count = f"{self.left_out:,}".replace(",", ".")
            self.sheet.append([f"(còn {count} dòng nữa không vừa một trang tính Excel: xem bản đầy đủ trong tệp CSV "
                               f"hoặc bộ hồ sơ kiểm toán)"])


def capital_plans_sheet(book: Workbook) -> None:
    sheet = SheetWriter(book, "Kế hoạch vốn", ["Số quyết định", "Ngày quyết định", "Cơ quan ban hành", "Năm", "Nguồn vốn",
                                               "Loại vốn", "Dòng chương trình", "Số tiền (đồng)"],
                        formats={1: DATE_FORMAT, 7: VND_FORMAT})
    plans = CapitalPlan.objects.select_related("decision", "programme_line").order_by("year", "decision__issued_on", "id")
    for plan in plans.iterator(chunk_size=_CHUNK):
        sheet.append([plan.decision.number, plan.decision.issued_on, plan.decision.issuer, plan.year, plan.source, plan.kind,
                      plan.programme_line.label if plan.programme_line else "", plan.amount])
    sheet.close()


def _work_ids(works: QuerySet[Work]) -> Any:
    return works.order_by().values("id")


def allocations_sheet(book: Workbook, *, works: QuerySet[Work], narrowed: bool) -> None:
    """Allocations to the exported works (and, for an unfiltered export, those to no work)."""
    sheet = SheetWriter(book, "Phân bổ", ["Mã phân bổ", "Ngày phân bổ", "Số quyết định", "Năm vốn", "Nguồn vốn", "Loại vốn",
                                          "Dòng chương trình", "Mã công trình", "Số tiền (đồng)", "Điều chỉnh giảm cho",
                                          "Ghi chú", "Dữ liệu mẫu"],
                        formats={1: DATE_FORMAT, 8: VND_FORMAT})
    rows = Allocation.objects.filter(Q(work__in=_work_ids(works)) | Q(work__isnull=True) if not narrowed
                                     else Q(work__in=_work_ids(works)))
    rows = rows.select_related("capital_plan", "programme_line", "work").order_by("allocated_on", "id")
    for a in rows.iterator(chunk_size=_CHUNK):
        # A reversal subtracts: shown as a negative number, which stays a number.
        sheet.append([a.pk, a.allocated_on, a.decision_number, a.capital_plan.year, a.capital_plan.source, a.capital_plan.kind,
                      a.programme_line.label, a.work.code if a.work else "", a.signed_amount, a.reverses_id, a.note, a.is_demo])
    sheet.close()


def disbursements_sheet(book: Workbook, *, works: QuerySet[Work], narrowed: bool) -> None:
    sheet = SheetWriter(book, "Giải ngân", ["Mã thanh toán", "Ngày thanh toán", "Số chứng từ", "Mã phân bổ", "Mã công trình",
                                            "Nguồn vốn", "Số tiền (đồng)", "Điều chỉnh giảm cho", "Ghi chú", "Dữ liệu mẫu"],
                        formats={1: DATE_FORMAT, 6: VND_FORMAT})
    condition = Q(allocation__work__in=_work_ids(works))
    if not narrowed:
        condition |= Q(allocation__work__isnull=True)
    rows = (Disbursement.objects.filter(condition).select_related("allocation__capital_plan", "allocation__work")
            .order_by("paid_on", "id"))
    for d in rows.iterator(chunk_size=_CHUNK):
        work = d.allocation.work
        sheet.append([d.pk, d.paid_on, d.voucher_number, d.allocation_id, work.code if work else "",
                      d.allocation.capital_plan.source, d.signed_amount, d.reverses_id, d.note, d.is_demo])
    sheet.close()


def maintenance_sheet(book: Workbook, *, works: QuerySet[Work]) -> None:
    """Schedules, inspections and records of work done, one row each, by work."""
    sheet = SheetWriter(book, "Duy tu", ["Loại", "Mã công trình", "Ngày", "Nhiệm vụ / tình trạng", "Mô tả", "Chu kỳ (tháng)",
                                         "Người chịu trách nhiệm", "Chi phí (đồng)", "Dữ liệu mẫu"],
                        formats={2: DATE_FORMAT, 7: VND_FORMAT})
    ids = _work_ids(works)
    schedules = Schedule.objects.filter(work__in=ids).select_related("work").order_by("work__code", "id")
    inspections = Inspection.objects.filter(work__in=ids).select_related("work").order_by("work__code", "id")
    records = Record.objects.filter(work__in=ids).select_related("work", "schedule").order_by("work__code", "id")
    for s in schedules.iterator(chunk_size=_CHUNK):
        sheet.append(["schedule", s.work.code, s.starts_on, s.task_kind, s.description, s.interval_months, s.responsible,
                      s.estimated_cost, s.is_demo])
    for i in inspections.iterator(chunk_size=_CHUNK):
        sheet.append(["inspection", i.work.code, i.inspected_on, i.condition, i.notes, None, i.inspector, None, i.is_demo])
    for r in records.iterator(chunk_size=_CHUNK):
        sheet.append(["record", r.work.code, r.done_on, r.schedule.task_kind if r.schedule_id else "", r.description, None,
                      "", r.cost, r.is_demo])
    sheet.close()


_UNTRACKED = {"updated_at"}


def _snapshot(record: Any, fields: list[str]) -> dict[str, str]:
    values = {}
    for name in fields:
        value = getattr(record, name)
        values[name] = "" if value is None else (value.wkt if hasattr(value, "wkt") else str(value))
    return values


def history_sheet(book: Workbook, *, works: QuerySet[Work]) -> None:
    """Every history row of the exported works: when, who, what, and each field's before → after."""
    sheet = SheetWriter(book, "Lịch sử", ["Thời điểm (giờ Việt Nam)", "Người thực hiện", "Thao tác", "Mã công trình", "Phiên bản",
                                          "Giai đoạn", "Thay đổi"])
    fields = [f.attname for f in Work.history.model._meta.concrete_fields
              if not f.name.startswith("history_") and f.name not in _UNTRACKED]
    actions = {"+": "tạo", "~": "sửa", "-": "xóa"}
    rows = (Work.history.filter(id__in=_work_ids(works)).select_related("history_user")
            .order_by("id", "history_date", "history_id"))
    previous_id, previous = None, None
    # Ordered by work, so only the row before is kept: memory does not grow with the history.
    for record in rows.iterator(chunk_size=_CHUNK):
        current = _snapshot(record, fields)
        changes = ""
        if record.id == previous_id and previous is not None:
            changes = "; ".join(f"{name}: {previous[name]} → {current[name]}"
                                for name in fields if previous[name] != current[name])
        sheet.append([record.history_date, str(record.history_user or "—"), actions.get(record.history_type, record.history_type),
                      record.code, record.version, record.stage, changes])
        previous_id, previous = record.id, current
    sheet.close()
