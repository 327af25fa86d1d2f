"""WSGI app for bench/intake.py: the project exactly as deployed, with ROOT_URLCONF adding /bench/bare."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acoustic.settings")

from django.conf import settings  # noqa: E402 - after DJANGO_SETTINGS_MODULE

settings.ROOT_URLCONF = "bench.bare_urls"  # before the first request builds the resolver
application = get_wsgi_application()
