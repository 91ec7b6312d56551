"""Load the real reference geography (Lai Châu, former Phong Thổ) from ``fixtures/geo/``.

Geography only: this module knows nothing of works or money, so ``gis`` stays free of ``infra``.
The loader is idempotent: rows are found by their natural keys and saved only when a value
differs, because django-simple-history writes a history row on every save.
"""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiLineString, MultiPolygon, Point
from django.db import models, transaction

from gis.models import AdminUnit, AdminUnitLevel, AdminUnitSuccession, BaseRoad, RoadClass, RoadSurface

__all__ = ["LoadStats", "load_geography", "nfc", "save_if_changed"]

PROVINCE_CODE = "12"
PHONG_THO_DISTRICT_CODE = "109"
# The last day of the district level and of the pre-2025 communes; the new units start the next day.
FORMER_VALID_TO = date(2025, 6, 30)
CURRENT_VALID_FROM = date(2025, 7, 1)
RESOLUTION_1670 = "Nghị quyết 1670/NQ-UBTVQH15 ngày 16/06/2025"

# Stored as the reason of every history row this loader writes, so an auditor can tell
# reference loads from edits by people.
CHANGE_REASON = "load_reference"

SOURCE_GOV_OUTLINES = "dvhcvn (github.com/daohoangson/dvhcvn) data/gis/12.json, from gis.chinhphu.vn; GPL-3.0"
SOURCE_FORMER_COMMUNES = (
    "GSO list via dvhcvn data/dvhcvn.json (01/03/2025, GPL-3.0); successor per dvhcvn/20250701 "
    "mapping/splits.json (MIT) and Nghị quyết 1670/NQ-UBTVQH15"
)
SOURCE_COMMUNES_2025 = (
    "github.com/lamngockhuong/vietnam-3d-map @45db0c6 (MIT), polygons from gis.vn, "
    "centre, area and population from sapnhap.bando.com.vn; ĐBKK per Quyết định 113/QĐ-UBND (16/01/2026)"
)
SOURCE_ROADS = (
    "CTU-SematX/LegoCity opendata/giaothong/giaothong.geojson @a1aabc7, gid %(gid)s; "
    "CC BY-SA 4.0, provenance unknown (LegoCity); surface and all-season assumed by class"
)

# The road layer has no surface or season attribute, yet connectivity needs one. National roads
# (QL12, QL32) are assumed asphalted and open all year, an assumption that is not in the source
# and is stated in fixtures/SOURCES.md; provincial roads stay unknown rather than guessed.
ROAD_CLASS_BY_CAP_DUONG = {"Quốc Gia": RoadClass.NATIONAL, "Cấp Tỉnh": RoadClass.PROVINCIAL}
ROAD_ASSUMPTIONS = {
    RoadClass.NATIONAL: {"surface": RoadSurface.ASPHALT, "all_season": True},
    RoadClass.PROVINCIAL: {"surface": RoadSurface.UNKNOWN, "all_season": False},
}
ROAD_PREFIXES = {"Quốc lộ": ("QL", RoadClass.NATIONAL), "Tỉnh lộ": ("TL", RoadClass.PROVINCIAL)}

COMMUNE_PREFIXES = ("Thị trấn ", "Xã ", "Phường ")


