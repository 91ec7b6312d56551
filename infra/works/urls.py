from django.urls import path

from infra.works import views

app_name = "works"

urlpatterns = [
    path("", views.home, name="home"),
    path("layers/<slug:name>.geojson", views.layer, name="layer"),
    path("works/<int:pk>/", views.detail, name="detail"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("documents/file/<path:name>", views.document_file, name="document-file"),
    path("works/map.html", views.print_map, name="print-map"),
]
