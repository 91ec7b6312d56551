"""Money is integer VND; people read it in million VND, with the separators of the page's language.

Vietnamese writes 82.075,5 and English 82,075.5. Read with the other language's marks a figure changes by
a factor of a thousand: "82.075 million VND" is eighty-two billion to a Vietnamese reader and eighty-two
million to an English one, so English pages use English marks (as Django's own number formats there do).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import translation

__all__ = ["format_million_vnd", "format_share", "format_vnd", "number_marks"]


def number_marks(language: str | None = None) -> tuple[str, str]:
    """The thousands separator and the decimal mark of a language (the active one by default)."""
    code = language or translation.get_language() or settings.LANGUAGE_CODE
    return (",", ".") if code.startswith("en") else (".", ",")


def _group(digits: str, separator: str) -> str:
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return separator.join(groups)


def format_vnd(amount: int | None) -> str:
    """Return 1.234.567 for 1234567 (no unit); 1,234,567 on English pages."""
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    return sign + _group(str(abs(int(amount))), number_marks()[0])


def format_million_vnd(amount: int | None, *, decimals: int = 3) -> str:
    """Return an amount of VND in millions as its readers expect: 82.075 or 1.234,5 (82,075 or 1,234.5 in English).

    The fraction is kept so that no figure is silently rounded away beyond `decimals` places of a million
    (1,000 VND by default); an amount that rounds to nothing there reads "< 0,001", never 0.
    """
    if amount is None:
        return "—"
    thousands, mark = number_marks()
    step = Decimal(1).scaleb(-decimals)
    millions = (Decimal(int(amount)) / Decimal(1_000_000)).quantize(step, rounding=ROUND_HALF_UP)
    if amount and not millions:
        # Never 0 for an amount that is not: below half the last place shown, say so.
        smallest = f"0{mark}{'0' * (decimals - 1)}1" if decimals > 0 else "1"
        return f"< {smallest}" if amount > 0 else f"> -{smallest}"
    sign = "-" if millions < 0 else ""
    whole, _, fraction = f"{abs(millions):f}".partition(".")
    fraction = fraction.rstrip("0")
    return sign + _group(whole, thousands) + (f"{mark}{fraction}" if fraction else "")


def format_share(part: int, whole: int) -> str | None:
    """Return `part` of `whole` as a percentage: 99,5 for 995 of 1,000 (99.5 in English); None without a whole.

    Cut to a tenth, not rounded, so that it reads 100 only when all of it is there (995 of 1,000 rounded to a
    whole number read 100); "< 0,1" when some of it is, but less than a tenth of a per cent."""
    if whole <= 0:
        return None
    mark = number_marks()[1]
    tenths = 1000 * abs(int(part)) // int(whole)  # whole numbers throughout: exact
    if part and not tenths:
        return f"< 0{mark}1"
    units, tenth = divmod(tenths, 10)
    return ("-" if part < 0 else "") + str(units) + (f"{mark}{tenth}" if tenth else "")
