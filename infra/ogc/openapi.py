"""The OpenAPI 3.0 definition of /ogc/ (the landing page's service-desc).

Each collection's items path lists its own query parameters. GDAL's OAPIF driver reads them and
sends an attribute filter (`-where "category='road'"`) to the server when a parameter has the name
of a property and means equality; parameters that do not (`commune` takes a code while the property
holds a name) are left out of the definition, so clients never send them by mistake.
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from infra.api.params import MAX_LIMIT
from infra.ogc.collections import COLLECTIONS
from infra.ogc.params import DEFAULT_LIMIT

__all__ = ["definition"]

# Property filters that are plain equality on a property of the same name (see the module's docstring).
_EQUALITY = {"works": ("category", "stage", "year"), "communes": ("code",), "communes-2025-06-30": ("code",),
             "roads": ("road_class", "surface")}


def _query(name: str, schema: dict, description: str, **extra: Any) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


def _json(description: str, media: str = "application/json") -> dict:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


def definition(server: str) -> dict:
    """Return the definition, with `server` (the absolute URL of /ogc) as its one server."""
    f = _query("f", {"type": "string", "enum": ["json", "html"]}, _("Response format: json or html."))
    errors = {"400": _json(_("Bad parameters; the description says which.")),
              "404": _json(_("No such collection or feature, or you may not see it."))}
    paths: dict[str, Any] = {
        "/": {"get": {"operationId": "landing", "summary": _("Landing page"), "parameters": [f],
                      "responses": {"200": _json(_("Landing page"))}}},
        "/conformance": {"get": {"operationId": "conformance", "summary": _("Conformance classes"), "parameters": [f],
                                 "responses": {"200": _json(_("Conformance classes"))}}},
        "/collections": {"get": {"operationId": "collections", "summary": _("Collections"), "parameters": [f],
                                 "responses": {"200": _json(_("Collections"))}}},
    }
    for collection in COLLECTIONS.values():
        cid = collection.id
        parameters = [
            f,
            _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                   _("Most features to return (1–10000, default 100).")),
            _query("offset", {"type": "integer", "minimum": 0, "default": 0}, _("Features to skip, in id order.")),
            _query("bbox", {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                   _("Only features intersecting this box: minlon,minlat,maxlon,maxlat (WGS84)."),
                   style="form", explode=False),
        ]
        if collection.temporal is not None:
            parameters.append(_query("datetime", {"type": "string"},
                                     _("A date, date-time or interval (RFC 3339, open ends as ..).")))
        for name in _EQUALITY.get(cid, ()):
            schema = {"type": "integer"} if name == "year" else {"type": "string"}
            parameters.append(_query(name, schema, _("Only features whose %(name)s is this value.") % {"name": name}))
        paths[f"/collections/{cid}"] = {"get": {
            "operationId": f"collection_{cid}", "summary": str(collection.title), "parameters": [f],
            "responses": {"200": _json(str(collection.title)), **errors}}}
        paths[f"/collections/{cid}/items"] = {"get": {
            "operationId": f"items_{cid}", "summary": str(collection.title), "description": str(collection.description),
            "parameters": parameters,
            "responses": {"200": _json(_("A page of features"), "application/geo+json"), **errors}}}
        paths[f"/collections/{cid}/items/{{featureId}}"] = {"get": {
            "operationId": f"item_{cid}", "summary": str(collection.title),
            "parameters": [f, {"name": "featureId", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": _json(_("One feature"), "application/geo+json"), **errors}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": _("Phong Thổ infrastructure works – OGC API – Features"), "version": "1.0.0"},
        "servers": [{"url": server}],
        "paths": paths,
    }
