"""The tamper-evident audit trail: one hash-chained entry per history row."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """A change (who, when, before → after), chained to the entry before it by SHA-256."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    username = models.CharField(_("user name"), max_length=150, blank=True)
    model_label = models.CharField(_("record type"), max_length=100)
    object_pk = models.CharField(_("record id"), max_length=64)
    history_model = models.CharField(_("history table"), max_length=100)
    history_id = models.BigIntegerField(_("history row"))
    action = models.CharField(_("action"), max_length=1)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["seq"]
        indexes = [models.Index(fields=["model_label", "object_pk"])]
        constraints = [models.UniqueConstraint(fields=["history_model", "history_id"], name="auditentry_one_per_history_row")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.model_label} {self.object_pk} {self.action}"
