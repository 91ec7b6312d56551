"""infra.public: the public's plain pages of /ogc/ items and /api/works/, answered around Django's request cycle, are
the answers Django gives (status, every header, every byte but an OGC page's time stamp), and everything else is
Django's."""
from __future__ import annotations

import io
import json
import logging
import random
import re
import string
import sys
import time
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, close_old_connections, connection, connections
from django.http import QueryDict
from django.test import override_settings
from django.utils.translation import gettext_lazy

from infra import public
from infra.api.pages import link_text
from infra.backends.postgis.base import socket_quiet
from infra.ogc import views as ogc_views
from infra.ogc.collections import COLLECTIONS
from infra.ogc.params import ItemsParams
from infra.wsgi import django_application
from tests.infra.api.register import build_register

pytestmark = [pytest.mark.django_db]

STAMP = re.compile(rb'"timeStamp":"[0-9T:Z-]{20}"')
DISTRICT = "103.2,22.4,103.6,22.8"


@pytest.fixture
def register(reference):
    return build_register()


@pytest.fixture
def no_connection_upkeep():
    """Django's test client does the same: closing 'old' connections at a request's start and end would end
    the test's transaction, so that receiver is off while requests are answered in process."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class Counting:
    """Django's application, counting the requests handed to it."""

    def __init__(self, application):
        self.application, self.calls = application, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.application(environ, start_response)


def environ(path: str, query: str = "", method: str = "GET", **headers: str) -> dict:
    return {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, **headers,
    }


def call(application, env: dict) -> tuple[str, list, bytes]:
    started = []
    answer = application(dict(env), lambda status, headers, *_: started.append((status, headers)))
    try:
        body = b"".join(answer)
    finally:
        answer.close()
    status, headers = started[0]
    return status, list(headers), body


def both(env: dict, application_class=public.PublicPages) -> tuple[tuple, tuple, Counting]:
    """The answer through PublicPages and Django's own, with the count of requests PublicPages handed on."""
    counting = Counting(django_application)
    shortcut = application_class(counting)
    first = call(shortcut, env)
    return first, call(django_application, env), counting


def same(first: tuple, second: tuple) -> None:
    status, headers, body = first
    assert (status, headers) == second[:2]
    assert STAMP.sub(b"", body) == STAMP.sub(b"", second[2])


def test_the_project_s_middleware_are_the_ones_it_was_written_for():
    # Adding, removing or reordering a middleware turns the shortcut off until infra/public.py is read
    # again: say there what the new one does to a public GET of these pages, then update the list.
    assert tuple(settings.MIDDLEWARE) == public.MIDDLEWARE_WRITTEN_FOR
    assert public.PublicPages(django_application).on


SERVED = [
    ("/ogc/collections/works/items", ""),
    ("/ogc/collections/works/items", "limit=2"),
    ("/ogc/collections/works/items", "limit=2&offset=2"),
    ("/ogc/collections/works/items", "offset=4&limit=3&f=json"),
    ("/ogc/collections/works/items", "limit=10000"),
    ("/ogc/collections/works/items", "offset=1000000"),
    ("/ogc/collections/works/items", f"bbox={DISTRICT}&limit=1"),
    ("/ogc/collections/works/items", "bbox=103.3,22.5,103.4,22.6&limit=2&offset=1"),
    ("/ogc/collections/works/items", "bbox=0,0,1,1"),
    ("/ogc/collections/works/items", "limit=007&bbox=103.2%2C22.4%2C103.6%2C22.8"),
    ("/ogc/collections/communes/items", "limit=2"),
    ("/ogc/collections/communes-2025-06-30/items", f"limit=3&offset=1&bbox={DISTRICT}"),
    ("/ogc/collections/villages/items", "limit=5"),
    ("/ogc/collections/roads/items", "limit=2"),
    ("/ogc/collections/village-links/items", "limit=2"),
    ("/api/works/", ""),
    ("/api/works/", "limit=2"),
    ("/api/works/", "offset=2&limit=2"),
    ("/api/works/", "limit=1&offset=4"),
    ("/api/works/", f"bbox={DISTRICT}&limit=2&offset=1"),
    ("/api/works/", "bbox=0,0,1,1"),
    ("/api/works/", "limit=10000&bbox=103.2%2C22.4%2C103.6%2C22.8"),
    # Values the fields read loosely, read alike on both roads.
    ("/ogc/collections/works/items", "limit=5.0&offset=%201"),
    ("/ogc/collections/works/items", "limit=1_0&bbox=103.2,%2022.4,1.036e2,22.8"),
    ("/api/works/", "limit=%2B2&offset=1.0"),
]


