from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorksConfig(AppConfig):
    name = "infra.works"
    label = "works"
    verbose_name = _("works")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        from infra.works import features

        pre_migrate.connect(features.on_pre_migrate, dispatch_uid="works-stored-features-off")
        post_migrate.connect(features.on_post_migrate, dispatch_uid="works-stored-features")
