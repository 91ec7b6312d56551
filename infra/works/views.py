"""Pages and layers of the works register. Views stay thin: parse, call a selector, render."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError as ParamsError

from gis import selectors as geo
from gis.layers import COUNT_CAP, on_postgis
from gis.maps import SHAPES, LegendEntry, PrintedFeature, printable_map_html, symbol_svg
from gis.models import HARDENED_SURFACES, AdminUnit, AdminUnitLevel, RoadSurface, Village
from infra.accounts.policy import works_visible
from infra.api.params import WorkMapParams
from infra.finance.models import Source
from infra.money import format_million_vnd
from infra.maintenance.selectors import LAYER_STATUSES
from infra.network.selectors import run_latest, village_link_join
from infra.ogc.tiles import TILE_LAYERS
from infra.works.choices import PUBLIC_STAGES, Category, Stage
from infra.works.models import Work, WorkDocument
from infra.works.selectors import (
    WorkFilters,
    document_get_visible,
    work_detail_context,
    work_get_visible,
    works_geojson,
    works_page,
)

# One symbol per category and one colour per stage, shared by the map, its legend and the printed map.
CATEGORY_SYMBOLS = {
    Category.HEALTH: "cross", Category.SCHOOL: "triangle", Category.WATER: "drop", Category.IRRIGATION: "diamond",
    Category.ROAD: "hexagon", Category.BRIDGE: "square", Category.ELECTRICITY: "bolt", Category.CULTURE: "star",
    Category.OTHER: "circle",
}
STAGE_COLOURS = {
    Stage.PROPOSED: "#b39ddb", Stage.APPROVED: "#90caf9", Stage.DESIGNED: "#42a5f5", Stage.CONTRACTED: "#3949ab",
    Stage.UNDER_CONSTRUCTION: "#fb8c00", Stage.COMPLETED: "#7cb342", Stage.HANDED_OVER: "#2e7d32",
    Stage.IN_OPERATION: "#1b5e20", Stage.SUSPENDED: "#e53935", Stage.CANCELLED: "#616161",
}
# Roads are drawn by surface: hardened solid, gravel dashed, earth (or not recorded) dotted.
SURFACE_DASH = {"hardened": "", "gravel": "8 5", "earth": "2 5"}
SURFACE_GROUP = {
    surface: "hardened" if surface in HARDENED_SURFACES else "gravel" if surface == RoadSurface.GRAVEL else "earth"
    for surface in RoadSurface
}
LINK_STYLES = {
    "hardened": {"colour": "#2e7d32", "dash": ""},
    "unhardened": {"colour": "#ef6c00", "dash": "8 5"},
    "none": {"colour": "#c62828", "dash": "2 5"},
    "unknown": {"colour": "#546e7a", "dash": "3 6"},
}
MAP_LIMIT = 10_000
# The layers the map draws from vector tiles where it can (PostGIS); the rest stay GeoJSON.
MAP_TILE_LAYERS = [name for name in ("works", "villages", "roads") if name in TILE_LAYERS]
# The maintenance layer: rings around works that need upkeep, worst first.
MAINTENANCE_COLOURS = {"poor_condition": "#b71c1c", "overdue": "#e65100", "due_soon": "#f9a825"}

_LAYERS = {
    "communes": lambda request: geo.communes_geojson(),
    "districts": lambda request: geo.districts_geojson(),
    "centres": lambda request: geo.centres_geojson(),
    "villages": lambda request: geo.villages_geojson(),
    "links": lambda request: geo.village_links_geojson(status=village_link_join(village_alias="t")),
    "roads": lambda request: geo.roads_geojson(),
    "works": lambda request: works_geojson(user=request.user),
}


@require_GET
def layer(request: HttpRequest, name: str) -> HttpResponse:
    """Return one map layer as GeoJSON, built in the database."""
    build = _LAYERS.get(name)
    if build is None:
        raise Http404(_("No such layer."))
    response = HttpResponse(build(request), content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=60"
    return response


def _link_labels() -> dict[str, str]:
    return {
        "hardened": _("connected by a hardened road"),
        "unhardened": _("connected by an unhardened road"),
        "none": _("not connected"),
        "unknown": _("not yet analysed"),
    }


def _surface_labels() -> dict[str, str]:
    return {
        "hardened": _("hardened (asphalt, concrete, cement)"),
        "gravel": _("gravel"),
        "earth": _("earth or not recorded"),
    }


def _communes_for_filter() -> tuple[list[dict], list[dict]]:
    """Return today's communes and the former ones, as options: value, label and the codes of the area shown."""
    current = [
        {"value": unit.code, "label": f"{unit.unit_type} {unit.name}", "area": unit.code}
        for unit in AdminUnit.objects.current().filter(level=AdminUnitLevel.COMMUNE).order_by("name")
    ]
    former = []
    units = (AdminUnit.objects.filter(level=AdminUnitLevel.COMMUNE, valid_to__isnull=False)
             .prefetch_related("successions__successor").order_by("name", "valid_to"))
    for unit in units:
        successors = " ".join(s.successor.code for s in unit.successions.all())
        former.append({"value": f"{unit.code}@{unit.valid_to.isoformat()}",
                       "label": _("%(unit)s (until %(date)s)") % {"unit": f"{unit.unit_type} {unit.name}",
                                                                  "date": unit.valid_to.strftime("%d/%m/%Y")},
                       "area": successors})
    return current, former