@pytest.mark.parametrize(("path", "query"), SERVED)
@pytest.mark.parametrize("headers", [{}, {"HTTP_ACCEPT_LANGUAGE": "en"}, {"HTTP_ACCEPT_LANGUAGE": "fr, vi;q=0.5"},
                                     {"HTTP_ACCEPT": "application/geo+json"}, {"HTTP_HOST": "localhost:8000"}])
def test_public_pages_are_answered_here_exactly_as_django_answers_them(register, no_connection_upkeep, path, query,
                                                                        headers):
    first, second, counting = both(environ(path, query, **headers))
    assert counting.calls == 0, "answered by Django, not by the shortcut"
    assert first[0] == "200 OK" and (path.startswith("/api/") or STAMP.search(first[2]))
    same(first, second)


def test_the_language_kept_per_header_is_the_one_django_chooses(register, no_connection_upkeep):
    # One shortcut for many requests, as a server keeps it: each header's language is chosen once, then
    # reused; the answers (Content-Language, the collection's title in the links) stay Django's.
    counting = Counting(django_application)
    shortcut = public.PublicPages(counting)
    headers = ["en", "vi", "fr, vi;q=0.5", "en-GB,en;q=0.9", "de", "", "en"] + [f"x{n}, en;q=0.{n % 9 + 1}" for n in range(70)]
    for header in [*headers, *reversed(headers)]:
        extra = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
        for path, query in (("/ogc/collections/works/items", "limit=1"), ("/api/works/", "limit=1")):
            env = environ(path, query, **extra)
            same(call(shortcut, env), call(django_application, env))
    assert counting.calls == 0
    assert 0 < len(shortcut.languages) <= public.KEPT
    english = environ("/ogc/collections/works/items", "limit=1", HTTP_ACCEPT_LANGUAGE="en")
    assert ("Content-Language", "en") in call(shortcut, english)[1]
    assert ("Content-Language", "vi") in call(shortcut, environ("/ogc/collections/works/items", "limit=1"))[1]
    # The collection's link, kept per language (ogc.views._collection_link), in the language activated here.
    titles = {language: [link.get("title") for link in json.loads(call(shortcut, environ(
        "/ogc/collections/works/items", "limit=1", HTTP_ACCEPT_LANGUAGE=language))[2])["links"]
        if link["rel"] == "collection"] for language in ("en", "vi", "en")}
    assert titles["en"] == ["Works"] and titles["vi"] == ["Công trình"]


def test_the_api_answers_geojson_to_a_browser_too(register, no_connection_upkeep):
    first, second, counting = both(environ("/api/works/", "limit=2", HTTP_ACCEPT="text/html,application/xhtml+xml"))
    assert counting.calls == 0 and ("Content-Type", "application/geo+json") in first[1]
    same(first, second)


def test_the_public_sees_no_more_through_the_shortcut(register, no_connection_upkeep):
    (_status, _headers, body), _django, counting = both(environ("/ogc/collections/works/items", "limit=100"))
    assert counting.calls == 0
    # Published works only (register.py: P-1 and P-2 are proposed), and no internal notes.
    features = json.loads(body)["features"]
    assert sorted(f["properties"]["code"] for f in features) == ["A-1", "B-1", "Q-1", "R-1", "S-1"]
    assert not any("internal_notes" in f["properties"] for f in features)


