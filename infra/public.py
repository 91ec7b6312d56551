"""The public's plain pages of works and OGC items by a shorter road: around Django's request cycle, not through it.

A GeoJSON page of `/ogc/collections/{id}/items` or `/api/works/` asked for by someone anonymous, with
nothing but `limit`, `offset`, `bbox` (and `f=json` for /ogc/), is the map's and QGIS's everyday read,
and the one the benchmarks time against the bare statement (docs/benchmarks.md). Django's request cycle
(routing, twelve middleware, DRF's view and the parameters' serializer) costs about 0.4 ms of CPU more
than this, as much as half the statement in a village-sized box. `PublicPages` wraps the WSGI
application and answers such a request itself, with the same code the views use for everything that
decides the answer:

- the page read (`Collection.page`, `works_page`) under the access policy of an anonymous person;
- the parameters' own DRF fields (`ItemsParams`, `WorkListParams`), built with the same arguments as
  the views' serializers build them;
- the links (`infra.ogc.views.items_members`, `infra.api.views.page_members`);
- the hooks of the middleware that act on such a request, called as Django calls them:
  SecurityMiddleware (its HTTPS redirect, then its headers), the language
  (`VietnameseFirstLocaleMiddleware`), the replica's choice (`infra.replica`), X-Frame-Options, and
  `Vary: Cookie` as the session middleware adds it when the page reads who is asking (`request.user`,
  lazy as Django's; DRF always reads it); DRF's own headers (`Allow`) for /api/;
- Django's `request_started` and `request_finished` signals (the database connections' upkeep).

Anything else goes to Django unchanged: any other method, path, parameter or value (also an empty or
repeated one), a cookie or an `Authorization` header, a browser asking /ogc/ for HTML, a host Django
would refuse, an HTTPS redirect, an offset past the end, and every error. An exception while answering
is logged (with its traceback unless the database is not answering, which Django's 503 logs) and the
request is answered again by Django, so an error answer (400, 503) is always Django's own.

The other middleware do nothing to such a request: no session or CSRF cookie is read or set, no message
is stored, CommonMiddleware redirects nothing (the paths need no slash added, and PREPEND_WWW and
DISALLOWED_USER_AGENTS are off, or the shortcut is), WhiteNoise serves only under STATIC_URL, and the
history middleware matters to writes only. The shortcut is off when the middleware list is not the one
it was written for (MIDDLEWARE_WRITTEN_FOR), so that a middleware added later cannot be skipped without
someone reading this first: tests/infra/test_public_pages.py fails then.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from rest_framework.exceptions import ValidationError
from rest_framework.serializers import Serializer

from gis.reading import reading_from
from infra.api import views as api_views
from infra.api.params import WorkListParams
from infra.middleware import VietnameseFirstLocaleMiddleware, database_unavailable
from infra.ogc import views as ogc_views
from infra.ogc.collections import COLLECTIONS, Query
from infra.ogc.params import ItemsParams
from infra.replica import REPLICA, _public_read, replica_fit
from infra.works.selectors import WorkFilters, works_page

logger = logging.getLogger(__name__)

__all__ = ["MIDDLEWARE_WRITTEN_FOR", "PublicPages"]

MIDDLEWARE_WRITTEN_FOR = (
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "infra.replica.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "infra.middleware.VietnameseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "infra.middleware.DatabaseUnavailableMiddleware",
)
OGC_PREFIX, OGC_SUFFIX = "/ogc/collections/", "/items"
API_WORKS = "/api/works/"
PARAMETERS = ("limit", "offset", "bbox")

# A page's two parts and whether it read who is asking; None hands the request to Django.
Answer = tuple[bytes, bytes, bool] | None


def _unused(_request: Any) -> None:
    raise AssertionError("only the middleware's request and response hooks are called")


@dataclass(frozen=True)
class Route:
    """What differs between the two kinds of page: their fields, whether `f=json` may be given, how the page
    is read, and the headers the view itself adds (DRF's)."""

    name: str
    fields: dict[str, Any]
    defaults: dict[str, Any]
    formats: bool
    page: Callable[[WSGIRequest, str, dict], Answer]
    view_headers: tuple[tuple[str, str], ...] = ()


def _fields(params: type[Serializer]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields a view's serializer makes (infra.api.params.QueryParams.get_fields), and the defaults of
    limit and offset."""
    declared = params._declared_fields
    fields = {name: type(declared[name])(*declared[name]._args, **declared[name]._kwargs) for name in PARAMETERS}
    return fields, {name: fields[name].get_default() for name in ("limit", "offset")}


def _ogc_items(request: WSGIRequest, collection_id: str, values: dict) -> Answer:
    found = COLLECTIONS[collection_id]
    query = Query(limit=values["limit"], offset=values["offset"], bbox=values.get("bbox"), raw=True)
    looked = []

    def anonymous() -> AnonymousUser:
        looked.append(True)
        return AnonymousUser()

    # Lazy, as AuthenticationMiddleware's request.user is: only a page that reads it reads the session.
    page = found.page(SimpleLazyObject(anonymous), query)
    # The URL build_absolute_uri() gives, for a path of plain characters and no script name (_route).
    this = ogc_views._ThisPage(request, base=f"{request.scheme}://{request.get_host()}{request.path}")
    members = ogc_views.items_members(this, found, query, page, html=False)
    return page.head(), members + b"}", bool(looked)


def _api_works(request: WSGIRequest, _key: str, values: dict) -> Answer:
    page = works_page(user=AnonymousUser(), filters=WorkFilters(bbox=values.get("bbox")), limit=values["limit"],
                      offset=values["offset"], raw=True)
    try:
        members = api_views.page_members(request.build_absolute_uri(), page, limit=values["limit"],
                                         offset=values["offset"])
    except ValidationError:
        return None  # past the end: Django words the refusal
    return page.head(), members + b"}", True  # DRF's authentication always reads request.user


class PublicPages:
    """WSGI middleware: answer the public's plain GeoJSON pages (see the module's docstring)."""

    def __init__(self, application: Any):
        self.application = application
        self.on = (tuple(settings.MIDDLEWARE) == MIDDLEWARE_WRITTEN_FOR and not settings.FORCE_SCRIPT_NAME
                   and not settings.PREPEND_WWW and not settings.DISALLOWED_USER_AGENTS)
        if not self.on:
            logger.info("Public pages go through Django's whole request cycle: the middleware or their settings "
                        "are not those infra.public was written for")
            return
        self.security = SecurityMiddleware(_unused)
        self.locale = VietnameseFirstLocaleMiddleware(_unused)
        self.frame = XFrameOptionsMiddleware(_unused)
        works_view = api_views.WorkListView()
        works_view.setup(None)  # as Django's as_view() does before dispatching: HEAD is GET
        self.ogc = Route("ogc", *_fields(ItemsParams), formats=True, page=_ogc_items)
        self.api = Route("api", *_fields(WorkListParams), formats=False, page=_api_works,
                         view_headers=tuple(works_view.default_response_headers.items()))
        self.headers: dict[tuple, list[tuple[str, str]]] = {}

    def __call__(self, environ: dict, start_response: Any) -> Any:
        found = self._route(environ)
        if found is None:
            return self.application(environ, start_response)
        route, key = found
        set_script_prefix("/")
        signals.request_started.send(sender=WSGIHandler, environ=environ)
        try:
            answer = self._answer(WSGIRequest(environ), route, key)
        except Exception as error:
            if database_unavailable(error):  # Django's answer (503) logs it
                logger.info("the database did not answer the public page %s; Django answers it", environ["PATH_INFO"])
            else:
                logger.exception("the public page %s failed; Django answers it", environ["PATH_INFO"])
            answer = None
        if answer is None:
            return self.application(environ, start_response)
        headers, chunks = answer
        start_response("200 OK", headers)
        return _Answer(chunks)

    def _route(self, environ: dict) -> tuple[Route, str] | None:
        """The route and its key (the collection's id) when the request may be one to answer here; None sends it
        to Django."""
        if not self.on or environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ \
                or "HTTP_AUTHORIZATION" in environ or get_script_name(environ):
            return None
        path = environ.get("PATH_INFO", "")
        if path == API_WORKS:
            return self.api, "works"  # DRF answers GeoJSON whatever the Accept header (api.views.FirstRenderer)
        if not path.startswith(OGC_PREFIX) or not path.endswith(OGC_SUFFIX):
            return None
        collection_id = path[len(OGC_PREFIX):-len(OGC_SUFFIX)]
        if collection_id not in COLLECTIONS:
            return None
        accept = environ.get("HTTP_ACCEPT", "")
        if ogc_views.HTML in accept and "json" not in accept:
            return None  # a browser: the HTML page (ogc.views._wants_html)
        return self.ogc, collection_id

    def _values(self, request: WSGIRequest, route: Route) -> dict | None:
        values = dict(route.defaults)
        for name, given in request.GET.lists():
            if len(given) != 1 or given[0] == "":
                return None
            if name == "f" and route.formats:
                if given[0] != "json":
                    return None
                continue
            field = route.fields.get(name)
            if field is None:
                return None
            try:
                values[name] = field.run_validation(given[0])
            except ValidationError:
                return None  # Django words the refusal
        return values

    def _answer(self, request: WSGIRequest, route: Route, key: str) -> tuple[list, list[bytes]] | None:
        values = self._values(request, route)
        if values is None:
            return None
        try:
            request.get_host()
        except DisallowedHost:
            return None
        if self.security.process_request(request) is not None:
            return None  # the HTTPS redirect
        # Activates the language the view would answer in (for /api/ and /ogc/, the request's Accept-Language).
        self.locale.process_request(request)
        if REPLICA in settings.DATABASES and _public_read(request) and replica_fit():
            with reading_from(REPLICA):
                answer = route.page(request, key, values)
        else:
            answer = route.page(request, key, values)
        if answer is None:
            return None
        head, tail, user_read = answer
        content = [("Content-Type", ogc_views.GEOJSON), ("Content-Length", str(len(head) + len(tail)))]
        return [*content, *self._later_headers(request, route, user_read)], [head, tail]

    def _later_headers(self, request: WSGIRequest, route: Route, user_read: bool) -> list[tuple[str, str]]:
        """The headers the view and the middleware add to such an answer, after its Content-Type: found once per
        route, language, scheme and whether the page read request.user, by setting the view's and calling the
        middleware's response hooks in Django's order (the last listed first) on an empty answer of the same
        type. None of them looks at the body. Reading request.user reads the session, and the session
        middleware then adds Vary: Cookie."""
        key = (route.name, translation.get_language(), request.is_secure(), user_read)
        headers = self.headers.get(key)
        if headers is None:
            response = HttpResponse(content_type=ogc_views.GEOJSON)
            for name, value in route.view_headers:  # as DRF's finalize_response sets them
                response[name] = value
            self.frame.process_response(request, response)
            self.locale.process_response(request, response)
            if user_read:
                patch_vary_headers(response, ("Cookie",))
            response = self.security.process_response(request, response)
            headers = self.headers[key] = [(name, value) for name, value in response.items() if name != "Content-Type"]
        return headers


class _Answer:
    """The answer's chunks; closing it ends the request as closing Django's response does (request_finished)."""

    def __init__(self, chunks: list[bytes]):
        self.chunks = chunks

    def __iter__(self) -> Any:
        return iter(self.chunks)

    def close(self) -> None:
        signals.request_finished.send(sender=WSGIHandler)
