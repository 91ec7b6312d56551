"""Programme structure and money: capital plans, allocations, disbursements (integer VND)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from infra.cells import printable
from infra.dates import in_range


class NodeKind(models.TextChoices):
    PROGRAMME = "programme", _("programme")
    COMPONENT = "component", _("component")
    PROJECT = "project", _("project")
    SUBPROJECT = "subproject", _("sub-project")
    CONTENT = "content", _("content group")


class ProgrammeNode(models.Model):
    """A line of a programme tree: programme → project/component → sub-project/content group.

    The 2021–2025 poverty NTP and the merged 2026–2035 NTP are both data in this tree.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=NodeKind.choices)
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[printable])
    label = models.CharField(_("label as written"), max_length=60, help_text=_("e.g. Dự án 1, Tiểu dự án 1"),
                             validators=[printable])
    name = models.CharField(_("name"), max_length=300, validators=[printable])
    parent = models.ForeignKey("self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    lead_agency = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("lead agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    legal_basis = models.CharField(_("legal basis"), max_length=255, blank=True, validators=[printable])
    valid_from = models.DateField(_("from"), null=True, blank=True, validators=[in_range])
    valid_to = models.DateField(_("to"), null=True, blank=True, validators=[in_range])
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("programme line")
        verbose_name_plural = _("programme lines")
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_from__lte=F("valid_to")),
                name="programmenode_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.name}" if self.label else self.name


class Source(models.TextChoices):
    CENTRAL = "central", _("central budget")
    LOCAL = "local", _("local counterpart")
    INTEGRATED = "integrated", _("integrated / other")
    COMMUNITY = "community", _("community contribution")


class CapitalKind(models.TextChoices):
    INVESTMENT = "investment", _("investment capital")
    RECURRENT = "recurrent", _("recurrent capital")


class CapitalDecision(models.Model):
    """A legal decision assigning capital, with its total exactly as the text states it."""

    number = models.CharField(_("decision number"), max_length=60, validators=[printable])
    issued_on = models.DateField(_("issued on"), validators=[in_range])
    issuer = models.CharField(_("issued by"), max_length=200, validators=[printable])
    title = models.CharField(_("title"), max_length=300, blank=True, validators=[printable])
    stated_total = models.BigIntegerField(_("total as stated (VND)"))
    programme = models.ForeignKey(ProgrammeNode, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="decisions")
    implementing_plan = models.CharField(_("implementing plan"), max_length=200, blank=True, validators=[printable])

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("capital decision")
        verbose_name_plural = _("capital decisions")
        ordering = ["-issued_on"]
        constraints = [
            models.UniqueConstraint(fields=["number", "issued_on"], name="capitaldecision_unique"),
            models.CheckConstraint(condition=Q(stated_total__gte=0), name="capitaldecision_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.issued_on:%d/%m/%Y})"


class CapitalPlan(models.Model):
    """Capital for one year from one source and of one kind, under a decision."""

    decision = models.ForeignKey(CapitalDecision, verbose_name=_("decision"), on_delete=models.PROTECT, related_name="plans")
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=CapitalKind.choices)
    amount = models.BigIntegerField(_("amount (VND)"))
    programme_line = models.ForeignKey(
        ProgrammeNode, verbose_name=_("programme line"), null=True, blank=True, on_delete=models.PROTECT, related_name="capital_plans"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("capital plan")
        verbose_name_plural = _("capital plans")
        ordering = ["year", "kind", "source"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="capitalplan_amount_not_negative"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="capitalplan_year_plausible"),
            models.UniqueConstraint(fields=["decision", "year", "source", "kind", "programme_line"], name="capitalplan_unique_line"),
        ]

    def __str__(self) -> str:
        return f"{self.year} · {self.get_kind_display()} · {self.get_source_display()}"


class Allocation(models.Model):
    """Part of a capital plan assigned to a programme line and, usually, to a work.

    A reversal is a new allocation row pointing at the one it reverses; figures are never edited away.
    """

    capital_plan = models.ForeignKey(CapitalPlan, verbose_name=_("capital plan"), on_delete=models.PROTECT, related_name="allocations")
    programme_line = models.ForeignKey(ProgrammeNode, verbose_name=_("programme line"), on_delete=models.PROTECT, related_name="allocations")
    work = models.ForeignKey(
        "works.Work", verbose_name=_("work"), null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.BigIntegerField(_("amount (VND)"))
    allocated_on = models.DateField(_("allocated on"), validators=[in_range])
    decision_number = models.CharField(_("decision number"), max_length=80, blank=True, validators=[printable])
    reverses = models.ForeignKey(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    note = models.TextField(_("note"), blank=True, validators=[printable])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["allocated_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="allocation_amount_not_negative")]

    def __str__(self) -> str:
        return f"{self.programme_line.label} · {self.work or '—'} · {self.amount}"

    @property
    def signed_amount(self) -> int:
        return -self.amount if self.reverses_id else self.amount


class Disbursement(models.Model):
    """A payment (giải ngân) against an allocation, with its voucher."""

    allocation = models.ForeignKey(Allocation, verbose_name=_("allocation"), on_delete=models.PROTECT, related_name="disbursements")
    amount = models.BigIntegerField(_("amount (VND)"))
    paid_on = models.DateField(_("paid on"), validators=[in_range])
    voucher_number = models.CharField(_("voucher number"), max_length=80, validators=[printable])
    reverses = models.ForeignKey(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    note = models.TextField(_("note"), blank=True, validators=[printable])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="disbursement_amount_not_negative"),
            models.UniqueConstraint(fields=["voucher_number", "allocation"], name="disbursement_voucher_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher_number} · {self.amount}"

    @property
    def signed_amount(self) -> int:
        return -self.amount if self.reverses_id else self.amount
