"""Categories, stages and subtypes of Project 1 works (DOMAIN.md §2–3)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    HEALTH = "health", _("commune health work")
    SCHOOL = "school", _("school")
    WATER = "water", _("clean water")
    IRRIGATION = "irrigation", _("irrigation")
    ROAD = "road", _("road")
    BRIDGE = "bridge", _("bridge")
    ELECTRICITY = "electricity", _("electricity")
    CULTURE = "culture", _("culture and sports")
    OTHER = "other", _("other community work")


POINT, LINE, POLYGON = "POINT", "LINESTRING", "POLYGON"
MULTI = {POINT: "MULTIPOINT", LINE: "MULTILINESTRING", POLYGON: "MULTIPOLYGON"}

# Which geometry kinds each category may take (DOMAIN.md §2, "Typical geometry").
ALLOWED_GEOMETRY: dict[str, frozenset[str]] = {
    Category.HEALTH: frozenset({POINT, POLYGON}),
    Category.SCHOOL: frozenset({POINT, POLYGON}),
    Category.WATER: frozenset({POINT, LINE}),
    Category.IRRIGATION: frozenset({POINT, LINE}),
    Category.ROAD: frozenset({LINE}),
    Category.BRIDGE: frozenset({POINT, LINE}),
    Category.ELECTRICITY: frozenset({POINT, LINE}),
    Category.CULTURE: frozenset({POINT, POLYGON}),
    Category.OTHER: frozenset({POINT, LINE, POLYGON}),
}


def allowed_geometry_types(category: str) -> frozenset[str]:
    """Return the OGC type names (single and multi) a category's geometry may have."""
    kinds = ALLOWED_GEOMETRY[category]
    return frozenset(kinds | {MULTI[k] for k in kinds})


class Stage(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("investment approved")
    DESIGNED = "designed", _("design and estimate approved")
    CONTRACTED = "contracted", _("contractor selected")
    UNDER_CONSTRUCTION = "under_construction", _("under construction")
    COMPLETED = "completed", _("completed and accepted")
    HANDED_OVER = "handed_over", _("handed over")
    IN_OPERATION = "in_operation", _("in operation and maintenance")
    SUSPENDED = "suspended", _("suspended")
    CANCELLED = "cancelled", _("cancelled")


# The main line of the lifecycle, in order; suspended and cancelled are side exits.
STAGE_ORDER = [
    Stage.PROPOSED,
    Stage.APPROVED,
    Stage.DESIGNED,
    Stage.CONTRACTED,
    Stage.UNDER_CONSTRUCTION,
    Stage.COMPLETED,
    Stage.HANDED_OVER,
    Stage.IN_OPERATION,
]
# The public sees works from approval on (DESIGN.md, "Who does what"): every stage but these two.
PRIVATE_STAGES = frozenset({Stage.PROPOSED, Stage.CANCELLED})
PUBLIC_STAGES = frozenset(Stage) - PRIVATE_STAGES


class SchoolLevel(models.TextChoices):
    PRESCHOOL = "preschool", _("kindergarten / pre-school")
    PRIMARY = "primary", _("primary school")
    LOWER_SECONDARY = "lower_secondary", _("lower secondary school")


class WaterSource(models.TextChoices):
    PIPED = "piped", _("piped water")
    DRILLED_WELL = "drilled_well", _("drilled well")
    DUG_WELL = "dug_well", _("dug well with protective wall")
    SPRING = "spring", _("protected spring")
