"""Writes through the API: every one goes through a service and the access policy.

Optimistic locking: a work's version is its ETag. GET /api/works/<id>/ returns it; PATCH and the
stage move must send it back in If-Match (or as "version" in the body). A stale version gets
412 with what changed in between, and the other person's edit survives. No version at all: 428.
Only listed fields may be written; anything else (commune, version, is_staff, ids…) is a 400.
"""
from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from infra.accounts.policy import Action, can, require, works_visible
from infra.dates import ApiDateField
from infra.finance.models import Allocation, CapitalPlan, ProgrammeNode
from infra.finance.services import allocation_create, disbursement_create
from infra.numbers import ApiWholeNumberField
from infra.works.choices import Category, Stage
from infra.works.models import Work
from infra.works.services import StaleVersion, work_check_proposer_scope, work_create, work_stage_change, work_update

__all__ = ["check_fields", "etag", "expected_version", "geometry_from_geojson", "service_call"]

# What each write may carry; anything else is refused, never silently dropped.
WORK_PATCH_FIELDS = frozenset({
    "name", "description", "internal_notes", "progress", "planned_start", "planned_end", "actual_start", "actual_end",
    "total_investment", "beneficiary_households", "beneficiary_poor_households", "beneficiary_women",
    "special_mechanism", "school_level", "water_source", "road_class", "road_surface", "all_season", "geometry",
})
PROGRESS_ONLY = frozenset({"progress"})
WORK_CREATE_FIELDS = WORK_PATCH_FIELDS - {"progress", "actual_start", "actual_end"} | {"code", "category", "approved_year"}


class PreconditionRequired(APIException):
    status_code = 428
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale_version"

    def __init__(self, body: dict):
        # Keep numbers as numbers (APIException would turn every value into a string).
        self.detail = body


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def etag(version: int) -> str:
    return f'"{version}"'


def check_fields(data: dict, allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({"non_field_errors": [
            _("These fields cannot be written: %(fields)s. Writable: %(allowed)s.")
            % {"fields": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}]})


def expected_version(request, body: dict) -> int:
    """Return the version the client read: If-Match wins over a "version" in the body."""
    header = request.headers.get("If-Match", "").strip()
    raw = header.removeprefix("W/").strip('"') if header else body.pop("version", None)
    if raw in (None, ""):
        raise PreconditionRequired(_("Send the version you read in an If-Match header (the ETag of GET) or as \"version\"."))
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationError({"version": [_("The version must be a whole number.")]}) from None


def geometry_from_geojson(value: Any) -> GEOSGeometry:
    """Parse a GeoJSON geometry in WGS84; a "crs" member is refused, never handed to GDAL's parser."""
    if not isinstance(value, dict) or "type" not in value:
        raise ValidationError({"geometry": [_("The geometry must be a GeoJSON geometry object with type and coordinates.")]})
    if "crs" in value:
        raise ValidationError({"geometry": [_("GeoJSON geometries are WGS84 longitude/latitude; a crs member is not accepted.")]})
    if value["type"] not in {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}:
        raise ValidationError({"geometry": [_("Unsupported geometry type.")]})
    if "coordinates" not in value:
        raise ValidationError({"geometry": [_("The geometry must be a GeoJSON geometry object with type and coordinates.")]})
    try:
        geometry = GEOSGeometry(json.dumps({"type": value["type"], "coordinates": value["coordinates"]}))
    except (GEOSException, GDALException, ValueError, TypeError):  # GDAL reads the GeoJSON: its refusals too
        raise ValidationError({"geometry": [_("The geometry could not be read.")]}) from None
    if geometry.empty:
        raise ValidationError({"geometry": [_("The geometry could not be read.")]})
    geometry.srid = 4326
    return geometry


def service_call(func, **kwargs):
    """Call a service, turning its refusals into 400, 403, 409 or 412 with the service's own message."""
    try:
        return func(**kwargs)
    except StaleVersion as exc:
        raise PreconditionFailed({
            "detail": exc.messages[0], "current_version": exc.current.version,
            "changed": {field: [str(old), str(new)] for field, (old, new) in exc.changed.items()},
        }) from None
    except PermissionDenied as exc:
        raise exc
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}) from None
    except IntegrityError:
        # The database's own guards caught what a concurrent writer made true in between.
        raise Conflict(_("The database refused the change (a rule was broken, perhaps by a simultaneous write); "
                         "nothing was written. Reload and try again.")) from None


class _Fields(serializers.Serializer):
    """Typed parsing of the writable fields (types only; the rules live in the services)."""

    name = serializers.CharField(max_length=255)
    description = serializers.CharField(allow_blank=True)
    internal_notes = serializers.CharField(allow_blank=True)
    progress = ApiWholeNumberField(min_value=0, max_value=100)
    planned_start = ApiDateField(allow_null=True)
    planned_end = ApiDateField(allow_null=True)
    actual_start = ApiDateField(allow_null=True)
    actual_end = ApiDateField(allow_null=True)
    total_investment = ApiWholeNumberField(min_value=0)
    beneficiary_households = ApiWholeNumberField(min_value=0)
    beneficiary_poor_households = ApiWholeNumberField(min_value=0)
    beneficiary_women = ApiWholeNumberField(min_value=0)
    special_mechanism = serializers.BooleanField()
    school_level = serializers.CharField(allow_blank=True, max_length=20)
    water_source = serializers.CharField(allow_blank=True, max_length=20)
    road_class = serializers.CharField(allow_blank=True, max_length=16)
    road_surface = serializers.CharField(allow_blank=True, max_length=16)
    all_season = serializers.BooleanField(allow_null=True)
    code = serializers.CharField(max_length=40)
    category = serializers.ChoiceField(choices=Category.choices)
    approved_year = ApiWholeNumberField(min_value=2000, max_value=2100)


