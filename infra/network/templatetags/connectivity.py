"""Filters for the connectivity page: shares as percentages, metres as kilometres, statuses as words."""
from django import template
from django.utils.formats import number_format

from infra.network.models import LinkStatus

register = template.Library()


@register.filter
def percent(share):
    """Render a share 0–1 as “45,5 %” (localised), or “—” when there is none."""
    if share is None or share == "":
        return "—"
    return f"{number_format(round(100 * float(share), 1), decimal_pos=1)} %"


@register.filter
def km(metres):
    """Render metres as kilometres with one decimal, or “—”."""
    if metres is None or metres == "":
        return "—"
    return number_format(round(float(metres) / 1000, 1), decimal_pos=1)


@register.filter
def link_status(value):
    """Render a stored link status in words."""
    try:
        return LinkStatus(value).label
    except ValueError:
        return "—"


@register.filter
def per_million(value):
    if value is None or value == "":
        return "—"
    return number_format(round(float(value), 2), decimal_pos=2)
