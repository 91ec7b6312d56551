"""OGC API – Features Part 1 views: parse, call one collection reader, pass the database's GeoJSON through.

Answers are GeoJSON/JSON by default (`f=json`, or Accept: application/geo+json) and a simple page
with `f=html` (or a browser's Accept). Bad parameters are a 400 and an unknown collection or feature
a 404, both with an OGC exception body ({"code", "description"}).
"""
from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from rest_framework.exceptions import ValidationError

from infra.api.pages import link_text, page_with_members
from infra.errors import error_page
from infra.kept import Kept
from infra.ogc.collections import COLLECTIONS, Collection, Query, collection_extent
from infra.ogc.openapi import definition
from infra.ogc.params import FORMATS, FormatParams, params_for

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
]


class Problem(Exception):
    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def _problem(error: Problem) -> JsonResponse:
    return JsonResponse({"code": error.code, "description": error.description}, status=error.status,
                        json_dumps_params={"ensure_ascii": False})


def _messages(error: ValidationError) -> str:
    detail = error.detail
    if isinstance(detail, dict):
        parts = []
        for name, messages in detail.items():
            text = " ".join(str(m) for m in (messages if isinstance(messages, list) else [messages]))
            parts.append(text if name == "non_field_errors" else f"{name}: {text}")
        return " ".join(parts)
    return " ".join(str(m) for m in detail) if isinstance(detail, list) else str(detail)


def _parse(params_class: Any, request: HttpRequest) -> dict:
    try:
        return params_class.parse(request.GET).validated_data
    except ValidationError as error:
        raise Problem(400, "InvalidParameterValue", _messages(error)) from error


def _wants_html(request: HttpRequest) -> bool:
    f = request.GET.get("f")
    if f is not None:
        if f not in FORMATS:
            raise Problem(400, "InvalidParameterValue", _("f must be json or html."))
        return f == "html"
    accept = request.headers.get("Accept", "")
    return HTML in accept and "json" not in accept


def ogc_view(view):
    """Turn Problems into OGC exception responses (never a 500 for a bad request)."""

    @require_safe
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            html = _wants_html(request)
        except Problem as error:
            return _problem(error)
        # Pages follow the site's language choice; programs get the language they ask for, as /api/ does.
        language = translation.get_language() if html else translation.get_language_from_request(request)
        with translation.override(language):
            try:
                return view(request, *args, **kwargs)
            except Problem as error:
                # A person reading the HTML pages gets the site's error page; a program, OGC's exception body.
                return error_page(request, error.status, error.description) if html else _problem(error)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _url(request: HttpRequest, name: str, *args: Any, **query: str) -> str:
    url = request.build_absolute_uri(reverse(f"ogc:{name}", args=args))
    return f"{url}?{urlencode(sorted(query.items()))}" if query else url


class ThisPage:
    """The request's own URL with parameters changed, the parameters sorted by name as rest_framework's
    replace_query_param sorts them, parsing the query once for all of a page's links. (Unlike it, a
    query holding raw UTF-8 bytes comes out encoded once, not twice.) Each parameter is encoded once,
    as urlencode(…, doseq=True) encodes it, and a link encodes only what it changes."""

    def __init__(self, request: HttpRequest, base: str | None = None, lists: list | None = None,
                 language: str | None = None):
        """`lists`: the query's names and values as request.GET.lists() gives them, when read already; `language`:
        the language active, when known already (translation.get_language())."""
        self.base = request.build_absolute_uri().partition("?")[0] if base is None else base
        self.language = translation.get_language() if language is None else language
        self.encoded = {name: "&".join([_pair(name, value) for value in values])
                        for name, values in (request.GET.lists() if lists is None else lists)}

    def url(self, **changes: Any) -> str:
        encoded = self.encoded | {name: _pair(name, str(value)) for name, value in changes.items()}
        return f"{self.base}?{'&'.join(encoded[name] for name in sorted(encoded))}"


# Text urlencode leaves as it is, but for the comma (%2C): what a page's names and values mostly are.
_PLAIN = re.compile(r"[A-Za-z0-9_.,-]*")


