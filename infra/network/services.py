"""Writes for connectivity: compute a run from the register and store it, prune old runs."""
from __future__ import annotations

import time

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiLineString
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gis.crs import METRIC_SRID, WGS84, transform_geometries
from gis.indicators import ConnectivityResult, VillageInputs, connectivity_compute
from gis.network import BASELINE, Line
from gis.whatif import Gain
from infra.network.models import CommuneResult, LinkStatus, ProposalGain, Run, VillageResult
from infra.network.selectors import ConnectivityInputs, built_stages, connectivity_inputs, proposal_stages
from infra.works.choices import STAGE_ORDER, Category, Stage

__all__ = ["DEFAULTS", "run_compute", "runs_prune"]

DEFAULTS = {"tolerance_m": 5.0, "attach_m": 500.0, "bridge_reach_m": 50.0, "access_m": 2000.0}


def _lines(inputs: ConnectivityInputs, *, threshold: str) -> tuple[list[Line], list[dict]]:
    """Return the lines of the network and the proposals (group k is proposals[k - 1])."""
    lines = [Line(id=f"road:{i}", geometry=g, surface=s, all_season=bool(a))
             for i, g, s, a in zip(inputs.road_ids.tolist(), inputs.road_geometry, inputs.road_surface,
                                   inputs.road_all_season, strict=True)]
    built, proposed = set(built_stages(threshold)), set(proposal_stages(threshold))
    proposals = [w for w in inputs.works if w["stage"] in proposed]
    group = {w["id"]: k for k, w in enumerate(proposals, start=1)}
    for work in inputs.works:
        if work["stage"] not in built and work["id"] not in group:
            continue
        bridge = work["category"] == Category.BRIDGE
        # A bridge deck is taken as hard and passable all year unless recorded otherwise (a spillway is not).
        surface = work["surface"] or ("concrete" if bridge else "unknown")
        all_season = (work["all_season"] is not False) if bridge else bool(work["all_season"])
        lines.append(Line(id=f"work:{work['id']}", geometry=work["geometry"], surface=surface, all_season=all_season,
                          kind="bridge" if bridge else "road", group=group.get(work["id"], BASELINE)))
    return lines, proposals


def _status(result: ConnectivityResult) -> np.ndarray:
    paths = result.paths
    return np.where(paths.hardened, LinkStatus.HARDENED, np.where(paths.connected, LinkStatus.UNHARDENED, LinkStatus.NONE))


def _wgs84_paths(geometries: np.ndarray) -> list[MultiLineString | None]:
    present = ~shapely.is_missing(geometries)
    out: list[MultiLineString | None] = [None] * len(geometries)
    if present.any():
        lonlat = transform_geometries(geometries[present], source=METRIC_SRID, target=WGS84)
        for index, wkb in zip(np.flatnonzero(present).tolist(), shapely.to_wkb(lonlat), strict=True):
            out[index] = GEOSGeometry(memoryview(wkb), srid=WGS84)
    return out


def _round(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 3)


def _rank_key(gain: ProposalGain) -> tuple:
    # Poor households first, then people, then people newly on a hardened route — each per
    # million VND; a proposal without a cost cannot be weighed per VND and comes last.
    missing = gain.investment <= 0
    return (missing, -(gain.poor_households_per_million or 0), -(gain.people_per_million or 0),
            -(gain.people_hardened_per_million or 0), gain.work_id)


def _gain_rows(run: Run, gains: list[Gain], proposals: list[dict]) -> list[ProposalGain]:
    rows = []
    for gain in gains:
        works = [proposals[k - 1] for k in gain.groups]
        single = len(works) == 1
        rows.append(ProposalGain(
            run=run, work_id=works[0]["id"] if single else None, work_ids=[w["id"] for w in works],
            investment=sum(int(w["investment"]) for w in works), villages=gain.villages, people=gain.people,
            poor_households=gain.poor_households, villages_hardened=gain.villages_hardened,
            people_hardened=gain.people_hardened, poor_households_hardened=gain.poor_households_hardened,
            people_near_all_season=gain.people_near_all_season,
        ))
    singles = sorted((r for r in rows if r.work_id is not None), key=_rank_key)
    for rank, row in enumerate(singles, start=1):
        row.rank = rank
    return rows


