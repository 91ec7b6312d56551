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
  (`VietnameseFirstLocaleMiddleware`'s choice, made once per Accept-Language header), the replica's
  choice (`infra.replica`), X-Frame-Options, and `Vary: Cookie` as the session middleware adds it when
  the page reads who is asking (`request.user`, lazy as Django's; DRF always reads it); DRF's own
  headers (`Allow`) for /api/;
- Django's `request_started` and `request_finished` signals (the database connections' upkeep), each
  start with its end: their receivers are called directly while they are Django's own (`_Sending`).

A plain query (letters, digits, `. , _ -`) is read without QueryDict's decoding, and plain digits and boxes
without DRF's machinery around the fields' rules (`_plain_lists`, `_value`); anything else is read by
QueryDict and the fields, as the views read it.

Anything else goes to Django unchanged: any other method, path, parameter or value (also an empty or
repeated one), a cookie or an `Authorization` header, a browser asking /ogc/ for HTML, a host Django
would refuse, an HTTPS redirect, a query Django cannot read. These are found before the request
starts (`request_started`) and before any database is read, so Django starts it once and reads once.
Two things found later also go to Django, the request's start ended first: an offset past the end (the
page read says so; Django reads it again to answer its 400), and an exception that is not the database
failing (logged with its traceback). A database that does not answer (`database_unavailable`) gets
Django's own 503 here, from DatabaseUnavailableMiddleware's hook (which logs it), without a second try.

The other middleware do nothing to such a request: no session or CSRF cookie is read or set, no message
is stored, CommonMiddleware redirects nothing (the paths need no slash added) and finds the length set,
WhiteNoise serves only under STATIC_URL, and the history middleware matters to writes only. The shortcut
is off (`fits`) unless the middleware list is the one it was written for (MIDDLEWARE_WRITTEN_FOR), so
that a middleware added later cannot be skipped without someone reading this first
(tests/infra/test_public_pages.py fails then), and unless PREPEND_WWW, DISALLOWED_USER_AGENTS,
FORCE_SCRIPT_NAME, CSRF_USE_SESSIONS, ATOMIC_REQUESTS and DRF's throttles are off and DRF's
authentication is the session's and the token's.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signals
from django.core.cache import close_caches
from django.core.handlers.base import reset_urlconf
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.db import close_old_connections, reset_queries
from django.dispatch import Signal
from django.dispatch.dispatcher import NONE_ID, _make_id
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty
from rest_framework.exceptions import ValidationError
from rest_framework.fields import IntegerField
from rest_framework.permissions import AllowAny
from rest_framework.serializers import Serializer

from infra.api import views as api_views
from infra.api.params import BBoxField, WorkListParams
from infra.kept import Kept
from infra.middleware import DatabaseUnavailableMiddleware, VietnameseFirstLocaleMiddleware, database_unavailable
from infra.ogc import views as ogc_views
from infra.ogc.collections import COLLECTIONS, Query
from infra.ogc.params import ItemsParams
from infra.replica import REPLICA, reading_for
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
_SCRIPT_NAMES = ("SCRIPT_URL", "REDIRECT_URL", "SCRIPT_NAME")  # what django.core.handlers.wsgi.get_script_name reads
API_WORKS = "/api/works/"
PARAMETERS = ("limit", "offset", "bbox")
# DRF's authentication for /api/: with neither a session cookie nor an Authorization header, nobody.
AUTHENTICATION_WRITTEN_FOR = (
    "rest_framework.authentication.SessionAuthentication",
    "rest_framework.authentication.TokenAuthentication",
)

KEPT = 64  # Accept-Language headers (_activate_language), and as many hosts (_origin)
# A page's two parts; None hands the request to Django.
Answer = tuple[bytes, bytes] | None


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
    page: Callable[[WSGIRequest, str, Checked, Any], Answer]
    reads_user: bool = False  # DRF's authentication reads request.user for every request
    view_headers: tuple[tuple[str, str], ...] = ()
    # The fields read here without DRF's run_validation (_value): integer fields whose only validators are their
    # bounds, and boxes without validators. A validator added to a field later sends its values through DRF.
    bounds: dict[str, tuple[int | None, int | None]] = field(init=False, compare=False)
    boxes: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bounds", {
            name: (given.min_value, given.max_value) for name, given in self.fields.items()
            if type(given) is IntegerField
            and len(given.validators) == (given.min_value is not None) + (given.max_value is not None)})
        object.__setattr__(self, "boxes", frozenset(
            name for name, given in self.fields.items() if type(given) is BBoxField and not given.validators))


