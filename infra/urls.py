from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from infra.ogc import views as ogc_views

admin.site.site_header = _("Phong Thổ infrastructure works")
admin.site.site_title = _("Works register")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/connectivity/", include("infra.network.urls_api")),
    path("connectivity/", include("infra.network.urls")),
    path("api/", include("infra.api.urls")),
    # The landing page without its slash too: QGIS takes the address typed and does not follow a redirect.
    path("ogc", ogc_views.landing, name="ogc-landing"),
    path("ogc/", include("infra.ogc.urls")),
    path("tiles/", include("infra.ogc.urls_tiles")),
    path("maintenance/", include("infra.maintenance.urls")),
    path("exports/", include("infra.interchange.urls_exports")),
    path("imports/", include("infra.interchange.urls_imports")),
    path("", include("infra.works.urls_board")),
    path("", include("infra.works.urls")),
]
# Uploads are read through /documents/<id>/ (the access policy), never from their storage path, even with DEBUG.

handler400 = "infra.errors.bad_request"
handler403 = "infra.errors.permission_denied"
handler404 = "infra.errors.page_not_found"
handler500 = "infra.errors.server_error"
