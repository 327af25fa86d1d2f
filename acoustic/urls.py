from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/amocrm/", include("amocrm.urls")),
    path("", include("monitoring.urls")),
    path("", include("leads.urls")),
]
