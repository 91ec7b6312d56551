"""Free-text search that ignores case and Vietnamese marks: "truong" finds "Trường", "DONG" finds "Đồng".

People type names without their marks (on a phone, on a keyboard without a Vietnamese input
method) or with them composed differently (Unikey's "tổ hợp" writes a letter and its marks as
separate code points). Both sides of a search are folded the same way: marks removed, đ/Đ made d,
case folded.

In the database the column side is `infra_fold(text)`:
- PostgreSQL: `lower(unaccent(text))`, a function created by the works migration 0007 with the
  `unaccent` extension (trusted: the database's owner may create it);
- SQLite/SpatiaLite: `fold` below, registered on every new connection
  (infra.operations.connections).
The searched text is folded once, in Python, by `fold`; tests/infra/test_textsearch.py checks that
`fold` and PostgreSQL's function agree on every Vietnamese letter, composed and decomposed.
"""
from __future__ import annotations

import unicodedata

from django.db.models import Func, Q, QuerySet, TextField

__all__ = ["FUNCTION", "Folded", "fold", "matching"]

FUNCTION = "infra_fold"
_D = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str | None) -> str | None:
    """`text` without marks or case: NFD, combining marks dropped, đ → d, case-folded."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_D).casefold()


class Folded(Func):
    """A text column folded in the database, as `fold` folds in Python."""

    function = FUNCTION
    arity = 1
    output_field = TextField()


def matching(queryset: QuerySet, text: str, *fields: str) -> QuerySet:
    """The rows of `queryset` one of whose `fields` holds `text`, case and marks aside."""
    needle = fold(text)
    condition = Q()
    for name in fields:
        condition |= Q(**{f"folded_{name}__contains": needle})
    return queryset.alias(**{f"folded_{name}": Folded(name) for name in fields}).filter(condition)