DECLINED = [
    ("GET", "/ogc/collections/works/items", "f=html", {}),
    ("GET", "/ogc/collections/works/items", "", {"HTTP_ACCEPT": "text/html,application/xhtml+xml"}),
    ("GET", "/ogc/collections/works/items", "limit=1", {"HTTP_COOKIE": "sessionid=x"}),
    ("GET", "/ogc/collections/works/items", "limit=1", {"HTTP_COOKIE": "django_language=en"}),
    ("GET", "/ogc/collections/works/items", "limit=1", {"HTTP_AUTHORIZATION": "Token x"}),
    ("HEAD", "/ogc/collections/works/items", "limit=1", {}),
    ("POST", "/ogc/collections/works/items", "limit=1", {}),
    ("GET", "/ogc/collections/works/items", "category=health", {}),
    ("GET", "/ogc/collections/works/items", "datetime=2023-01-01/..", {}),
    ("GET", "/ogc/collections/works/items", "limit=1&nonsense=1", {}),
    ("GET", "/ogc/collections/works/items", "limit=1&limit=2", {}),
    ("GET", "/ogc/collections/works/items", "limit=", {}),
    ("GET", "/ogc/collections/works/items", "limit=0", {}),
    ("GET", "/ogc/collections/works/items", "limit=abc", {}),
    ("GET", "/ogc/collections/works/items", "limit=10001", {}),
    ("GET", "/ogc/collections/works/items", "offset=-1", {}),
    ("GET", "/ogc/collections/works/items", "bbox=1,2", {}),
    ("GET", "/ogc/collections/works/items", "bbox=104,22,103,23", {}),
    ("GET", "/ogc/collections/works/items", "f=xml", {}),
    ("GET", "/ogc/collections/works/items", "limit=1", {"HTTP_HOST": "evil.example"}),
    ("GET", "/ogc/collections/nothing/items", "", {}),
    ("GET", "/ogc/collections/works/items/", "", {}),
    ("GET", "/ogc/collections/works/items/1", "", {}),
    ("GET", "/ogc/collections/works", "", {}),
    ("GET", "/ogc/collections/works/items", "limit=1", {"SCRIPT_NAME": "/infra"}),
    ("GET", "/ogc/collections/works/items", "f=json", {"HTTP_ACCEPT": "text/html"}),
    ("GET", "/ogc/collections/works/items", "&".join(["a=1"] * 1001), {}),
    ("GET", "/ogc/collections/works/items", "limit=1" + "&" * 1000, {}),  # empty fields count too
    ("GET", "/api/works/", "limit=1&category=health", {}),
    ("GET", "/api/works/", "q=truong", {}),
    ("GET", "/api/works/", "zoom=10", {}),
    ("GET", "/api/works/", "format=json", {}),
    ("GET", "/api/works/", "f=json", {}),
    ("GET", "/api/works/", "offset=5", {}),  # past the end: 400
    ("GET", "/api/works/", "limit=0", {}),
    ("GET", "/api/works/", "limit=1", {"HTTP_COOKIE": "sessionid=x"}),
    ("GET", "/api/works/", "limit=1", {"HTTP_AUTHORIZATION": "Token x"}),
    ("HEAD", "/api/works/", "limit=1", {}),
    ("OPTIONS", "/api/works/", "", {}),
    ("GET", "/api/works", "limit=1", {}),
    ("GET", "/api/works/1/", "", {}),
]


@pytest.mark.parametrize(("method", "path", "query", "headers"), DECLINED)
def test_everything_else_is_django_s_to_answer(register, no_connection_upkeep, method, path, query, headers):
    first, second, counting = both(environ(path, query, method, **headers))
    assert counting.calls == 1
    # Django's answer both times (a page for a browser carries a new CSRF cookie each time).
    assert first[0] == second[0] and [name for name, _value in first[1]] == [name for name, _value in second[1]]