def _pair(name: str, value: str) -> str:
    """urlencode([(name, value)]): written here for plain text, by urlencode for the rest."""
    if _PLAIN.fullmatch(name) and _PLAIN.fullmatch(value):
        return f"{name.replace(',', '%2C')}={value.replace(',', '%2C')}"
    return urlencode([(name, value)])


def _link(href: str, rel: str, media: str, title: Any = None) -> dict:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = str(title)
    return link


def _self_links(request: HttpRequest, name: str, *args: Any, media: str = JSON) -> list[dict]:
    html = _wants_html(request)
    return [
        _link(_url(request, name, *args, f="html" if html else "json"), "self", HTML if html else media),
        _link(_url(request, name, *args, f="json" if html else "html"), "alternate", media if html else HTML),
    ]


def _answer(request: HttpRequest, document: dict, *, title: Any, media: str = JSON, **context: Any) -> HttpResponse:
    if _wants_html(request):
        return render(request, "ogc/page.html", {"document": document, "page_title": title, **context})
    return HttpResponse(json.dumps(document, ensure_ascii=False), content_type=media)


def _collection(collection_id: str) -> Collection:
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise Problem(404, "NotFound", _("No collection “%(id)s”.") % {"id": collection_id[:60]}) from None


@ogc_view
def landing(request: HttpRequest) -> HttpResponse:
    """The landing page: what the service is and where its parts are."""
    _parse(FormatParams, request)
    document = {
        "title": _("Phong Thổ infrastructure works"),
        "description": _("Works of the poverty-reduction programme and the geography they lie in, as OGC API – "
                         "Features (GeoJSON, WGS84 longitude/latitude)."),
        "links": [
            *_self_links(request, "landing"),
            _link(_url(request, "api"), "service-desc", OPENAPI, _("The API definition (OpenAPI 3)")),
            _link(request.build_absolute_uri(reverse("api:docs")), "service-doc", HTML, _("The API documentation")),
            # The register's REST API; not the service-desc, whose served type GDAL checks (it lacks version=3.0).
            _link(request.build_absolute_uri(reverse("api:schema")) + "?format=json", "related",
                  "application/vnd.oai.openapi+json", _("The register's REST API (OpenAPI 3)")),
            _link(_url(request, "conformance"), "conformance", JSON, _("Conformance classes")),
            _link(_url(request, "collections"), "data", JSON, _("Collections")),
        ],
    }
    return _answer(request, document, title=document["title"])


@ogc_view
def api(request: HttpRequest) -> HttpResponse:
    """The OpenAPI definition of this service (JSON only)."""
    _parse(FormatParams, request)
    server = request.build_absolute_uri(reverse("ogc:landing")).rstrip("/")
    return HttpResponse(json.dumps(definition(server), ensure_ascii=False), content_type=OPENAPI)


@ogc_view
def conformance(request: HttpRequest) -> HttpResponse:
    """The conformance classes this service implements."""
    _parse(FormatParams, request)
    document = {"conformsTo": CONFORMANCE, "links": _self_links(request, "conformance")}
    return _answer(request, document, title=_("Conformance classes"))


def _describe(request: HttpRequest, collection: Collection, extent: list[float]) -> dict:
    described = {
        "id": collection.id,
        "title": str(collection.title),
        "description": str(collection.description),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [extent], "crs": CRS84}},
        "links": [
            _link(_url(request, "collection", collection.id, f="json"), "self", JSON, collection.title),
            _link(_url(request, "collection", collection.id, f="html"), "alternate", HTML, collection.title),
            _link(_url(request, "items", collection.id, f="json"), "items", GEOJSON, collection.title),
            _link(_url(request, "items", collection.id, f="html"), "items", HTML, collection.title),
        ],
    }
    if collection.temporal is not None:
        described["extent"]["temporal"] = {"interval": collection.temporal(), "trs": GREGORIAN}
    return described


@ogc_view
def collections(request: HttpRequest) -> HttpResponse:
    """All collections, each with its extent and links to its items."""
    _parse(FormatParams, request)
    extent = collection_extent()
    document = {
        "links": _self_links(request, "collections"),
        "collections": [_describe(request, c, extent) for c in COLLECTIONS.values()],
    }
    return _answer(request, document, title=_("Collections"))


