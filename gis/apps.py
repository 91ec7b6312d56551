from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "gis"
    label = "geo"  # "gis" is taken by django.contrib.gis
    verbose_name = _("geography")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from gis import spatialite, textsearch

        connection_created.connect(textsearch.on_connection_created, dispatch_uid="geo-search-folding")
        # post_migrate for "geo" runs after every app's migrations, so all tables exist by then.
        post_migrate.connect(spatialite.on_post_migrate, dispatch_uid="geo-spatial-indexes")
