"""Reads for connectivity: the inputs of a run (one query per layer) and the stored results.

Inputs are read as WKB and turned into shapely geometries in one vectorised call per layer, then
reprojected to metres (EPSG:9205) in one GDAL call per layer: the same bytes come out of PostGIS
and SpatiaLite, so both databases give the same answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.db.models import QuerySet

from gis.crs import METRIC_SRID, WGS84, transform_geometries
from gis.layers import Layer, Page, feature_page, json_bool
from gis.models import AdminUnit, BaseRoad, Village
from infra.accounts.policy import works_visible
from infra.network.models import CommuneResult, ProposalGain, Run, VillageResult
from infra.works.choices import STAGE_ORDER, Category, Stage
from infra.works.models import Work

__all__ = [
    "ConnectivityInputs",
    "connectivity_inputs",
    "commune_results",
    "connectivity_summary",
    "gains_visible",
    "proposal_stages",
    "run_latest",
    "village_link_join",
    "village_link_status",
    "village_paths_page",
    "village_results",
]

# Proposals weighed by the what-if: planned but not started (DOMAIN.md §3).
_PROPOSAL_STAGES = STAGE_ORDER[: STAGE_ORDER.index(Stage.CONTRACTED) + 1]


def proposal_stages(threshold: str) -> list[str]:
    """Return the stages of works weighed as proposals when works count as built from `threshold` on."""
    return [s for s in _PROPOSAL_STAGES if STAGE_ORDER.index(s) < STAGE_ORDER.index(threshold)]


def built_stages(threshold: str) -> list[str]:
    """Return the stages from `threshold` on, in lifecycle order (suspended and cancelled never count)."""
    return STAGE_ORDER[STAGE_ORDER.index(threshold):]


@dataclass(frozen=True)
class ConnectivityInputs:
    """What a run reads, as arrays in metres; rows in id order so both databases agree."""

    road_ids: np.ndarray
    road_geometry: np.ndarray
    road_surface: list[str]
    road_all_season: np.ndarray
    road_demo: bool
    works: list[dict[str, Any]]  # id, category, stage, surface, all_season, investment, geometry (metres)
    village_ids: np.ndarray
    village_xy: np.ndarray
    village_commune: np.ndarray  # commune id per village
    population: np.ndarray
    poor_households: np.ndarray
    village_demo: bool
    commune_ids: np.ndarray
    centre_xy: np.ndarray  # NaN where a commune has no centre


def _metric(wkb: list) -> np.ndarray:
    geometries = shapely.from_wkb(np.array([None if w is None else bytes(w) for w in wkb], dtype=object))
    return transform_geometries(geometries, source=WGS84, target=METRIC_SRID)


def _xy(points: np.ndarray) -> np.ndarray:
    xy = np.full((len(points), 2), np.nan)
    present = ~shapely.is_missing(points)
    if present.any():
        xy[present] = shapely.get_coordinates(points[present])
    return xy


def connectivity_inputs(*, threshold: str) -> ConnectivityInputs:
    """Read base roads, road and bridge works (built or proposed), villages and their communes' centres."""
    roads = list(BaseRoad.objects.order_by("id").values_list("id", "surface", "all_season", "is_demo",
                                                             AsWKB("geometry")))
    stages = built_stages(threshold) + proposal_stages(threshold)
    works = list(
        Work.objects.filter(category__in=[Category.ROAD, Category.BRIDGE], stage__in=stages).order_by("id")
        .values_list("id", "category", "stage", "road_surface", "all_season", "total_investment", "is_demo",
                     AsWKB("geometry"))
    )
    villages = list(Village.objects.order_by("id").values_list("id", "commune_id", "population", "poor_households",
                                                               "is_demo", AsWKB("location")))
    commune_ids = sorted({v[1] for v in villages})
    centres = dict(AdminUnit.objects.filter(id__in=commune_ids).values_list("id", AsWKB("centre")))
    road_geometry = _metric([r[4] for r in roads])
    work_geometry = _metric([w[7] for w in works])
    return ConnectivityInputs(
        road_ids=np.array([r[0] for r in roads], dtype=np.int64),
        road_geometry=road_geometry,
        road_surface=[r[1] for r in roads],
        road_all_season=np.array([r[2] for r in roads], dtype=bool),
        road_demo=any(r[3] for r in roads),
        works=[{"id": w[0], "category": w[1], "stage": w[2], "surface": w[3], "all_season": w[4], "investment": w[5],
                "is_demo": w[6], "geometry": g} for w, g in zip(works, work_geometry, strict=True)],
        village_ids=np.array([v[0] for v in villages], dtype=np.int64),
        village_xy=_xy(_metric([v[5] for v in villages])),
        village_commune=np.array([v[1] for v in villages], dtype=np.int64),
        population=np.array([v[2] for v in villages], dtype=np.int64),
        poor_households=np.array([v[3] for v in villages], dtype=np.int64),
        village_demo=any(v[4] for v in villages),
        commune_ids=np.array(commune_ids, dtype=np.int64),
        centre_xy=_xy(_metric([centres.get(c) for c in commune_ids])),
    )


def run_latest() -> Run | None:
    """Return the most recent run, or None before the first."""
    return Run.objects.order_by("-finished_at", "-id").first()


def village_results(run: Run) -> QuerySet[VillageResult]:
    return (VillageResult.objects.filter(run=run).select_related("village", "commune")
            .defer("path").order_by("commune__name", "village__name"))


def commune_results(run: Run) -> QuerySet[CommuneResult]:
    return CommuneResult.objects.filter(run=run).select_related("commune").order_by("commune__name")


