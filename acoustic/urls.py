from django.contrib import admin
from django.urls import include, path

from amocrm.admin import dashboard

urlpatterns = [
    # The admin's home page is the dashboard; every other admin page is Django's.
    path("admin/", admin.site.admin_view(dashboard.index), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/amocrm/", include("amocrm.urls")),
    path("", include("monitoring.urls")),
    path("", include("leads.urls")),
]