def _selected(request: HttpRequest) -> dict[str, Any]:
    """Return the filters in the page's address as the form shows them (bad values simply select nothing)."""
    def many(name: str) -> set[str]:
        return {v for value in request.GET.getlist(name) for v in value.split(",") if v}

    return {"q": request.GET.get("q", "")[:100], "commune": request.GET.get("commune", ""),
            "year": request.GET.get("year", ""), "source": request.GET.get("source", ""),
            "category": many("category"), "stage": many("stage")}


def _map_text() -> dict[str, str]:
    return {
        "category": _("Category"), "stage": _("Stage"), "progress": _("Progress"), "commune": _("Commune"),
        "approvedCommune": _("Approved under"), "year": _("Plan year"), "investment": _("Approved investment"),
        "planDisbursed": _("Capital plan / disbursed"), "lastMaintenance": _("Last maintenance"),
        "noneRecorded": _("none recorded"), "maintenance": _("Maintenance"), "nextDue": _("Next due"), "millionVnd": _("million VND"), "demo": _("demo"), "details": _("Details"),
        "population": _("Population"), "households": _("Households"), "poorHouseholds": _("Poor households"),
        "nearPoorHouseholds": _("Near-poor households"), "centre": _("Commune centre"), "surface": _("Surface"),
        "allSeason": _("Passable all year"), "yes": _("yes"), "no": _("no"),
        "link": _("Village – commune centre"), "distance": _("Straight-line distance"), "km": _("km"),
        "connection": _("Connection"), "matchOne": ngettext("%(count)s work matches", "%(count)s works match", 1),
        "matchMany": ngettext("%(count)s work matches", "%(count)s works match", 2),
        "capped": _("Showing the first %(count)s works only: zoom in or narrow the filters to see the rest."),
        "moreThan": _("More than %(count)s works match"),
        "loading": _("Loading works…"), "loadError": _("Could not load the layer"), "zoomIn": _("Zoom in"),
        "zoomOut": _("Zoom out"),
    }


