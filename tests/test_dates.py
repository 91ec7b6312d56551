"""Dates typed into forms are read day first or as ISO, in both languages; never month first (infra/formats)."""
from __future__ import annotations

from datetime import date

import pytest
from django import forms
from django.utils import translation


class _Form(forms.Form):
    day = forms.DateField()


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("written, read", [
    ("03/04/2025", date(2025, 4, 3)), ("3/4/2025", date(2025, 4, 3)), ("2025-04-03", date(2025, 4, 3)),
    ("13/04/2025", date(2025, 4, 13)),
    ("04/13/2025", None), ("03/04/25", None), ("2025/04/03", None), ("3 April 2025", None), ("31/02/2025", None),
])
def test_a_typed_date_is_read_day_first_or_refused(language, written, read):
    # Django's Vietnamese locale names no input formats: "03/04/2025" fell back to the US reading, 4 March.
    with translation.override(language):
        form = _Form({"day": written})
        assert (form.cleaned_data["day"] if form.is_valid() else None) == read


def test_a_date_field_shows_a_stored_date_as_it_is_typed():
    with translation.override("vi"):
        assert 'value="03/04/2025"' in str(_Form(initial={"day": date(2025, 4, 3)})["day"])


def test_a_date_outside_1900_to_2100_is_refused_by_forms_and_the_api():
    from rest_framework import serializers

    from infra.dates import ApiDateField, DateField

    class Form(forms.Form):
        day = DateField()

    class Body(serializers.Serializer):
        day = ApiDateField()

    with translation.override("vi"):
        for typed in ("01/01/0025", "01/01/2205", "31/12/1899"):
            form = Form({"day": typed})
            assert not form.is_valid() and "1900" in form.errors["day"][0], typed
        assert Form({"day": "31/12/2100"}).is_valid() and Form({"day": "01/01/1900"}).is_valid()
    for sent in ("0025-01-01", "9999-12-31"):
        body = Body(data={"day": sent})
        assert not body.is_valid() and "1900" in str(body.errors["day"][0]), sent
    assert Body(data={"day": "2025-04-03"}).is_valid()


def test_every_date_of_works_money_and_upkeep_is_held_to_1900_2100_by_its_model():
    # The services clean their rows (full_clean), so a date from any path, a command or the shell too,
    # meets the same rule as one typed into a form.
    from django.apps import apps
    from django.db import models

    from infra.dates import in_range

    checked = []
    for label in ("works", "finance", "maintenance"):
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField) \
                        and not (field.auto_now or field.auto_now_add):
                    assert in_range in field.validators, f"{model.__name__}.{field.name}"
                    checked.append(f"{model.__name__}.{field.name}")
    assert "Work.planned_start" in checked and "Allocation.allocated_on" in checked and "Record.done_on" in checked
