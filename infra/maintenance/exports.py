"""The yearly plan as an Excel workbook: money as numbers in VND format, a frozen header, filters.

Text that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) is held as text with the quote prefix (infra.cells.excel_cell), so a work named
"=HYPERLINK(…)" reads so, and stays text when the cell is edited.
"""
from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from infra.cells import excel_cell
from infra.maintenance.models import Condition, ResponsibleKind, TaskKind
from infra.maintenance.planner import Plan, line_reasons

__all__ = ["VND_FORMAT", "plan_xlsx"]

VND_FORMAT = '#,##0 "₫"'
DATE_FORMAT = "dd/mm/yyyy"


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: list[list[Any]], *, money: set[int], dates: set[int],
           widths: list[int]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([excel_cell(sheet, h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append([excel_cell(sheet, v) for v in row])  # infra.cells: text marked, not escaped
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for column in money | dates:
        fmt = VND_FORMAT if column in money else DATE_FORMAT
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = fmt
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(1, len(rows) + 1)}"


def plan_xlsx(plan: Plan, *, today: date, commune: str = "", saved: str = "") -> bytes:
    """Return the plan as XLSX bytes: a sheet of all ranked lines (in or outside the budget) and a summary (which
    names the saved plan it was read from, when it was: `saved`)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    headers = [_("Rank"), _("In budget"), _("Work code"), _("Work"), _("Commune"), _("Task"), _("Description"),
               _("Responsible"), _("Next due"), _("Rounds in the year"), _("Cost per round (VND)"), _("Cost in the year (VND)"),
               _("Budget left after it (VND)"), _("Weighted households"), _("Condition"), _("Why it ranks here"), _("Demo data")]
    yes, no = _("yes"), _("no")
    rows = []
    for line in plan.lines:
        c = line.candidate
        rows.append([
            line.rank, yes if line.funded else no, c.work_code, c.work_name, c.commune, str(TaskKind(c.task_kind).label),
            c.description, str(ResponsibleKind(c.responsible).label) if c.responsible else "", c.next_due, line.rounds,
            c.unit_cost, line.cost if line.estimated else None, line.left_after, line.weighted, _condition(c.condition),
            "; ".join(line_reasons(line, plan=plan, today=today)), yes if c.is_demo else "",
        ])
    _sheet(workbook, _("Plan"), headers, rows, money={11, 12, 13}, dates={9},
           widths=[7, 9, 16, 40, 18, 22, 40, 22, 12, 10, 16, 16, 16, 12, 12, 90, 8])
    summary = [
        [_("Year"), plan.year], [_("Commune"), commune or _("all")], [_("Budget (VND)"), plan.budget],
        [_("Planned (VND)"), plan.total], [_("Left (VND)"), plan.left], [_("Asked for by all due tasks (VND)"), plan.demand],
        [_("Lines in the budget"), len(plan.funded)], [_("Lines outside the budget"), len(plan.outside)],
        [_("Made on"), today], [_("Of the planned, demo data (VND)"), plan.demo_total],
        [_("Tasks without a cost estimate (not planned)"), sum(1 for line in plan.lines if not line.estimated)],
        *([[_("Saved plan"), saved]] if saved else []),
    ]
    _sheet(workbook, _("Summary"), [_("Item"), _("Value")], summary, money=set(), dates=set(), widths=[36, 22])
    if plan.left_out:
        _sheet(workbook, _("Not planned"), [_("Work code"), _("Work"), _("Stage"), _("Task"), _("Next due"),
                                            _("Cost per round (VND)"), _("Demo data")],
               [[t.work_code, t.work_name, t.stage_label, t.task_label, t.next_due, t.estimated_cost, yes if t.is_demo else ""]
                for t in plan.left_out], money={6}, dates={5}, widths=[16, 40, 24, 22, 12, 16, 8])
    sheet = workbook[_("Summary")]
    for row in (4, 5, 6, 7, 11):
        sheet.cell(row=row, column=2).number_format = VND_FORMAT
    sheet.cell(row=10, column=2).number_format = DATE_FORMAT
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _condition(value: str | None) -> str:
    return str(Condition(value).label) if value else _("not inspected")
