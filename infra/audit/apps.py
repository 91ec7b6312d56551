from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "infra.audit"
    label = "audit"
    verbose_name = _("audit trail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from simple_history.signals import post_create_historical_record

        from infra.audit import chain, guards

        # Recording is plumbing, not a business rule: every history row gets its chained entry.
        post_create_historical_record.connect(chain.on_historical_record, dispatch_uid="audit-chain")
        post_migrate.connect(guards.on_post_migrate, dispatch_uid="audit-guards")
