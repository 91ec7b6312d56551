from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "gis"
    label = "geo"  # "gis" is taken by django.contrib.gis
    verbose_name = _("geography")
    default_auto_field = "django.db.models.BigAutoField"
