"""Search folding: Python's `fold` and the database's `search_fold` agree on Vietnamese text, and searches
ignore case and marks on both databases."""
from __future__ import annotations

import unicodedata

import pytest
from django.db import connection

from gis.textsearch import FUNCTION, fold, narrows
from infra.works.selectors import WorkFilters, works_matching

pytestmark = pytest.mark.django_db

VOWELS = "aăâeêioôơuưy"
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]  # none, huyền, sắc, hỏi, ngã, nặng


def vietnamese_letters() -> list[str]:
    """Every vowel with every tone, lower and upper case, and đ/Đ, each composed (NFC)."""
    letters = ["đ", "Đ"]
    for vowel in VOWELS:
        for tone in TONES:
            letter = unicodedata.normalize("NFC", vowel + tone)
            letters += [letter, letter.upper()]
    return letters


def database_fold(text: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {FUNCTION}(%s)", [text])
        return cursor.fetchone()[0]


def test_python_folds_vietnamese_to_plain_lower_case():
    assert fold("Trạm Y TẾ xã Đồng Ọ") == "tram y te xa dong o"
    assert fold("ƯỚC") == "uoc" and fold("Ở") == "o" and fold("ĂN") == "an"
    assert fold(None) is None


def test_every_letter_folds_alike_in_python_and_in_the_database():
    letters = vietnamese_letters()
    assert len(letters) == 2 + len(VOWELS) * len(TONES) * 2
    for form in ("NFC", "NFD"):
        text = " ".join(unicodedata.normalize(form, letter) for letter in letters)
        assert database_fold(text) == fold(text), form
    # Each folds to its base letter, whichever form it was written in.
    for letter in letters:
        base = "d" if letter in "đĐ" else unicodedata.normalize("NFD", letter.lower())[0]
        base = {"ă": "a", "â": "a", "ê": "e", "ô": "o", "ơ": "o", "ư": "u"}.get(base, base)
        assert fold(unicodedata.normalize("NFD", letter)) == fold(letter) == base, letter


def test_text_without_marks_and_null_pass_through_the_database_unchanged():
    assert database_fold("abc 123 -_%") == "abc 123 -_%"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {FUNCTION}(NULL)")
        assert cursor.fetchone()[0] is None


# --- the admin's search and its autocomplete fields -----------------------------------------------

@pytest.fixture
def root(client, reference):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_finds_communes_and_works_without_marks(root):
    from django.contrib.gis.geos import Point

    from infra.works.services import work_create
    from tests.factories import PHONG_THO_POINT

    work_create(user=None, code="TS-1", name="Trạm y tế bản Nà Giàng", category="health",
                geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2026, stage="approved")
    for term, present, absent in [
        ("tram y te", "TS-1", None),
        ("TRẠM   nà", "TS-1", None),             # every word, in any case, with or without marks
        ("tram zzz", None, "TS-1"),               # … and every word must be there
        ('"ban na giang"', "TS-1", None),         # quoted: one phrase
    ]:
        page = root.get("/admin/works/work/", {"q": term}).content.decode()
        assert (present is None or present in page) and (absent is None or absent not in page), term
    page = root.get("/admin/geo/adminunit/", {"q": "si lo lau"}).content.decode()
    assert "Sì Lở Lầu" in page and "Dào San" not in page
    assert "Dào San" in root.get("/admin/geo/adminunit/", {"q": "dao"}).content.decode()


def test_autocomplete_fields_find_communes_without_marks(root):
    response = root.get("/admin/autocomplete/", {"app_label": "works", "model_name": "work",
                                                 "field_name": "approved_commune", "term": "phong tho"})
    assert response.status_code == 200, response.content
    names = [item["text"] for item in response.json()["results"]]
    assert names and all("Phong Thổ" in name for name in names), names


@pytest.mark.parametrize("name", [
    "Đường Nà Giàng – Nậm Xe",      # an en dash, as the demo's road names have
    "Trường “Hoa Ban”",             # typographic quotes
    "Cầu Pa Tần…",                  # an ellipsis
    "Ðường bản Mới",                # Ð (eth), a look-alike of Đ in converted text
    "Nhà 50% _vốn_ dân góp",        # LIKE's wildcards, searched as themselves
])
def test_a_name_searched_as_it_is_stored_finds_itself(reference, name):
    from django.contrib.gis.geos import Point

    from gis.textsearch import matching
    from infra.works.models import Work
    from infra.works.services import work_create
    from tests.factories import PHONG_THO_POINT

    work_create(user=None, code="TS-9", name=name, category="health", geometry=Point(*PHONG_THO_POINT, srid=4326),
                approved_year=2026, stage="approved")
    work_create(user=None, code="TS-8", name="Trạm y tế khác", category="health",
                geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2026, stage="approved")
    works = Work.objects.filter(code__startswith="TS-")
    for asked in (name, name.upper(), unicodedata.normalize("NFD", name)):
        assert list(matching(works, asked, "name", "code").values_list("code", flat=True)) == ["TS-9"], asked
        # As the register searches: on PostGIS from the folded texts the table keeps (works 0007).
        found = works_matching(user=None, filters=WorkFilters(q=asked)).filter(code__startswith="TS-")
        assert list(found.values_list("code", flat=True)) == ["TS-9"], asked


# --- the works' stored folded texts and their trigram indexes (PostGIS) ----------------------------

postgis_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the stored texts are PostGIS's")


def _plan(queryset) -> str:
    """PostgreSQL's plan for `queryset`, unordered, with reading the table whole or in an index's order priced
    out: a condition an index can look up, it looks up (GIN indexes are read as bitmaps)."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgis_only
def test_the_stored_folded_texts_follow_every_change_of_a_name(reference):
    from django.contrib.gis.geos import Point

    from infra.works.services import work_create, work_update
    from tests.factories import PHONG_THO_POINT

    work = work_create(user=None, code="TS-Đ1", name="Trạm y tế bản Nà Giàng", category="health",
                       geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2026, stage="approved")

    def stored() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT search_name, search_code FROM works_work WHERE id = %s", [work.pk])
            return cursor.fetchone()

    assert stored() == ("tram y te ban na giang", "ts-d1")
    work_update(work=work, user=None, expected_version=work.version, name="Trường mầm non Ma Li Pho")
    assert stored() == ("truong mam non ma li pho", "ts-d1")

    def codes(q: str) -> list[str]:
        return list(works_matching(user=None, filters=WorkFilters(q=q)).values_list("code", flat=True))

    assert codes("MẦM NON") == ["TS-Đ1"] and codes("ts-đ1") == ["TS-Đ1"]
    assert codes("na giang") == []


@pytest.mark.parametrize("needle, expected", [
    ("tram", True), ("ntt", True), ("po na", True), ("pt-01", True), (" zq", True), ("qz-", True), ("y te", True),
    ("yt", False), ("q", False), ("", False), ("a b c", False), ("h t", False), ("x-", False), ("-x", False),
    ("__", False), ("%%%", False), ("a_b", False),
])
def test_the_index_narrows_a_search_where_pg_trgm_finds_a_trigram_of_two_letters(needle, expected):
    # As pg_trgm reads LIKE '%needle%': words of letters and digits, padded where the needle bounds them.
    assert narrows(needle) is expected


@postgis_only
@pytest.mark.parametrize("q, index_used", [
    ("trạm y tế", True),        # trigrams to look up: the index
    ("TS-0001", True),
    ("po na", True),            # two-letter words bounded by the space: "po ", " na"
    ("pt-01", True),
    ("yt", False),              # one word of two letters: the index holds nothing to look up, so rows are read
    ("a b c", False),           # one-letter words: only trigrams like "  b", any word starting with b
    ("h t", False),
])
def test_a_search_reads_the_trigram_indexes_only_where_they_can_narrow_it(reference, q, index_used):
    from tests.factories import UserFactory

    everyone = UserFactory(username="root", is_staff=True, is_superuser=True)  # sees every stage: no other index fits
    plan = _plan(works_matching(user=everyone, filters=WorkFilters(q=q)))
    assert ("work_search_name" in plan and "work_search_code" in plan) is index_used, plan
    assert ("Seq Scan on works_work" in plan) is not index_used, plan
