"""The connectivity dashboard and API. Thin: parse, call one selector, render.

Everyone may read the indicators, village statuses and paths (villages, roads and their people
are public on the map already); proposals are listed only to those who may see those works.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from infra.api.schema import ERROR
from infra.network.selectors import connectivity_summary, run_latest, village_paths_page
from infra.works.models import Work

GEOJSON = "application/geo+json"


def _no_run() -> NotFound:
    return NotFound(_("Connectivity has not been computed yet: run manage.py connectivity."))


class ConnectivityView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="connectivity_retrieve",
        summary=gettext_lazy("Village connectivity to commune centres, by commune, with proposed roads ranked"),
        description=gettext_lazy(
            "The latest stored run: its inputs, the indicators of the whole area and of each commune, every village's "
            "status, and the gain of each proposed road or bridge if built (only proposals you may see)."
        ),
        responses={200: OpenApiResponse(description=gettext_lazy("The latest run.")),
                   404: OpenApiResponse(description=gettext_lazy("No run yet."))},
        tags=["connectivity"],
    )
    def get(self, request):
        run = run_latest()
        if run is None:
            raise _no_run()
        return Response(connectivity_summary(run=run, user=request.user))


class _PageParams(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=10_000, default=1000)
    offset = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)


class _GeoJSONRenderer(JSONRenderer):
    media_type = GEOJSON
    format = "geojson"


class VillagePathsView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [_GeoJSONRenderer, JSONRenderer]

    @extend_schema(
        operation_id="connectivity_villages_list",
        summary=gettext_lazy("Each village's shortest road path to its commune centre (GeoJSON)"),
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses={(200, GEOJSON): OpenApiResponse(description=gettext_lazy("One page of village paths.")),
                   400: OpenApiResponse(response=ERROR, description=gettext_lazy("Bad parameters; nothing was read.")),
                   404: OpenApiResponse(description=gettext_lazy("No run yet."))},
        tags=["connectivity"],
    )
    def get(self, request):
        params = _PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        run = run_latest()
        if run is None:
            raise _no_run()
        page = village_paths_page(run=run, limit=params.validated_data["limit"], offset=params.validated_data["offset"])
        return HttpResponse(page.text, content_type=GEOJSON)


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Per-commune indicators, each village's link, and the proposed roads ranked by what they would add."""
    run = run_latest()
    context = {"run": run, "has_demo": bool(run and run.has_demo) or Work.objects.filter(is_demo=True).exists()}
    if run is not None:
        context["data"] = connectivity_summary(run=run, user=request.user)
    return render(request, "network/dashboard.html", context)
