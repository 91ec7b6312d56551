"""Invented Vietnamese-style names for synthetic villages and organisations.

INVENTED: these syllables are combined at random. A resulting name may happen to match a real
place or firm; it says nothing about it. Real commune names come from the reference data only.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

__all__ = ["VillageName", "contractor_names", "village_names"]

# Syllables common in Tai, Hmong and Dao place names of the north-west, as Vietnamese writes them.
_FIRST = (
    "Nà",
    "Pa",
    "Sin",
    "Lùng",
    "Huổi",
    "Co",
    "Phìn",
    "Tả",
    "Hồ",
    "Pắc",
    "Nậm",
    "Khoa",
    "Chang",
    "Mào",
    "Ngài",
    "Thèn",
    "Séo",
    "Vàng",
    "Cò",
    "Xà",
    "Láo",
    "Tờ",
    "Na",
    "Tạng",
)
_SECOND = (
    "Củng",
    "Pe",
    "Chải",
    "Thàng",
    "Phài",
    "Sáng",
    "Ma",
    "Lò",
    "Pó",
    "Khum",
    "Cang",
    "Páo",
    "Lìn",
    "Xin",
    "Sử",
    "Mìn",
    "Chù",
    "Lếch",
    "Tỷ",
    "Pao",
    "Hử",
    "Vản",
    "Phùng",
    "Dề",
    "Giàng",
    "Kéo",
)
# Most villages in the area are "bản"; a few, mostly near the centres, are "thôn".
_KINDS = (("Bản", 0.8), ("Thôn", 0.2))

# Words for invented construction firms ("Công ty TNHH xây dựng …").
_FIRM_WORDS = ("Hoàng Liên", "Tây Bắc", "Nậm Na", "Đèo Gió", "Sông Đà", "Thành Công", "Phúc Lộc", "Minh Tiến", "Đại Phong")


@dataclass(frozen=True)
class VillageName:
    """A village name split into its kind (Bản/Thôn) and proper part, so prose can lower-case the kind."""

    kind: str
    core: str

    @property
    def full(self) -> str:
        return f"{self.kind} {self.core}"

    @property
    def in_text(self) -> str:
        """Return the name as it reads inside a sentence: "bản Nà Củng"."""
        return f"{self.kind.lower()} {self.core}"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def village_names(*, rng: random.Random, count: int, avoid: set[str]) -> list[VillageName]:
    """Return `count` distinct invented village names whose proper part is not in `avoid`."""
    names: list[VillageName] = []
    used = {_nfc(name) for name in avoid}
    while len(names) < count:
        core = _nfc(f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}")
        if core in used:
            continue
        used.add(core)
        kind = "Bản" if rng.random() < _KINDS[0][1] else "Thôn"
        names.append(VillageName(kind=kind, core=core))
    return names


def contractor_names(*, rng: random.Random, count: int) -> list[str]:
    """Return `count` distinct invented names of construction firms."""
    words = list(_FIRM_WORDS)
    rng.shuffle(words)
    return [f"Công ty TNHH xây dựng {word}" for word in words[:count]]
