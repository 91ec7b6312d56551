"""infra.kept.Kept: the hot path's kept values never grow past their limit, and a hit returns what was kept."""
from __future__ import annotations

import pytest

from infra.kept import Kept


def test_a_kept_value_is_returned_and_found_again():
    kept: Kept[str, str] = Kept(3)
    assert kept.get("vi") is None
    assert kept.keep("vi", "vi") == "vi"
    assert kept.get("vi") == "vi"


def test_a_full_dict_is_emptied_before_a_new_key_and_never_holds_more_than_its_limit():
    kept: Kept[int, int] = Kept(3)
    for number in range(3):
        kept.keep(number, number * 10)
    assert dict(kept) == {0: 0, 1: 10, 2: 20}
    kept.keep(3, 30)
    assert dict(kept) == {3: 30}
    for number in range(100):
        kept.keep(number, number)
        assert len(kept) <= 3


def test_keeping_a_key_already_kept_does_not_empty_a_full_dict():
    kept: Kept[int, int] = Kept(2)
    kept.keep(1, 1)
    kept.keep(2, 2)
    kept.keep(2, 22)
    assert dict(kept) == {1: 1, 2: 22}


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        Kept(0)


def test_the_hot_path_s_caches_are_bounded_by_their_named_limits():
    from infra import public
    from infra.ogc import views
    from infra.works import selectors

    assert views._COLLECTION_LINKS.limit == views.KEPT_LINKS
    assert selectors._COMPILED.limit == selectors.COMPILED_MAX
    shortcut = public.PublicPages(lambda environ, start_response: [])
    assert shortcut.languages.limit == shortcut.origins.limit == public.KEPT
