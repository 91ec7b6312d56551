#!/usr/bin/env python3
"""Django's command-line utility for the works register."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A bad DATABASE_URL or a missing system library (GDAL, GEOS, SpatiaLite) should read
        # as one sentence telling the operator what to fix, not as a traceback.
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
