"""Whole numbers as people write them (money in VND, counts, percentages): read exactly, or refused, never guessed.

Vietnamese writes a dot between thousands and a comma before decimals: 1.500.000 is one and a half
million, 1,5 is one and a half. Django's and DRF's integer fields drop a trailing ".000" as a zero
decimal part, so "150.000" (a hundred and fifty thousand) was stored as 150; JSON floats such as
1500000000.0000001 were rounded to a whole number. Every form field, API field and import column
that takes such a number reads it with `whole_number`:

- digits, with a minus sign where the field allows one (its validators decide);
- digits grouped by thousands all one way: dots (1.500.000, as the pages write it: infra.money),
  spaces (1 500 000, also no-break spaces), or commas in two groups or more (1,500,000);
- a whole number given as a number: an int, a Decimal without a fraction, and (`floats=True`, for
  spreadsheet cells, which hold every number as a float) a float that is whole and exact.

Refused: a decimal part (1.5, 1,5, 150.0), separators mixed (1.234,567), a single comma group
(1,500: 1.5 to a Vietnamese reader, 1500 to an English one), floats from JSON, anything else.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

__all__ = ["WHOLE_NUMBER_HINT", "ApiWholeNumberField", "WholeNumberField", "whole_number"]

_WRITTEN = re.compile(
    r"-?(?:[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]{1,3}(?:,[0-9]{3}){2,})"
)
_SEPARATORS = re.compile(r"[., \u00a0\u202f]")
_EXACT_FLOAT = 2**53  # past this a float no longer holds every whole number
WHOLE_NUMBER_HINT = _("Enter a whole number in digits; dots may separate thousands, as in 1.500.000. No decimals.")


def whole_number(value: Any, *, floats: bool = False) -> int:
    """The whole number `value` holds (see the module's docstring), or ValueError."""
    if isinstance(value, bool):
        raise ValueError("a yes/no is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError(f"not a whole number: {value}")
        return int(value)
    if isinstance(value, float):
        if not floats or not value.is_integer() or abs(value) > _EXACT_FLOAT:
            raise ValueError(f"not an exact whole number: {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise ValueError(f"not a number: {value!r}")
    text = value.strip(" \t\r\n\u00a0\u202f")
    if not _WRITTEN.fullmatch(text):
        raise ValueError(f"not a whole number as written: {value!r}")
    return int(_SEPARATORS.sub("", text))


class WholeNumberField(forms.IntegerField):
    """A form's whole number, read by `whole_number`: a text box (a number box refuses 1.500.000 in the
    browser, with a message in the browser's language) that brings up the digits on a phone."""

    widget = forms.TextInput
    default_error_messages = {"invalid": WHOLE_NUMBER_HINT}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:
            return whole_number(value)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "inputmode": "numeric"}


class ApiWholeNumberField(serializers.IntegerField):
    """The API's whole number, read by `whole_number`: a JSON integer or text; a JSON float is refused."""

    default_error_messages = {"invalid": WHOLE_NUMBER_HINT}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and len(data) > self.MAX_STRING_LENGTH:
            self.fail("max_string_length")
        try:
            return whole_number(data)
        except ValueError:
            self.fail("invalid")
