"""Money reads as Vietnamese readers expect, and no figure is silently rounded away."""
import pytest

from infra.money import format_million_vnd, format_share, format_vnd


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


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (995, 1000, "99,5"), (999_999, 1_000_000, "99,9"), (1000, 1000, "100"), (500, 1000, "50"), (0, 1000, "0"),
    (1, 1_000_000, "< 0,1"), (1, 1000, "0,1"), (2, 3, "66,6"), (400, 0, None), (-5, 1000, "-0,5"),
])
def test_a_share_reads_100_only_when_whole_and_0_only_when_nothing(part, whole, expected):
    # 995 of 1,000 VND disbursed was shown as 100 %: a share is cut to a tenth, never rounded up to the whole.
    assert format_share(part, whole) == expected


@pytest.mark.parametrize(("amount", "expected"), [(400, "< 0,001"), (-400, "> -0,001"), (499, "< 0,001"), (500, "0,001")])
def test_an_amount_that_is_not_zero_never_reads_0(amount, expected):
    # Shown in million VND to a thousand VND, 400 VND read "0" (a reversal of it "-0" on the map).
    assert format_million_vnd(amount) == expected


def test_english_pages_write_english_marks_so_no_figure_reads_a_thousand_times_smaller():
    # "82.075 million VND" is eighty-two billion to a Vietnamese reader and eighty-two million to an English one.
    from django.utils import translation

    with translation.override("en"):
        assert format_million_vnd(82_075_000_000) == "82,075"
        assert format_million_vnd(1_234_500_000) == "1,234.5"
        assert format_vnd(1_234_567) == "1,234,567"
        assert format_share(995, 1000) == "99.5" and format_share(1, 1_000_000) == "< 0.1"
        assert format_million_vnd(400) == "< 0.001"
    with translation.override("vi"):
        assert format_million_vnd(82_075_000_000) == "82.075" and format_vnd(1_234_567) == "1.234.567"
