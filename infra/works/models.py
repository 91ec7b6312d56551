"""Project 1 works: the spatial features the board tracks."""
from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.db.models.lookups import In
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis.models import RoadClass, RoadSurface
from infra.cells import printable
from infra.constraints import ValidationMixin
from infra.dates import in_range
from infra.works.choices import (
    ALLOWED_GEOMETRY,
    PRIVATE_STAGES,
    STAGE_ORDER,
    Category,
    SchoolLevel,
    Stage,
    WaterSource,
    allowed_geometry_types,
)


class GeometryType(models.Func):
    """The OGC type name of a geometry (PostGIS and SpatiaLite both call it GeometryType)."""

    function = "GeometryType"
    output_field = models.CharField()


def _geometry_type_matches_category() -> Q:
    rules = Q()
    for category in ALLOWED_GEOMETRY:
        rules |= Q(category=category) & Q(In(Upper(GeometryType(F("geometry"))), sorted(allowed_geometry_types(category))))
    return rules


class Work(ValidationMixin, models.Model):
    """A work funded under Project 1: a health station, school, road, bridge, water work…"""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[printable])
    name = models.CharField(_("name"), max_length=255, validators=[printable])
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    description = models.TextField(_("description"), blank=True, validators=[printable])
    internal_notes = models.TextField(_("internal notes"), blank=True, help_text=_("not shown to the public"),
                                      validators=[printable])

    # Category-specific details; empty where they do not apply.
    school_level = models.CharField(_("school level"), max_length=20, choices=SchoolLevel.choices, blank=True)
    water_source = models.CharField(_("water source"), max_length=20, choices=WaterSource.choices, blank=True)
    road_class = models.CharField(_("road class"), max_length=16, choices=RoadClass.choices, blank=True)
    road_surface = models.CharField(_("road surface"), max_length=16, choices=RoadSurface.choices, blank=True)
    all_season = models.BooleanField(_("passable all year"), null=True, blank=True)

    geometry = models.GeometryField(_("geometry"), srid=4326)
    approved_commune = models.ForeignKey(
        "geo.AdminUnit", verbose_name=_("commune at approval"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True, help_text=_("the unit the work was approved under (pre-2025 for the 2022 plan)"),
    )
    current_commune = models.ForeignKey(
        "geo.AdminUnit", verbose_name=_("current commune"), on_delete=models.PROTECT, related_name="works",
        null=True, blank=True, editable=False, help_text=_("derived from the geometry"),
    )
    villages_served = models.ManyToManyField("geo.Village", verbose_name=_("villages served"), blank=True, related_name="works")

    beneficiary_households = models.PositiveIntegerField(_("beneficiary households"), default=0)
    beneficiary_poor_households = models.PositiveIntegerField(_("beneficiary poor households"), default=0)
    beneficiary_women = models.PositiveIntegerField(_("women benefiting"), default=0)

    special_mechanism = models.BooleanField(
        _("special mechanism"), default=False, help_text=_("small work under Decree 27/2022/NĐ-CP, chapter IV")
    )
    contractor = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("contractor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_year = models.PositiveSmallIntegerField(_("plan year"))
    total_investment = models.BigIntegerField(_("approved total investment (VND)"), default=0)

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.PROPOSED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    planned_start = models.DateField(_("planned start"), null=True, blank=True, validators=[in_range])
    planned_end = models.DateField(_("planned completion"), null=True, blank=True, validators=[in_range])
    actual_start = models.DateField(_("actual start"), null=True, blank=True, validators=[in_range])
    actual_end = models.DateField(_("actual completion"), null=True, blank=True, validators=[in_range])

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("work")
        verbose_name_plural = _("works")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=100), name="work_progress_0_100"),
            # Only known stages: the access policy reads "public" as "not a private stage".
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="work_stage_known"),
            models.CheckConstraint(condition=Q(total_investment__gte=0), name="work_investment_not_negative"),
            models.CheckConstraint(
                condition=Q(beneficiary_poor_households__lte=F("beneficiary_households")),
                name="work_poor_within_households",
            ),
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True) | Q(planned_end__isnull=True) | Q(planned_start__lte=F("planned_end")),
                name="work_planned_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(actual_start__isnull=True) | Q(actual_end__isnull=True) | Q(actual_start__lte=F("actual_end")),
                name="work_actual_dates_in_order",
            ),
            models.CheckConstraint(condition=Q(geometry__isvalid=True), name="work_geometry_valid"),
            models.CheckConstraint(condition=_geometry_type_matches_category(), name="work_geometry_type_for_category"),
            # Decree 27/2022/NĐ-CP: special-mechanism works are at most 5 billion VND.
            models.CheckConstraint(
                condition=Q(special_mechanism=False) | Q(total_investment__lte=5_000_000_000),
                name="work_special_mechanism_ceiling",
            ),
            models.CheckConstraint(condition=Q(approved_year__gte=2000, approved_year__lte=2100), name="work_year_plausible"),
            models.CheckConstraint(condition=Q(version__gte=1), name="work_version_positive"),
        ]
        indexes = [
            models.Index(fields=["category", "stage"]),
            models.Index(fields=["approved_year"]),
            # The public's works in id order: the listings count and page them from this index alone
            # (an index-only scan) instead of reading the table (infra.accounts.policy, gis.layers).
            models.Index(fields=["id"], condition=~Q(stage__in=sorted(PRIVATE_STAGES)), name="work_public_id"),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("works:detail", args=[self.pk])

    @property
    def is_late(self) -> bool:
        """Whether the work is past a planned date it has not reached yet (computed, never stored)."""
        today = timezone.localdate()
        if self.stage not in STAGE_ORDER:
            return False  # suspended or cancelled works are not "late": they are stopped
        position = STAGE_ORDER.index(self.stage)
        not_started = position < STAGE_ORDER.index(Stage.UNDER_CONSTRUCTION)
        not_finished = position < STAGE_ORDER.index(Stage.COMPLETED)
        return bool((self.planned_start and self.planned_start < today and not_started)
                    or (self.planned_end and self.planned_end < today and not_finished))


class StageEvent(models.Model):
    """A dated move of a work into a stage, with who recorded it and the evidence."""

    work = models.ForeignKey(Work, verbose_name=_("work"), on_delete=models.PROTECT, related_name="stage_events")
    from_stage = models.CharField(_("from stage"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=Stage.choices)
    occurred_on = models.DateField(_("date"), validators=[in_range])
    note = models.TextField(_("note"), blank=True, validators=[printable])
    decision_number = models.CharField(_("decision / record number"), max_length=80, blank=True, validators=[printable])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    evidence = models.ManyToManyField("WorkDocument", verbose_name=_("evidence"), blank=True, related_name="stage_events",
                                      help_text=_("decision, acceptance record or photos"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stage event")
        verbose_name_plural = _("stage events")
        ordering = ["work", "occurred_on", "id"]

    def __str__(self) -> str:
        return f"{self.work.code}: {self.get_to_stage_display()} ({self.occurred_on:%d/%m/%Y})"


class WorkInvestor(models.Model):
    """Who was the investor (chủ đầu tư) of a work between two dates.

    The district board until 2025, then a commune People's Committee or a provincial board
    (Decree 125/2025/NĐ-CP), so this is a dated history, not a field.
    """

    work = models.ForeignKey(Work, verbose_name=_("work"), on_delete=models.CASCADE, related_name="investors")
    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("investor"), on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("from"), validators=[in_range])
    valid_to = models.DateField(_("to"), null=True, blank=True, validators=[in_range])

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("investor")
        verbose_name_plural = _("investors")
        ordering = ["work", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_from__lte=F("valid_to")), name="workinvestor_dates_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.valid_from:%d/%m/%Y}–{self.valid_to or ''})"


def document_upload_to(instance: "WorkDocument", filename: str) -> str:
    """Return a safe storage path (see infra.works.uploads.document_path)."""
    from infra.works.uploads import document_path

    return document_path(instance, filename)


class DocumentKind(models.TextChoices):
    DOCUMENT = "document", _("document")
    PHOTO = "photo", _("photo")


class WorkDocument(models.Model):
    """A decision, acceptance record or photo attached to a work."""

    work = models.ForeignKey(Work, verbose_name=_("work"), on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200, validators=[printable])
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=200)
    location = models.PointField(_("where the photo was taken"), srid=4326, null=True, blank=True)
    is_public = models.BooleanField(_("public"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("document or photo")
        verbose_name_plural = _("documents and photos")
        ordering = ["work", "-uploaded_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """Where the file is read, by those the policy lets read it (infra.works.views.document); never the
        storage's own address, which nothing serves."""
        from django.urls import reverse

        return reverse("works:document", args=[self.pk])


class WorkFeature(models.Model):
    """A work's Feature as the map, `/api/works/` and `/ogc/` list it, stored as GeoJSON text.

    Derived data, never written by Python: on PostGIS, triggers (infra.works.features) rebuild a
    work's row in the same transaction as any change to the work, its money, its upkeep or its
    commune's name, so a page of features is the stored texts joined together instead of every
    feature built again on every request. SpatiaLite builds features on each request and leaves
    this table empty.
    """

    work = models.OneToOneField(Work, primary_key=True, db_column="id", on_delete=models.CASCADE, related_name="+")
    feature = models.TextField()

    class Meta:
        verbose_name = _("stored feature")
        verbose_name_plural = _("stored features")
        default_permissions = ()
