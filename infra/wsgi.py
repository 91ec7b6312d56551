"""WSGI entry point (gunicorn infra.wsgi:application)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")
django_application = get_wsgi_application()

from infra.public import PublicPages  # noqa: E402  (after Django is set up)

# The public's plain GeoJSON pages of /ogc/ items and /api/works/ are answered around Django's request cycle
# (infra/public.py); everything else is Django's.
application = PublicPages(django_application)
