"""Django's session, authentication and message middleware, which the lead API (POST /api/leads) goes around.

The API takes a lead from a site's form, often from another origin, and answers in JSON: it reads no session, signs
no one in and shows no messages. Run for it anyway, these made a session store, a lazy user and two message stores
per lead, about 0.07 ms of the 2 ms the API spends (bench/README.md). The pages and the admin keep them. Everything
the API relies on stays in the chain for every request: the request id, HTTPS, CORS, the language of its messages
and CSRF (the API is exempt); the body cap, the rate limit and the honeypot are the view's own.
"""

import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse


def is_lead_api(request: HttpRequest) -> bool:
    return re.match(settings.LEAD_API_URLS_REGEX, request.path_info) is not None


def _for_pages(middleware: type) -> type:
    class ForPages(middleware):
        async_capable = False  # __call__ below is synchronous; Django adapts it under ASGI

        def __call__(self, request: HttpRequest) -> HttpResponse:
            if is_lead_api(request):
                return self.get_response(request)
            return super().__call__(request)

    ForPages.__name__ = ForPages.__qualname__ = middleware.__name__
    ForPages.__doc__ = f"{middleware.__module__}.{middleware.__name__}, skipped by the lead API."
    return ForPages


SessionMiddleware: Callable = _for_pages(DjangoSessionMiddleware)
AuthenticationMiddleware: Callable = _for_pages(DjangoAuthenticationMiddleware)
MessageMiddleware: Callable = _for_pages(DjangoMessageMiddleware)
