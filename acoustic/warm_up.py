"""Load in gunicorn's master what a fresh worker's first requests would otherwise load on the way.

A fresh worker (at start, and each time max_requests recycles one) paid 50-400 ms in its first requests: the URL
resolver with the admin's patterns, the translation catalogs, the regular expressions of the form's validators and of
phonenumbers, the Celery app's tasks before the first publish (bench/README.md). gunicorn.conf.py loads the
application before forking (preload_app) and calls warm_up() once; every worker is then forked with all of it.

Nothing here connects to the database or to Redis: a connection opened before the fork would be shared by every
worker. An app adds its own lazy state by giving its AppConfig a warm_up() method.
"""

from django.apps import apps
from django.conf import settings
from django.urls import get_resolver, reverse
from django.utils import translation

from acoustic.celery import app as celery_app


def warm_up() -> None:
    _translations_and_urls()
    _celery()
    for config in apps.get_app_configs():
        if callable(getattr(config, "warm_up", None)):
            config.warm_up()


def _translations_and_urls() -> None:
    get_resolver().resolve("/")  # imports every URLconf and view module, and builds the admin's patterns
    for code, _name in settings.LANGUAGES:
        translation.get_supported_language_variant(code)  # cached per process; LocaleMiddleware asks on each request
        with translation.override(code):  # reads the language's catalogs of every app
            reverse("admin:index")  # the resolver's reverse map, kept per language


def _celery() -> None:
    # The first publish in a process otherwise binds every task, loads the broker's transport and looks up the
    # (disabled) result backend: about 100 ms. Only objects are made; the broker is connected at the first publish.
    celery_app.finalize()
    _ = celery_app.amqp.router, celery_app.backend
