"""The error pages people meet, in their language and in the site's layout: what went wrong, and a way back.

Django's own pages are bare English ("Not Found", "403 Forbidden", "CSRF verification failed"), and they drop
the reasons the views give in Vietnamese (`Http404(_("No such work, or you may not see it."))`). These handlers
(infra.urls: handler400/403/404/500; settings.CSRF_FAILURE_VIEW) show the view's own reason when it gave one as
text, and a plain one otherwise. The server error page is rendered without the request's context: whatever
failed (the database, a context processor) must not fail it too.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _

__all__ = ["bad_request", "csrf_failure", "error_page", "page_not_found", "permission_denied", "server_error"]


def _reason(exception: Any, default: str) -> str:
    """The reason a view gave (a text, as `Http404(_("…"))` gives it), else `default`: never the resolver's
    dictionary of patterns tried, nor a class name."""
    given = exception.args[0] if exception is not None and getattr(exception, "args", None) else None
    return given if isinstance(given, str) and given.strip() else default


def _page(request: HttpRequest, status: int, title: str, reason: str) -> HttpResponse:
    return render(request, "error.html", {"status": status, "title": title, "reason": reason}, status=status)


def error_page(request: HttpRequest, status: int, reason: str) -> HttpResponse:
    """The error page of a 400 or 404 that a view words itself (an OGC page asked for as HTML, say)."""
    title = _("Page not found") if status == 404 else _("The request could not be read")
    return _page(request, status, title, reason)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _page(request, 400, _("The request could not be read"),
                 _("Something in the address or the form could not be read. Go back and try again."))


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _page(request, 403, _("You may not see this page"),
                 _reason(exception, _("Your account may not do this. Sign in with an account that may, or go back.")))


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _page(request, 404, _("Page not found"),
                 _reason(exception, _("There is no page at this address. Check it, or start again from the map.")))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(request, 403, _("The form could not be sent"),
                 _("The form had expired, or cookies are blocked for this site. Go back, reload the page and send it "
                   "again."))


def server_error(request: HttpRequest) -> HttpResponse:
    page = loader.get_template("500.html").render({
        "language": translation.get_language() or "vi",
        "title": _("Something went wrong"),
        "reason": _("The server could not answer. Try again in a moment; if it happens again, tell the district board."),
        "back": _("Back to the map"),
    })
    return HttpResponse(page, status=500)
