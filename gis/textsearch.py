"""Free-text search that ignores case and Vietnamese marks: "truong" finds "Trường", "DONG" finds "Đồng".

People type names without their marks (on a phone, on a keyboard without a Vietnamese input
method) or with them composed differently (Unikey's "tổ hợp" writes a letter and its marks as
separate code points). Both sides of a search are folded the same way: marks removed, đ/Đ made d,
case folded.

In the database the column side is `search_fold(text)`:
- PostgreSQL: `lower(unaccent(text))`, a function created by the migration geo 0002 with the
  `unaccent` extension (trusted: the database's owner may create it), IMMUTABLE since geo 0003 so that
  the works' table keeps each name and code folded, with trigram indexes (works 0007: `Stored`);
- SQLite/SpatiaLite: `fold` below, registered on every new connection (`on_connection_created`).
The searched text is folded by the same rules (see `matching`). tests/gis/test_textsearch.py
checks that both databases fold every Vietnamese letter alike, composed and decomposed, and that
names with dashes, quotes and look-alike letters find themselves.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from django.contrib.admin.utils import get_fields_from_path
from django.db import connections
from django.db.models import CharField, Expression, F, Func, Model, Q, QuerySet, TextField
from django.db.models.functions import Cast

__all__ = ["FUNCTION", "Folded", "Stored", "fold", "folded", "matching", "narrows", "on_connection_created"]

FUNCTION = "search_fold"
_D = str.maketrans({"đ": "d", "Đ": "D"})
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as pg_trgm cuts a text into words


def narrows(needle: str) -> bool:
    """Whether pg_trgm's index can narrow `LIKE '%needle%'` (a folded needle) to few rows.

    pg_trgm cuts the pattern into words and pads a word with two spaces in front and one behind where
    the needle itself bounds it (a space, a dash), not where the pattern's `%` does; the trigrams of the
    padded words are looked up. It narrows where one trigram holds two letters or digits: a word of
    three, or of two bounded on a side ("po na": "po ", " na"; "pt-01"). A needle of one word of two
    letters ("yt") gives no trigram, and PostgreSQL would walk the whole index; one-letter words give
    only trigrams such as "  t" (any word starting with t), which at 1,000,000 works cost up to three
    times reading the rows. Measured in docs/benchmarks.md (*Search, national*)."""
    for word in _WORD.finditer(needle):
        size = word.end() - word.start()
        if size >= 3 or (size == 2 and (word.start() > 0 or word.end() < len(needle))):
            return True
    return False


def fold(text: str | None) -> str | None:
    """`text` without marks or case: NFD, combining marks dropped, đ → d, case-folded."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_D).casefold()


class Stored(Expression):
    """A column the database keeps beside a field, not listed on the model (works 0007: a work's folded name
    and code on PostgreSQL), named with the alias the statement gives the queryset's table.

    `indexed=False` writes it as an expression its trigram index does not match, so that PostgreSQL reads
    the rows instead: for a text the index cannot narrow (`narrows`), PostgreSQL would otherwise walk the
    whole index and recheck every row (1,000,000 works: 1.1 s against 0.4 s read in order)."""

    output_field = TextField()

    def __init__(self, column: str, *, indexed: bool = True) -> None:
        super().__init__()
        self.column, self.indexed = column, indexed

    def __repr__(self) -> str:
        return f"Stored({self.column!r}, indexed={self.indexed})"

    def as_sql(self, compiler, connection):
        name = f"{compiler.quote_name_unless_alias(compiler.query.base_table)}.{connection.ops.quote_name(self.column)}"
        return (name, []) if self.indexed else (f"({name} || '')", [])


class Folded(Func):
    """A text column folded in the database, as `fold` folds in Python."""

    function = FUNCTION
    arity = 1
    output_field = TextField()


def _as_text(model: type[Model], path: str) -> Func | F:
    """The field at `path` (related fields by __) as text: other kinds of field (JSON) cast."""
    target = get_fields_from_path(model, path)[-1]
    return F(path) if isinstance(target, CharField | TextField) else Cast(path, TextField())


def folded(text: str, *, using: str = "default") -> str:
    """`text` folded as the database `using` folds its columns (`search_fold`)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return fold(text)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {FUNCTION}(%s)", [str(text)])
        return cursor.fetchone()[0]


def matching(queryset: QuerySet, text: str, *fields: str, stored: Mapping[str, str] | None = None) -> QuerySet:
    """The rows of `queryset` one of whose `fields` (paths, related ones by __) holds `text`, case and
    marks aside. Called again on its own result, each call adds a condition (every word of a search).
    `stored`: for a field whose folded text the table keeps in a column of its own, that column, read
    instead of folding the field on every row.

    The text is folded by the same function as the columns, before the statement is built, so that the
    pattern is a constant the planner weighs against the stored columns' trigram indexes and statistics:
    on PostgreSQL by asking the database (one round trip; its unaccent also rewrites some punctuation
    and letters, – to -, “ to ", Ð to D, so that a name pasted as it is stored finds itself); on SQLite
    by `fold`, which is the function its connections fold the columns with."""
    needle = folded(text, using=queryset.db)
    indexed = narrows(needle)
    aliases, condition = {}, Q()
    for path in fields:
        alias = ("folded_" if indexed else "scanned_") + path.replace("__", "_")
        if alias not in queryset.query.annotations:
            aliases[alias] = (Stored(stored[path], indexed=indexed) if stored and path in stored
                              else Folded(_as_text(queryset.model, path)))
        condition |= Q(**{f"{alias}__contains": needle})
    return queryset.alias(**aliases).filter(condition)


def on_connection_created(sender, connection, **kwargs) -> None:
    """Give each SQLite/SpatiaLite connection the folding function (PostgreSQL has its own, from a migration)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(FUNCTION, 1, fold, deterministic=True)
