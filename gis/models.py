"""Administrative units of both vintages, villages and base roads."""
from __future__ import annotations

from datetime import date

from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class AdminUnitLevel(models.TextChoices):
    PROVINCE = "province", _("province")
    DISTRICT = "district", _("district")
    COMMUNE = "commune", _("commune")


class AdminUnitQuerySet(models.QuerySet):
    def valid_on(self, day: date) -> AdminUnitQuerySet:
        """Return the units in force on a day."""
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )

    def current(self) -> AdminUnitQuerySet:
        return self.filter(valid_to__isnull=True)


class AdminUnit(models.Model):
    """A province, district or commune-level unit in force between two dates.

    Codes are reused with a new meaning after 1 July 2025, so a unit is identified by its
    code *and* its validity period, never by the code alone.
    """

    level = models.CharField(_("level"), max_length=16, choices=AdminUnitLevel.choices)
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=120)
    unit_type = models.CharField(_("unit type"), max_length=40, help_text=_("xã, phường, thị trấn, huyện, tỉnh…"))
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    centre = models.PointField(_("administrative centre"), srid=4326, null=True, blank=True)
    centre_address = models.CharField(_("centre address"), max_length=255, blank=True)
    area_km2 = models.DecimalField(_("area (km²)"), max_digits=10, decimal_places=2, null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    poor_households = models.PositiveIntegerField(_("poor households"), null=True, blank=True)
    near_poor_households = models.PositiveIntegerField(_("near-poor households"), null=True, blank=True)
    especially_difficult = models.BooleanField(_("especially difficult (ĐBKK)"), default=False)
    border = models.BooleanField(_("border commune"), default=False)
    aliases = models.JSONField(_("other spellings"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=255, blank=True)

    objects = AdminUnitQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["level", "name"]
        constraints = [
            # A code is reused after 1 July 2025: unique among current units, and among former
            # units per end date, never on its own.
            models.UniqueConstraint(fields=["level", "code"], condition=Q(valid_to__isnull=True), name="adminunit_current_code_unique"),
            models.UniqueConstraint(fields=["level", "code", "valid_to"], name="adminunit_code_per_vintage"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_from__lte=F("valid_to")),
                name="adminunit_dates_in_order",
            ),
            models.CheckConstraint(condition=Q(boundary__isnull=True) | Q(boundary__isvalid=True), name="adminunit_boundary_valid"),
        ]
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        period = ""
        if self.valid_to:
            period = f" (→{self.valid_to:%d/%m/%Y})"
        return f"{self.unit_type} {self.name}{period}"

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


class AdminUnitSuccession(models.Model):
    """An old unit merged (wholly or partly) into a new one on a date, by a legal act."""

    predecessor = models.ForeignKey(AdminUnit, verbose_name=_("former unit"), on_delete=models.PROTECT, related_name="successions")
    successor = models.ForeignKey(AdminUnit, verbose_name=_("successor unit"), on_delete=models.PROTECT, related_name="predecessions")
    effective_on = models.DateField(_("effective on"))
    legal_basis = models.CharField(_("legal basis"), max_length=255)

    class Meta:
        verbose_name = _("succession")
        verbose_name_plural = _("successions")
        constraints = [
            models.UniqueConstraint(fields=["predecessor", "successor"], name="succession_unique_pair"),
            models.CheckConstraint(condition=~Q(predecessor=F("successor")), name="succession_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor}"


class Village(models.Model):
    """A village (thôn/bản) of a commune, with its people."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    commune = models.ForeignKey(AdminUnit, verbose_name=_("commune"), on_delete=models.PROTECT, related_name="villages")
    location = models.PointField(_("location"), srid=4326)
    population = models.PositiveIntegerField(_("population"), default=0)
    households = models.PositiveIntegerField(_("households"), default=0)
    poor_households = models.PositiveIntegerField(_("poor households"), default=0)
    near_poor_households = models.PositiveIntegerField(_("near-poor households"), default=0)
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        ordering = ["commune__name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(poor_households__lte=F("households")), name="village_poor_within_households"),
        ]

    def __str__(self) -> str:
        return self.name


class RoadSurface(models.TextChoices):
    ASPHALT = "asphalt", _("asphalt")
    CONCRETE = "concrete", _("concrete")
    CEMENT = "cement", _("cement")
    GRAVEL = "gravel", _("gravel")
    EARTH = "earth", _("earth")
    UNKNOWN = "unknown", _("unknown")


HARDENED_SURFACES = frozenset({RoadSurface.ASPHALT, RoadSurface.CONCRETE, RoadSurface.CEMENT})


class RoadClass(models.TextChoices):
    NATIONAL = "national", _("national road")
    PROVINCIAL = "provincial", _("provincial road")
    COMMUNE = "commune", _("commune road")
    VILLAGE = "village", _("village road")
    FIELD = "field", _("in-field road")
    TRACK = "track", _("track")


class BaseRoad(models.Model):
    """A road segment not built by the programme, so that connectivity has a network to join."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=160)
    road_class = models.CharField(_("road class"), max_length=16, choices=RoadClass.choices)
    surface = models.CharField(_("surface"), max_length=16, choices=RoadSurface.choices, default=RoadSurface.UNKNOWN)
    all_season = models.BooleanField(_("passable all year"), default=False)
    geometry = models.MultiLineStringField(_("geometry"), srid=4326)
    source = models.CharField(_("source"), max_length=255, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("base road")
        verbose_name_plural = _("base roads")
        ordering = ["road_class", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(geometry__isvalid=True), name="baseroad_geometry_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_hardened(self) -> bool:
        return self.surface in HARDENED_SURFACES