def _tile_urls() -> dict[str, str] | None:
    """Return the tile URL templates of the map's large layers, or None where the map draws GeoJSON only.

    Tiles need PostGIS; settings.MAP_VECTOR_TILES = False keeps GeoJSON there too.
    """
    if not (settings.MAP_VECTOR_TILES and on_postgis()):
        return None
    return {name: reverse("tiles:tile", args=[name, 0, 0, 0]).replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt")
            for name in MAP_TILE_LAYERS}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The map: commune boundaries, centres, villages, links, roads and works, with filters kept in the address."""
    units = reverse("api:admin-units")
    former_on = (AdminUnit.objects.filter(level=AdminUnitLevel.DISTRICT, valid_to__isnull=False)
                 .order_by("-valid_to").values_list("valid_to", flat=True).first())
    urls = {
        "communes": f"{units}?{urlencode({'level': 'commune', 'limit': MAP_LIMIT, 'zoom': 13})}",
        "districts": f"{units}?{urlencode({'level': 'district', 'on': (former_on or date.today()).isoformat(), 'limit': 100})}",
        "centres": f"{units}?{urlencode({'level': 'commune', 'geometry': 'centre', 'limit': MAP_LIMIT})}",
        "villages": f"{reverse('api:villages')}?limit={MAP_LIMIT}",
        "links": f"{reverse('api:village-links')}?limit={MAP_LIMIT}",
        "roads": reverse("works:layer", args=["roads"]),
        "maintenance": reverse("maintenance:layer"),
        "works": reverse("api:works"),
        "work": reverse("api:work", args=[0]),
        "detail": reverse("works:detail", args=[0]),
        "print": reverse("works:print-map"),
    }
    surface_labels, link_labels = _surface_labels(), _link_labels()
    config = {
        "urls": urls,
        "tiles": _tile_urls(),
        "limit": MAP_LIMIT,
        "countCap": COUNT_CAP,
        "shapes": SHAPES,
        "categories": {c.value: {"label": str(c.label), "shape": CATEGORY_SYMBOLS[c]} for c in Category},
        "stages": {s.value: {"label": str(s.label), "colour": STAGE_COLOURS[s]} for s in Stage},
        "surfaces": {s.value: str(s.label) for s in RoadSurface},
        "surfaceGroups": {str(k): v for k, v in SURFACE_GROUP.items()},
        "surfaceDash": SURFACE_DASH,
        "linkStyles": {k: {**v, "label": link_labels[k]} for k, v in LINK_STYLES.items()},
        "maintenanceStyles": {k: {"label": str(label), "colour": MAINTENANCE_COLOURS[k]} for k, label in LAYER_STATUSES.items()},
        "text": _map_text(),
    }
    selected = _selected(request)
    current, former = _communes_for_filter()
    years = sorted(set(works_visible(request.user).order_by().values_list("approved_year", flat=True)), reverse=True)
    context = {
        "map_config": config,
        "has_demo": Work.objects.filter(is_demo=True).exists() or Village.objects.filter(is_demo=True).exists(),
        "selected": selected,
        "communes_current": current,
        "communes_former": former,
        "years": [str(y) for y in years],
        "sources": Source.choices,
        "categories": [{"value": c.value, "label": c.label, "checked": c.value in selected["category"],
                        "svg": mark_safe(symbol_svg(CATEGORY_SYMBOLS[c], fill="#ffffff", size=16))} for c in Category],
        "stages": [{"value": s.value, "label": s.label, "checked": s.value in selected["stage"],
                    "colour": STAGE_COLOURS[s]} for s in Stage],
        "surfaces": [{"label": surface_labels[k], "dash": dash} for k, dash in SURFACE_DASH.items()],
        "links": [{"label": link_labels[k], **v} for k, v in LINK_STYLES.items()],
        "maintenance_statuses": [{"label": label, "colour": MAINTENANCE_COLOURS[k]} for k, label in LAYER_STATUSES.items()],
        "connectivity_run": run_latest() is not None,
    }
    return render(request, "works/home.html", context)


# What a stored document is, by the suffix its checked content gave it (infra.works.uploads.document_path).
_DOCUMENT_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}
# The only names documents are stored under (infra.works.uploads.document_path).
_STORED_NAME = re.compile(r"works/\d+/[0-9a-f]{32}\.(?:pdf|jpg|png|bin)")


@require_GET
def document(request: HttpRequest, pk: int) -> HttpResponse:
    """A work's document or photo, to whoever may see it: a public one of a work they may see, or any of a work
    whose internal facts they may read. Anything else is as if it did not exist (404)."""
    return _document_answer(request, WorkDocument.objects.filter(pk=pk))


@require_GET
def document_file(request: HttpRequest, name: str) -> HttpResponse:
    """The same, found by its stored name: the address a file field gives (settings.MEDIA_URL), which the admin's
    file widgets link to. Only a stored document's name is answered, never a path of the disk."""
    if not _STORED_NAME.fullmatch(name):
        raise Http404(_("No such document, or you may not see it."))  # also text a database cannot hold (NUL)
    return _document_answer(request, WorkDocument.objects.filter(file=name))


