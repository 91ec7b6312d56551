"""The public's pages of OGC items by a shorter road: around Django's request cycle, not through it.

A GeoJSON page of a collection's items asked for by someone anonymous, with nothing but `limit`,
`offset`, `bbox` and `f=json`, is the map's and QGIS's everyday read, and the one the national
benchmark times against the bare statement (docs/benchmarks.md). Django's request cycle (routing,
twelve middleware, the parameters' serializer) costs about 0.8 ms of CPU for it, as much as the
statement itself in a village-sized box. `PublicItems` wraps the WSGI application and answers such a
request itself, with the same code the view uses for everything that decides the answer:

- the collection's page read (`Collection.page`, the access policy of an anonymous person);
- the parameters' own DRF fields (`ItemsParams`), built with the same arguments as the view's;
- the links and time stamp (`views.items_members`);
- the middleware that act on such a request, called as Django calls them: SecurityMiddleware (its
  HTTPS redirect, then its headers), the language (`VietnameseFirstLocaleMiddleware`), the replica's
  choice (`infra.replica`), X-Frame-Options, and `Vary: Cookie` as the session middleware adds it when
  the page reads who is asking (`request.user`, lazy as Django's);
- Django's `request_started` and `request_finished` signals (the database connections' upkeep).

Anything else goes to Django unchanged: any other method, path, parameter or value (also an empty or
repeated one), a cookie or an `Authorization` header, a browser asking for HTML, a host Django would
refuse, an HTTPS redirect, and every error. An exception while answering is logged (with its traceback
unless the database is not answering, which Django's 503 logs) and the request is answered again by
Django, so an error answer (400, 503) is always Django's own. It is off when the
middleware list is not the one it was written for (MIDDLEWARE_WRITTEN_FOR), so that a middleware added
later cannot be skipped without someone reading this first; tests/infra/ogc/test_public_items.py fails then.
The others do nothing to such a request: no session or CSRF cookie is read or set, no message is
stored, CommonMiddleware redirects nothing (the path has no slash to add, PREPEND_WWW and
DISALLOWED_USER_AGENTS are off, or the shortcut is), WhiteNoise serves only under STATIC_URL, the
history middleware matters to writes only.
"""
from __future__ import annotations

import logging
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

from gis.reading import reading_from
from infra.middleware import VietnameseFirstLocaleMiddleware, database_unavailable
from infra.ogc import views
from infra.ogc.collections import COLLECTIONS, Query
from infra.ogc.params import ItemsParams
from infra.replica import REPLICA, _public_read, replica_fit

logger = logging.getLogger(__name__)

__all__ = ["MIDDLEWARE_WRITTEN_FOR", "PublicItems"]

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
PREFIX, SUFFIX = "/ogc/collections/", "/items"
PARAMETERS = ("limit", "offset", "bbox")


def _unused(_request: Any) -> None:
    raise AssertionError("only the middleware's request and response hooks are called")


