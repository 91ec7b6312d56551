from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    name = "infra.maintenance"
    label = "maintenance"
    verbose_name = _("maintenance")
    default_auto_field = "django.db.models.BigAutoField"