def gains_visible(*, run: Run, user) -> list[ProposalGain]:
    """Return the run's proposal gains the person may see: only proposals whose works they may see.

    The public does not see works at stage "proposed" (DESIGN.md, "Who does what"), so neither
    their gains nor a set that includes them.
    """
    gains = list(ProposalGain.objects.filter(run=run).select_related("work", "work__current_commune"))
    ids = {i for g in gains for i in (g.work_ids or [])} | {g.work_id for g in gains if g.work_id}
    visible = set(works_visible(user, Work.objects.filter(id__in=ids)).values_list("id", flat=True))
    return [g for g in gains if (g.work_id is None or g.work_id in visible) and set(g.work_ids or []) <= visible]


def village_link_status(run: Run | None = None) -> dict[int, str]:
    """Return each village's link status in the latest run: village id → hardened/unhardened/none.

    Villages missing from the run (added since, or no run yet) are absent: the map shows them
    as "unknown".
    """
    run = run or run_latest()
    if run is None:
        return {}
    return dict(VillageResult.objects.filter(run=run).values_list("village_id", "status"))


def village_link_join(*, village_alias: str = "t") -> tuple[str, str]:
    """Return (join SQL, status expression) adding the latest run's status to a SQL village layer.

    For map layers built in SQL (gis.selectors' village-link layer): a LEFT JOIN to the stored
    result of the village aliased `village_alias`, and "unknown" where there is none. The run id
    is an integer from the database, written into the SQL as a number.
    """
    run = run_latest()
    table = VillageResult._meta.db_table
    run_id = int(run.pk) if run else -1
    join = f"LEFT JOIN {table} nr ON nr.village_id = {village_alias}.id AND nr.run_id = {run_id}"
    return join, "COALESCE(nr.status, 'unknown')"


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _indicators(row) -> dict[str, Any]:
    fields = ("villages", "villages_connected", "villages_hardened", "people", "people_not_connected",
              "poor_households", "poor_households_not_connected", "people_near_all_season")
    return {**{name: getattr(row, name) for name in fields}, "share_connected": _share(row.share_connected),
            "share_hardened": _share(row.share_hardened), "rural_access_index": _share(row.rural_access_index)}


def _gain(gain: ProposalGain) -> dict[str, Any]:
    per_million = gain.people_per_million
    return {
        "rank": gain.rank, "work_ids": gain.work_ids, "investment_vnd": gain.investment,
        "work": None if gain.work is None else {"id": gain.work.pk, "code": gain.work.code, "name": gain.work.name,
                                                "stage": gain.work.stage, "category": gain.work.category,
                                                "is_demo": gain.work.is_demo},
        "villages": gain.villages, "people": gain.people, "poor_households": gain.poor_households,
        "villages_hardened": gain.villages_hardened, "people_hardened": gain.people_hardened,
        "poor_households_hardened": gain.poor_households_hardened,
        "people_near_all_season": gain.people_near_all_season,
        "people_per_million_vnd": None if per_million is None else round(per_million, 4),
        "poor_households_per_million_vnd": None if gain.poor_households_per_million is None
        else round(gain.poor_households_per_million, 4),
    }


def connectivity_summary(*, run: Run, user) -> dict[str, Any]:
    """Return a run as plain data: inputs, the area's and each commune's indicators, villages, proposals."""
    gains = gains_visible(run=run, user=user)
    return {
        "run": {
            "id": run.pk, "started_at": run.started_at.isoformat(), "finished_at": run.finished_at.isoformat(),
            "duration_ms": run.duration_ms, "has_demo": run.has_demo,
            "inputs": {"tolerance_m": run.tolerance_m, "attach_m": run.attach_m, "bridge_reach_m": run.bridge_reach_m,
                       "access_m": run.access_m, "stage_threshold": run.stage_threshold},
            "counts": {"base_roads": run.base_roads, "works_built": run.works_built, "proposals": run.proposals,
                       "villages": run.villages, "communes": run.communes, "nodes": run.nodes, "edges": run.edges,
                       "components": run.components},
        },
        "area": _indicators(run),
        "communes": [{"id": row.commune_id, "code": row.commune.code, "name": row.commune.name,
                      "centre_attach_m": row.centre_attach_m, **_indicators(row)} for row in commune_results(run)],
        "villages": [{"id": row.village_id, "code": row.village.code, "name": row.village.name,
                      "is_demo": row.village.is_demo, "commune_id": row.commune_id, "commune": row.commune.name,
                      "status": row.status, "population": row.population,
                      "poor_households": row.poor_households, "attach_m": row.attach_m, "path_m": row.path_m,
                      "hardened_share": row.hardened_share, "path_all_season": row.path_all_season,
                      "all_season_route": row.all_season_route, "near_all_season": row.near_all_season}
                     for row in village_results(run)],
        "proposals": [_gain(g) for g in gains if g.work_id is not None],
        "sets": [_gain(g) for g in gains if g.work_id is None],
    }


def village_paths_page(*, run: Run, limit: int, offset: int = 0) -> Page:
    """Return one page of the run's village paths as GeoJSON built in the database (null geometry when none)."""
    layer = Layer(
        table=VillageResult._meta.db_table,
        geometry="t.path",
        properties={"village_id": "t.village_id", "village_code": "v.code", "village": "v.name",
                    "commune_id": "t.commune_id", "status": "t.status", "population": "t.population",
                    "poor_households": "t.poor_households", "path_m": "t.path_m", "hardened_share": "t.hardened_share",
                    "path_all_season": json_bool("t.path_all_season"), "attach_m": "t.attach_m",
                    "is_demo": json_bool("v.is_demo")},
        joins=f"JOIN {Village._meta.db_table} v ON v.id = t.village_id",
    )
    return feature_page(layer, limit=limit, offset=offset, where="t.run_id = %s", params=[run.pk])
