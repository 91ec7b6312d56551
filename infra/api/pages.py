"""A page of features passed through from the database with members added (links, a time stamp)."""
from __future__ import annotations

from django.http import HttpResponse

from gis.layers import Page

__all__ = ["page_with_members"]


def page_with_members(page: Page, members: bytes, *, content_type: str) -> HttpResponse:
    """The page's collection with `members` (JSON text starting with a comma) written where its closing
    brace was, and the brace after them. Neither part is copied or joined here: Content-Length is set,
    so CommonMiddleware need not join them (megabytes at limit 10,000) to measure the answer."""
    head, tail = page.head(), members + b"}"
    response = HttpResponse(content_type=content_type)
    response.write(head)
    response.write(tail)
    response["Content-Length"] = str(len(head) + len(tail))
    return response
