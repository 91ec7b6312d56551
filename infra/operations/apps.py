from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Running the database: backups, restores, fingerprints, connection settings."""

    name = "infra.operations"
    label = "operations"
    verbose_name = _("operations")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from infra.operations.connections import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="operations-sqlite-busy-timeout")
