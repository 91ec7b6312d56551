"""Re-compute the audit chain and name the first broken row."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from infra.audit.chain import verify_chain
from infra.audit.models import AuditEntry

class Command(BaseCommand):
    @property
    def help(self):
        return _("Re-compute the hash chain over all history and name the first broken row (exit 1 if any).")

    def handle(self, *args, **options):
        checked, broken = verify_chain()
        if broken is None:
            head = AuditEntry.objects.order_by("-seq").values_list("hash", flat=True).first() or "—"
            self.stdout.write(_("Audit chain intact: %(count)d entries checked; head %(head)s.") % {"count": checked, "head": head})
            return
        if broken.reason == "kept_row_unchained":
            raise CommandError(
                _("%(model)s row %(pk)s is in no audit entry: it was stored behind the application's back. The "
                  "%(count)d entries of the chain are intact.")
                % {"model": broken.model_label, "pk": broken.object_pk, "count": checked},
                returncode=1,
            )
        reason = {
            "missing_entry": _("an entry is missing before this one"),
            "previous_hash": _("it does not chain to the entry before it"),
            "entry_altered": _("the entry itself was altered"),
            "history_row_missing": _("its history row is missing"),
            "history_row_altered": _("its history row was altered"),
        }[broken.reason]
        raise CommandError(
            _("Audit chain broken at entry #%(seq)d (%(model)s %(pk)s, %(history)s row %(history_id)d): %(reason)s. "
              "%(count)d entries before it are intact.")
            % {"seq": broken.seq, "model": broken.model_label, "pk": broken.object_pk, "history": broken.history_model,
               "history_id": broken.history_id, "reason": reason, "count": checked},
            returncode=1,
        )
