"""API views: check the parameters, call one selector, pass the database-built GeoJSON through.

DRF does the routing, authentication, parameter validation, errors and the OpenAPI schema;
the features themselves never pass through a serializer (docs/PERFORMANCE).
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from gis import selectors as geo
from gis.layers import Page
from infra.api import schema, writes
from infra.api.pages import link_text, page_with_members
from infra.api.params import AdminUnitParams, VillageParams, WorkListParams
from infra.network.selectors import village_link_join
from infra.works.models import Work
from infra.works.selectors import work_feature, works_page

GEOJSON = "application/geo+json"


class GeoJSONRenderer(JSONRenderer):
    media_type = GEOJSON
    format = "geojson"


class FirstRenderer(BaseContentNegotiation):
    """Always answer in GeoJSON/JSON: there is nothing else to offer, so no 406 for odd Accept headers."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class GeoJSONView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [GeoJSONRenderer]
    content_negotiation_class = FirstRenderer

    def get_permissions(self):
        # Reading follows the policy for whoever asks; writing needs a signed-in person (session or token).
        if self.request.method not in SAFE_METHODS:
            return [IsAuthenticated()]
        return super().get_permissions()

    def get_renderers(self):
        if self.request is not None and self.request.method not in SAFE_METHODS:
            return [JSONRenderer()]
        return super().get_renderers()


_WRITE_ERRORS = {
    400: OpenApiResponse(response=schema.ERROR, description=gettext_lazy("Refused: the message says why; nothing was written.")),
    403: OpenApiResponse(response=schema.NOT_FOUND, description=gettext_lazy("Not allowed for you.")),
    409: OpenApiResponse(response=schema.NOT_FOUND, description=gettext_lazy("The database refused it; nothing was written.")),
}
_LOCK_ERRORS = {
    404: OpenApiResponse(response=schema.NOT_FOUND, description=gettext_lazy("No such work, or you may not see it.")),
    412: OpenApiResponse(response=schema.NOT_FOUND, description=gettext_lazy("Someone saved the work after you read it.")),
    428: OpenApiResponse(response=schema.NOT_FOUND, description=gettext_lazy("No version sent (If-Match).")),
}
_WRITTEN = OpenApiResponse(response=schema.WRITTEN, description=gettext_lazy("Written; the new version is the ETag."))


def page_members(url: str, page: Page, *, limit: int, offset: int) -> bytes:
    """The links a page adds after its features (itself, and the pages either side), as JSON text starting with
    a comma; `url` is the request's absolute URL. A page past the end is refused (ValidationError, a 400)."""
    if offset > 0 and page.matched is not None and offset >= page.matched:
        raise ValidationError({"offset": [_("offset %(offset)s is past the end: %(count)s features match.")
                                          % {"offset": offset, "count": page.matched}]})
    links = [link_text(url, "self", GEOJSON, ascii_only=True)]
    more = page.matched is None or offset + page.returned < page.matched
    if more and page.returned == limit:
        links.append(link_text(replace_query_param(url, "offset", offset + limit), "next", GEOJSON, ascii_only=True))
    if offset > 0:
        links.append(link_text(replace_query_param(url, "offset", max(0, offset - limit)), "prev", GEOJSON,
                               ascii_only=True))
    return (',"links":[' + ", ".join(links) + "]").encode()


def _page_response(request: Any, page: Page, *, limit: int, offset: int) -> HttpResponse:
    """Pass the page through, adding links to it and the pages either side; refuse a page past the end."""
    members = page_members(request.build_absolute_uri(), page, limit=limit, offset=offset)
    return page_with_members(page, members, content_type=GEOJSON)


def _geojson(text: str) -> HttpResponse:
    return HttpResponse(text, content_type=GEOJSON)


_ERRORS = {400: OpenApiResponse(response=schema.ERROR, description=gettext_lazy("Bad parameters; nothing was read."))}