@dataclass
class LoadStats:
    """How many rows a load created, changed, or found already right."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def nfc(text: str | None) -> str:
    """Return text stripped and in Unicode NFC (sources mix composed and decomposed forms)."""
    return unicodedata.normalize("NFC", (text or "").strip())


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(current, GEOSGeometry) or isinstance(wanted, GEOSGeometry):
        if current is None or wanted is None:
            return current is wanted
        # Coordinates survive the database round trip as the same doubles, so exact equality holds.
        return current.srid == wanted.srid and current.geom_type == wanted.geom_type and current.equals_exact(wanted, 0)
    return current == wanted


def save_if_changed(
    *, model: type[models.Model], existing: models.Model | None, key: dict[str, Any], values: dict[str, Any], stats: LoadStats
) -> models.Model:
    """Create the row, update the fields that differ, or leave it alone; return the row.

    ``values`` use attribute names (``parent_id``, not ``parent``) so that nothing is fetched
    just to compare a foreign key.
    """
    if existing is None:
        instance = model(**key, **values)
        instance._change_reason = CHANGE_REASON
        instance.save()
        stats.created += 1
        return instance
    changed = [field for field, value in values.items() if not _same(getattr(existing, field), value)]
    if not changed:
        stats.unchanged += 1
        return existing
    for field in changed:
        setattr(existing, field, values[field])
    existing._change_reason = CHANGE_REASON
    existing.save(update_fields=changed)
    stats.updated += 1
    return existing


def _read_features(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)["features"]


def _geometry(feature: dict[str, Any]) -> GEOSGeometry:
    # GeoJSON is WGS84 by definition (RFC 7946), which is also what the database stores.
    return GEOSGeometry(json.dumps(feature["geometry"]), srid=4326)


def _multipolygon(geometry: GEOSGeometry, *, label: str, repaired: list[str]) -> MultiPolygon:
    """Return the geometry as a valid MultiPolygon, noting its label in ``repaired`` if it was fixed."""
    if not geometry.valid:
        # The database refuses invalid boundaries (CHECK constraint); repair rather than drop.
        geometry = geometry.make_valid()
        repaired.append(label)
    if geometry.geom_type == "Polygon":
        return MultiPolygon(geometry, srid=4326)
    if geometry.geom_type == "MultiPolygon":
        return geometry
    # make_valid may return a collection with slivers of lower dimension: keep the areas.
    polygons = [part for part in geometry if part.geom_type == "Polygon"]
    polygons += [poly for part in geometry if part.geom_type == "MultiPolygon" for poly in part]
    return MultiPolygon(*polygons, srid=4326)


def _multilinestring(geometry: GEOSGeometry) -> MultiLineString:
    if geometry.geom_type == "LineString":
        return MultiLineString(geometry, srid=4326)
    return geometry


def _area(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _strip_type(name: str) -> str:
    for prefix in COMMUNE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _aliases(name: str, *candidates: str) -> list[str]:
    """Return the other spellings, NFC, without the name itself or duplicates, in source order."""
    seen: list[str] = []
    for candidate in candidates:
        spelling = _strip_type(nfc(candidate))
        if spelling and spelling != name and spelling not in seen:
            seen.append(spelling)
    return seen


class _Units:
    """The admin units already stored, by natural key, so a reload costs one query."""

    def __init__(self) -> None:
        self.rows = {(u.level, u.code, u.valid_to): u for u in AdminUnit.objects.all()}

    def upsert(self, *, level: str, code: str, valid_to: date | None, values: dict[str, Any], stats: LoadStats) -> AdminUnit:
        key = {"level": level, "code": code, "valid_to": valid_to}
        existing = self.rows.get((level, code, valid_to))
        unit = save_if_changed(model=AdminUnit, existing=existing, key=key, values=values, stats=stats)
        self.rows[(level, code, valid_to)] = unit
        return unit


def _load_province(*, geo_dir: Path, units: _Units, stats: LoadStats, repaired: list[str]) -> AdminUnit:
    (feature,) = _read_features(geo_dir / "lai_chau_province_gov.geojson")
    facts = json.loads((geo_dir / "phong_tho_facts.json").read_text(encoding="utf-8"))["lai_chau_province"]
    name = nfc(feature["properties"]["province_name"]).removeprefix("Tỉnh ")
    boundary = _multipolygon(_geometry(feature), label=name, repaired=repaired)
    return units.upsert(
        level=AdminUnitLevel.PROVINCE,
        code=nfc(feature["properties"]["province_code"]),
        valid_to=None,
        stats=stats,
        values={
            "name": name,
            "unit_type": "Tỉnh",
            "parent_id": None,
            "valid_from": None,
            "boundary": boundary,
            # Published figures (sapnhap.bando.com.vn); the outline's computed area differs slightly.
            "area_km2": _area(facts["area_km2"]),
            "population": facts["population"],
            "border": True,
            "source": SOURCE_GOV_OUTLINES + "; area and population from sapnhap.bando.com.vn",
        },
    )


def _load_district(*, geo_dir: Path, province: AdminUnit, units: _Units, stats: LoadStats, repaired: list[str]) -> AdminUnit:
    (feature,) = _read_features(geo_dir / "phong_tho_district_pre2025_gov.geojson")
    name = nfc(feature["properties"]["district_name"]).removeprefix("Huyện ")
    boundary = _multipolygon(_geometry(feature), label=name, repaired=repaired)
    return units.upsert(
        level=AdminUnitLevel.DISTRICT,
        code=nfc(feature["properties"]["district_code"]),
        valid_to=FORMER_VALID_TO,
        stats=stats,
        values={
            "name": name,
            "unit_type": "Huyện",
            "parent_id": province.pk,
            "valid_from": None,
            "boundary": boundary,
            # 98.95 km of border with China (phong_tho_facts.json).
            "border": True,
            "source": SOURCE_GOV_OUTLINES + "; labels 108/109 swapped back in the fixture",
        },
    )


def _load_current_communes(
    *, geo_dir: Path, province: AdminUnit, units: _Units, stats: LoadStats, repaired: list[str]
) -> dict[str, AdminUnit]:
    centres = {nfc(f["properties"]["code"]): f for f in _read_features(geo_dir / "lai_chau_commune_centres_2025.geojson")}
    current: dict[str, AdminUnit] = {}
    for feature in _read_features(geo_dir / "lai_chau_communes_2025.geojson"):
        props = feature["properties"]
        code = nfc(props["code"])
        boundary = _multipolygon(_geometry(feature), label=f"{code} {nfc(props['name'])}", repaired=repaired)
        centre = centres[code]
        lon, lat = centre["geometry"]["coordinates"]
        current[code] = units.upsert(
            level=AdminUnitLevel.COMMUNE,
            code=code,
            valid_to=None,
            stats=stats,
            values={
                "name": nfc(props["name"]),
                "unit_type": nfc(props["unit_type"]),
                "parent_id": province.pk,
                "valid_from": CURRENT_VALID_FROM,
                "boundary": boundary,
                "centre": Point(lon, lat, srid=4326),
                "centre_address": nfc(centre["properties"]["admin_center"]),
                "area_km2": _area(props["area_km2"]),
                # `population` of the polygon file; the metadata copy is wrong for Lê Lợi and Nậm Sỏ.
                "population": props["population"],
                "especially_difficult": bool(props["dbkk_2026_2030_qd113"]),
                # No known variant spelling for the 2025 names in the stored sources.
                "aliases": [],
                "source": SOURCE_COMMUNES_2025,
            },
        )
    return current


def _load_former_communes(
    *, geo_dir: Path, district: AdminUnit, current: dict[str, AdminUnit], units: _Units, stats: LoadStats
) -> list[tuple[AdminUnit, AdminUnit]]:
    """Load the 17 pre-2025 communes of Phong Thổ; return (former, successor) pairs."""
    pairs: list[tuple[AdminUnit, AdminUnit]] = []
    with (geo_dir / "lai_chau_admin_units_old_to_new_2025.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if nfc(row["old_district_code"]) != PHONG_THO_DISTRICT_CODE:
                continue
            name = _strip_type(nfc(row["old_name_gso"]))
            unit = units.upsert(
                level=AdminUnitLevel.COMMUNE,
                code=nfc(row["old_code"]),
                valid_to=FORMER_VALID_TO,
                stats=stats,
                values={
                    "name": name,
                    "unit_type": nfc(row["old_type"]),
                    "parent_id": district.pk,
                    "valid_from": None,
                    # No open geometry exists for the pre-2025 communes (GADM's licence forbids reuse).
                    "boundary": None,
                    "aliases": _aliases(name, row["old_name_mapping_file"], row["name_variant_in_resolution_1670"]),
                    "source": SOURCE_FORMER_COMMUNES,
                },
            )
            pairs.append((unit, current[nfc(row["new_code"])]))
    return pairs


def _load_successions(*, pairs: list[tuple[AdminUnit, AdminUnit]], stats: LoadStats) -> int:
    predecessor_ids = [former.pk for former, _successor in pairs]
    stored = {
        (s.predecessor_id, s.successor_id): s for s in AdminUnitSuccession.objects.filter(predecessor_id__in=predecessor_ids)
    }
    wanted = {(former.pk, successor.pk) for former, successor in pairs}
    # A corrected mapping must not leave the old link behind: the fixture is the truth for these units.
    stale = [s.pk for pair, s in stored.items() if pair not in wanted]
    if stale:
        AdminUnitSuccession.objects.filter(pk__in=stale).delete()
    for former, successor in pairs:
        save_if_changed(
            model=AdminUnitSuccession,
            existing=stored.get((former.pk, successor.pk)),
            key={"predecessor_id": former.pk, "successor_id": successor.pk},
            values={"effective_on": CURRENT_VALID_FROM, "legal_basis": RESOLUTION_1670},
            stats=stats,
        )
    return len(pairs)


def _road_code_and_class(props: dict[str, Any]) -> tuple[str, str]:
    name = nfc(props["ten"])
    match = re.fullmatch(r"(Quốc lộ|Tỉnh lộ)\s+(\w+)", name)
    if match is None:
        raise ValueError(f"Unrecognised road name {name!r} in the base-road fixture.")
    prefix, class_from_name = ROAD_PREFIXES[match.group(1)]
    road_class = ROAD_CLASS_BY_CAP_DUONG.get(nfc(props.get("cap_duong")), class_from_name)
    # `ma` is the same ("HA13") on every feature, so the source's own gid keeps codes unique and stable.
    return f"{prefix}{match.group(2)}-{props['gid']}", road_class


def _load_roads(*, geo_dir: Path, stats: LoadStats) -> int:
    features = _read_features(geo_dir / "lai_chau_roads_national_coarse.geojson")
    stored = {road.code: road for road in BaseRoad.objects.all()}
    for feature in features:
        props = feature["properties"]
        code, road_class = _road_code_and_class(props)
        save_if_changed(
            model=BaseRoad,
            existing=stored.get(code),
            key={"code": code},
            values={
                "name": nfc(props["ten"]),
                "road_class": road_class,
                **ROAD_ASSUMPTIONS[road_class],
                "geometry": _multilinestring(_geometry(feature)),
                "source": SOURCE_ROADS % {"gid": props["gid"]},
                "is_demo": False,
            },
            stats=stats,
        )
    return len(features)


@transaction.atomic
def load_geography(*, fixtures_dir: Path) -> dict[str, int]:
    """Load the province, former district and communes, today's communes, successions and base roads.

    Return how many of each the fixtures hold, and how many rows were created, updated or unchanged.
    """
    geo_dir = Path(fixtures_dir) / "geo"
    stats = LoadStats()
    units = _Units()
    repaired: list[str] = []
    province = _load_province(geo_dir=geo_dir, units=units, stats=stats, repaired=repaired)
    district = _load_district(geo_dir=geo_dir, province=province, units=units, stats=stats, repaired=repaired)
    current = _load_current_communes(geo_dir=geo_dir, province=province, units=units, stats=stats, repaired=repaired)
    pairs = _load_former_communes(geo_dir=geo_dir, district=district, current=current, units=units, stats=stats)
    successions = _load_successions(pairs=pairs, stats=stats)
    roads = _load_roads(geo_dir=geo_dir, stats=stats)
    return {
        "provinces": 1,
        "districts": 1,
        "former_communes": len(pairs),
        "communes": len(current),
        "successions": successions,
        "base_roads": roads,
        "repaired_boundaries": len(repaired),
        **stats.as_dict(),
    }
