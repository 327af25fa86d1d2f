from django.urls import path, re_path

from leads import views

urlpatterns = [
    path("", views.lead_form, name="lead_form"),
    re_path(r"^api/leads/?$", views.api_leads, name="api_leads"),
]