def parse_fields(data: dict, allowed: frozenset[str], *, required: tuple[str, ...] = ()) -> dict:
    check_fields(data, allowed)
    geometry = data.pop("geometry", None)
    fields = _Fields(data=data, partial=True)
    fields.is_valid(raise_exception=True)
    values = dict(fields.validated_data)
    missing = [name for name in required if name not in values and not (name == "geometry" and geometry)]
    if missing:
        raise ValidationError({name: [_("This field is required.")] for name in missing})
    if geometry is not None:
        values["geometry"] = geometry_from_geojson(geometry)
    return values


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    return dict(request.data)


def work_patch(request, pk: int) -> Response:
    body = _body(request)
    version = expected_version(request, body)
    work = get_object_or_404(works_visible(request.user), pk=pk)
    values = parse_fields(body, WORK_PATCH_FIELDS)
    action = Action.WORK_PROGRESS if set(values) <= PROGRESS_ONLY else Action.WORK_EDIT
    require(request.user, action, work)
    updated = service_call(work_update, work=work, user=request.user, expected_version=version, **values)
    return Response({"id": updated.pk, "version": updated.version}, headers={"ETag": etag(updated.version)})


def work_post(request) -> Response:
    body = _body(request)
    if body.get("type") == "Feature":
        body = {**(body.get("properties") or {}), "geometry": body.get("geometry")}
    values = parse_fields(body, WORK_CREATE_FIELDS, required=("code", "name", "category", "approved_year", "geometry"))
    if not (can(request.user, Action.WORK_CREATE) or can(request.user, Action.WORK_PROPOSE)):
        raise PermissionDenied(_("You are not allowed to do this."))
    work_check_proposer_scope(user=request.user, geometry=values["geometry"])
    work = service_call(work_create, user=request.user, **values)
    return Response({"id": work.pk, "version": work.version}, status=status.HTTP_201_CREATED,
                    headers={"ETag": etag(work.version), "Location": work.get_absolute_url()})


class StageMove(serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    occurred_on = ApiDateField()
    note = serializers.CharField(allow_blank=True, required=False, default="")
    decision_number = serializers.CharField(allow_blank=True, required=False, default="", max_length=80)


def work_stage_post(request, pk: int) -> Response:
    body = _body(request)
    version = expected_version(request, body)
    check_fields(body, frozenset(StageMove().fields))
    move = StageMove(data=body)
    move.is_valid(raise_exception=True)
    work = get_object_or_404(works_visible(request.user), pk=pk)
    require(request.user, Action.WORK_STAGE, work)
    service_call(work_stage_change, work=work, user=request.user, expected_version=version, **move.validated_data)
    work.refresh_from_db()
    return Response({"id": work.pk, "stage": work.stage, "version": work.version}, headers={"ETag": etag(work.version)})


class AllocationIn(serializers.Serializer):
    capital_plan = serializers.PrimaryKeyRelatedField(queryset=CapitalPlan.objects.all())
    programme_line = serializers.PrimaryKeyRelatedField(queryset=ProgrammeNode.objects.all())
    work = serializers.PrimaryKeyRelatedField(queryset=Work.objects.all(), required=False, allow_null=True)
    amount = ApiWholeNumberField()
    allocated_on = ApiDateField()
    decision_number = serializers.CharField(allow_blank=True, required=False, default="", max_length=80)
    note = serializers.CharField(allow_blank=True, required=False, default="")


class DisbursementIn(serializers.Serializer):
    allocation = serializers.PrimaryKeyRelatedField(queryset=Allocation.objects.all())
    amount = ApiWholeNumberField()
    paid_on = ApiDateField()
    voucher_number = serializers.CharField(max_length=80)
    note = serializers.CharField(allow_blank=True, required=False, default="")


def money_post(request, serializer_class, service) -> Response:
    require(request.user, Action.MONEY_RECORD)
    body = _body(request)
    check_fields(body, frozenset(serializer_class().fields))
    incoming = serializer_class(data=body)
    incoming.is_valid(raise_exception=True)
    record = service_call(service, user=request.user, **incoming.validated_data)
    return Response({"id": record.pk, "amount": record.amount}, status=status.HTTP_201_CREATED)


def allocation_post(request) -> Response:
    return money_post(request, AllocationIn, allocation_create)


def disbursement_post(request) -> Response:
    return money_post(request, DisbursementIn, disbursement_create)


WRITE_PERMISSIONS = [IsAuthenticated]