@pytest.mark.parametrize(("path", "collection"), [("/ogc/collections/works/items", "works"),
                                                 ("/ogc/collections/villages/items", "villages"),
                                                 ("/api/works/", None)])
def test_a_database_not_answering_gets_django_s_503_without_a_second_try(register, no_connection_upkeep, monkeypatch,
                                                                          caplog, path, collection):
    tries = []

    def unavailable(*_args, **_kwargs):
        tries.append(1)
        raise OperationalError("the server closed the connection unexpectedly")

    if collection is None:
        monkeypatch.setattr("infra.public.works_page", unavailable)
        monkeypatch.setattr("infra.api.views.works_page", unavailable)
    else:
        monkeypatch.setitem(COLLECTIONS, collection, replace(COLLECTIONS[collection], page=unavailable))
    with caplog.at_level(logging.INFO):
        (status, headers, body), second, counting = both(environ(path, "limit=1"))
    # Django's own answer to a database that is not answering (a 503 with Retry-After, and its warning), given
    # without handing the request on: the database was tried once, not twice.
    assert counting.calls == 0 and len(tries) == 2  # once here, once for Django's answer to compare with
    assert status.startswith("503") and ("Retry-After", "30") in headers
    assert (status, headers, body) == second
    assert f"database unavailable for GET {path}" in caplog.text
    assert "Traceback" not in caplog.text


def test_an_error_while_answering_is_logged_and_django_answers_instead(register, no_connection_upkeep, monkeypatch,
                                                                        caplog):
    calls = []
    works = COLLECTIONS["works"]

    def fails_once(user, query):
        calls.append(query)
        if len(calls) == 1:
            raise RuntimeError("a fault of the shortcut alone")
        return works.page(user, query)

    monkeypatch.setitem(COLLECTIONS, "works", replace(works, page=fails_once))
    with caplog.at_level(logging.ERROR, logger="infra.public"):
        first, second, counting = both(environ("/ogc/collections/works/items", "limit=2"))
    assert counting.calls == 1 and first[0] == "200 OK" and len(calls) == 3  # failed, then Django's, then the check
    same(first, second)
    assert "the public page /ogc/collections/works/items failed" in caplog.text and "a fault of the shortcut alone" in caplog.text


@pytest.mark.parametrize(("path", "query", "answered_here"), [
    ("/ogc/collections/works/items", "limit=1", True),
    ("/api/works/", "limit=1", True),
    ("/ogc/collections/works/items", "limit=0", False),  # refused before the request starts: Django's alone
    ("/api/works/", "offset=5", False),  # past the end, found by reading: that start ends before Django's
])
def test_each_start_of_a_request_has_its_end(register, no_connection_upkeep, path, query, answered_here):
    seen = []

    def started(sender, environ, **_kwargs):
        seen.append(("started", sender))

    def finished(sender, **_kwargs):
        seen.append(("finished", sender))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        counting = Counting(django_application)
        answer = public.PublicPages(counting)(environ(path, query), lambda *_: None)
        before_close = list(seen)
        b"".join(answer)
        answer.close()  # the server closes the answer once it is sent: the connections' upkeep comes then
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert counting.calls == (0 if answered_here else 1)
    pair = [("started", WSGIHandler), ("finished", WSGIHandler)]
    if answered_here:
        assert before_close == pair[:1] and seen == pair
    elif query == "limit=0":
        assert seen == pair
    else:
        assert seen == pair + pair


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), SECURE_HSTS_SECONDS=3600,
                   SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_SSL_REDIRECT=True, X_FRAME_OPTIONS="SAMEORIGIN")
