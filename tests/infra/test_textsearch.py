"""Search folding: Python's `fold` and the database's `infra_fold` agree on Vietnamese text, and searches
ignore case and marks on both databases."""
from __future__ import annotations

import unicodedata

import pytest
from django.db import connection

from infra.textsearch import FUNCTION, fold

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
