from django.urls import re_path

from infra.ogc import tiles

app_name = "tiles"

# Any text in z/x/y reaches the view, so a bad coordinate is a 400 with a message rather than a bare 404.
urlpatterns = [
    re_path(r"^(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt$", tiles.tile, name="tile"),
]
