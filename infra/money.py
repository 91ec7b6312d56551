"""Money is integer VND; people read it in million VND with Vietnamese separators."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["format_million_vnd", "format_share", "format_vnd"]


def _group(digits: str) -> str:
    # Vietnamese writes a dot between thousands: 82.075
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return ".".join(groups)


def format_vnd(amount: int | None) -> str:
    """Return 1.234.567 for 1234567 (no unit)."""
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    return sign + _group(str(abs(int(amount))))


def format_million_vnd(amount: int | None, *, decimals: int = 3) -> str:
    """Return an amount of VND in millions as Vietnamese readers expect: 82.075 or 1.234,5.

    The fraction is kept (comma for decimals) so that no figure is silently rounded away
    beyond `decimals` places of a million (1,000 VND by default).
    """
    if amount is None:
        return "—"
    millions = (Decimal(int(amount)) / Decimal(1_000_000)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if millions < 0 else ""
    whole, _, fraction = f"{abs(millions):f}".partition(".")
    fraction = fraction.rstrip("0")
    return sign + _group(whole) + (f",{fraction}" if fraction else "")


def format_share(part: int, whole: int) -> str | None:
    """Return `part` of `whole` as a percentage the Vietnamese way: 99,5 for 995 of 1,000; None without a whole.

    Cut to a tenth, not rounded, so that it reads 100 only when all of it is there (995 of 1,000 rounded to a
    whole number read 100); "< 0,1" when some of it is, but less than a tenth of a per cent."""
    if whole <= 0:
        return None
    tenths = 1000 * abs(int(part)) // int(whole)  # whole numbers throughout: exact
    if part and not tenths:
        return "< 0,1"
    units, tenth = divmod(tenths, 10)
    return ("-" if part < 0 else "") + str(units) + (f",{tenth}" if tenth else "")
