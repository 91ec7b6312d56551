"""Query parameters (infra.api.params.QueryParams) build only the fields a query needs: every query gets
exactly what DRF's own way (every field, deep-copied) gives it, in the language of its request."""
from __future__ import annotations

import itertools
from contextlib import nullcontext

import pytest
from django.http import QueryDict
from rest_framework import serializers

import infra.ogc.params  # noqa: F401  (its QueryParams subclasses)
import infra.ogc.tiles  # noqa: F401
from infra.api.params import QueryParams

pytestmark = pytest.mark.django_db

# Values no field needs the database for: each valid for some field and invalid for others.
VALUES = ["", "1", "0", "-3", "10001", "2022", "abc", "103.2,22.4,103.6,22.8", "1,2,3", "health,school", "approved",
          "json", "html", "2024-05-01", "2023-01-01/..", "a b", "x" * 300]


class ReadsItsOwnWay(serializers.Field):
    """A field with its own reading of the query, which finds a value even when its name is left out."""

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, "fallback")

    def to_internal_value(self, data):
        return str(data)


class LeftOutCounts(QueryParams):
    """Fields DRF reads something into when a query leaves them out (False, [], an error): never skipped."""

    flag = serializers.BooleanField(required=False)
    tags = serializers.MultipleChoiceField(choices=["a", "b"], required=False)
    must = serializers.MultipleChoiceField(choices=["a", "b"], required=False, allow_empty=False)
    own = ReadsItsOwnWay(required=False)
    limit = serializers.IntegerField(required=False)


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *subclasses(sub)]
    return found


def as_drf_would(params_class: type[QueryParams], query: QueryDict) -> tuple[str, object]:
    # The same class with DRF's own get_fields: every declared field, deep-copied.
    reference = type(f"DRF{params_class.__name__}", (params_class,), {"get_fields": serializers.Serializer.get_fields})
    params = reference(data=query)
    return ("valid", dict(params.validated_data)) if params.is_valid() else ("invalid", params.errors)


def as_parsed(params_class: type[QueryParams], query: QueryDict) -> tuple[str, object]:
    try:
        return "valid", dict(params_class.parse(query).validated_data)
    except serializers.ValidationError as error:
        return "invalid", error.detail


@pytest.mark.parametrize("params_class", sorted(set(subclasses(QueryParams)), key=lambda c: c.__qualname__),
                         ids=lambda c: c.__qualname__)
def test_every_query_gets_what_drf_gives_it(params_class):
    names = [name for name in params_class._declared_fields if name != "commune"]  # a commune is looked up
    checked = 0
    for first, second in itertools.combinations_with_replacement(names, 2):
        for value in VALUES:
            query = QueryDict(mutable=True)
            query.update({first: value, second: VALUES[(VALUES.index(value) + 7) % len(VALUES)]})
            if "commune" in params_class._declared_fields and params_class._declared_fields["commune"].required:
                query["commune"] = "nope nope"  # a required commune: refused by its format, with no lookup
            expected, got = as_drf_would(params_class, query), as_parsed(params_class, query)
            assert got == expected, (params_class.__name__, query)
            checked += 1
    assert checked >= len(VALUES)


def test_parsing_binds_copies_never_the_declared_fields():
    from infra.ogc.params import params_for

    works = params_for("works")
    for query in ("limit=5&bbox=103.2,22.4,103.6,22.8", "limit=abc", "stage=approved&category=health"):
        with pytest.raises(serializers.ValidationError) if "abc" in query else nullcontext():
            works.parse(QueryDict(query))
    for name, field in works._declared_fields.items():
        assert getattr(field, "parent", None) is None and field.field_name is None, name


def test_fields_that_read_a_missing_name_as_something_are_built_when_left_out():
    query = QueryDict("limit=5")
    assert as_parsed(LeftOutCounts, query) == as_drf_would(LeftOutCounts, query)
    status, errors = as_parsed(LeftOutCounts, query)
    assert status == "invalid" and set(errors) == {"must"}
    status, data = as_parsed(LeftOutCounts, QueryDict("limit=5&must=a"))
    assert data == {"flag": False, "tags": [], "must": ["a"], "own": "fallback", "limit": 5}


def test_each_request_gets_bound_errors_in_its_own_language():
    from django.utils import translation

    from infra.ogc.params import params_for

    works = params_for("works")
    for language, message in [("en", "Ensure this value is greater than or equal to 1."),
                              ("vi", "Giá trị này phải lớn hơn hoặc bằng 1."),
                              ("en", "Ensure this value is greater than or equal to 1.")]:
        with translation.override(language), pytest.raises(serializers.ValidationError) as refused:
            works.parse(QueryDict("limit=0"))
        assert [str(m) for m in refused.value.detail["limit"]] == [message], language
