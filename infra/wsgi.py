"""WSGI entry point (gunicorn infra.wsgi:application)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")
django_application = get_wsgi_application()

from infra.ogc.public import PublicItems  # noqa: E402  (after Django is set up)

# The public's plain GeoJSON pages of OGC items are answered around Django's request cycle (infra/ogc/public.py).
application = PublicItems(django_application)