def _document_answer(request: HttpRequest, documents) -> HttpResponse:
    found = document_get_visible(user=request.user, documents=documents)
    if found is None:
        raise Http404(_("No such document, or you may not see it."))
    suffix = PurePath(found.file.name).suffix.lower()
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("No such document, or you may not see it.")) from None
    response = FileResponse(handle, content_type=_DOCUMENT_TYPES.get(suffix, "application/octet-stream"),
                            filename=f"{found.title[:100]}{suffix}", as_attachment=suffix not in _DOCUMENT_TYPES)
    # Shared caches may keep only what anyone may read: a public document of a published work. Anything else is
    # this person's, and is checked again each time (a document unpublished meanwhile is not read from a cache).
    if found.is_public and found.work.stage in PUBLIC_STAGES:
        response["Cache-Control"] = "public, max-age=3600"
    else:
        response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Cookie"
    return response


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One work: facts, where it is, stages, money, maintenance and documents, as the person may see them."""
    try:
        work = work_get_visible(user=request.user, pk=pk)
    except Work.DoesNotExist:
        raise Http404(_("No such work, or you may not see it.")) from None
    area = geo.units_geojson(ids=[work.current_commune_id]) if work.current_commune_id else None
    context = {"work": work, "geometry_json": work.geometry.geojson, "area_json": area,
               "stage_colour": STAGE_COLOURS.get(work.stage, "#777"),
               "symbol": mark_safe(symbol_svg(CATEGORY_SYMBOLS[work.category], fill=STAGE_COLOURS.get(work.stage, "#777"),
                                              size=22)),
               **work_detail_context(user=request.user, work=work)}
    context["show_internal"] = context["internal"]
    # Where the photos the person may see were taken (from their EXIF), for the work's map.
    context["photo_points"] = [{"title": p.title, "lon": p.location.x, "lat": p.location.y}
                               for p in context.get("photos", []) if getattr(p, "location", None)]
    for event in context["events"]:
        event.colour = STAGE_COLOURS.get(event.to_stage, "#999")
    centroid = work.geometry.point_on_surface
    context["map_link"] = f"{reverse('works:home')}#map=15/{centroid.y:.5f}/{centroid.x:.5f}"
    return render(request, "works/detail.html", context)


def commune_map_document(*, user: Any, filters: WorkFilters) -> str:
    """Return the printable map of a commune's works and village links as one self-contained HTML document."""
    unit = filters.commune
    area_ids = geo.unit_area_ids(unit)
    works = json.loads(works_page(user=user, filters=filters, limit=MAP_LIMIT).text)
    links = json.loads(geo.village_links_page(limit=MAP_LIMIT, commune_ids=area_ids,
                                              status=village_link_join(village_alias="t")).text)
    area = json.loads(geo.units_geojson(ids=area_ids))
    villages = json.loads(geo.villages_page(limit=MAP_LIMIT, commune_ids=area_ids).text)
    centres = json.loads(geo.units_geojson(ids=area_ids, geometry="centre"))
    features, any_demo = [], False
    for feature in works["features"]:
        p = feature["properties"]
        any_demo = any_demo or p["is_demo"]
        name = p["name"] + (f" ({_('demo')})" if p["is_demo"] else "")
        features.append(PrintedFeature(
            geometry=feature["geometry"], shape=CATEGORY_SYMBOLS.get(p["category"], "circle"),
            colour=STAGE_COLOURS.get(p["stage"], "#777"),
            cells=[p["code"], name, str(Category(p["category"]).label), str(Stage(p["stage"]).label), f"{p['progress']} %",
                   format_million_vnd(p["allocated"]), format_million_vnd(p["disbursed"])],
        ))
    title = f"{unit.unit_type} {unit.name}"
    if unit.valid_to:
        title = _("%(unit)s (until %(date)s)") % {"unit": title, "date": unit.valid_to.strftime("%d/%m/%Y")}
    legend = [LegendEntry(label=str(c.label), shape=CATEGORY_SYMBOLS[c], colour="#ffffff") for c in Category]
    legend += [LegendEntry(label=str(s.label), shape="circle", colour=STAGE_COLOURS[s]) for s in Stage]
    legend.append(LegendEntry(label=_("Village – commune centre: %(status)s") % {"status": _link_labels()["unknown"]},
                              colour=LINK_STYLES["unknown"]["colour"], dash=LINK_STYLES["unknown"]["dash"]))
    lines = [_("Works and village links · printed %(date)s") % {"date": timezone.localdate().strftime("%d/%m/%Y")}]
    if unit.valid_to:
        lines.append(_("A former commune: works approved under it, and works in the commune it merged into that no "
                       "other former commune claims."))
    return printable_map_html(
        title=_("Map of works: %(commune)s") % {"commune": title},
        lines=lines, area=area, links=links, villages=villages, centres=centres, features=features, legend=legend,
        numeric_columns=2,
        columns=[_("Code"), _("Name"), _("Category"), _("Stage"), _("Progress"), _("Capital plan (million VND)"),
                 _("Disbursed (million VND)")],
        note=_("Demo data: works marked “demo” are synthetic examples, not real records.") if any_demo else "",
        empty=_("No works match."),
        link_style={"color": LINK_STYLES["unknown"]["colour"], "weight": 1.5, "dashArray": LINK_STYLES["unknown"]["dash"]},
        language=get_language() or "vi",
    )


@require_GET
def print_map(request: HttpRequest) -> HttpResponse:
    """A commune's printable map (self-contained HTML, for reports)."""
    try:
        params = WorkMapParams.parse(request.GET)
    except ParamsError as error:
        return render(request, "works/print_error.html", {"errors": error.detail}, status=400)
    response = HttpResponse(commune_map_document(user=request.user, filters=params.filters()), content_type="text/html")
    # The code was checked against [0-9A-Za-z]{1,16}, so it is safe in a header.
    response["Content-Disposition"] = f'inline; filename="map-{params.validated_data["commune"].code}.html"'
    return response
