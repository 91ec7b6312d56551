"""Which works an export holds: the same filters as the API (commune of either vintage, category,
stage, year), checked the same way, then narrowed by the access policy."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError as ParamsError

from infra.api.params import WorkFilterParams
from infra.works.models import Work
from infra.works.selectors import WorkFilters, works_matching

__all__ = ["FILTER_NAMES", "export_works", "filters_describe", "filters_parse"]

FILTER_NAMES = ("commune", "category", "stage", "year", "source", "q")


def filters_parse(query: Mapping[str, Any]) -> WorkFilters:
    """Return the filters of a query (a QueryDict or a plain dict); raise ValidationError with the reasons.

    `commune` is a code (today's unit) or code@date: 03562@2025-06-30 is the former xã Vàng Ma
    Chải and selects the works approved under it.
    """
    # Pages send fields of their own (the button, a CSRF token): only the filter names are read.
    data: dict[str, str] = {}
    for name in FILTER_NAMES:
        values = query.getlist(name) if hasattr(query, "getlist") else query.get(name)
        if isinstance(values, (list, tuple)):
            values = ",".join(str(v) for v in values if str(v).strip())
        if values not in (None, ""):
            data[name] = str(values)
    try:
        params = WorkFilterParams.parse(data)
    except ParamsError as error:
        raise ValidationError(_flatten(error.detail)) from None
    return params.filters()


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(field): [str(m) for m in (messages if isinstance(messages, list) else [messages])]
                for field, messages in detail.items()}
    return {"__all__": [str(m) for m in detail]}


def filters_describe(filters: WorkFilters) -> dict[str, Any]:
    """Return the filters as plain data for a manifest: only those that narrow."""
    described: dict[str, Any] = {}
    if filters.commune is not None:
        unit = filters.commune
        described["commune"] = f"{unit.code}@{unit.valid_to.isoformat()}" if unit.valid_to else unit.code
        described["commune_name"] = f"{unit.unit_type} {unit.name}"
    if filters.categories:
        described["category"] = list(filters.categories)
    if filters.stages:
        described["stage"] = list(filters.stages)
    if filters.year is not None:
        described["year"] = filters.year
    if filters.source:
        described["source"] = filters.source
    if filters.q:
        described["q"] = filters.q
    return described


def export_works(*, user: Any, filters: WorkFilters) -> QuerySet[Work]:
    """Return the works this person may export under these filters (the policy decides visibility)."""
    return works_matching(user=user, filters=filters)
