from django import template
from django.utils.translation import gettext as _

from infra.money import format_million_vnd, format_share, format_vnd

register = template.Library()


@register.filter
def million_vnd(amount):
    """Render integer VND as “82.075 triệu đồng”."""
    if amount is None or amount == "":
        return "—"
    return _("%(amount)s million VND") % {"amount": format_million_vnd(int(amount))}


@register.filter
def vnd(amount):
    """Render integer VND as “1.234.567 đ”."""
    if amount is None or amount == "":
        return "—"
    return _("%(amount)s VND") % {"amount": format_vnd(int(amount))}


@register.filter
def share(part, whole):
    """`part` of `whole` as a percentage cut to a tenth (infra.money.format_share), "—" without a whole: 995 of
    1.000 reads 99,5, never 100."""
    found = format_share(int(part or 0), int(whole or 0))
    return "—" if found is None else found


@register.filter
def share_width(part, whole):
    """The same share as a bar's width, 0 to 100, whole percents cut (never rounded up to the full bar)."""
    whole = int(whole or 0)
    if whole <= 0:
        return 0
    return max(0, min(100, 100 * int(part or 0) // whole))
