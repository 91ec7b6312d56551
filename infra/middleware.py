"""Request plumbing: the language choice, and a clear 503 when the database cannot serve.

Pages are in Vietnamese unless the person picked English. They ignore the browser's Accept-Language,
because district offices often run an English-language browser while their staff read Vietnamese;
the language switch (a cookie) is the way to English.
The APIs (/api/, /ogc/, /tiles/) still honour Accept-Language, as programs expect.
"""
from __future__ import annotations

import logging
import sqlite3

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class VietnameseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if _is_api(request.path_info):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class DatabaseUnavailableMiddleware:
    """Answer 503 (try again) when the database is unreachable or busy, instead of a server error.

    A database restarting, a connection lost mid-request, a lock not granted in time or SQLite's
    "database is locked" after its busy timeout are not faults of the request: the person (or program)
    should try again, and the next request reconnects by itself (CONN_HEALTH_CHECKS). Other
    database errors stay 500s, since retrying would not help.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        message = _("The database is not answering at the moment. Try again in a minute; if you were saving, "
                    "check first whether your change was recorded.")
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        if _is_api(request.path_info):
            return JsonResponse({"detail": message}, status=503, headers=headers)
        page = f'<!doctype html><html lang="{escape(translation.get_language() or "vi")}"><meta charset="utf-8">' \
               f"<title>503</title><p>{escape(message)}</p></html>"
        return HttpResponse(page, status=503, headers=headers)


RETRY_AFTER_S = 30
# PostgreSQL error classes that mean "not now" rather than "never": connection exceptions, not enough
# resources, the server shutting down or starting, and transactions rolled back to break a conflict.
_TRANSIENT_PG_CLASSES = {"08", "53", "57", "40"}
_TRANSIENT_PG_CODES = {"55P03"}  # lock_not_available (lock_timeout)


def database_unavailable(exception: BaseException) -> bool:
    """Whether a database error means the database cannot serve now (retry later), not a bad request."""
    if isinstance(exception, InterfaceError):
        return True  # the connection is gone
    if not isinstance(exception, OperationalError):
        return False
    cause = exception.__cause__
    if isinstance(cause, sqlite3.OperationalError):
        text = str(cause).lower()
        return "locked" in text or "busy" in text
    code = getattr(cause, "pgcode", None)
    # No code at all: the client library lost or could not open the connection.
    return code is None or code[:2] in _TRANSIENT_PG_CLASSES or code in _TRANSIENT_PG_CODES


def _is_api(path: str) -> bool:
    """The machine-facing paths: /api/, /ogc/ (and /ogc itself, which QGIS asks for), /tiles/."""
    return path == "/ogc" or path.startswith(("/api/", "/ogc/", "/tiles/"))