class PublicItems:
    """WSGI middleware: answer the public's plain GeoJSON pages of OGC items (see the module's docstring)."""

    def __init__(self, application: Any):
        self.application = application
        self.on = (tuple(settings.MIDDLEWARE) == MIDDLEWARE_WRITTEN_FOR and not settings.FORCE_SCRIPT_NAME
                   and not settings.PREPEND_WWW and not settings.DISALLOWED_USER_AGENTS)
        if not self.on:
            logger.info("OGC items go through Django's whole request cycle: the middleware or their settings "
                        "are not those infra.ogc.public was written for")
            return
        self.security = SecurityMiddleware(_unused)
        self.locale = VietnameseFirstLocaleMiddleware(_unused)
        self.frame = XFrameOptionsMiddleware(_unused)
        # The view's own fields, made as its serializer makes them (infra.api.params.QueryParams.get_fields).
        declared = ItemsParams._declared_fields
        self.fields = {name: type(declared[name])(*declared[name]._args, **declared[name]._kwargs) for name in PARAMETERS}
        self.defaults = {name: self.fields[name].get_default() for name in ("limit", "offset")}
        self.headers: dict[tuple, list[tuple[str, str]]] = {}

    def __call__(self, environ: dict, start_response: Any) -> Any:
        collection_id = self._candidate(environ)
        if collection_id is None:
            return self.application(environ, start_response)
        set_script_prefix("/")
        signals.request_started.send(sender=WSGIHandler, environ=environ)
        try:
            answer = self._answer(WSGIRequest(environ), collection_id)
        except Exception as error:
            if database_unavailable(error):  # Django's answer (503) logs it
                logger.info("the database did not answer the public items page of %s; Django answers it", collection_id)
            else:
                logger.exception("the public items page of %s failed; Django answers it", collection_id)
            answer = None
        if answer is None:
            return self.application(environ, start_response)
        headers, chunks = answer
        start_response("200 OK", headers)
        return _Answer(chunks)

    def _candidate(self, environ: dict) -> str | None:
        """The collection's id when the request may be one to answer here; None sends it to Django."""
        if not self.on or environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ \
                or "HTTP_AUTHORIZATION" in environ:
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or not path.endswith(SUFFIX):
            return None
        collection_id = path[len(PREFIX):-len(SUFFIX)]
        if collection_id not in COLLECTIONS or get_script_name(environ):
            return None
        accept = environ.get("HTTP_ACCEPT", "")
        if views.HTML in accept and "json" not in accept:
            return None  # a browser: the HTML page (views._wants_html)
        return collection_id

    def _values(self, request: WSGIRequest) -> dict | None:
        values = dict(self.defaults)
        for name, given in request.GET.lists():
            if len(given) != 1 or given[0] == "":
                return None
            if name == "f":
                if given[0] != "json":
                    return None
                continue
            field = self.fields.get(name)
            if field is None:
                return None
            try:
                values[name] = field.run_validation(given[0])
            except ValidationError:
                return None  # Django words the refusal
        return values

    def _answer(self, request: WSGIRequest, collection_id: str) -> tuple[list, list[bytes]] | None:
        values = self._values(request)
        if values is None:
            return None
        try:
            request.get_host()
        except DisallowedHost:
            return None
        if self.security.process_request(request) is not None:
            return None  # the HTTPS redirect
        # Activates the language the view would answer in (for /ogc/, the request's Accept-Language).
        self.locale.process_request(request)
        if REPLICA in settings.DATABASES and _public_read(request) and replica_fit():
            with reading_from(REPLICA):
                head, tail, user_read = self._page(request, collection_id, values)
        else:
            head, tail, user_read = self._page(request, collection_id, values)
        content = [("Content-Type", views.GEOJSON), ("Content-Length", str(len(head) + len(tail)))]
        return [*content, *self._middleware_headers(request, user_read)], [head, tail]

    def _page(self, request: WSGIRequest, collection_id: str, values: dict) -> tuple[bytes, bytes, bool]:
        """The page's two parts, and whether the collection looked at who is asking (as works do)."""
        found = COLLECTIONS[collection_id]
        query = Query(limit=values["limit"], offset=values["offset"], bbox=values.get("bbox"), raw=True)
        looked = []

        def anonymous() -> AnonymousUser:
            looked.append(True)
            return AnonymousUser()

        # Lazy, as AuthenticationMiddleware's request.user is: only a page that reads it reads the session.
        page = found.page(SimpleLazyObject(anonymous), query)
        # The URL build_absolute_uri() gives, for a path of plain characters and no script name (_candidate).
        this = views._ThisPage(request, base=f"{request.scheme}://{request.get_host()}{request.path}")
        members = views.items_members(this, found, query, page, html=False)
        return page.head(), members + b"}", bool(looked)

    def _middleware_headers(self, request: WSGIRequest, user_read: bool) -> list[tuple[str, str]]:
        """The headers the middleware add to such an answer, after its Content-Type: found once per language,
        scheme and whether the page read request.user, by calling their response hooks in Django's order
        (the last listed first) on an empty answer of the same type. None of them looks at the body. Reading
        request.user reads the session, and the session middleware then adds Vary: Cookie."""
        key = (translation.get_language(), request.is_secure(), user_read)
        headers = self.headers.get(key)
        if headers is None:
            response = HttpResponse(content_type=views.GEOJSON)
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