def test_production_s_https_headers_and_redirect_are_django_s(register, no_connection_upkeep):
    django_https = WSGIHandler()  # made under these settings, as PublicPages is below
    secure = environ("/ogc/collections/works/items", "limit=2", HTTP_X_FORWARDED_PROTO="https")
    counting = Counting(django_https)
    first = call(public.PublicPages(counting), secure)
    assert counting.calls == 0
    assert ("Strict-Transport-Security", "max-age=3600; includeSubDomains") in first[1]
    assert ("X-Frame-Options", "SAMEORIGIN") in first[1]
    assert b'"href": "https://127.0.0.1/ogc/collections/works/items?f=json&limit=2"' in first[2]
    same(first, call(django_https, secure))
    # Plain HTTP is redirected to HTTPS, by Django.
    plain = environ("/ogc/collections/works/items", "limit=2")
    first = call(public.PublicPages(counting), plain)
    assert counting.calls == 1 and first[0].startswith("301")
    same(first, call(django_https, plain))


@pytest.mark.parametrize("changed", [
    {"MIDDLEWARE": [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]},
    {"MIDDLEWARE": [m for m in settings.MIDDLEWARE if "clickjacking" not in m]},
    {"PREPEND_WWW": True},
    {"DISALLOWED_USER_AGENTS": [re.compile("QGIS")]},
    {"FORCE_SCRIPT_NAME": "/infra"},
    {"CSRF_USE_SESSIONS": True},
    {"REST_FRAMEWORK": {**settings.REST_FRAMEWORK,
                        "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"]}},
    {"REST_FRAMEWORK": {**settings.REST_FRAMEWORK, "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication"]}},
])
def test_other_middleware_or_their_settings_turn_the_shortcut_off(register, no_connection_upkeep, changed, caplog):
    with override_settings(**changed), caplog.at_level(logging.WARNING, logger="infra.public"):
        counting = Counting(django_application)
        shortcut = public.PublicPages(counting)
        assert not shortcut.on
        assert "Public pages go through Django's whole request cycle" in caplog.text  # said once, at start
        call(shortcut, environ("/ogc/collections/works/items", "limit=1"))
    assert counting.calls == 1


def test_a_plain_query_is_read_as_querydict_reads_it():
    # Queries of letters, digits and . , _ - (what maps and QGIS send) are read without QueryDict's decoding:
    # the same names and values, in the same order, empty parts skipped, a bare name an empty value.
    rng = random.Random(11)
    alphabet = "abfilmotx_019.,-=&"
    queries = ["", "&", "limit=2&&bbox=1,2,3,4", "=5", "limit", "limit=1&limit=2&offset=", "a=b=c"]
    queries += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    for query in queries:
        assert public._plain_lists(query) == list(QueryDict(query).lists()), query
    for query in ("limit=1%2C2", "a=b+c", "a=b;c=d", "bbox=1, 2", "tên=1", "a=~", "limit=1" + "&" * 1000):
        assert public._plain_lists(query) is None, query  # the last: more fields than QueryDict reads


def test_links_are_the_text_json_writes_for_them():
    rng = random.Random(5)
    alphabet = string.printable + "ẩđ\"\\\u2028\x00\x1f"
    for _ in range(3000):
        href = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        title = rng.choice([None, "", gettext_lazy("Works"), "".join(rng.choice(alphabet) for _ in range(8))])
        link = {"href": href, "rel": "next", "type": "application/geo+json"} | ({"title": str(title)} if title else {})
        assert link_text(href, "next", "application/geo+json", title) == json.dumps(link, ensure_ascii=False)
        assert link_text(href, "next", "application/geo+json", title, ascii_only=True) == json.dumps(link)


def test_a_link_s_parameters_are_encoded_as_urlencode_encodes_them():
    rng = random.Random(3)
    alphabet = string.ascii_letters + string.digits + "_.,-~ +%&=/:;ẩ"
    for _ in range(5000):
        name, value = ("".join(rng.choice(alphabet) for _ in range(rng.randint(0, n))) for n in (6, 14))
        assert ogc_views._pair(name, value) == urlencode([(name, value)]), (name, value)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a server that ends a kept connection: PostgreSQL's")