def _fields(params: type[Serializer]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields a view's serializer makes (infra.api.params.QueryParams.get_fields), and the defaults of
    limit and offset."""
    declared = params._declared_fields
    fields = {name: type(declared[name])(*declared[name]._args, **declared[name]._kwargs) for name in PARAMETERS}
    return fields, {name: fields[name].get_default() for name in ("limit", "offset")}


@dataclass(frozen=True)
class Checked:
    """A request's checked values, its query's names and values (as QueryDict.lists() gives them), whether the
    query was plain (_plain_lists), and its scheme and host as build_absolute_uri() writes them."""

    values: dict[str, Any]
    lists: list[tuple[str, list[str]]]
    plain: bool
    origin: str

    def absolute_uri(self, request: WSGIRequest) -> str:
        """request.build_absolute_uri(): for a plain query on a path of plain characters with no script name
        (_route), the origin, path and query as they are."""
        if not self.plain:
            return request.build_absolute_uri()
        query = request.META.get("QUERY_STRING", "")
        return f"{self.origin}{request.path}?{query}" if query else f"{self.origin}{request.path}"


def _ogc_items(request: WSGIRequest, collection_id: str, checked: Checked, user: Any) -> Answer:
    found, values = COLLECTIONS[collection_id], checked.values
    query = Query(limit=values["limit"], offset=values["offset"], bbox=values.get("bbox"), raw=True)
    page = found.page(user, query)
    # The URL build_absolute_uri() gives without its query, for a path of plain characters and no script name.
    this = ogc_views.ThisPage(request, base=f"{checked.origin}{request.path}", lists=checked.lists,
                              language=request.LANGUAGE_CODE)  # the language activated (_activate_language)
    return page.head(), ogc_views.items_members(this, found, query, page, html=False) + b"}"


def _api_works(request: WSGIRequest, _key: str, checked: Checked, user: Any) -> Answer:
    values = checked.values
    page = works_page(user=user, filters=WorkFilters(bbox=values.get("bbox")), limit=values["limit"],
                      offset=values["offset"], raw=True)
    try:
        members = api_views.page_members(checked.absolute_uri(request), page, limit=values["limit"],
                                         offset=values["offset"])
    except ValidationError:
        return None  # past the end: Django words the refusal
    return page.head(), members + b"}"


# A query of names and values in these characters alone has nothing to decode (no %, + or ;): what maps and
# QGIS send for a page of a box.
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9_.,=&-]*")
_DIGITS = re.compile(r"[0-9]{1,9}")


def _plain_lists(query: str) -> list[tuple[str, list[str]]] | None:
    """A plain query's names and values as QueryDict(query).lists() gives them (empty parts skipped, a part
    without `=` a name with an empty value, values of a repeated name together), read without QueryDict's
    decoding; None when the query is not plain (QueryDict reads it then)."""
    if not _PLAIN_QUERY.fullmatch(query):
        return None
    most = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if most is not None and query.count("&") + 1 > most:
        return None  # QueryDict refuses it (TooManyFieldsSent, as parse_qsl counts), and Django answers 400
    lists: dict[str, list[str]] = {}
    for part in query.split("&"):
        if part:
            name, _equals, value = part.partition("=")
            lists.setdefault(name, []).append(value)
    return list(lists.items())


def _value(route: Route, name: str, reader: Any, given: str) -> Any:
    """The field's value of a non-empty text, or None when the field refuses it (Django words the refusal).
    Plain digits for an integer field, and a box, are read here as the field reads them, without DRF's
    machinery around to_internal_value (Route.bounds and Route.boxes: fields with no other validators)."""
    bounds = route.bounds.get(name)
    if bounds is not None and _DIGITS.fullmatch(given):
        number = int(given)
        low, high = bounds
        return number if (low is None or number >= low) and (high is None or number <= high) else None
    if name in route.boxes:
        return reader.to_internal_value(given)  # a refusal raises: Django words it (_checked)
    return reader.run_validation(given)


def fits() -> bool:
    """Whether the settings are those the shortcut was written for (the module's docstring)."""
    rest = settings.REST_FRAMEWORK
    works_view = api_views.WorkListView
    return (tuple(settings.MIDDLEWARE) == MIDDLEWARE_WRITTEN_FOR and not settings.FORCE_SCRIPT_NAME
            and not settings.PREPEND_WWW and not settings.DISALLOWED_USER_AGENTS and not settings.CSRF_USE_SESSIONS
            and not any(database.get("ATOMIC_REQUESTS") for database in settings.DATABASES.values())
            and tuple(rest.get("DEFAULT_AUTHENTICATION_CLASSES", ())) == AUTHENTICATION_WRITTEN_FOR
            and not rest.get("DEFAULT_THROTTLE_CLASSES") and not works_view.throttle_classes
            and works_view.permission_classes == [AllowAny]
            and [c.__module__ + "." + c.__name__ for c in works_view.authentication_classes]
            == list(AUTHENTICATION_WRITTEN_FOR))


class PublicPages:
    """WSGI middleware: answer the public's plain GeoJSON pages (see the module's docstring)."""

    def __init__(self, application: Any):
        self.application = application
        self.on = fits()
        if not self.on:
            logger.warning("Public pages go through Django's whole request cycle: the middleware or their settings "
                           "are not those infra.public was written for")
            return
        self.security = SecurityMiddleware(_unused)
        self.locale = VietnameseFirstLocaleMiddleware(_unused)
        self.common = CommonMiddleware(_unused)
        self.frame = XFrameOptionsMiddleware(_unused)
        self.database = DatabaseUnavailableMiddleware(_unused)
        works_view = api_views.WorkListView()
        works_view.setup(None)  # as Django's as_view() does before dispatching: HEAD is GET
        self.ogc = Route("ogc", *_fields(ItemsParams), formats=True, page=_ogc_items)
        self.api = Route("api", *_fields(WorkListParams), formats=False, page=_api_works, reads_user=True,
                         view_headers=tuple(works_view.default_response_headers.items()))
        self.headers: dict[tuple, list[tuple[str, str]]] = {}
        self.languages: Kept[str, str] = Kept(KEPT)  # Accept-Language header: the language chosen (_activate_language)
        self.origins: Kept[tuple, str] = Kept(KEPT)  # what the host is read from: scheme and host (_origin)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        found = self._route(environ)
        if found is None:
            return self.application(environ, start_response)
        route, key = found
        # Everything that can hand the request on without reading the database comes first, before the request
        # starts, so that a request handed on starts (and reads) once, in Django.
        request = WSGIRequest(environ)
        checked = self._checked(request, route)
        if checked is None:
            return self.application(environ, start_response)
        set_script_prefix("/")
        _STARTED.send(environ=environ)
        # Lazy, as AuthenticationMiddleware's request.user is: a page that reads it reads the session.
        user = SimpleLazyObject(AnonymousUser)
        try:
            self._activate_language(request)
            if REPLICA in settings.DATABASES:  # reading_for's first test, without its context manager otherwise
                with reading_for(request):
                    answer = route.page(request, key, checked, user)
            else:
                answer = route.page(request, key, checked, user)
        except Exception as error:
            if not database_unavailable(error):
                logger.exception("the public page %s failed; Django answers it", request.path)
                return self._hand_on(environ, start_response)
            # Django's own answer to it (a 503 with Retry-After, and its warning), not a second try.
            response = self.database.process_exception(request, error)
            self.frame.process_response(request, response)
            self.common.process_response(request, response)
            response = self._finish(request, response, route.reads_user or user._wrapped is not empty)
            response._handler_class = WSGIHandler  # its close() sends request_finished
            start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
            return response
        if answer is None:
            return self._hand_on(environ, start_response)
        head, tail = answer
        user_read = route.reads_user or user._wrapped is not empty
        content = [("Content-Type", ogc_views.GEOJSON), ("Content-Length", str(len(head) + len(tail)))]
        secure = checked.origin.startswith("https:")  # request.is_secure(), as the origin was written
        start_response("200 OK", [*content, *self._later_headers(request, route, user_read, secure)])
        return _Answer([head, tail])

    def _origin(self, request: WSGIRequest) -> str:
        """The request's scheme and host as build_absolute_uri() writes them, the host checked against
        ALLOWED_HOSTS by request.get_host() (a host refused raises DisallowedHost). Both rest on the headers
        and settings in the key alone, so each such key is checked once and kept: the settings' object is in
        it, and override_settings replaces that object."""
        meta, proxy = request.META, settings.SECURE_PROXY_SSL_HEADER
        key = (meta.get("HTTP_X_FORWARDED_HOST"), meta.get("HTTP_X_FORWARDED_PORT"), meta.get("HTTP_HOST"),
               meta.get("SERVER_NAME"), meta.get("SERVER_PORT"), meta.get("wsgi.url_scheme"),
               meta.get(proxy[0]) if proxy else None, settings._wrapped)
        origin = self.origins.get(key)
        if origin is None:
            origin = self.origins.keep(key, f"{request.scheme}://{request.get_host()}")
        return origin

    def _activate_language(self, request: WSGIRequest) -> None:
        """Activate the language the view would answer in, as LocaleMiddleware chooses it for /api/ and /ogc/.
        For the requests answered here its choice rests on the Accept-Language header alone (no cookie comes
        this way, and these paths carry no language prefix), so it is made once per header and kept: parsing
        the header and matching it against the languages cost more than the rest of the language's work."""
        header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
        language = self.languages.get(header)
        if language is None:
            self.locale.process_request(request)
            self.languages.keep(header, request.LANGUAGE_CODE)  # headers of a few browsers and programs
            return
        translation.activate(language)
        request.LANGUAGE_CODE = language

    def _hand_on(self, environ: dict, start_response: Any) -> Any:
        """Hand a request already started on to Django, ending this start first (each start has its end)."""
        _FINISHED.send()
        return self.application(environ, start_response)

    def _checked(self, request: WSGIRequest, route: Route) -> Checked | None:
        """The request checked, or None when Django is to answer it: a value the fields refuse (or cannot read),
        a host Django refuses, an HTTPS redirect. Reads no database; raises nothing (Django meets the same
        errors, and says so)."""
        try:
            plain = _plain_lists(request.META.get("QUERY_STRING", ""))
            lists = list(request.GET.lists()) if plain is None else plain
            values = self._values(route, lists)
            if values is None:
                return None
            origin = self._origin(request)
            if self.security.process_request(request) is not None:
                return None  # the HTTPS redirect
        except Exception:  # a host refused, a query of too many fields, an odd value
            return None
        return Checked(values, lists, plain is not None, origin)

    def _route(self, environ: dict) -> tuple[Route, str] | None:
        """The route and its key (the collection's id) when the request may be one to answer here; None sends it
        to Django."""
        if not self.on or environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ \
                or "HTTP_AUTHORIZATION" in environ:
            return None
        # Django's script name comes from these alone (FORCE_SCRIPT_NAME is off: fits): read it when one is given.
        if any(environ.get(name) for name in _SCRIPT_NAMES) and get_script_name(environ):
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

    @staticmethod
    def _values(route: Route, lists: list[tuple[str, list[str]]]) -> dict | None:
        # Any error here (not only a refusal: a message formatted by two threads at once, in DRF's shared
        # validators) sends the request to Django (_checked).
        values = dict(route.defaults)
        for name, given in lists:
            if len(given) != 1 or given[0] == "":
                return None
            if name == "f" and route.formats:
                if given[0] != "json":
                    return None
                continue
            reader = route.fields.get(name)
            if reader is None:
                return None
            value = _value(route, name, reader, given[0])
            if value is None:
                return None
            values[name] = value
        return values

    def _later_headers(self, request: WSGIRequest, route: Route, user_read: bool, secure: bool) -> list[tuple[str, str]]:
        """The headers the view and the middleware add to a page, after its Content-Type and Content-Length: found
        once per route, language, scheme and whether the page read request.user, by setting the view's and
        calling the middleware's response hooks (_finish) on an empty answer of the same type. None of them
        looks at the body."""
        key = (route.name, request.LANGUAGE_CODE, secure, user_read)  # the language activated (_activate_language)
        headers = self.headers.get(key)
        if headers is None:
            response = HttpResponse(content_type=ogc_views.GEOJSON)
            for name, value in route.view_headers:  # as DRF's finalize_response sets them
                response[name] = value
            self.frame.process_response(request, response)
            response = self._finish(request, response, user_read)
            headers = self.headers[key] = [(name, value) for name, value in response.items() if name != "Content-Type"]
        return headers

    def _finish(self, request: WSGIRequest, response: HttpResponse, user_read: bool) -> HttpResponse:
        """The response hooks after CommonMiddleware's, in Django's order (the last listed first). Reading
        request.user reads the session, and the session middleware then adds Vary: Cookie."""
        self.locale.process_response(request, response)
        if user_read:
            patch_vary_headers(response, ("Cookie",))
        return self.security.process_response(request, response)


class _Sending:
    """A request signal sent as Signal.send sends it (from WSGIHandler, to each receiver in turn), calling the
    receivers directly while they are Django's own (`known`), without the dispatch's lock and weak references;
    by the signal's own send() when any other receiver is connected or one of Django's disconnected (as
    Django's test client does)."""

    def __init__(self, signal: Signal, known: tuple[Callable, ...]):
        self.signal = signal
        self.known = {(_make_id(receiver), NONE_ID): receiver for receiver in known}

    def send(self, **named: Any) -> None:
        connected = self.signal.receivers
        try:
            receivers = [self.known.get(entry[0]) for entry in connected]
        except (TypeError, IndexError):  # a layout of Signal.receivers this was not written for
            receivers = [None]
        if len(connected) != len(self.known) or None in receivers:
            self.signal.send(sender=WSGIHandler, **named)
            return
        for receiver in receivers:
            receiver(signal=self.signal, sender=WSGIHandler, **named)


# The database connections' upkeep, the caches' and the URL configuration's.
_STARTED = _Sending(signals.request_started, (reset_queries, close_old_connections))
_FINISHED = _Sending(signals.request_finished, (close_old_connections, close_caches, reset_urlconf))


class _Answer:
    """The answer's chunks; closing it ends the request as closing Django's response does (request_finished)."""

    def __init__(self, chunks: list[bytes]):
        self.chunks = chunks

    def __iter__(self) -> Any:
        return iter(self.chunks)

    def close(self) -> None:
        _FINISHED.send()
