"""Money reads as Vietnamese readers expect, and no figure is silently rounded away."""
import pytest

from infra.money import format_million_vnd, format_vnd


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (82_075_000_000, "82.075"),
        (71_750_000_000, "71.750"),
        (10_505_000_000, "10.505"),
        (180_000_000, "180"),
        (1_234_500_000, "1.234,5"),
        (1_500_000, "1,5"),
        (999, "0,001"),
        (0, "0"),
        (-180_000_000, "-180"),
    ],
)
def test_format_million_vnd(amount, expected):
    assert format_million_vnd(amount) == expected


def test_format_vnd_groups_thousands_with_dots():
    assert format_vnd(82_075_000_000) == "82.075.000.000"
    assert format_vnd(None) == "—"
