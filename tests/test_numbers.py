"""Whole numbers as people write them: read exactly or refused (infra.numbers). Django's and DRF's own integer
fields read "150.000" (a hundred and fifty thousand, as Vietnamese writes it) as 150, and rounded JSON floats."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms
from django.utils import translation
from rest_framework import serializers

from infra.numbers import ApiWholeNumberField, WholeNumberField, whole_number


@pytest.mark.parametrize("written, number", [
    ("150000", 150_000), ("150.000", 150_000), ("1.500.000", 1_500_000), ("1.200.000.000", 1_200_000_000),
    ("1 500 000", 1_500_000), ("1\u00a0500\u00a0000", 1_500_000), ("1\u202f500", 1_500), ("1,500,000", 1_500_000),
    (" 42 ", 42), ("-1.000", -1_000), ("0", 0), ("007", 7), (12, 12), (Decimal("1500"), 1_500), (Decimal("15E+2"), 1_500),
])
def test_a_whole_number_as_written_is_read_exactly(written, number):
    assert whole_number(written) == number


@pytest.mark.parametrize("written", [
    "150.0", "1.5", "1,5", "1,500", "1.234,567", "1,234.567", "1 234,567", "1.50.000", "1.5000", "15.00.000", "1 500.000",
    "", " ", "-", "+5", "1e3", "0x10", "١٢٣", "１２３", "1_000", "12a", True, False, None, 150.0, 1500000000.0000001,
    Decimal("1.5"), Decimal("NaN"), [1],
])
def test_anything_else_is_refused_rather_than_guessed(written):
    with pytest.raises(ValueError):
        whole_number(written)


def test_spreadsheet_floats_are_read_only_when_whole_and_exact():
    assert whole_number(1_500_000.0, floats=True) == 1_500_000
    for value in (1.5, 2.0**53 + 2, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            whole_number(value, floats=True)


def test_a_form_field_reads_vietnamese_thousands_and_refuses_decimals_in_vietnamese():
    class Cost(forms.Form):
        cost = WholeNumberField(min_value=0)

    form = Cost({"cost": "150.000"})
    assert form.is_valid() and form.cleaned_data["cost"] == 150_000
    assert forms.IntegerField().clean("150.000") == 150  # what Django's own field does, and why this one exists
    with translation.override("vi"):
        form = Cost({"cost": "150,5"})
        assert not form.is_valid() and "dấu chấm để tách hàng nghìn" in form.errors["cost"][0]
        assert not Cost({"cost": "-1"}).is_valid()
    html = str(Cost()["cost"])
    assert 'type="text"' in html and 'inputmode="numeric"' in html  # a number box would refuse 1.500.000 itself


def test_an_api_field_refuses_json_floats_and_reads_text_as_the_form_does():
    class Payment(serializers.Serializer):
        amount = ApiWholeNumberField(min_value=0)

    def read(value):
        payment = Payment(data={"amount": value})
        return payment.validated_data["amount"] if payment.is_valid() else None

    assert read(400_000) == 400_000 and read("400.000") == 400_000 and read("400000") == 400_000
    assert serializers.IntegerField().run_validation(1500000000.0000001) == 1_500_000_000  # DRF's own field rounds
    for value in (400_000.0, 1500000000.0000001, "400,5", "400.0", True, "9" * 1001):
        assert read(value) is None, value