@transaction.atomic
def run_compute(
    *,
    threshold: str = Stage.COMPLETED,
    tolerance_m: float = DEFAULTS["tolerance_m"],
    attach_m: float = DEFAULTS["attach_m"],
    bridge_reach_m: float = DEFAULTS["bridge_reach_m"],
    access_m: float = DEFAULTS["access_m"],
    together: list[int] | None = None,
    user=None,
) -> Run:
    """Compute connectivity from the register as it is now and store it as a new run.

    Road and bridge works count as built from stage `threshold` on; those still planned
    (proposed … contracted, below the threshold) are weighed one by one, all together, and as
    the set `together` (work ids) when given.
    """
    if threshold not in STAGE_ORDER:
        raise ValidationError({"threshold": _("Works can count as built only from a stage of the main lifecycle.")})
    for name, value in (("tolerance_m", tolerance_m), ("attach_m", attach_m), ("bridge_reach_m", bridge_reach_m)):
        if not (np.isfinite(value) and 0 <= value <= 10_000):
            raise ValidationError({name: _("A distance must be between 0 and 10,000 metres.")})
    if not (np.isfinite(access_m) and 0 < access_m <= 50_000):
        raise ValidationError({"access_m": _("The access distance must be between 0 and 50,000 metres.")})
    started, clock = timezone.now(), time.perf_counter()
    inputs = connectivity_inputs(threshold=threshold)
    lines, proposals = _lines(inputs, threshold=threshold)
    group_of = {w["id"]: k for k, w in enumerate(proposals, start=1)}
    scenarios = [(k,) for k in range(1, len(proposals) + 1)]
    if len(proposals) > 1:
        scenarios.append(tuple(range(1, len(proposals) + 1)))
    if together:
        unknown = sorted(set(together) - set(group_of))
        if unknown:
            raise ValidationError({"together": _("Not proposals at this threshold: %(ids)s.")
                                   % {"ids": ", ".join(map(str, unknown))}})
        chosen = tuple(sorted(group_of[i] for i in set(together)))
        if chosen not in scenarios:
            scenarios.append(chosen)
    commune_index = np.searchsorted(inputs.commune_ids, inputs.village_commune)
    villages = VillageInputs(xy=inputs.village_xy, commune=commune_index, population=inputs.population,
                             poor_households=inputs.poor_households)
    result = connectivity_compute(lines, villages, inputs.centre_xy, tolerance_m=tolerance_m, attach_m=attach_m,
                                  bridge_reach_m=bridge_reach_m, access_m=access_m, scenarios=scenarios)
    area = result.area
    run = Run.objects.create(
        started_at=started, finished_at=started, duration_ms=0, tolerance_m=tolerance_m, attach_m=attach_m,
        bridge_reach_m=bridge_reach_m, access_m=access_m, stage_threshold=threshold,
        base_roads=len(inputs.road_ids), works_built=len(lines) - len(inputs.road_ids) - len(proposals),
        proposals=len(proposals), communes=len(inputs.commune_ids), nodes=result.network.graph.n_nodes,
        edges=result.network.graph.n_edges, components=result.network.components,
        has_demo=inputs.road_demo or inputs.village_demo or any(w["is_demo"] for w in inputs.works),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        **{name: getattr(area, name) for name in ("villages", "villages_connected", "villages_hardened", "people",
                                                  "people_not_connected", "poor_households",
                                                  "poor_households_not_connected", "people_near_all_season")},
    )
    CommuneResult.objects.bulk_create([
        CommuneResult(run=run, commune_id=int(inputs.commune_ids[c.centre]), centre_attach_m=_round(c.centre_attach_m),
                      villages=c.villages, villages_connected=c.villages_connected, villages_hardened=c.villages_hardened,
                      people=c.people, people_not_connected=c.people_not_connected, poor_households=c.poor_households,
                      poor_households_not_connected=c.poor_households_not_connected,
                      people_near_all_season=c.people_near_all_season)
        for c in result.communes
    ])
    paths, status = result.paths, _status(result)
    share = paths.hardened_share
    drawn = _wgs84_paths(result.path_geometry)
    VillageResult.objects.bulk_create([
        VillageResult(run=run, village_id=int(inputs.village_ids[i]), commune_id=int(inputs.village_commune[i]),
                      population=int(inputs.population[i]), poor_households=int(inputs.poor_households[i]),
                      status=str(status[i]), attach_m=_round(result.network.village_attach_m[i]),
                      path_m=_round(paths.path_m[i]), hardened_share=_round(share[i]),
                      path_all_season=bool(paths.path_all_season[i]), all_season_route=bool(paths.all_season_route[i]),
                      near_all_season=bool(result.near_all_season[i]), path=drawn[i])
        for i in range(len(inputs.village_ids))
    ], batch_size=500)
    ProposalGain.objects.bulk_create(_gain_rows(run, result.gains, proposals))
    run.finished_at = timezone.now()
    run.duration_ms = round((time.perf_counter() - clock) * 1000)
    run.save(update_fields=["finished_at", "duration_ms"])
    return run


@transaction.atomic
def runs_prune(*, keep: int) -> int:
    """Delete all but the `keep` most recent runs; return how many were deleted."""
    if keep < 1:
        raise ValidationError({"keep": _("At least the latest run is kept.")})
    old = list(Run.objects.order_by("-finished_at", "-id").values_list("id", flat=True)[keep:])
    Run.objects.filter(id__in=old).delete()
    return len(old)
