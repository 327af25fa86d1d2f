from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from amocrm.admin import dashboard

# The sections are listed on the dashboard; without the side menu the lead list's columns fit a 1280 px laptop.
admin.site.enable_nav_sidebar = False


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    # The admin's home page is the dashboard; every other admin page is Django's.
    path("admin/", admin.site.admin_view(dashboard.index), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Browsers ask for /favicon.ico on every page that names no icon: answer it instead of logging a 404 each time.
    path("favicon.ico", favicon),
    path("api/amocrm/", include("amocrm.urls")),
    path("", include("monitoring.urls")),
    path("", include("leads.urls")),
]
