"""WSGI app for bench/intake.py: the project exactly as deployed (acoustic/wsgi.py), with ROOT_URLCONF adding
/bench/bare."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acoustic.settings")

from django.conf import settings  # noqa: E402 - after DJANGO_SETTINGS_MODULE

settings.ROOT_URLCONF = "bench.bare_urls"  # before the first request builds the resolver

from acoustic.wsgi import application  # noqa: E402, F401 - after ROOT_URLCONF