class WorkListView(GeoJSONView):
    @extend_schema(
        operation_id="works_list",
        summary=gettext_lazy("Works as a GeoJSON FeatureCollection"),
        description=gettext_lazy(
            "The works you may see (the public sees works from investment approval on), filtered and paged in id "
            "order. Filters combine with AND; a filter given several values (comma-separated) matches any of them."
        ),
        parameters=[WorkListParams],
        responses={(200, GEOJSON): OpenApiResponse(response=schema.collection(schema.WORK_PROPERTIES)), **_ERRORS},
        tags=["works"],
    )
    def get(self, request):
        params = WorkListParams.parse(request.query_params)
        data = params.validated_data
        page = works_page(user=request.user, filters=params.filters(), limit=data["limit"], offset=data["offset"],
                          zoom=data.get("zoom"), raw=True)
        return _page_response(request, page, limit=data["limit"], offset=data["offset"])

    @extend_schema(
        operation_id="works_create",
        summary=gettext_lazy("Register a work"),
        description=gettext_lazy("A GeoJSON Feature (or a flat object with a geometry). The board registers works; a "
                                 "commune officer proposes works in their own communes."),
        request={"application/json": schema.WORK_WRITE}, responses={201: _WRITTEN, **_WRITE_ERRORS}, tags=["works"],
    )
    def post(self, request):
        return writes.work_post(request)


class WorkDetailView(GeoJSONView):
    @extend_schema(
        operation_id="works_retrieve",
        summary=gettext_lazy("One work as a GeoJSON Feature"),
        description=gettext_lazy("404 when there is no such work or you may not see it."),
        responses={(200, GEOJSON): OpenApiResponse(response=schema.feature(schema.WORK_DETAIL_PROPERTIES)),
                   404: OpenApiResponse(response=schema.NOT_FOUND)},
        tags=["works"],
    )
    def get(self, request, pk: int):
        text = work_feature(user=request.user, pk=pk)
        if text is None:
            raise NotFound(_("No such work, or you may not see it."))
        response = _geojson(text)
        # The version is the ETag: send it back in If-Match to change the work.
        response["ETag"] = writes.etag(Work.objects.values_list("version", flat=True).get(pk=pk))
        return response

    @extend_schema(
        operation_id="works_partial_update",
        summary=gettext_lazy("Change a work (optimistic locking)"),
        description=gettext_lazy("Send the ETag you read in If-Match. A stale version is refused with 412 and what "
                                 "changed; only the listed fields may be written."),
        request={"application/json": schema.WORK_WRITE}, responses={200: _WRITTEN, **_WRITE_ERRORS, **_LOCK_ERRORS}, tags=["works"],
    )
    def patch(self, request, pk: int):
        return writes.work_patch(request, pk)


class WorkStageView(GeoJSONView):
    @extend_schema(
        operation_id="works_stage_create",
        summary=gettext_lazy("Move a work to another stage"),
        request=writes.StageMove, responses={200: _WRITTEN, **_WRITE_ERRORS, **_LOCK_ERRORS}, tags=["works"],
    )
    def post(self, request, pk: int):
        return writes.work_stage_post(request, pk)


class AllocationView(GeoJSONView):
    @extend_schema(operation_id="allocations_create", summary=gettext_lazy("Record an allocation"),
                   request=writes.AllocationIn, responses={201: _WRITTEN, **_WRITE_ERRORS}, tags=["money"])
    def post(self, request):
        return writes.allocation_post(request)


class DisbursementView(GeoJSONView):
    @extend_schema(operation_id="disbursements_create", summary=gettext_lazy("Record a payment"),
                   request=writes.DisbursementIn, responses={201: _WRITTEN, **_WRITE_ERRORS}, tags=["money"])
    def post(self, request):
        return writes.disbursement_post(request)


