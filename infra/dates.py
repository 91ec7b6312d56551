"""Dates people type or send: read day first (infra/formats), and only from 1900 to 2100.

A year typed short or by a slip ("0025", "2205") is a date no work of the programme can have; Django's and
DRF's date fields take any year from 1 to 9999. Forms, the admin, the API and imports refuse it instead,
and so do the models (every date of works, money and upkeep has `in_range` among its validators, which
`full_clean` runs in the services) and the stage change, whose event is not cleaned as a model.
"""
from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

__all__ = ["EARLIEST", "LATEST", "ApiDateField", "DateField", "fields_in_range", "in_range"]

EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)


def in_range(day: date | None) -> None:
    """Raise ValidationError for a date outside 1900–2100 (None passes: the field decides whether it may be empty)."""
    if day is not None and not EARLIEST <= day <= LATEST:
        raise ValidationError(_("Enter a date from 1900 to 2100."), code="out_of_range")


def fields_in_range(**days: date | None) -> None:
    """Raise ValidationError, by field name, for each of the dates given that lies outside 1900–2100."""
    errors = {}
    for name, day in days.items():
        try:
            in_range(day)
        except ValidationError as error:
            errors[name] = error.error_list
    if errors:
        raise ValidationError(errors)


class DateField(forms.DateField):
    default_validators = [in_range]


class ApiDateField(serializers.DateField):
    default_validators = [in_range]