@ogc_view
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    """One collection."""
    found = _collection(collection_id)
    _parse(FormatParams, request)
    document = _describe(request, found, collection_extent())
    document["links"][:2] = _self_links(request, "collection", found.id)
    return _answer(request, document, title=found.title)


def _stamp() -> str:
    """The time now in UTC to the second, as a page's `timeStamp`; written once a second per process."""
    global _STAMP
    second = int(time.time())
    kept = _STAMP
    if kept[0] != second:
        kept = _STAMP = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return kept[1]


_STAMP: tuple[int, str] = (-1, "")


def _collection_link(base: str, found: Collection, language: str | None) -> str:
    """An items page's link to its collection, with the collection's title in the language active: written once
    per items URL (scheme, host and collection) and language, and kept (at most KEPT_LINKS)."""
    key = (base, found.id, language)
    text = _COLLECTION_LINKS.get(key)
    if text is None:
        # The items' URL is the collection's with /items (ogc/urls.py): no second reverse().
        text = _COLLECTION_LINKS.keep(key, link_text(f"{base.removesuffix('/items')}?f=json", "collection", JSON,
                                                     found.title))
    return text


KEPT_LINKS = 256
_COLLECTION_LINKS: Kept[tuple[str, str, str | None], str] = Kept(KEPT_LINKS)


def items_members(this: ThisPage, found: Collection, query: Query, page: Any, *, html: bool) -> bytes:
    """The members an items page adds after its features: its links (self, alternate, collection, and
    next and prev where there are such pages) and its time stamp, as JSON text starting with a comma.
    Called in the request's language (the collection's title)."""
    media = HTML if html else GEOJSON
    f = "html" if html else "json"
    links = [
        link_text(this.url(f=f), "self", media),
        link_text(this.url(f="json" if html else "html"), "alternate", GEOJSON if html else HTML),
        _collection_link(this.base, found, this.language),
    ]
    offset_end = query.offset + page.returned
    # Past the count cap the number matched is unknown: a full page means there may be more.
    more = page.returned == query.limit if page.matched is None else offset_end < page.matched
    if more:
        links.append(link_text(this.url(f=f, offset=offset_end), "next", media))
    if query.offset > 0:
        links.append(link_text(this.url(f=f, offset=max(0, query.offset - query.limit)), "prev", media))
    return (',"links":[' + ", ".join(links) + '],"timeStamp":"' + _stamp() + '"').encode()


@ogc_view
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    """One page of a collection's features, in id order, with links to the pages either side."""
    found = _collection(collection_id)
    data = _parse(params_for(found.id), request)
    start, end = data.get("datetime", (None, None))
    html = _wants_html(request)
    query = Query(limit=data["limit"], offset=data["offset"], bbox=data.get("bbox"), start=start, end=end,
                  filters={name: data[name] for name in found.filters if data.get(name) not in (None, "", ())},
                  raw=not html)
    page = found.page(request.user, query)
    members = items_members(ThisPage(request), found, query, page, html=html)
    if html:
        document = json.loads(page.head() + members + b"}")
        return render(request, "ogc/page.html", {
            "document": document, "page_title": found.title, "collection": found, "features": document["features"],
            "columns": list(document["features"][0]["properties"]) if document["features"] else [],
        })
    return page_with_members(page, members, content_type=GEOJSON)


@ogc_view
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    """One feature; 404 when there is none with that id or the person may not see it."""
    found = _collection(collection_id)
    _parse(FormatParams, request)
    missing = Problem(404, "NotFound", _("No feature “%(id)s” in collection “%(collection)s”, or you may not see it.")
                      % {"id": feature_id[:40], "collection": found.id})
    if not feature_id.isascii() or not feature_id.isdigit() or len(feature_id) > 18:
        raise missing
    text = found.item(request.user, int(feature_id))
    if text is None:
        raise missing
    html = _wants_html(request)
    links = [
        *_self_links(request, "item", found.id, feature_id, media=GEOJSON),
        _link(_url(request, "collection", found.id, f="json"), "collection", JSON, found.title),
    ]
    document_text = text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"
    if html:
        document = json.loads(document_text)
        return render(request, "ogc/page.html", {"document": document, "page_title": found.title, "collection": found,
                                                 "feature": document})
    return HttpResponse(document_text, content_type=GEOJSON)