def test_a_kept_connection_the_database_ended_is_replaced_before_the_page(other_session, monkeypatch):
    # The shortcut keeps Django's health check (infra/backends/postgis: a poll of the socket, no round trip):
    # a connection the server ended (a restart, pg_terminate_backend) is found before the page's statement and
    # replaced, so the page is answered, and its statement runs once.
    counting = Counting(django_application)
    application = public.PublicPages(counting)
    env = environ("/ogc/collections/works/items", "limit=1")
    assert call(application, env)[0] == "200 OK"
    pid = connection.connection.info.backend_pid
    with other_session.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while socket_quiet(connection.connection.fileno()):  # the server's goodbye has reached the socket
        assert time.monotonic() < deadline
        time.sleep(0.01)
    checks, pages = [], []
    wrapper = type(connections["default"])
    usable = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda self: checks.append(1) or usable(self))
    works = COLLECTIONS["works"]
    monkeypatch.setitem(COLLECTIONS, "works", replace(works, page=lambda *args: pages.append(1) or works.page(*args)))
    status, _headers, body = call(application, env)
    assert status == "200 OK" and counting.calls == 0 and json.loads(body)["type"] == "FeatureCollection"
    assert connection.connection.info.backend_pid != pid
    assert checks == [1] and pages == [1]


@pytest.mark.django_db(transaction=True)
def test_django_s_own_receivers_keep_the_connections_when_called_without_the_dispatch(monkeypatch):
    # With only Django's own receivers connected, the shortcut calls them itself (not Signal.send): the upkeep
    # still happens: the queries' log is emptied when the request starts, and (PostgreSQL, where connections
    # are kept) a connection past its CONN_MAX_AGE is replaced.
    sent = []
    for signal in (signals.request_started, signals.request_finished):
        monkeypatch.setattr(signal, "send", lambda *args, **kwargs: sent.append(args))
    application = public.PublicPages(django_application)
    env = environ("/api/works/", "limit=1")
    assert call(application, env)[0] == "200 OK"
    connection.ensure_connection()
    kept = connection.connection
    connection.close_at = time.monotonic() - 1
    connection.queries_log.append({"sql": "an earlier request's", "time": "0"})
    assert call(application, env)[0] == "200 OK"
    assert not any(query["sql"] == "an earlier request's" for query in connection.queries_log)
    if connection.vendor == "postgresql":
        assert kept.closed and connection.connection is not kept
    assert sent == []


def test_a_host_allowed_once_is_checked_again_when_the_settings_change(register, no_connection_upkeep):
    # The scheme and host are kept per header and settings object (_origin): under other settings the same
    # shortcut checks the host again, and Django refuses it.
    counting = Counting(django_application)
    application = public.PublicPages(counting)
    env = environ("/api/works/", "limit=1", HTTP_HOST="localhost:8000")
    assert call(application, env)[0] == "200 OK" and counting.calls == 0
    with override_settings(ALLOWED_HOSTS=["kept.example"]):
        status, _headers, _body = call(application, env)
    assert status.startswith("400") and counting.calls == 1


def test_only_fields_without_validators_of_their_own_are_read_without_drf():
    # limit and offset (bounds alone) and bbox (none) are read directly; a validator added later to one of them
    # sends its values through DRF's run_validation, so the rule it adds is not skipped.
    shortcut = public.PublicPages(django_application)
    for route in (shortcut.ogc, shortcut.api):
        assert set(route.bounds) == {"limit", "offset"} and route.boxes == {"bbox"}
    fields, defaults = public._fields(ItemsParams)
    fields["limit"].validators.append(lambda value: None)
    fields["bbox"].validators.append(lambda value: None)
    route = public.Route("ogc", fields, defaults, formats=True, page=public._ogc_items)
    assert set(route.bounds) == {"offset"} and route.boxes == frozenset()
