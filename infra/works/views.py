"""Pages and layers of the works register. Views stay thin: parse, call a selector, render."""
from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gis import selectors as geo_selectors
from gis.models import RoadSurface, Village
from infra.accounts.policy import sees_internal
from infra.works.choices import Category, Stage
from infra.works.models import Work
from infra.works.selectors import works_geojson, works_visible_to

# One colour per category and per stage, shared by the map and its legend.
CATEGORY_COLOURS = {
    Category.HEALTH: "#d62728", Category.SCHOOL: "#1f77b4", Category.WATER: "#17becf", Category.IRRIGATION: "#2ca02c",
    Category.ROAD: "#8c564b", Category.BRIDGE: "#7f7f7f", Category.ELECTRICITY: "#ff7f0e", Category.CULTURE: "#9467bd",
    Category.OTHER: "#e377c2",
}

_LAYERS = {
    "communes": lambda request: geo_selectors.communes_geojson(),
    "districts": lambda request: geo_selectors.districts_geojson(),
    "centres": lambda request: geo_selectors.centres_geojson(),
    "villages": lambda request: geo_selectors.villages_geojson(),
    "roads": lambda request: geo_selectors.roads_geojson(),
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


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The map: commune boundaries, centres, villages and works."""
    config = {
        "layers": {name: reverse("works:layer", args=[name]) for name in _LAYERS},
        "categories": {c.value: {"label": str(c.label), "colour": CATEGORY_COLOURS[c]} for c in Category},
        "stages": {s.value: str(s.label) for s in Stage},
        "surfaces": {s.value: str(s.label) for s in RoadSurface},
        "detailUrl": reverse("works:detail", args=[0]),
        "text": {
            "communes": _("Communes (from 1 July 2025)"),
            "district": _("Former Phong Thổ district (to 30 June 2025)"),
            "centres": _("Commune centres"),
            "villages": _("Villages"),
            "roads": _("Roads"),
            "surface": _("Surface"),
            "works": _("Works"),
            "category": _("Category"),
            "stage": _("Stage"),
            "progress": _("Progress"),
            "commune": _("Commune"),
            "population": _("Population"),
            "poorHouseholds": _("Poor households"),
            "year": _("Plan year"),
            "investment": _("Approved investment"),
            "millionVnd": _("million VND"),
            "demo": _("demo"),
            "details": _("Details"),
            "legend": _("Legend"),
            "centre": _("Commune centre"),
            "loadError": _("Could not load the layer"),
        },
    }
    has_demo = Work.objects.filter(is_demo=True).exists() or Village.objects.filter(is_demo=True).exists()
    return render(request, "works/home.html", {"map_config": config, "has_demo": has_demo})


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One work: what it is, where, its stage history and money."""
    work = get_object_or_404(works_visible_to(user=request.user).select_related("current_commune", "approved_commune"), pk=pk)
    events = work.stage_events.order_by("occurred_on", "id")
    return render(request, "works/detail.html", {"work": work, "events": events,
                                                 "geometry_json": work.geometry.geojson,
                                                 "show_internal": sees_internal(request.user, work)})