class AdminUnitListView(GeoJSONView):
    @extend_schema(
        operation_id="admin_units_list",
        summary=gettext_lazy("Administrative units in force on a date"),
        description=gettext_lazy(
            "Provinces, districts and communes with their validity periods. Codes are reused after the 1 July 2025 "
            "reform, so a unit is named by its code and a date."
        ),
        parameters=[AdminUnitParams],
        responses={(200, GEOJSON): OpenApiResponse(response=schema.collection(schema.ADMIN_UNIT_PROPERTIES)), **_ERRORS},
        tags=["geography"],
    )
    def get(self, request):
        data = AdminUnitParams.parse(request.query_params).validated_data
        page = geo.admin_units_page(
            limit=data["limit"], offset=data["offset"], level=data.get("level"), on=data.get("on"), code=data.get("code"),
            geometry=data["geometry"], bbox=data.get("bbox"), zoom=data.get("zoom"),
        )
        return _page_response(request, page, limit=data["limit"], offset=data["offset"])


def _commune_ids(data: dict) -> list[int] | None:
    unit = data.get("commune")
    return geo.unit_area_ids(unit) if unit is not None else None


class VillageListView(GeoJSONView):
    @extend_schema(
        operation_id="villages_list",
        summary=gettext_lazy("Villages with their population and poor households"),
        parameters=[VillageParams],
        responses={(200, GEOJSON): OpenApiResponse(response=schema.collection(schema.VILLAGE_PROPERTIES)), **_ERRORS},
        tags=["geography"],
    )
    def get(self, request):
        data = VillageParams.parse(request.query_params).validated_data
        page = geo.villages_page(limit=data["limit"], offset=data["offset"], commune_ids=_commune_ids(data),
                                 bbox=data.get("bbox"))
        return _page_response(request, page, limit=data["limit"], offset=data["offset"])


class VillageLinkListView(GeoJSONView):
    @extend_schema(
        operation_id="village_links_list",
        summary=gettext_lazy("A line from every village to its commune centre"),
        description=gettext_lazy(
            "The plan asks that villages be connected to their commune centre. Each link is a straight line standing "
            "for that question, with its status from the latest connectivity run (unknown before the first run)."
        ),
        parameters=[VillageParams],
        responses={(200, GEOJSON): OpenApiResponse(response=schema.collection(schema.LINK_PROPERTIES)), **_ERRORS},
        tags=["geography"],
    )
    def get(self, request):
        data = VillageParams.parse(request.query_params).validated_data
        page = geo.village_links_page(limit=data["limit"], offset=data["offset"], commune_ids=_commune_ids(data),
                                      bbox=data.get("bbox"), status=village_link_join(village_alias="t"))
        return _page_response(request, page, limit=data["limit"], offset=data["offset"])


API_TITLE = gettext_lazy("Phong Thổ infrastructure works API")
API_DESCRIPTION = gettext_lazy(
    "Works of the poverty-reduction programme's Project 1 in Phong Thổ (Lai Châu) and the geography they lie in, "
    "as GeoJSON (RFC 7946, WGS84 longitude/latitude). Lists are paged with limit and offset in id order; "
    "numberMatched counts matches exactly up to 10000. Bad parameters are answered with 400 and a message per "
    "parameter. What you see depends on who you are: the public sees works from investment approval on."
)


class SchemaView(SpectacularAPIView):
    """OpenAPI 3 (YAML by default; JSON with ?format=json or Accept: application/vnd.oai.openapi+json)."""

    custom_settings = {"TITLE": API_TITLE, "DESCRIPTION": API_DESCRIPTION}

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request, *args, **kwargs):
        # The generator accepts ?lang= for any text; only the site's languages are honoured.
        if request.GET.get("lang") not in (None, "vi", "en"):
            raise ValidationError({"lang": [_("Use lang=vi or lang=en.")]})
        return super().get(request, *args, **kwargs)


def docs(request: HttpRequest) -> HttpResponse:
    """A readable page of the OpenAPI schema, rendered here (no CDN, no JavaScript)."""
    with patched_settings(SchemaView.custom_settings):
        api = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in api["paths"].items():
        for method, operation in methods.items():
            responses = [{"code": code, "description": r.get("description", ""), "media": ", ".join(r.get("content", {}))}
                         for code, r in operation.get("responses", {}).items()]
            operations.append({"path": path, "method": method.upper(), "operation": operation, "responses": responses,
                               "example": path.replace("{id}", "1")})
    return render(request, "api/docs.html", {"api": api, "operations": operations})
