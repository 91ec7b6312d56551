from django.urls import path

from infra.interchange import views

app_name = "exports"

urlpatterns = [
    path("", views.exports_page, name="page"),
    path("oc4ids.json", views.export_download, {"fmt": "oc4ids"}, name="oc4ids"),
    path("audit-bundle.zip", views.export_download, {"fmt": "audit-bundle"}, name="audit-bundle"),
    path("<slug:fmt>", views.export_download, name="download"),
]
