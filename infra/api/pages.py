"""A page of features passed through from the database with members added (links, a time stamp)."""
from __future__ import annotations

from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from django.http import HttpResponse

from gis.layers import Page

__all__ = ["link_text", "page_with_members"]


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


def link_text(href: str, rel: str, media: str, title: Any = None, *, ascii_only: bool = False) -> str:
    """A page's link {"href", "rel", "type"[, "title"]} as json.dumps writes that dict (`ascii_only`: with its
    default ensure_ascii, else ensure_ascii=False), written directly: the links are most of what a page's
    Python writes. `rel` and `media` are the code's own words (no quote, backslash or control character); a
    title may be lazy (translated once here)."""
    string = encode_basestring_ascii if ascii_only else encode_basestring
    text = "" if title is None else str(title)
    named = f', "title": {string(text)}' if text else ""
    return f'{{"href": {string(href)}, "rel": "{rel}", "type": "{media}"{named}}}'
