from django import template
from django.utils.translation import gettext as _

from infra.money import format_million_vnd, format_vnd

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
