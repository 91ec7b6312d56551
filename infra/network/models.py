"""Stored connectivity analyses: each run with its inputs, and its answers per village, commune and proposal.

Results are derived data, recomputed by `manage.py connectivity`; a run is never edited, a new
one is made. The figures of the whole area are kept on the run itself.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from gis.indicators import IndicatorShares
from infra.works.choices import Stage


class LinkStatus(models.TextChoices):
    HARDENED = "hardened", _("connected by a hardened road")
    UNHARDENED = "unhardened", _("connected by an unhardened road")
    NONE = "none", _("not connected")


class Indicators(IndicatorShares, models.Model):
    """The indicators of a set of villages (a commune, or the whole area of a run)."""

    villages = models.PositiveIntegerField(_("villages"), default=0)
    villages_connected = models.PositiveIntegerField(_("villages connected"), default=0)
    villages_hardened = models.PositiveIntegerField(_("villages connected by a hardened road"), default=0)
    people = models.PositiveIntegerField(_("people"), default=0)
    people_not_connected = models.PositiveIntegerField(_("people not connected"), default=0)
    poor_households = models.PositiveIntegerField(_("poor households"), default=0)
    poor_households_not_connected = models.PositiveIntegerField(_("poor households not connected"), default=0)
    people_near_all_season = models.PositiveIntegerField(_("people within reach of an all-season road"), default=0)

    class Meta:
        abstract = True


def _indicator_checks(prefix: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(condition=Q(villages_connected__lte=F("villages")), name=f"{prefix}_connected_within_villages"),
        models.CheckConstraint(condition=Q(villages_hardened__lte=F("villages_connected")),
                               name=f"{prefix}_hardened_within_connected"),
        models.CheckConstraint(condition=Q(people_not_connected__lte=F("people")), name=f"{prefix}_cut_within_people"),
        models.CheckConstraint(condition=Q(people_near_all_season__lte=F("people")), name=f"{prefix}_near_within_people"),
    ]


class Run(Indicators):
    """One computation of connectivity: when, with which inputs, how big, how long."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    tolerance_m = models.FloatField(_("snapping tolerance (m)"))
    attach_m = models.FloatField(_("attachment distance (m)"))
    bridge_reach_m = models.FloatField(_("bridge reach (m)"))
    access_m = models.FloatField(_("access distance for the Rural Access Index (m)"), default=2000)
    stage_threshold = models.CharField(_("works counted as built from stage"), max_length=20, choices=Stage.choices)
    base_roads = models.PositiveIntegerField(_("base roads"), default=0)
    works_built = models.PositiveIntegerField(_("road and bridge works in the network"), default=0)
    proposals = models.PositiveIntegerField(_("proposals weighed"), default=0)
    communes = models.PositiveIntegerField(_("communes"), default=0)
    nodes = models.PositiveIntegerField(_("network nodes"), default=0)
    edges = models.PositiveIntegerField(_("network edges"), default=0)
    components = models.PositiveIntegerField(_("separate pieces of the built network"), default=0)
    has_demo = models.BooleanField(_("uses demo data"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("connectivity run")
        verbose_name_plural = _("connectivity runs")
        ordering = ["-finished_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(tolerance_m__gte=0) & Q(attach_m__gte=0) & Q(bridge_reach_m__gte=0)
                                   & Q(access_m__gt=0), name="run_distances_not_negative"),
            models.CheckConstraint(condition=Q(started_at__lte=F("finished_at")), name="run_times_in_order"),
            *_indicator_checks("run"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.finished_at:%d/%m/%Y %H:%M}"


class CommuneResult(Indicators):
    """A commune's indicators in a run."""

    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.CASCADE, related_name="commune_results")
    commune = models.ForeignKey("geo.AdminUnit", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    centre_attach_m = models.FloatField(_("centre's distance to the network (m)"), null=True, blank=True)

    class Meta:
        verbose_name = _("commune connectivity")
        verbose_name_plural = _("commune connectivity")
        ordering = ["run", "commune__name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "commune"], name="communeresult_one_per_run"),
            *_indicator_checks("communeresult"),
        ]

    def __str__(self) -> str:
        return str(self.commune)


class VillageResult(models.Model):
    """A village's link to its commune centre in a run; the path is drawn in WGS84."""

    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.CASCADE, related_name="village_results")
    # Results are derived: a village removed from the register takes its rows with it.
    village = models.ForeignKey("geo.Village", verbose_name=_("village"), on_delete=models.CASCADE, related_name="+")
    commune = models.ForeignKey("geo.AdminUnit", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    population = models.PositiveIntegerField(_("population"), default=0)
    poor_households = models.PositiveIntegerField(_("poor households"), default=0)
    status = models.CharField(_("link to the commune centre"), max_length=12, choices=LinkStatus.choices)
    attach_m = models.FloatField(_("distance to the network (m)"), null=True, blank=True)
    path_m = models.FloatField(_("road distance to the commune centre (m)"), null=True, blank=True)
    hardened_share = models.FloatField(_("hardened share of the path"), null=True, blank=True)
    path_all_season = models.BooleanField(_("path passable all year"), default=False)
    all_season_route = models.BooleanField(_("an all-season route exists"), default=False)
    near_all_season = models.BooleanField(_("within reach of an all-season road"), default=False)
    path = models.MultiLineStringField(_("path"), srid=4326, null=True, blank=True)

    class Meta:
        verbose_name = _("village connectivity")
        verbose_name_plural = _("village connectivity")
        ordering = ["run", "commune__name", "village__name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "village"], name="villageresult_one_per_run"),
            models.CheckConstraint(condition=Q(hardened_share__isnull=True) | Q(hardened_share__gte=0, hardened_share__lte=1),
                                   name="villageresult_share_0_1"),
            models.CheckConstraint(condition=Q(status=LinkStatus.NONE) | Q(path_m__isnull=False),
                                   name="villageresult_connected_has_length"),
        ]

    def __str__(self) -> str:
        return f"{self.village}: {self.get_status_display()}"

    @property
    def path_km(self) -> float | None:
        return None if self.path_m is None else self.path_m / 1000


class ProposalGain(models.Model):
    """What a proposed road or bridge (or a set of them, `work` empty) would add if built."""

    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.CASCADE, related_name="gains")
    work = models.ForeignKey("works.Work", verbose_name=_("work"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    work_ids = models.JSONField(_("works built together"), default=list, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    investment = models.BigIntegerField(_("approved total investment (VND)"), default=0)
    villages = models.PositiveIntegerField(_("villages newly connected"), default=0)
    people = models.PositiveIntegerField(_("people newly connected"), default=0)
    poor_households = models.PositiveIntegerField(_("poor households newly connected"), default=0)
    villages_hardened = models.PositiveIntegerField(_("villages newly on a hardened route"), default=0)
    people_hardened = models.PositiveIntegerField(_("people newly on a hardened route"), default=0)
    poor_households_hardened = models.PositiveIntegerField(_("poor households newly on a hardened route"), default=0)
    people_near_all_season = models.PositiveIntegerField(_("people newly within reach of an all-season road"), default=0)

    class Meta:
        verbose_name = _("proposal gain")
        verbose_name_plural = _("proposal gains")
        ordering = ["run", F("rank").asc(nulls_last=True), "id"]
        constraints = [
            models.CheckConstraint(condition=Q(investment__gte=0), name="proposalgain_investment_not_negative"),
            models.CheckConstraint(condition=Q(work__isnull=False) | Q(rank__isnull=True), name="proposalgain_sets_unranked"),
        ]

    def __str__(self) -> str:
        return str(self.work) if self.work_id else str(_("proposals together"))

    def _per_million(self, count: int) -> float | None:
        return count / (self.investment / 1_000_000) if self.investment > 0 else None

    @property
    def people_per_million(self) -> float | None:
        return self._per_million(self.people)

    @property
    def poor_households_per_million(self) -> float | None:
        return self._per_million(self.poor_households)

    @property
    def people_hardened_per_million(self) -> float | None:
        return self._per_million(self.people_hardened)
