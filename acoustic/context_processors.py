"""Template context every page gets."""

from django.conf import settings
from django.http import HttpRequest


def site_name(request: HttpRequest) -> dict[str, str]:
    """The site's name (SITE_NAME) for the admin's header and titles."""
    return {"site_name": settings.SITE_NAME}
