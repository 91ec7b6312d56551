"""Organisations, roles and commune scopes."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from infra.cells import printable


class OrganisationKind(models.TextChoices):
    DISTRICT_BOARD = "district_board", _("district project management board")
    PROVINCIAL_BOARD = "provincial_board", _("provincial project management board")
    COMMUNE_COMMITTEE = "commune_committee", _("commune People's Committee")
    AGENCY = "agency", _("government agency")
    CONTRACTOR = "contractor", _("contractor")
    COMMUNITY = "community", _("community group")
    FUNDER = "funder", _("funder")


class Organisation(models.Model):
    """A board, agency, committee, contractor or community group."""

    name = models.CharField(_("name"), max_length=200, unique=True, validators=[printable])
    short_name = models.CharField(_("short name"), max_length=60, blank=True, validators=[printable])
    kind = models.CharField(_("kind"), max_length=24, choices=OrganisationKind.choices)
    commune = models.ForeignKey(
        "geo.AdminUnit", verbose_name=_("commune"), null=True, blank=True, on_delete=models.PROTECT,
        help_text=_("for commune People's Committees"),
    )
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.short_name or self.name


class Role(models.TextChoices):
    BOARD = "board", _("project management board")
    COMMUNE_OFFICER = "commune_officer", _("commune officer")
    PLANNER = "planner", _("maintenance planner")
    AUDITOR = "auditor", _("auditor")


class Profile(models.Model):
    """What a signed-in person may do, and in which communes."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), null=True, blank=True, on_delete=models.PROTECT)
    communes = models.ManyToManyField(
        "geo.AdminUnit", verbose_name=_("communes"), blank=True,
        help_text=_("for commune officers: the communes (either vintage) they work for"),
    )
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
