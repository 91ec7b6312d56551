"""Text as an Excel cell and an XML document can hold it, said openly where they cannot.

- An Excel cell holds at most 32,767 characters. openpyxl writes a longer text cut there without a
  word: a line of a thousand vertices then ends mid-coordinate in the WKT column, and a history row
  of a changed geometry loses its end. Such a text is replaced by a note that says how long it is and
  where it is whole (the CSV and GeoJSON exports, the audit bundle's history files).
- XML 1.0, the format of a workbook and of KML, forbids most control characters. openpyxl refuses a
  text holding one, so the whole export failed; a KML holding one is no XML any reader opens. They
  reach the data as Word's manual line break (U+000B) or pasted from other programs, and are shown as
  U+FFFD (�): visibly, where the text stood.
- A spreadsheet runs text that starts with "=", "+", "-" or "@" as a formula once someone edits the cell
  (openpyxl even writes a text starting with "=" as a formula). A CSV can only prefix such text with an
  apostrophe (columns.neutralise), which Excel then shows. A workbook marks the cell instead: its text as it
  is, held as text, with Excel's quote prefix (what typing a leading apostrophe gives), so it reads as it was
  written, stays text when edited, and is read back as it is (imports.readers).
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

__all__ = ["EXCEL_CELL_MAX", "FORMULA_STARTS", "QUOTED_STARTS", "REPLACEMENT", "cell_text", "excel_cell", "printable",
           "quoted", "xml_text"]

EXCEL_CELL_MAX = 32_767
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that starts so is marked in a workbook and escaped in a CSV: a leading apostrophe too, so that what was
# written is what is read back.
QUOTED_STARTS = (*FORMULA_STARTS, "'")
REPLACEMENT = "\ufffd"
# XML 1.0's Char production leaves out these (and lone surrogates, which no UTF-8 file can hold either).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """The text with every character XML 1.0 forbids replaced by U+FFFD."""
    return _XML_FORBIDDEN.sub(REPLACEMENT, text)


def printable(value: Any) -> None:
    """A validator for text people type or import: refuse a control character XML forbids (invisible on screen,
    and shown as U+FFFD in workbooks and KML), naming it and where it is, rather than store it. Tabs and line
    breaks are text."""
    if isinstance(value, str):
        found = _XML_FORBIDDEN.search(value)
        if found:
            raise ValidationError(
                _("This text holds an invisible control character (U+%(code)04X) at character %(at)d: delete it, or "
                  "type the text again instead of pasting it."),
                code="control_character", params={"code": ord(found.group()), "at": found.start() + 1})


def cell_text(value: Any) -> Any:
    """A value as an Excel cell is to hold it: text longer than a cell holds becomes a note saying so, other
    text loses only what XML forbids (xml_text); anything else is unchanged. The workbooks are in
    Vietnamese, as their headers are."""
    if not isinstance(value, str):
        return value
    if len(value) > EXCEL_CELL_MAX:
        length = f"{len(value):,}".replace(",", ".")
        return (f"(văn bản dài {length} ký tự, quá sức chứa của một ô Excel: xem bản đầy đủ trong tệp CSV hoặc "
                f"GeoJSON)")
    return xml_text(value)


def excel_cell(sheet: Any, value: Any, *, always: bool = False) -> Any:
    """`value` as a cell of the openpyxl worksheet `sheet` (write-only or not) holds it (cell_text): text that
    starts with QUOTED_STARTS as a text cell with the quote prefix, as it is; anything else as the value itself,
    or as a cell with `always` (for a caller that styles it)."""
    value = cell_text(value)
    if isinstance(value, str) and value.startswith(QUOTED_STARTS):
        cell = _cell(sheet, value)
        cell.data_type = "s"  # openpyxl took a text starting with "=" for a formula
        cell.quotePrefix = True
        return cell
    return _cell(sheet, value) if always else value


def _cell(sheet: Any, value: Any) -> Any:
    """openpyxl's cell for `sheet`, holding `value`."""
    return _cell_class()(sheet, value=value)


@cache
def _cell_class() -> Any:
    """openpyxl's WriteOnlyCell, imported on first use: the models import this module, and most processes write no
    workbook."""
    from openpyxl.cell import WriteOnlyCell

    return WriteOnlyCell


def quoted(cell: Any) -> bool:
    """Whether a cell read by openpyxl (read-only or not) is marked with the quote prefix: its text is as written."""
    return bool(getattr(cell, "has_style", False) and cell.style_array.quotePrefix)
